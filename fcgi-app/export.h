/*
 * export.h: the row-level export (http-api.md: responses.csv).  Columns:
 * response_id, form_version, submitted, then one per question in form order
 * (scale: Q__statement per statement; an "other" text in Q__other right
 * after Q; info items never).  Pure formatting: the rows come from
 * store_export(), one at a time, so memory stays flat (perf.md B4).
 */
#ifndef PCS_EXPORT_H
#define PCS_EXPORT_H

#include "form.h"
#include "str.h"

struct export_cols {
	const char	**keys;		/* answer keys, in column order */
	size_t		  n;
};

/* Fills cols (malloc'd; export_cols_release frees). */
enum pcs_err	export_cols_init(const struct form *f, struct export_cols *cols) PCS_MUST;
void		export_cols_release(struct export_cols *cols);

/* The header line, CRLF-terminated. */
void		export_header(struct buf *out, const struct export_cols *cols);
/*
 * One CSV line.  submitted_iso is "YYYY-MM-DD" as stored; it is written at
 * the form's precision (day, ISO week "YYYY-Www", or "YYYY-MM").  cells[i]
 * NULL is an empty cell.
 */
void		export_line(struct buf *out, const struct form *f, struct str rid_hex,
		    struct str version, struct str submitted_iso, const struct str *cells,
		    const bool *present, size_t ncells);

#endif
