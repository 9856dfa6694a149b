/*
 * ref.c: the reference lists (ref.h), parsed once from the CSVs compiled in
 * by gen-refdata.sh.  The bytes are our own build input, but they are still
 * read strictly (csv.h, UTF-8, dates, unique codes, parents that exist): a
 * defect is a build failure reported by ref_load(), never a guess.  Columns
 * are found by header name, so adding or reordering columns is harmless.
 * The tables live until the process ends.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "ref.h"
#include "refdata.h"

/* Which header names fill which fields of struct ref_entry; NULL: none. */
static const struct ref_def {
	const char	*name;		/* file and options_from name */
	const char	*code;
	const char	*label;
	const char	*full_name;	/* NULL: same as label */
	const char	*parent;
	const char	*ons;
} defs[] = {
	[REF_ICBS] = { "icbs", "icb_code", "short_name", "name", "region_code",
	    "ons_code" },
	[REF_REGIONS] = { "regions", "region_code", "name", NULL, NULL,
	    "ons_code" },
	[REF_STAFF_ROLES] = { "staff_roles", "role_code", "label", NULL,
	    "staff_group", NULL },
	[REF_STAFF_GROUPS] = { "staff_groups", "staff_group", "label", NULL,
	    NULL, NULL },
	[REF_ORG_TYPES] = { "organisation_types", "org_type_code", "label",
	    NULL, NULL, NULL },
};
_Static_assert(sizeof(defs) / sizeof(defs[0]) == REF__MAX, "defs[]");

/* The list each parent column points into, or REF__MAX. */
static const enum ref_list parent_of[REF__MAX] = {
	[REF_ICBS] = REF_REGIONS,
	[REF_REGIONS] = REF__MAX,
	[REF_STAFF_ROLES] = REF_STAFF_GROUPS,
	[REF_STAFF_GROUPS] = REF__MAX,
	[REF_ORG_TYPES] = REF__MAX,
};

static struct ref_table tables[REF__MAX];
static bool loaded;

static char *
dup_str(struct str s)
{
	char *p;

	if (!utf8_valid(s.p, s.len) || str_has_ctl(s.p, s.len) ||
	    memchr(s.p, '\0', s.len) != NULL)
		return NULL;
	if ((p = malloc(s.len + 1)) == NULL)
		return NULL;
	if (s.len)
		memcpy(p, s.p, s.len);
	p[s.len] = '\0';
	return p;
}

/* Index of the column named name, or -1. */
static long
column(const struct csv_row *hdr, const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < hdr->n; i++)
		if (str_eq_cstr(hdr->cells[i], name))
			return (long)i;
	return -1;
}

static const struct refdata_file *
file_named(const char *name)
{
	for (const struct refdata_file *f = refdata_files; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static void
entry_release(struct ref_entry *e)
{
	/* const char * fields own malloc'd copies made by dup_str() */
	free((void *)(uintptr_t)e->code);
	if (e->full_name != e->label)
		free((void *)(uintptr_t)e->full_name);
	free((void *)(uintptr_t)e->label);
	free((void *)(uintptr_t)e->parent);
	free((void *)(uintptr_t)e->ons_code);
}

static void
table_release(struct ref_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		entry_release(&t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

/* An optional text column: NULL when absent or empty; *bad on a defect. */
static const char *
opt_cell(const struct csv_row *row, long col, bool *bad)
{
	char *s;

	if (col < 0 || (size_t)col >= row->n || row->cells[col].len == 0)
		return NULL;
	if ((s = dup_str(row->cells[col])) == NULL)
		*bad = true;
	return s;
}

static bool
date_cell(const struct csv_row *row, long col, int64_t none, int64_t *out)
{
	*out = none;
	if (col < 0 || (size_t)col >= row->n || row->cells[col].len == 0)
		return true;
	return date_parse(row->cells[col], out);
}

static enum pcs_err
table_load(enum ref_list l, struct csv_reader *rd, struct csv_row *row)
{
	const struct ref_def *d = &defs[l];
	const struct refdata_file *file = file_named(d->name);
	struct ref_table *t = &tables[l];
	long c_code, c_label, c_full, c_parent, c_ons, c_from, c_to;
	size_t cap = 0;
	int rc;

	t->name = d->name;
	if (file == NULL)
		return PCS_EINTERNAL;
	csv_reader_init_mem(rd, file->data, file->len);
	if (csv_read_row(rd, row) != 1)
		goto fail;
	/* the header row: columns by name (valid until the next read) */
	c_code = column(row, d->code);
	c_label = column(row, d->label);
	c_full = column(row, d->full_name);
	c_parent = column(row, d->parent);
	c_ons = column(row, d->ons);
	c_from = column(row, "valid_from");
	c_to = column(row, "valid_to");
	if (c_code < 0 || c_label < 0 || (d->full_name && c_full < 0) ||
	    (d->parent && c_parent < 0) || (d->ons && c_ons < 0))
		goto fail;

	while ((rc = csv_read_row(rd, row)) == 1) {
		struct ref_entry e = { 0 };
		bool bad = false;

		if (row->n == 1 && row->cells[0].len == 0)
			continue;		/* a blank line */
		if ((size_t)c_code >= row->n || (size_t)c_label >= row->n ||
		    row->cells[c_code].len == 0 ||
		    row->cells[c_label].len == 0)
			goto fail;
		if (t->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct ref_entry *nv = realloc(t->v, ncap * sizeof(*nv));

			if (nv == NULL)
				goto fail;
			t->v = nv;
			cap = ncap;
		}
		e.code = opt_cell(row, c_code, &bad);
		e.label = opt_cell(row, c_label, &bad);
		e.full_name = c_full >= 0 ? opt_cell(row, c_full, &bad) : NULL;
		if (e.full_name == NULL)
			e.full_name = e.label;
		e.parent = opt_cell(row, c_parent, &bad);
		e.ons_code = opt_cell(row, c_ons, &bad);
		if (!date_cell(row, c_from, INT64_MIN, &e.valid_from) ||
		    !date_cell(row, c_to, INT64_MAX, &e.valid_to) ||
		    e.valid_from > e.valid_to)
			bad = true;
		if (!bad && ref_find(l, e.code, strlen(e.code)) != NULL)
			bad = true;		/* duplicate code */
		t->v[t->n++] = e;		/* released with the table */
		if (bad)
			goto fail;
	}
	if (rc != 0 || t->n == 0)
		goto fail;
	csv_reader_release(rd);
	return PCS_OK;
fail:
	csv_reader_release(rd);
	table_release(t);
	return PCS_EINTERNAL;
}

enum pcs_err
ref_load(void)
{
	struct csv_reader *rd = NULL;
	struct csv_row *row = NULL;
	enum pcs_err err = PCS_OK;

	if (loaded)
		return PCS_OK;
	rd = malloc(sizeof(*rd));
	row = malloc(sizeof(*row));
	if (rd == NULL || row == NULL) {
		err = PCS_ENOMEM;
		goto out;
	}
	for (int l = 0; l < REF__MAX && err == PCS_OK; l++)
		err = table_load((enum ref_list)l, rd, row);
	/* every parent code names an entry of its parent list */
	for (int l = 0; l < REF__MAX && err == PCS_OK; l++) {
		enum ref_list p = parent_of[l];

		for (size_t i = 0; i < tables[l].n && err == PCS_OK; i++) {
			const char *pc = tables[l].v[i].parent;

			if (p == REF__MAX ? pc != NULL :
			    pc == NULL || ref_find(p, pc, strlen(pc)) == NULL)
				err = PCS_EINTERNAL;
		}
	}
	if (err != PCS_OK) {
		for (int l = 0; l < REF__MAX; l++)
			table_release(&tables[l]);
		goto out;
	}
	loaded = true;
out:
	free(rd);
	free(row);
	return err;
}

const struct ref_table *
ref_table(enum ref_list l)
{
	if ((unsigned)l >= REF__MAX || !loaded)
		return NULL;
	return &tables[l];
}

enum ref_list
ref_by_name(const char *s)
{
	if (s == NULL)
		return REF__MAX;
	for (int l = 0; l < REF__MAX; l++)
		if (strcmp(defs[l].name, s) == 0)
			return (enum ref_list)l;
	return REF__MAX;
}

const struct ref_entry *
ref_find(enum ref_list l, const char *code, size_t len)
{
	const struct ref_table *t;

	if ((unsigned)l >= REF__MAX || code == NULL)
		return NULL;
	t = &tables[l];
	for (size_t i = 0; i < t->n; i++)
		if (strlen(t->v[i].code) == len &&
		    memcmp(t->v[i].code, code, len) == 0)
			return &t->v[i];
	return NULL;
}

int
ref_valid_on(const struct ref_entry *e, int64_t day)
{
	return e != NULL && e->valid_from <= day && day <= e->valid_to;
}
