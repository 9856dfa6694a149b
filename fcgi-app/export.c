/* export.c: CSV lines of the row-level export; cells pass through csv.c (T-20). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "export.h"

enum pcs_err
export_cols_init(const struct form *f, struct export_cols *cols)
{
	size_t n = 0;

	cols->n = 0;
	for (size_t i = 0; i < f->nq; i++)
		n += f->qs[i].type == Q_SCALE ? f->qs[i].nstmts : 2;
	if ((cols->keys = calloc(n + 1, sizeof(*cols->keys))) == NULL)
		return PCS_ENOMEM;
	for (size_t i = 0; i < f->nq; i++) {
		const struct question *q = &f->qs[i];

		switch (q->type) {
		case Q_INFO:
		case Q__MAX:
			break;
		case Q_SCALE:
			for (size_t s = 0; s < q->nstmts; s++)
				cols->keys[cols->n++] = q->stmts[s].field;
			break;
		case Q_TEXT:
		case Q_TEXTAREA:
		case Q_EMAIL:
		case Q_NUMBER:
		case Q_DATE:
		case Q_CHOICE:
		case Q_SELECT:
		case Q_CHOICES:
		case Q_CONSENT:
		default:
			cols->keys[cols->n++] = q->id;
			if (q->other) {
				char *k = malloc(strlen(q->id) + 8);

				if (k == NULL)
					return PCS_ENOMEM;
				snprintf(k, strlen(q->id) + 8, "%s__other", q->id);
				cols->keys[cols->n++] = k;
			}
			break;
		}
	}
	return PCS_OK;
}

void
export_cols_release(struct export_cols *cols)
{
	for (size_t i = 0; i < cols->n; i++) {
		size_t len = strlen(cols->keys[i]);

		/* only the "__other" keys were allocated here */
		if (len > 7 && strcmp(cols->keys[i] + len - 7, "__other") == 0)
			free((char *)(uintptr_t)cols->keys[i]);
	}
	free(cols->keys);
	cols->keys = NULL;
	cols->n = 0;
}

void
export_header(struct buf *out, const struct export_cols *cols)
{
	buf_adds(out, "response_id,form_version,submitted");
	for (size_t i = 0; i < cols->n; i++) {
		csv_write_sep(out);
		csv_write_cell(out, str_cstr(cols->keys[i]));
	}
	csv_write_eol(out);
}

static void
write_submitted(struct buf *out, enum ts_precision p, struct str iso)
{
	int64_t day;
	int y;
	unsigned m, d;

	if (!date_parse(iso, &day)) {
		csv_write_cell(out, iso);
		return;
	}
	switch (p) {
	case TS_WEEK: {
		/* ISO 8601 week: the week of its Thursday */
		int64_t thu = day - ((day + 3) % 7 + 7) % 7 + 3;
		int64_t jan1;

		civil_from_days(thu, &y, &m, &d);
		jan1 = days_from_civil(y, 1, 1);
		buf_printf(out, "%04d-W%02lld", y, (long long)((thu - jan1) / 7 + 1));
		return;
	}
	case TS_MONTH:
		civil_from_days(day, &y, &m, &d);
		buf_printf(out, "%04d-%02u", y, m);
		return;
	case TS_DAY:
	case TS__MAX:
	default:
		buf_addstr(out, iso);
		return;
	}
}

void
export_line(struct buf *out, const struct form *f, struct str rid_hex, struct str version,
    struct str submitted_iso, const struct str *cells, const bool *present, size_t ncells)
{
	csv_write_raw(out, rid_hex);
	csv_write_sep(out);
	csv_write_raw(out, version);
	csv_write_sep(out);
	write_submitted(out, f->timestamp, submitted_iso);
	for (size_t i = 0; i < ncells; i++) {
		csv_write_sep(out);
		if (present[i])
			csv_write_cell(out, cells[i]);
	}
	csv_write_eol(out);
}
