/*
 * fuzz_csv.c: the RFC 4180 reader of csv.c, which `pcsurvey decrypt` runs
 * over an export file that may have been edited or damaged (http-api.md:
 * responses.csv; adversarial.md T-20, T-40), and the base64 check decrypt
 * applies to each cell before trying to open it as a sealed box.
 *
 * Properties:
 * - reading from memory and from a FILE (decrypt's path) gives the same
 *   records, the same cells and the same verdict;
 * - a record read is at most CSV_MAX_CELLS cells;
 * - round trip: writing a record's cells with csv_write_raw() and reading
 *   them back gives the same cells (quoting never changes a value), and
 *   csv_write_cell() adds exactly one "'" before a cell that starts with
 *   = + - @ TAB or CR (T-20), nothing otherwise;
 * - crypto_base64_decode() never writes past its buffer and what it
 *   accepts encodes back to the same text (one spelling per box).
 */
#include <string.h>

#include "crypto.h"
#include "csv.h"
#include "harness.h"

#define MAX_RECORDS	64		/* per input: keeps one run fast */

static struct csv_reader R1, R2, R3;
static struct csv_row W1, W2, W3;
static struct buf out;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!crypto_init())
		abort();
	buf_init(&out, 64u << 20);
	return 0;
}

static void
check_base64(struct str cell)
{
	size_t cap = cell.len / 4 * 3 + 3;
	uint8_t *bin;
	long n;

	/*
	 * Every cell, high bytes included: crypto_base64_decode() checks the
	 * alphabet itself since libsodium 1.0.18 took 0x80-0xFF as digits
	 * (crashes/csv/base64-high-bytes found it).
	 */
	if ((bin = malloc(cap)) == NULL)
		return;
	n = crypto_base64_decode(cell, bin, cap);
	if (n >= 0) {
		char *txt = malloc(crypto_base64_len((size_t)n) + 1);

		FUZZ_CHECK((size_t)n <= cap, "decoded %ld into %zu", n, cap);
		if (txt != NULL) {
			crypto_base64(bin, (size_t)n, txt);
			FUZZ_CHECK(strlen(txt) == cell.len && (cell.len == 0 || memcmp(txt, cell.p, cell.len) == 0),
			    "base64 of %zu bytes has two spellings", cell.len);
			free(txt);
		}
	}
	free(bin);
}

static void
round_trip(const struct csv_row *row)
{
	int rc;

	buf_reset(&out);
	for (size_t i = 0; i < row->n; i++) {
		if (i)
			csv_write_sep(&out);
		csv_write_raw(&out, row->cells[i]);
	}
	csv_write_eol(&out);
	FUZZ_CHECK(out.err == PCS_OK, "writing failed");
	csv_reader_init_mem(&R3, out.p, out.len);
	rc = csv_read_row(&R3, &W3);
	FUZZ_CHECK(rc == 1, "a written record reads back as %d", rc);
	FUZZ_CHECK(W3.n == row->n, "%zu cells became %zu", row->n, W3.n);
	for (size_t i = 0; i < row->n; i++)
		FUZZ_CHECK(str_eq(W3.cells[i], row->cells[i]), "cell %zu changed", i);
	FUZZ_CHECK(csv_read_row(&R3, &W3) == 0, "one record wrote two");
	csv_reader_release(&R3);

	/* T-20: the formula prefix, then read back */
	for (size_t i = 0; i < row->n && i < 8; i++) {
		struct str c = row->cells[i];
		bool formula = c.len > 0 && memchr("=+-@\t\r", c.p[0], 6) != NULL;

		buf_reset(&out);
		csv_write_cell(&out, c);
		csv_write_eol(&out);
		csv_reader_init_mem(&R3, out.p, out.len);
		FUZZ_CHECK(csv_read_row(&R3, &W3) == 1 && W3.n == 1, "a written cell does not read back");
		if (formula)
			FUZZ_CHECK(W3.cells[0].len == c.len + 1 && W3.cells[0].p[0] == '\'' &&
			    memcmp(W3.cells[0].p + 1, c.p, c.len) == 0, "formula cell %zu not prefixed", i);
		else
			FUZZ_CHECK(str_eq(W3.cells[0], c), "plain cell %zu changed", i);
		csv_reader_release(&R3);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *fp = size ? fmemopen((void *)(uintptr_t)data, size, "rb") : NULL;
	int rc1, rc2;

	csv_reader_init_mem(&R1, (const char *)data, size);
	if (fp != NULL)
		csv_reader_init_file(&R2, fp);
	for (int rec = 0; rec < MAX_RECORDS; rec++) {
		rc1 = csv_read_row(&R1, &W1);
		FUZZ_CHECK(rc1 >= -1 && rc1 <= 1, "rc %d", rc1);
		if (fp != NULL) {
			rc2 = csv_read_row(&R2, &W2);
			FUZZ_CHECK(rc1 == rc2, "memory says %d, FILE says %d (record %d)", rc1, rc2, rec);
			FUZZ_CHECK(R1.line == R2.line, "line %zu vs %zu", R1.line, R2.line);
			if (rc1 == 1) {
				FUZZ_CHECK(W1.n == W2.n, "cells %zu vs %zu", W1.n, W2.n);
				for (size_t i = 0; i < W1.n; i++)
					FUZZ_CHECK(str_eq(W1.cells[i], W2.cells[i]), "cell %zu differs", i);
			}
		}
		if (rc1 != 1)
			break;
		FUZZ_CHECK(W1.n >= 1 && W1.n <= CSV_MAX_CELLS, "%zu cells", W1.n);
		for (size_t i = 0; i < W1.n && i < 16; i++)
			check_base64(W1.cells[i]);
		round_trip(&W1);
	}
	csv_reader_release(&R1);
	if (fp != NULL) {
		csv_reader_release(&R2);
		fclose(fp);
	}
	return 0;
}
