/*
 * csv.h: RFC 4180 reading and writing.  The writer prefixes a cell that
 * starts with '=', '+', '-', '@', TAB or CR with "'" (http-api.md,
 * adversarial.md T-20) and quotes as needed; the reader streams one record at
 * a time from memory or a FILE in memory bounded by the longest record.
 */
#ifndef PCS_CSV_H
#define PCS_CSV_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"
#include "str.h"

#define CSV_MAX_CELLS	4096		/* cells in one record */
#define CSV_MAX_RECORD	(16 * 1024 * 1024)	/* bytes in one record */

struct csv_reader {
	FILE		*in;		/* NULL when reading memory */
	struct cur	 mem;
	struct buf	 rec;		/* unquoted cell bytes of the current record */
	size_t		 start[CSV_MAX_CELLS];
	size_t		 end[CSV_MAX_CELLS];
	size_t		 line;		/* 1-based line of the current record */
};

struct csv_row {
	struct str	 cells[CSV_MAX_CELLS];	/* valid until the next read */
	size_t		 n;
};

void	 csv_reader_init_mem(struct csv_reader *r, const char *p, size_t len);
void	 csv_reader_init_file(struct csv_reader *r, FILE *in);
void	 csv_reader_release(struct csv_reader *r);
/*
 * Reads the next record (CRLF or LF line ends; quoted cells may hold either).
 * Returns 1 with a row, 0 at end of input, -1 on malformed input or a limit
 * (r->line says where).
 */
int	 csv_read_row(struct csv_reader *r, struct csv_row *row);

/* Appends one cell (with the formula prefix and quoting); no separator. */
void	 csv_write_cell(struct buf *out, struct str v);
/* Appends a cell verbatim apart from quoting (for our own numbers and codes). */
void	 csv_write_raw(struct buf *out, struct str v);
static inline void csv_write_sep(struct buf *out) { buf_addc(out, ','); }
static inline void csv_write_eol(struct buf *out) { buf_add(out, "\r\n", 2); }

#endif
