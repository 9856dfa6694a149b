/*
 * test_csv.c: csv.h.  Reader: RFC 4180 quoting, CRLF/LF, embedded line
 * breaks, "" escapes, malformed input -> -1.  Writer: the "'" formula
 * prefix for = + - @ TAB CR (http-api.md responses.csv, adversarial.md
 * T-20) and quoting of , " CR LF; round trip of writer into reader.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

/*
 * want: the rows, cells joined by '|' and each row ended by '\n' (so cell
 * bytes '|' and '\n' are avoided in the table); NULL: -1 at some row.
 */
static const struct {
	const char	*in;
	size_t		 len;		/* 0: strlen */
	const char	*want;
} read_cases[] = {
	{ "a,b,c\n", 0, "a|b|c\n" },
	{ "a,b,c", 0, "a|b|c\n" },			/* no final line end */
	{ "a,b\r\nc,d\r\n", 0, "a|b\nc|d\n" },		/* RFC 4180 §2.1 CRLF */
	{ "a,b\nc,d\n", 0, "a|b\nc|d\n" },		/* LF too */
	{ "\"a,b\",c\n", 0, "a,b|c\n" },		/* §2.6 */
	{ "\"a\"\"b\",\"\"\"\"\n", 0, "a\"b|\"\n" },	/* §2.7 "" escapes */
	{ "\"x\r\ny\",z\r\n", 0, "x\r\ny|z\n" },	/* §2.6 embedded CRLF */
	{ "\"x\ny\"\n", 0, "x\ny\n" },			/* embedded LF */
	{ "a,,\n", 0, "a||\n" },			/* empty cells */
	{ ",\n", 0, "|\n" },
	{ "\"\",x\n", 0, "|x\n" },			/* quoted empty cell */
	{ "\n", 0, "\n" },				/* a blank line: one empty cell */
	{ "", 0, "" },					/* no records */
	{ "caf\xC3\xA9,\xE2\x82\xAC\n", 0, "caf\xC3\xA9|\xE2\x82\xAC\n" },
	{ "a\0b,c\n", 6, "a\0b|c\n" },			/* bytes, not C strings */
	{ "\"unterminated\n", 0, NULL },		/* unterminated quote */
	{ "a,\"b\n\nc", 0, NULL },
	{ "a\"b,c\n", 0, NULL },			/* quote inside a bare cell */
	{ "\"a\"b,c\n", 0, NULL },			/* text after the closing quote */
	{ "\"a\" ,c\n", 0, NULL },
	{ "a\rb\n", 0, NULL },				/* a bare CR */
	{ "ok\n\"bad\n", 0, NULL },			/* second record malformed */
};

static char *
read_all(struct csv_reader *r, int *rc)
{
	struct csv_row *row = malloc(sizeof(*row));
	struct buf out;

	assert_non_null(row);
	buf_init(&out, 1 << 20);
	buf_add(&out, "", 0);
	while ((*rc = csv_read_row(r, row)) == 1) {
		for (size_t i = 0; i < row->n; i++) {
			if (i)
				buf_addc(&out, '|');
			buf_addstr(&out, row->cells[i]);
		}
		buf_addc(&out, '\n');
	}
	free(row);
	assert_int_equal(out.err, PCS_OK);
	return out.p;
}

static void
check_read(size_t i, struct csv_reader *r)
{
	int rc;
	char *got = read_all(r, &rc);
	size_t wl = read_cases[i].want ? (read_cases[i].len ?
	    read_cases[i].len : strlen(read_cases[i].want)) : 0;

	if (read_cases[i].want == NULL ? rc != -1 :
	    rc != 0 || memcmp(got, read_cases[i].want, wl) != 0 ||
	    strlen(got) > wl)
		fail_msg("case %zu: rc %d got [%s]", i, rc, got);
	free(got);
}

static void
test_csv_read_mem_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(read_cases); i++) {
		struct csv_reader *r = malloc(sizeof(*r));
		size_t len = read_cases[i].len ? read_cases[i].len :
		    strlen(read_cases[i].in);

		assert_non_null(r);
		csv_reader_init_mem(r, read_cases[i].in, len);
		check_read(i, r);
		csv_reader_release(r);
		free(r);
	}
}

static void
test_csv_read_file_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(read_cases); i++) {
		struct csv_reader *r = malloc(sizeof(*r));
		size_t len = read_cases[i].len ? read_cases[i].len :
		    strlen(read_cases[i].in);
		FILE *f = tmpfile();

		assert_non_null(r);
		assert_non_null(f);
		assert_int_equal(fwrite(read_cases[i].in, 1, len, f), len);
		rewind(f);
		csv_reader_init_file(r, f);
		check_read(i, r);
		csv_reader_release(r);
		fclose(f);
		free(r);
	}
}

static void
test_csv_read_line_numbers(void **state)
{
	static const char in[] = "a\n\"b\nc\",d\ne\n";
	struct csv_reader *r = malloc(sizeof(*r));
	struct csv_row *row = malloc(sizeof(*row));

	(void)state;
	assert_non_null(r);
	assert_non_null(row);
	csv_reader_init_mem(r, in, sizeof(in) - 1);
	assert_int_equal(csv_read_row(r, row), 1);
	assert_int_equal(r->line, 1);
	assert_int_equal(csv_read_row(r, row), 1);
	assert_int_equal(r->line, 3);		/* the record spans lines 2-3 */
	assert_true(str_eq_cstr(row->cells[0], "b\nc"));
	assert_int_equal(csv_read_row(r, row), 1);
	assert_int_equal(r->line, 4);
	assert_int_equal(csv_read_row(r, row), 0);
	csv_reader_release(r);
	free(r);
	free(row);
}

/* csv.h: CSV_MAX_CELLS cells are read; one more is a limit (-1) */
static void
test_csv_read_cell_limit(void **state)
{
	struct csv_reader *r = malloc(sizeof(*r));
	struct csv_row *row = malloc(sizeof(*row));
	char *in = malloc(CSV_MAX_CELLS + 2);

	(void)state;
	assert_non_null(r);
	assert_non_null(row);
	assert_non_null(in);
	memset(in, ',', CSV_MAX_CELLS - 1);	/* CSV_MAX_CELLS empty cells */
	in[CSV_MAX_CELLS - 1] = '\n';
	csv_reader_init_mem(r, in, CSV_MAX_CELLS);
	assert_int_equal(csv_read_row(r, row), 1);
	assert_int_equal(row->n, CSV_MAX_CELLS);
	csv_reader_release(r);
	memset(in, ',', CSV_MAX_CELLS);		/* one more */
	in[CSV_MAX_CELLS] = '\n';
	csv_reader_init_mem(r, in, CSV_MAX_CELLS + 1);
	assert_int_equal(csv_read_row(r, row), -1);
	csv_reader_release(r);
	free(in);
	free(r);
	free(row);
}

static const struct {
	const char	*in;
	const char	*want;		/* csv_write_cell */
	const char	*raw;		/* csv_write_raw */
} write_cases[] = {
	{ "abc", "abc", "abc" },
	{ "", "", "" },
	{ "QE1", "QE1", "QE1" },
	{ "=1+1", "\"'=1+1\"", "=1+1" },		/* T-20 */
	{ "+44", "\"'+44\"", "+44" },			/* T-20 */
	{ "-5", "\"'-5\"", "-5" },			/* T-20: raw keeps our own numbers */
	{ "@SUM(A1)", "\"'@SUM(A1)\"", "@SUM(A1)" },	/* T-20 */
	{ "\tx", "\"'\tx\"", "\tx" },			/* T-20: TAB */
	{ "\rx", "\"'\rx\"", "\"\rx\"" },		/* T-20: CR, and CR quotes */
	{ "=HYPERLINK(\"http://x\",\"y\")",		/* T-20 example */
	  "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"",
	  "\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" },
	{ "a,b", "\"a,b\"", "\"a,b\"" },		/* RFC 4180 §2.6 */
	{ "a\"b", "\"a\"\"b\"", "\"a\"\"b\"" },		/* §2.7 */
	{ "a\nb", "\"a\nb\"", "\"a\nb\"" },
	{ "a\r\nb", "\"a\r\nb\"", "\"a\r\nb\"" },
	{ "x=1", "x=1", "x=1" },			/* only the first byte matters */
	{ " =1", " =1", " =1" },
	{ "'=1", "'=1", "'=1" },
	{ "caf\xC3\xA9", "caf\xC3\xA9", "caf\xC3\xA9" },
};

static void
test_csv_write_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(write_cases); i++) {
		struct buf b;

		buf_init(&b, 4096);
		csv_write_cell(&b, str_cstr(write_cases[i].in));
		buf_add(&b, "", 0);
		if (b.err != PCS_OK || strcmp(b.p, write_cases[i].want) != 0)
			fail_msg("cell case %zu: got [%s]", i, b.p);
		buf_reset(&b);
		csv_write_raw(&b, str_cstr(write_cases[i].in));
		buf_add(&b, "", 0);
		if (b.err != PCS_OK || strcmp(b.p, write_cases[i].raw) != 0)
			fail_msg("raw case %zu: got [%s]", i, b.p);
		buf_release(&b);
	}
}

/* Writer into reader: every cell comes back, formula cells with "'" */
static void
test_csv_round_trip(void **state)
{
	struct csv_reader *r = malloc(sizeof(*r));
	struct csv_row *row = malloc(sizeof(*row));
	struct buf b;

	(void)state;
	assert_non_null(r);
	assert_non_null(row);
	buf_init(&b, 1 << 16);
	for (int rec = 0; rec < 3; rec++) {
		for (size_t i = 0; i < NELEM(write_cases); i++) {
			if (i)
				csv_write_sep(&b);
			csv_write_cell(&b, str_cstr(write_cases[i].in));
		}
		csv_write_eol(&b);
	}
	assert_int_equal(b.err, PCS_OK);
	csv_reader_init_mem(r, b.p, b.len);
	for (int rec = 0; rec < 3; rec++) {
		assert_int_equal(csv_read_row(r, row), 1);
		assert_int_equal(row->n, NELEM(write_cases));
		for (size_t i = 0; i < NELEM(write_cases); i++) {
			const char *in = write_cases[i].in;
			bool formula = in[0] != '\0' &&
			    strchr("=+-@\t\r", in[0]) != NULL;
			struct str c = row->cells[i];

			if (formula) {
				assert_true(c.len > 0 && c.p[0] == '\'');
				c.p++;
				c.len--;
			}
			if (!str_eq_cstr(c, in))
				fail_msg("record %d cell %zu", rec, i);
		}
	}
	assert_int_equal(csv_read_row(r, row), 0);
	csv_reader_release(r);
	buf_release(&b);
	free(r);
	free(row);
}

static void
test_csv_write_cap_sticky(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	csv_write_cell(&b, STR_LIT("=12345678"));	/* needs 12 bytes */
	assert_int_equal(b.err, PCS_ETOOBIG);
	csv_write_sep(&b);
	assert_int_equal(b.err, PCS_ETOOBIG);
	assert_true(b.len <= 8);
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_read_mem_table),
		cmocka_unit_test(test_csv_read_file_table),
		cmocka_unit_test(test_csv_read_line_numbers),
		cmocka_unit_test(test_csv_read_cell_limit),
		cmocka_unit_test(test_csv_write_table),
		cmocka_unit_test(test_csv_round_trip),
		cmocka_unit_test(test_csv_write_cap_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
