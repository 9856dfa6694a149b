/*
 * csv.c: RFC 4180 reading and writing (csv.h).  The reader trusts nothing:
 * every byte comes through rd()/peek(), a record is capped at CSV_MAX_RECORD
 * bytes and CSV_MAX_CELLS cells, and a quote in the wrong place or an
 * unterminated quoted cell is malformed (-1), never guessed at.  The writer
 * adds the "'" formula prefix (adversarial.md T-20) and quotes as needed.
 */
#include <string.h>

#include "csv.h"

void
csv_reader_init_mem(struct csv_reader *r, const char *p, size_t len)
{
	r->in = NULL;
	r->mem = (struct cur){ (const unsigned char *)p, p ? len : 0 };
	buf_init(&r->rec, CSV_MAX_RECORD);
	r->line = 0;
}

void
csv_reader_init_file(struct csv_reader *r, FILE *in)
{
	r->in = in;
	r->mem = (struct cur){ NULL, 0 };
	buf_init(&r->rec, CSV_MAX_RECORD);
	r->line = 0;
}

void
csv_reader_release(struct csv_reader *r)
{
	buf_release(&r->rec);
}

/* Next byte, or -1 at end of input. */
static int
rd(struct csv_reader *r)
{
	int c;

	if (r->in != NULL)
		return (c = getc(r->in)) == EOF ? -1 : c;
	if (r->mem.left == 0)
		return -1;
	c = *r->mem.p++;
	r->mem.left--;
	return c;
}

/* Next byte without taking it, or -1. */
static int
peek(struct csv_reader *r)
{
	int c;

	if (r->in != NULL) {
		if ((c = getc(r->in)) == EOF)
			return -1;
		ungetc(c, r->in);
		return c;
	}
	return r->mem.left ? *r->mem.p : -1;
}

/* Ends the current cell; false past CSV_MAX_CELLS. */
static bool
cell_end(struct csv_reader *r, size_t *n, size_t start)
{
	if (*n >= CSV_MAX_CELLS)
		return false;
	r->start[*n] = start;
	r->end[*n] = r->rec.len;
	(*n)++;
	return true;
}

int
csv_read_row(struct csv_reader *r, struct csv_row *row)
{
	size_t n = 0, start;
	int c;

	row->n = 0;
	buf_reset(&r->rec);
	if ((c = rd(r)) == -1)
		return 0;
	r->line++;
	start = 0;
	for (;;) {
		/* c is the first byte of a cell (or -1/eol for an empty one) */
		if (c == '"') {
			/* RFC 4180 §2.5-2.7: quoted cell, "" is one quote */
			for (;;) {
				if ((c = rd(r)) == -1)
					return -1;	/* unterminated quote */
				if (c == '"') {
					if (peek(r) == '"') {
						(void)rd(r);
						buf_addc(&r->rec, '"');
						continue;
					}
					break;
				}
				if (c == '\n')
					r->line++;
				buf_addc(&r->rec, (char)c);
			}
			c = rd(r);
			if (c != ',' && c != '\n' && c != '\r' && c != -1)
				return -1;	/* text after the closing quote */
		} else {
			while (c != ',' && c != '\n' && c != '\r' && c != -1) {
				if (c == '"')
					return -1;	/* quote inside an unquoted cell */
				buf_addc(&r->rec, (char)c);
				c = rd(r);
			}
		}
		if (r->rec.err != PCS_OK || !cell_end(r, &n, start))
			return -1;
		if (c == ',') {
			start = r->rec.len;
			c = rd(r);
			continue;
		}
		if (c == '\r' && rd(r) != '\n')
			return -1;		/* a bare CR ends no record */
		break;				/* '\n', CRLF or end of input */
	}
	for (size_t i = 0; i < n; i++)
		row->cells[i] = (struct str){ r->rec.p ? r->rec.p + r->start[i] :
		    NULL, r->end[i] - r->start[i] };
	row->n = n;
	return 1;
}

static bool
needs_quotes(struct str v)
{
	for (size_t i = 0; i < v.len; i++)
		if (v.p[i] == ',' || v.p[i] == '"' || v.p[i] == '\r' ||
		    v.p[i] == '\n')
			return true;
	return false;
}

static void
write_cell(struct buf *out, struct str v, bool prefix)
{
	bool q = needs_quotes(v) || prefix;

	/* a prefixed cell is quoted too, so the "'" is plainly part of it */
	if (!q) {
		buf_addstr(out, v);
		return;
	}
	buf_addc(out, '"');
	if (prefix)
		buf_addc(out, '\'');
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] == '"')
			buf_addc(out, '"');
		buf_addc(out, v.p[i]);
	}
	buf_addc(out, '"');
}

void
csv_write_cell(struct buf *out, struct str v)
{
	/* http-api.md, T-20: = + - @ TAB CR start a formula in a spreadsheet */
	bool prefix = v.len > 0 && strchr("=+-@\t\r", v.p[0]) != NULL &&
	    v.p[0] != '\0';

	write_cell(out, v, prefix);
}

void
csv_write_raw(struct buf *out, struct str v)
{
	write_cell(out, v, false);
}
