/*
 * test_figures.c: the pure parts of figures.h.  figures_json_strings()
 * reads the stored answers (pcs.response.answers as JSON text) for the
 * true counts: only plain string values and string elements of arrays are
 * reported, everything else (numbers, objects, nested arrays, escaped
 * strings) is passed over without recursion, and a malformed object is
 * refused (T-16: one bad row never breaks the aggregates; T-12: depth).
 * figures_before(): privacy.md rule 5 at day, week and month precision.
 */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "figures.h"

/* want: "key=value" per call, "[]" after the key for array elements, joined by '|'. */
static const struct {
	const char	*in;
	bool		 ok;
	const char	*want;
} cases[] = {
	{ "{}", true, "" },
	{ " { } ", true, "" },
	{ "{\"setting\": \"practice\"}", true, "setting=practice" },
	{ "{\"support\": [\"eap\", \"peer\"], \"x\": \"y\"}", true, "support[]=eap|support[]=peer|x=y" },
	{ "{\"a\": 5, \"b\": true, \"c\": null, \"d\": \"v\"}", true, "d=v" },
	{ "{\"a\": {\"sealed\": \"QUJD\"}, \"d\": \"v\"}", true, "d=v" },	/* sealed object */
	{ "{\"a\": [1, \"x\", {\"k\": \"z\"}, [\"n\"], \"y\"]}", true, "a[]=x|a[]=y" },
	{ "{\"a\": \"esc\\\"aped\", \"b\": \"w\"}", true, "b=w" },		/* escaped: passed over */
	{ "{\"a\\u0041\": \"v\"}", true, "" },				/* escaped key */
	{ "{\"a\": []}", true, "" },
	{ "{\"a\": [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]], \"b\": \"w\"}", true, "b=w" },
	{ "{\"a\": \"caf\xc3\xa9\"}", true, "a=caf\xc3\xa9" },
	{ "[\"a\"]", false, "" },					/* not an object */
	{ "\"text\"", false, "" },
	{ "", false, "" },
	{ "{", false, "" },
	{ "{\"a\": }", false, "" },
	{ "{\"a\" \"b\"}", false, "" },
	{ "{\"a\": \"b\"", false, "a=b" },				/* unterminated */
	{ "{\"a\": \"b\"} x", false, "a=b" },				/* trailing bytes */
	{ "{\"a\": [\"b\" \"c\"]}", false, "a[]=b" },
	{ "{\"a\": \"b\nc\"}", false, "" },				/* raw control character */
};

static void
collect(void *arg, struct str key, struct str value, bool in_array)
{
	struct buf *b = arg;

	if (b->len)
		buf_addc(b, '|');
	buf_addstr(b, key);
	buf_adds(b, in_array ? "[]=" : "=");
	buf_addstr(b, value);
}

static void
test_figures_json_strings(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct buf got;
		bool ok;

		buf_init(&got, 4096);
		buf_add(&got, "", 0);
		ok = figures_json_strings(str_cstr(cases[i].in), collect, &got);
		if (ok != cases[i].ok || strcmp(got.p ? got.p : "", cases[i].want) != 0)
			fail_msg("case %zu (%s): ok=%d calls \"%s\", want ok=%d \"%s\"", i,
			    cases[i].in, ok, got.p ? got.p : "", cases[i].ok, cases[i].want);
		buf_release(&got);
	}
}

/* T-12: a million nested brackets cost no stack (run with a small ulimit -s too). */
static void
test_figures_json_deep(void **state)
{
	size_t n = 1000000, len = 2 * n + 32;
	char *p = malloc(len);
	struct buf got;
	size_t k = 0;

	(void)state;
	assert_non_null(p);
	k += (size_t)snprintf(p, len, "{\"a\": ");
	memset(p + k, '[', n);
	k += n;
	memset(p + k, ']', n);
	k += n;
	k += (size_t)snprintf(p + k, len - k, ", \"b\": \"w\"}");
	buf_init(&got, 4096);
	buf_add(&got, "", 0);
	assert_true(figures_json_strings((struct str){ p, k }, collect, &got));
	assert_string_equal(got.p, "b=w");
	buf_release(&got);
	free(p);
}

/* privacy.md rule 5: a period counts once it is over on data_as_of. */
static void
test_figures_before(void **state)
{
	int64_t d;

	(void)state;
	assert_true(date_parse(STR_LIT("2026-11-22"), &d));	/* a Sunday */
	assert_int_equal(figures_before(TS_DAY, d), d + 1);
	/* week of Mon 16 Nov ends Sun 22 Nov: counted; the next is not */
	assert_int_equal(figures_before(TS_WEEK, d), d + 1);
	assert_int_equal(figures_before(TS_WEEK, d - 1), d - 6);
	/* November is not over on the 22nd: only October and before */
	assert_true(date_parse(STR_LIT("2026-11-01"), &d));
	assert_int_equal(figures_before(TS_MONTH, d + 21), d);
	assert_true(date_parse(STR_LIT("2026-11-30"), &d));
	assert_int_equal(figures_before(TS_MONTH, d), d + 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_figures_json_strings),
		cmocka_unit_test(test_figures_json_deep),
		cmocka_unit_test(test_figures_before),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
