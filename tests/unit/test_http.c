/* test_http.c: urlencoded bodies, cookies, paths, content types (http-api.md; T-10, T-11, T-13, T-15). */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "http.h"
#include "json.h"
#include "resp.h"

static const struct {
	const char	*in;
	enum pcs_err	 want;
	size_t		 n;		/* fields on success */
	const char	*name0, *value0;
} url_cases[] = {
	{ "role=gp_partner", PCS_OK, 1, "role", "gp_partner" },
	{ "a=gp+partner", PCS_OK, 1, "a", "gp partner" },
	{ "a=%C3%A9t%C3%A9", PCS_OK, 1, "a", "\xC3\xA9t\xC3\xA9" },
	{ "a=1&&b=2", PCS_OK, 2, "a", "1" },
	{ "flag", PCS_OK, 1, "flag", "" },
	{ "=x&a=1", PCS_OK, 1, "a", "1" },
	{ "a=line1%0D%0Aline2%09tab", PCS_OK, 1, "a", "line1\r\nline2\ttab" },	/* T-11: newline allowed in text */
	{ "", PCS_OK, 0, NULL, NULL },
	{ "a=%00", PCS_EINPUT, 0, NULL, NULL },		/* T-11: NUL */
	{ "a=%1B%5B31m", PCS_EINPUT, 0, NULL, NULL },	/* T-11: ESC */
	{ "a=%7F", PCS_EINPUT, 0, NULL, NULL },		/* DEL */
	{ "a=%C0%AF", PCS_EINPUT, 0, NULL, NULL },	/* T-10: overlong */
	{ "a=%ED%A0%80", PCS_EINPUT, 0, NULL, NULL },	/* T-10: surrogate */
	{ "a=%F5%80%80%80", PCS_EINPUT, 0, NULL, NULL },	/* T-10: > U+10FFFF */
	{ "a=%E2%82", PCS_EINPUT, 0, NULL, NULL },	/* T-10: truncated */
	{ "a=%G0", PCS_EINPUT, 0, NULL, NULL },		/* bad escape */
	{ "a=%4", PCS_EINPUT, 0, NULL, NULL },		/* short escape */
	{ "a%0A=1", PCS_EINPUT, 0, NULL, NULL },	/* newline in a name */
};

static void
test_urlencoded_table(void **state)
{
	struct arena a;

	(void)state;
	arena_init(&a, 1 << 20);
	for (size_t i = 0; i < NELEM(url_cases); i++) {
		struct fields f;
		struct str bad;
		enum pcs_err e = http_parse_urlencoded(&a, str_cstr(url_cases[i].in), &f, &bad);

		if (e != url_cases[i].want)
			fail_msg("case %zu (%s): got %s", i, url_cases[i].in, pcs_strerror(e));
		if (e != PCS_OK)
			continue;
		assert_int_equal(f.n, url_cases[i].n);
		if (f.n) {
			assert_true(str_eq_cstr(f.v[0].name, url_cases[i].name0));
			assert_true(str_eq_cstr(f.v[0].value, url_cases[i].value0));
		}
	}
	arena_release(&a);
}

/* T-15: a field-count bomb is refused before anything proportional is allocated. */
static void
test_urlencoded_too_many_pairs(void **state)
{
	struct arena a;
	struct fields f;
	size_t n = (PCS_MAX_PAIRS + 1) * 2;
	char *in = malloc(n + 1);

	(void)state;
	for (size_t i = 0; i < n; i += 2) {
		in[i] = 'a';
		in[i + 1] = '&';
	}
	in[n] = '\0';
	arena_init(&a, 1 << 20);
	assert_int_equal(http_parse_urlencoded(&a, str_cstr(in), &f, NULL), PCS_ETOOBIG);
	in[PCS_MAX_PAIRS * 2 - 1] = '\0';	/* exactly the limit */
	assert_int_equal(http_parse_urlencoded(&a, str_cstr(in), &f, NULL), PCS_OK);
	assert_int_equal(f.n, PCS_MAX_PAIRS);
	arena_release(&a);
	free(in);
}

static void
test_urlencoded_long_name(void **state)
{
	struct arena a;
	struct fields f;
	char in[PCS_MAX_FIELD_NAME + 8];

	(void)state;
	memset(in, 'n', sizeof(in));
	in[PCS_MAX_FIELD_NAME + 1] = '=';
	in[PCS_MAX_FIELD_NAME + 2] = '\0';
	arena_init(&a, 1 << 20);
	assert_int_equal(http_parse_urlencoded(&a, str_cstr(in), &f, NULL), PCS_ETOOBIG);
	in[PCS_MAX_FIELD_NAME] = '=';
	in[PCS_MAX_FIELD_NAME + 1] = '\0';
	assert_int_equal(http_parse_urlencoded(&a, str_cstr(in), &f, NULL), PCS_OK);
	arena_release(&a);
}

/* T-13: repeats are kept, so the validator can refuse them; no first- or last-wins. */
static void
test_fields_repeats(void **state)
{
	struct arena a;
	struct fields f;
	struct str vals[4];

	(void)state;
	arena_init(&a, 1 << 20);
	assert_int_equal(http_parse_urlencoded(&a, STR_LIT("q1=1&Q1=5&q1=5"), &f, NULL), PCS_OK);
	assert_int_equal(fields_count(&f, STR_LIT("q1")), 2);
	assert_int_equal(fields_all(&f, STR_LIT("q1"), vals, 4), 2);
	assert_true(str_eq_cstr(vals[1], "5"));
	assert_int_equal(fields_count(&f, STR_LIT("Q1")), 1);
	assert_null(fields_get(&f, STR_LIT("q2")));
	arena_release(&a);
}

static void
test_cookies(void **state)
{
	struct arena a;
	struct fields f;
	const struct str *v;

	(void)state;
	arena_init(&a, 1 << 20);
	assert_int_equal(http_parse_cookies(&a, STR_LIT("a=1; pcs_draft=ABCD; junk; b=\"q\""),
	    &f), PCS_OK);
	assert_int_equal(f.n, 3);
	v = fields_get(&f, STR_LIT("pcs_draft"));
	assert_non_null(v);
	assert_true(str_eq_cstr(*v, "ABCD"));
	assert_true(str_eq_cstr(*fields_get(&f, STR_LIT("b")), "q"));
	arena_release(&a);
}

static const struct {
	const char	*path;
	enum pcs_err	 want;
	size_t		 n;
} path_cases[] = {
	{ "/", PCS_OK, 0 },
	{ "/f/staff-wellbeing", PCS_OK, 2 },
	{ "/f/x/p/y/", PCS_OK, 4 },
	{ "/f//x", PCS_EINPUT, 0 },
	{ "/f/../etc", PCS_EINPUT, 0 },		/* T-21 */
	{ "/f/./x", PCS_EINPUT, 0 },
	{ "f/x", PCS_EINPUT, 0 },
	{ "/1/2/3/4/5/6/7/8/9", PCS_ENOTFOUND, 0 },
};

static void
test_split_path(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(path_cases); i++) {
		struct str segs[PCS_MAX_PATH_SEGS];
		size_t n;
		enum pcs_err e = http_split_path(str_cstr(path_cases[i].path), segs,
		    PCS_MAX_PATH_SEGS, &n);

		if (e != path_cases[i].want || (e == PCS_OK && n != path_cases[i].n))
			fail_msg("case %zu (%s): %s n=%zu", i, path_cases[i].path, pcs_strerror(e), n);
	}
}

static void
test_content_type(void **state)
{
	static const struct { const char *ct; bool ok; } cases[] = {
		{ "application/x-www-form-urlencoded", true },
		{ "application/x-www-form-urlencoded; charset=UTF-8", true },
		{ "APPLICATION/X-WWW-FORM-URLENCODED", true },
		{ "application/x-www-form-urlencoded; charset=latin1", false },	/* T-17 */
		{ "text/plain", false },
		{ "multipart/form-data; boundary=x", false },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct http_req r;

		memset(&r, 0, sizeof(r));
		r.content_type = str_cstr(cases[i].ct);
		if (http_is_urlencoded(&r) != cases[i].ok)
			fail_msg("case %zu: %s", i, cases[i].ct);
	}
}

/* T-21: no header splitting. */
static void
test_resp_header_rejects_crlf(void **state)
{
	struct resp r;

	(void)state;
	resp_init(&r);
	assert_false(resp_header(&r, "Location", STR_LIT("/x\r\nSet-Cookie: a=b")));
	assert_false(resp_header(&r, "X", STR_LIT("a\nb")));
	assert_true(resp_header(&r, "X", STR_LIT("ab")));
	assert_false(resp_cookie(&r, "c", STR_LIT("a;b"), "/", "Lax", -1, false));
	assert_int_equal(r.head.len, strlen("X: ab\r\n"));
	resp_release(&r);
}

static void
test_json_escape(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	json_str(&b, "a\"b\\c\n\x01\xC3\xA9", 9);
	assert_string_equal(b.p, "\"a\\\"b\\\\c\\n\\u0001\xC3\xA9\"");
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urlencoded_table),
		cmocka_unit_test(test_urlencoded_too_many_pairs),
		cmocka_unit_test(test_urlencoded_long_name),
		cmocka_unit_test(test_fields_repeats),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_split_path),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_resp_header_rejects_crlf),
		cmocka_unit_test(test_json_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
