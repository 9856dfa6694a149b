/*
 * test_str.c: str.h, table-driven: UTF-8 (adversarial.md T-10), strict
 * integers (T-16), calendar dates (forms.md dates), capped buffers with a
 * sticky error (style guide: SQLite StrAccum).
 */
#include "unit.h"

#include <string.h>

#include "str.h"

static const struct {
	const char	*in;
	size_t		 len;
	bool		 ok;
} utf8_cases[] = {
	{ "", 0, true },
	{ "plain ASCII", 11, true },
	{ "\xC3\xA9", 2, true },			/* é */
	{ "\xE2\x82\xAC", 3, true },			/* € */
	{ "\xF0\x9F\x98\x80", 4, true },		/* U+1F600 */
	{ "\xF4\x8F\xBF\xBF", 4, true },		/* U+10FFFF, the last */
	{ "\xC0\xAF", 2, false },			/* T-10: overlong '/' */
	{ "\xC1\xBF", 2, false },			/* overlong */
	{ "\xE0\x80\xAF", 3, false },			/* overlong, 3 bytes */
	{ "\xF0\x80\x80\xAF", 4, false },		/* overlong, 4 bytes */
	{ "\xED\xA0\x80", 3, false },			/* T-10: lone surrogate U+D800 */
	{ "\xED\xBF\xBF", 3, false },			/* surrogate U+DFFF */
	{ "\xF4\x90\x80\x80", 4, false },		/* > U+10FFFF */
	{ "\xF5\x80\x80\x80", 4, false },		/* T-10: F5-FF never appear */
	{ "\xF8", 1, false },
	{ "\xFE", 1, false },
	{ "\xFF", 1, false },
	{ "\xE2\x82", 2, false },			/* T-10: truncated */
	{ "a\xC3", 2, false },				/* truncated at the end */
	{ "\x80", 1, false },				/* lone continuation */
	{ "\xC3\x28", 2, false },			/* bad continuation */
	{ "a\0b", 3, true },				/* NUL is valid UTF-8 (str_has_ctl catches it) */
};

static void
test_utf8_valid_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(utf8_cases); i++)
		if (utf8_valid(utf8_cases[i].in, utf8_cases[i].len) !=
		    utf8_cases[i].ok)
			fail_msg("case %zu: want %d", i, utf8_cases[i].ok);
}

static void
test_utf8_count(void **state)
{
	(void)state;
	assert_int_equal(utf8_count("", 0), 0);
	assert_int_equal(utf8_count("abc", 3), 3);
	assert_int_equal(utf8_count("\xC3\xA9t\xC3\xA9", 5), 3);	/* forms.md: lengths in code points */
	assert_int_equal(utf8_count("\xF0\x9F\x98\x80", 4), 1);
}

static const struct {
	const char	*in;
	bool		 ok;
	int64_t		 want;
} i64_cases[] = {
	{ "0", true, 0 },
	{ "42", true, 42 },
	{ "-5", true, -5 },
	{ "-0", true, 0 },
	{ "007", true, 7 },
	{ "999999999999999999", true, 999999999999999999LL },	/* 18 digits */
	{ "-999999999999999999", true, -999999999999999999LL },
	{ "1000000000000000000", false, 0 },	/* T-16: 19 digits */
	{ "9223372036854775808", false, 0 },	/* T-16: overflow */
	{ "3abc", false, 0 },			/* T-16 */
	{ "0x3", false, 0 },			/* T-16 */
	{ "+3", false, 0 },			/* T-16 */
	{ " 3", false, 0 },			/* T-16: blanks */
	{ "3 ", false, 0 },
	{ "3.0", false, 0 },			/* T-16 */
	{ "1e3", false, 0 },
	{ "", false, 0 },			/* T-16: empty */
	{ "-", false, 0 },
	{ "--3", false, 0 },
	{ "NaN", false, 0 },			/* T-16 */
	{ "\xD9\xA3", false, 0 },		/* Arabic-Indic digit three */
};

static void
test_str_to_i64_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(i64_cases); i++) {
		int64_t got = 12345;
		bool ok = str_to_i64(str_cstr(i64_cases[i].in), &got);

		if (ok != i64_cases[i].ok ||
		    (ok && got != i64_cases[i].want))
			fail_msg("case %zu (%s): ok %d got %lld", i,
			    i64_cases[i].in, ok, (long long)got);
	}
}

static void
test_str_to_i64_length_not_nul(void **state)
{
	int64_t v = 0;

	(void)state;
	/* a view: only len bytes are read */
	assert_true(str_to_i64((struct str){ "12abc", 2 }, &v));
	assert_int_equal(v, 12);
	assert_false(str_to_i64((struct str){ NULL, 0 }, &v));
}

static const struct {
	const char	*in;
	bool		 ok;
	int64_t		 days;		/* when ok */
} date_cases[] = {
	{ "1970-01-01", true, 0 },
	{ "2024-02-29", true, 19782 },		/* leap year */
	{ "2026-03-31", true, 20543 },		/* the study forms' reference_date */
	{ "2000-02-29", true, 11016 },		/* 400-year leap */
	{ "2026-02-29", false, 0 },		/* not a leap year */
	{ "1900-02-29", false, 0 },		/* century, not leap */
	{ "2026-02-30", false, 0 },
	{ "2026-04-31", false, 0 },
	{ "2026-13-01", false, 0 },
	{ "2026-00-10", false, 0 },
	{ "2026-01-00", false, 0 },
	{ "0000-01-01", false, 0 },
	{ "2026-1-01", false, 0 },
	{ "2026/01/01", false, 0 },
	{ "26-01-01", false, 0 },
	{ "2026-01-01 ", false, 0 },
	{ "+026-01-01", false, 0 },
	{ "-026-01-01", false, 0 },
	{ "today", false, 0 },
	{ "", false, 0 },
};

static void
test_date_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(date_cases); i++) {
		int64_t d = -1;
		bool ok = date_parse(str_cstr(date_cases[i].in), &d);

		if (ok != date_cases[i].ok || (ok && d != date_cases[i].days))
			fail_msg("case %zu (%s): ok %d days %lld", i,
			    date_cases[i].in, ok, (long long)d);
	}
}

static void
test_date_format_round_trip(void **state)
{
	char out[11];

	(void)state;
	for (size_t i = 0; i < NELEM(date_cases); i++) {
		int64_t d;

		if (!date_cases[i].ok)
			continue;
		assert_true(date_parse(str_cstr(date_cases[i].in), &d));
		date_format(d, out);
		assert_string_equal(out, date_cases[i].in);
	}
	/* every day of four years survives the round trip */
	for (int64_t d = 19000; d < 19000 + 4 * 366; d++) {
		int64_t back;

		date_format(d, out);
		assert_true(date_parse(str_cstr(out), &back));
		assert_int_equal(back, d);
	}
}

static const struct {
	const char	*in;
	size_t		 len;
	bool		 ctl;
} ctl_cases[] = {
	{ "plain", 5, false },
	{ "tab\there", 8, false },		/* http-api.md: TAB, CR, LF allowed */
	{ "a\r\nb", 4, false },
	{ "nul\0x", 5, true },			/* T-11 */
	{ "esc\x1b[31m", 8, true },		/* T-11 */
	{ "del\x7f", 4, true },
};

static void
test_str_has_ctl_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(ctl_cases); i++)
		if (str_has_ctl(ctl_cases[i].in, ctl_cases[i].len) !=
		    ctl_cases[i].ctl)
			fail_msg("case %zu", i);
}

static void
test_buf_cap_sticky(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 5);
	buf_adds(&b, "abc");
	assert_int_equal(b.err, PCS_OK);
	buf_adds(&b, "de");			/* exactly at the cap */
	assert_int_equal(b.err, PCS_OK);
	assert_string_equal(b.p, "abcde");
	buf_addc(&b, 'f');			/* one past: fails */
	assert_int_equal(b.err, PCS_ETOOBIG);
	assert_int_equal(b.len, 5);
	buf_reset(&b);
	buf_adds(&b, "abcdef");			/* too big at once */
	assert_int_equal(b.err, PCS_ETOOBIG);
	assert_int_equal(b.len, 0);
	buf_adds(&b, "x");			/* sticky: later appends do nothing */
	buf_printf(&b, "%d", 1);
	buf_addi64(&b, 7);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.err, PCS_ETOOBIG);
	buf_reset(&b);				/* reset clears err */
	assert_int_equal(b.err, PCS_OK);
	buf_addi64(&b, -42);
	assert_string_equal(b.p, "-42");
	buf_release(&b);
}

static void
test_buf_printf_grows(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 100000);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%04d,", i);
	assert_int_equal(b.err, PCS_OK);
	assert_int_equal(b.len, 5000);
	assert_int_equal(b.p[b.len], '\0');
	assert_memory_equal(b.p + 4995, "0999,", 5);
	buf_release(&b);
}

static void
test_str_helpers(void **state)
{
	(void)state;
	assert_true(str_eq_cstr(STR_LIT("abc"), "abc"));
	assert_false(str_eq_cstr(STR_LIT("abc"), "abcd"));
	assert_true(str_eq(STR_NULL, str_cstr("")));
	assert_true(str_has_prefix(STR_LIT("q__day"), "q__"));
	assert_int_equal(str_find(STR_LIT("a=b"), '='), 1);
	assert_int_equal(str_find(STR_NULL, '='), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_valid_table),
		cmocka_unit_test(test_utf8_count),
		cmocka_unit_test(test_str_to_i64_table),
		cmocka_unit_test(test_str_to_i64_length_not_nul),
		cmocka_unit_test(test_date_parse_table),
		cmocka_unit_test(test_date_format_round_trip),
		cmocka_unit_test(test_str_has_ctl_table),
		cmocka_unit_test(test_buf_cap_sticky),
		cmocka_unit_test(test_buf_printf_grows),
		cmocka_unit_test(test_str_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
