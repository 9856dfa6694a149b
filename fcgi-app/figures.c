/*
 * figures.c: a form's published lattice (figures.h): its shape from the
 * form and the reference lists, its true counts from store_research.c, the
 * disclosure rule from disclose.c, and a small per-worker cache.
 *
 * Trusts the form model and the reference lists; trusts nothing read from
 * the database: a dimension code or option value that is not in the form's
 * lists counts nowhere (T-16), and region and staff group are derived from
 * the ICB and role (forms.md: Dimensions) so {icb} and {icb, region} can
 * never disagree.  Memory is the worker's (malloc), never the request
 * arena's: the lattice outlives requests.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "figures.h"
#include "limits.h"
#include "log.h"
#include "record.h"

/* enum disclose_dim to the reference list of that dimension. */
static const enum ref_list dim_list[DD__MAX] = {
	[DD_ICB] = REF_ICBS, [DD_REGION] = REF_REGIONS, [DD_ROLE] = REF_STAFF_ROLES,
	[DD_STAFF_GROUP] = REF_STAFF_GROUPS, [DD_ORG_TYPE] = REF_ORG_TYPES,
};
/* enum disclose_dim to form.h's enum dim. */
static const enum dim dim_of[DD__MAX] = {
	[DD_ICB] = DIM_ICB, [DD_REGION] = DIM_REGION, [DD_ROLE] = DIM_ROLE,
	[DD_STAFF_GROUP] = DIM_STAFF_GROUP, [DD_ORG_TYPE] = DIM_ORG_TYPE,
};

static struct figures cache[PCS_FIGURES_CACHE_MAX];
static uint64_t cache_clock;

int64_t
figures_data_as_of(const struct conf *conf, int64_t today)
{
	return disclose_data_as_of(today, (unsigned)conf->counts_lag_days);
}

int64_t
figures_before(enum ts_precision p, int64_t data_as_of)
{
	/* the period holding the day after data_as_of is not over yet */
	return record_day(p, data_as_of + 1);
}

/* ---- shape ------------------------------------------------------------- */

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp((*(const struct ref_entry *const *)a)->code,
	    (*(const struct ref_entry *const *)b)->code);
}

static int
cmp_option(const void *a, const void *b)
{
	return strcmp((*(const struct option *const *)a)->value,
	    (*(const struct option *const *)b)->value);
}

static int
cmp_question(const void *a, const void *b)
{
	return strcmp(((const struct fig_question *)a)->key,
	    ((const struct fig_question *)b)->key);
}

/* forms.md Dimensions: declared, plus region from icb and staff group from role. */
bool
figures_form_has_dim(const struct form *f, enum disclose_dim d)
{
	if (f->dim_q[dim_of[d]] >= 0)
		return true;
	if (d == DD_REGION)
		return f->dim_q[DIM_ICB] >= 0;
	if (d == DD_STAFF_GROUP)
		return f->dim_q[DIM_ROLE] >= 0;
	return false;
}

/* The codes of dimension d valid on the form's reference_date, in byte order. */
static enum pcs_err
dim_init(struct figures *fg, enum disclose_dim d)
{
	const struct ref_table *t = ref_table(dim_list[d]);
	struct fig_dim *fd = &fg->dims[d];

	fd->list = dim_list[d];
	if (!figures_form_has_dim(fg->form, d) || t == NULL)
		return PCS_OK;
	if ((fd->codes = calloc(t->n + 1, sizeof(*fd->codes))) == NULL)
		return PCS_ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		if (ref_valid_on(&t->v[i], fg->form->reference_date))
			fd->codes[fd->n++] = &t->v[i];
	qsort(fd->codes, fd->n, sizeof(*fd->codes), cmp_entry);
	fd->present = true;
	fg->shape.ncodes[d] = (unsigned)fd->n;
	return fd->n > DISCLOSE_CODES_MAX ? PCS_ETOOBIG : PCS_OK;
}

/* parent[i]: index of code i's parent in dimension up, or DISCLOSE_NO_PARENT. */
static enum pcs_err
parent_init(struct figures *fg, enum disclose_dim d, enum disclose_dim up, uint8_t **out)
{
	const struct fig_dim *c = &fg->dims[d];

	if (!c->present || !fg->dims[up].present)
		return PCS_OK;
	if ((*out = malloc(c->n + 1)) == NULL)
		return PCS_ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		int p = c->codes[i]->parent ? figures_code(fg, up,
		    str_cstr(c->codes[i]->parent)) : -1;

		(*out)[i] = p < 0 ? DISCLOSE_NO_PARENT : (uint8_t)p;
	}
	fg->shape.parent[d] = *out;
	return PCS_OK;
}

/* privacy.md rule 1: clear choice, select and choices questions and scale statements, not dimensions. */
static bool
countable(const struct question *q)
{
	if (q->store != STORE_CLEAR || q->dim != DIM_NONE || q->nopts == 0)
		return false;
	return q->type == Q_CHOICE || q->type == Q_SELECT || q->type == Q_CHOICES ||
	    q->type == Q_SCALE;
}

enum fig_qcheck
figures_question_check(const struct form *f, struct str key)
{
	long sep = -1;
	const struct question *q;
	int qi;

	for (size_t i = 0; i + 1 < key.len && sep < 0; i++)
		if (key.p[i] == '_' && key.p[i + 1] == '_')
			sep = (long)i;	/* forms.md: ids never hold "__" */
	qi = form_question_index(f, sep < 0 ? key : (struct str){ key.p, (size_t)sep });
	if (qi < 0 || f->qs[qi].type == Q_INFO)
		return FQ_UNKNOWN;
	q = &f->qs[qi];
	if (sep >= 0) {
		struct str sid = { key.p + sep + 2, key.len - (size_t)sep - 2 };
		bool found = false;

		for (size_t s = 0; q->type == Q_SCALE && s < q->nstmts; s++)
			found = found || str_eq_cstr(sid, q->stmts[s].id);
		if (!found)
			return FQ_UNKNOWN;
		return countable(q) ? FQ_OK : FQ_NOT_COUNTABLE;
	}
	if (q->type == Q_SCALE)
		return countable(q) ? FQ_SCALE : FQ_NOT_COUNTABLE;
	return countable(q) ? FQ_OK : FQ_NOT_COUNTABLE;
}

static enum pcs_err
question_add(struct figures *fg, const struct question *q, int stmt)
{
	struct fig_question *fq = &fg->qs[fg->nq++];

	fq->q = q;
	fq->stmt = stmt;
	fq->key = stmt >= 0 ? q->stmts[stmt].field : q->id;
	fq->multi = q->type == Q_CHOICES;
	if ((fq->opts = calloc(q->nopts, sizeof(*fq->opts))) == NULL)
		return PCS_ENOMEM;
	for (size_t o = 0; o < q->nopts; o++)
		fq->opts[o] = &q->opts[o];
	fq->nopts = q->nopts;
	qsort(fq->opts, fq->nopts, sizeof(*fq->opts), cmp_option);
	return q->nopts > DISCLOSE_OPTS_MAX ? PCS_ETOOBIG : PCS_OK;
}

static enum pcs_err
questions_init(struct figures *fg)
{
	const struct form *f = fg->form;
	size_t n = 0;
	enum pcs_err err = PCS_OK;

	for (size_t i = 0; i < f->nq; i++)
		if (countable(&f->qs[i]))
			n += f->qs[i].type == Q_SCALE ? f->qs[i].nstmts : 1;
	if (n > DISCLOSE_QS_MAX)
		return PCS_ETOOBIG;
	if ((fg->qs = calloc(n + 1, sizeof(*fg->qs))) == NULL ||
	    (fg->nopts = calloc(n + 1, 1)) == NULL)
		return PCS_ENOMEM;
	for (size_t i = 0; i < f->nq && err == PCS_OK; i++) {
		const struct question *q = &f->qs[i];

		if (!countable(q))
			continue;
		if (q->type != Q_SCALE)
			err = question_add(fg, q, -1);
		for (size_t s = 0; q->type == Q_SCALE && s < q->nstmts && err == PCS_OK; s++)
			err = question_add(fg, q, (int)s);
	}
	qsort(fg->qs, fg->nq, sizeof(*fg->qs), cmp_question);
	for (size_t i = 0; i < fg->nq; i++)
		fg->nopts[i] = (uint8_t)fg->qs[i].nopts;
	fg->shape.nq = (unsigned)fg->nq;
	fg->shape.nopts = fg->nopts;
	return err;
}

static void
lattice_release(struct figures *fg)
{
	free(fg->pub);
	fg->pub = NULL;
	fg->npub = 0;
	fg->built = false;
}

void
figures_release(struct figures *fg)
{
	lattice_release(fg);
	for (int d = 0; d < DD__MAX; d++)
		free(fg->dims[d].codes);
	for (size_t i = 0; i < fg->nq; i++)
		free(fg->qs[i].opts);
	free(fg->qs);
	free(fg->nopts);
	free(fg->parent_icb);
	free(fg->parent_role);
	memset(fg, 0, sizeof(*fg));
}

static uint64_t shape_fingerprint(const struct figures *fg);

enum pcs_err
figures_init(struct figures *fg, const struct form *f, const struct disclose_rule *r)
{
	enum pcs_err err = PCS_OK;

	memset(fg, 0, sizeof(*fg));
	fg->form = f;
	fg->rule = *r;
	for (int d = 0; d < DD__MAX && err == PCS_OK; d++)
		err = dim_init(fg, (enum disclose_dim)d);
	if (err == PCS_OK)
		err = parent_init(fg, DD_ICB, DD_REGION, &fg->parent_icb);
	if (err == PCS_OK)
		err = parent_init(fg, DD_ROLE, DD_STAFF_GROUP, &fg->parent_role);
	if (err == PCS_OK)
		err = questions_init(fg);
	if (err == PCS_OK && !disclose_shape_ok(&fg->shape))
		err = PCS_ETOOBIG;
	if (err == PCS_OK)
		fg->fingerprint = shape_fingerprint(fg);
	return err;
}

/* ---- lookups ----------------------------------------------------------- */

/* Byte order of a view against a C string, without strlen (hot: every answer). */
static int
cmp_view(struct str v, const char *c)
{
	size_t i = 0;

	for (; i < v.len && c[i] != '\0'; i++)
		if (v.p[i] != c[i])
			return (unsigned char)v.p[i] < (unsigned char)c[i] ? -1 : 1;
	return i < v.len ? 1 : c[i] != '\0' ? -1 : 0;
}

int
figures_code(const struct figures *fg, enum disclose_dim d, struct str code)
{
	const struct fig_dim *fd = &fg->dims[d];
	size_t lo = 0, hi = fd->n;

	while (lo < hi) {	/* binary search; codes are in byte order */
		size_t mid = (lo + hi) / 2;
		int r = cmp_view(code, fd->codes[mid]->code);

		if (r == 0)
			return (int)mid;
		if (r > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int
figures_question(const struct figures *fg, struct str key)
{
	size_t lo = 0, hi = fg->nq;

	while (lo < hi) {	/* qs are sorted by key */
		size_t mid = (lo + hi) / 2;
		int r = cmp_view(key, fg->qs[mid].key);

		if (r == 0)
			return (int)mid;
		if (r > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int
option_index(const struct fig_question *fq, struct str v)
{
	size_t lo = 0, hi = fq->nopts;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = cmp_view(v, fq->opts[mid]->value);

		if (r == 0)
			return (int)mid;
		if (r > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The published value of key: binary search (pub is sorted), 0 when absent. */
static long
pub_value(const struct figures *fg, uint64_t key)
{
	size_t lo = 0, hi = fg->npub;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (fg->pub[mid].key == key)
			return (long)fg->pub[mid].value;
		if (fg->pub[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The first figure with at least nc coordinates (keys sort by that first, disclose.h). */
static size_t
pub_first(const struct figures *fg, unsigned nc)
{
	size_t lo = 0, hi = fg->npub;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (disclose_ncoords(fg->pub[mid].key) < nc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

long
figures_value(const struct figures *fg, const struct disclose_coords *in)
{
	struct disclose_coords c = *in;
	static const int kids[2][2] = { { DD_ICB, DD_REGION }, { DD_ROLE, DD_STAFF_GROUP } };

	for (int h = 0; h < 2; h++) {
		int kid = kids[h][0], up = kids[h][1];

		if (c.dim[kid] == DISCLOSE_ABSENT || c.dim[up] == DISCLOSE_ABSENT)
			continue;
		if (fg->shape.parent[kid] == NULL ||
		    fg->shape.parent[kid][c.dim[kid]] != (unsigned)c.dim[up])
			return 0;	/* an ICB outside that region: no response */
		c.dim[up] = DISCLOSE_ABSENT;
	}
	return pub_value(fg, disclose_key(&c));
}

enum pcs_err
figures_list(const struct figures *fg, struct arena *a, unsigned mask, int q,
    const struct fig_pub ***out, size_t *n)
{
	size_t k = 0, lo, hi;

	*n = 0;
	/* keys sort by their number of coordinates first (disclose.h): scan that run only */
	lo = pub_first(fg, (unsigned)__builtin_popcount(mask) + (q >= 0));
	hi = pub_first(fg, (unsigned)__builtin_popcount(mask) + (q >= 0) + 1);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = lo; i < hi; i++) {
			struct disclose_coords c;
			unsigned m = 0;

			disclose_coords_of(fg->pub[i].key, &c);
			for (int d = 0; d < DD__MAX; d++)
				m |= c.dim[d] != DISCLOSE_ABSENT ? 1u << d : 0;
			if (m != mask || c.q != (q >= 0 ? q : DISCLOSE_ABSENT))
				continue;
			if (pass == 1)
				(*out)[k] = &fg->pub[i];
			k++;
		}
		if (pass == 0) {
			if ((*out = arena_alloc(a, (k + 1) * sizeof(**out))) == NULL)
				return PCS_ENOMEM;
			*n = k;
			k = 0;
		}
	}
	return PCS_OK;
}

/* ---- the answers' JSON ------------------------------------------------ */

/*
 * A JSON string at *i (after its opening quote): true with its bytes in
 * *out; *plain false when it holds an escape (no option value needs one).
 */
static bool
json_string(struct str in, size_t *i, struct str *out, bool *plain)
{
	size_t s = *i;

	*plain = true;
	for (; *i < in.len; (*i)++) {
		unsigned char ch = (unsigned char)in.p[*i];

		if (ch == '"') {
			*out = (struct str){ in.p + s, *i - s };
			(*i)++;
			return true;
		}
		if (ch < 0x20)
			return false;
		if (ch == '\\') {
			*plain = false;
			if (++(*i) >= in.len)
				return false;
		}
	}
	return false;
}

static void
json_ws(struct str in, size_t *i)
{
	while (*i < in.len && (in.p[*i] == ' ' || in.p[*i] == '\t' || in.p[*i] == '\n' ||
	    in.p[*i] == '\r'))
		(*i)++;
}

/*
 * Skips one value that is not a string at *i: a scalar up to the next
 * delimiter, or a nested array or object by counting brackets (no
 * recursion: depth costs nothing, T-12).
 */
static bool
json_skip(struct str in, size_t *i)
{
	size_t depth = 0;
	struct str sv;
	bool plain;

	if (*i >= in.len || strchr(",]}:", in.p[*i]) != NULL)
		return false;		/* a missing value */
	do {
		if (*i >= in.len)
			return false;
		switch (in.p[*i]) {
		case '"':
			(*i)++;
			if (!json_string(in, i, &sv, &plain))
				return false;
			continue;
		case '[':
		case '{':
			depth++;
			break;
		case ']':
		case '}':
			if (depth == 0)
				return true;	/* the end of the enclosing value */
			depth--;
			break;
		case ',':
			if (depth == 0)
				return true;
			break;
		default:
			break;
		}
		(*i)++;
	} while (depth > 0 || (*i < in.len && in.p[*i] != ',' && in.p[*i] != '}' &&
	    in.p[*i] != ']'));
	return true;
}

/* A top-level array value: fn for each plain string element. */
static bool
json_array(struct str in, size_t *i, struct str key, fig_json_fn fn, void *arg)
{
	struct str v;
	bool plain;

	(*i)++;
	json_ws(in, i);
	if (*i < in.len && in.p[*i] == ']') {
		(*i)++;
		return true;
	}
	for (;;) {
		json_ws(in, i);
		if (*i < in.len && in.p[*i] == '"') {
			(*i)++;
			if (!json_string(in, i, &v, &plain))
				return false;
			if (plain)
				fn(arg, key, v, true);
		} else if (!json_skip(in, i))
			return false;
		json_ws(in, i);
		if (*i < in.len && in.p[*i] == ']') {
			(*i)++;
			return true;
		}
		if (*i >= in.len || in.p[(*i)++] != ',')
			return false;
	}
}

/* One member of the top-level object: "key": value. */
static bool
json_member(struct str in, size_t *i, fig_json_fn fn, void *arg)
{
	struct str key, v;
	bool kplain, plain;

	if (*i >= in.len || in.p[(*i)++] != '"' || !json_string(in, i, &key, &kplain))
		return false;
	json_ws(in, i);
	if (*i >= in.len || in.p[(*i)++] != ':')
		return false;
	json_ws(in, i);
	if (*i < in.len && in.p[*i] == '"') {
		(*i)++;
		if (!json_string(in, i, &v, &plain))
			return false;
		if (plain && kplain)
			fn(arg, key, v, false);
		return true;
	}
	if (*i < in.len && in.p[*i] == '[' && kplain)
		return json_array(in, i, key, fn, arg);
	return json_skip(in, i);
}

bool
figures_json_strings(struct str in, fig_json_fn fn, void *arg)
{
	size_t i = 0;

	json_ws(in, &i);
	if (i >= in.len || in.p[i++] != '{')
		return false;
	json_ws(in, &i);
	if (i < in.len && in.p[i] == '}')
		return true;
	for (;;) {
		json_ws(in, &i);
		if (!json_member(in, &i, fn, arg))
			return false;
		json_ws(in, &i);
		if (i < in.len && in.p[i] == '}')
			break;
		if (i >= in.len || in.p[i++] != ',')
			return false;
	}
	i++;
	json_ws(in, &i);
	return i == in.len;
}

/* ---- building ---------------------------------------------------------- */

/* Open addressing: u64 key (never 0) -> u32 value (0: absent). */
struct acc {
	uint64_t	*keys;
	uint32_t	*vals;
	size_t		 cap, n;
	enum pcs_err	 err;
};

#define KEY_TAG		(1ULL << 63)	/* keeps every stored key non-zero */

static size_t
acc_slot(uint64_t key, size_t cap)
{
	key ^= key >> 31;
	key *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(key >> 17) & (cap - 1);
}

static bool
acc_grow(struct acc *a)
{
	size_t cap = a->cap ? a->cap * 2 : 4096;
	uint64_t *k = calloc(cap, sizeof(*k));
	uint32_t *v = calloc(cap, sizeof(*v));

	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return false;
	}
	for (size_t i = 0; i < a->cap; i++) {
		size_t s;

		if (a->keys[i] == 0)
			continue;
		for (s = acc_slot(a->keys[i], cap); k[s] != 0; s = (s + 1) & (cap - 1))
			;
		k[s] = a->keys[i];
		v[s] = a->vals[i];
	}
	free(a->keys);
	free(a->vals);
	a->keys = k;
	a->vals = v;
	a->cap = cap;
	return true;
}

/* The value slot of key, inserted as 0 if absent; NULL when out of memory. */
static uint32_t *
acc_ref(struct acc *a, uint64_t key)
{
	size_t s;

	if (a->err != PCS_OK)
		return NULL;
	if (2 * (a->n + 1) > a->cap && !acc_grow(a)) {
		a->err = PCS_ENOMEM;
		return NULL;
	}
	for (s = acc_slot(key, a->cap); a->keys[s] != 0 && a->keys[s] != key;
	    s = (s + 1) & (a->cap - 1))
		;
	if (a->keys[s] == 0) {
		a->keys[s] = key;
		a->n++;
	}
	return &a->vals[s];
}

static void
acc_add(struct acc *a, uint64_t key, uint32_t n)
{
	uint32_t *v = acc_ref(a, key);

	if (v == NULL)
		return;
	if ((uint64_t)*v + n > UINT32_MAX)
		a->err = PCS_ETOOBIG;
	else
		*v += n;
}

static void
acc_release(struct acc *a)
{
	free(a->keys);
	free(a->vals);
}

/*
 * One build: responses are first counted per combination of dimension
 * codes ("combo"), and per combo and answer option; only then are those
 * counts projected onto figures, so the per-response work is small.
 */
struct build {
	struct figures	*fg;
	struct acc	 combos;	/* packed dims | KEY_TAG -> combo number (1-based) */
	uint32_t	*combo_n;	/* responses per combo number */
	uint64_t	*combo_key;	/* packed dims per combo number */
	size_t		 ncombos, combo_cap;
	struct acc	 answers;	/* combo << 24 | slot -> responses */
	size_t		*slot_base;	/* first slot of each question */
	size_t		 nslots;
	uint8_t		*seen;		/* per slot: already counted for this row */
	size_t		*staged;	/* this row's slots */
	size_t		 nstaged;
	enum pcs_err	 err;
};

/* The dimensions of a row as canonical codes; unknown codes count nowhere (T-16). */
static void
row_coords(const struct figures *fg, const struct store_count_row *r, struct disclose_coords *c)
{
	for (int d = 0; d < DD__MAX; d++)
		c->dim[d] = fg->dims[d].present && r->has[d] ?
		    figures_code(fg, (enum disclose_dim)d, r->dim[d]) : DISCLOSE_ABSENT;
	/* forms.md: region from the ICB, staff group from the role, when given */
	if (c->dim[DD_ICB] != DISCLOSE_ABSENT && fg->parent_icb != NULL)
		c->dim[DD_REGION] = fg->parent_icb[c->dim[DD_ICB]] == DISCLOSE_NO_PARENT ?
		    DISCLOSE_ABSENT : fg->parent_icb[c->dim[DD_ICB]];
	if (c->dim[DD_ROLE] != DISCLOSE_ABSENT && fg->parent_role != NULL)
		c->dim[DD_STAFF_GROUP] = fg->parent_role[c->dim[DD_ROLE]] == DISCLOSE_NO_PARENT ?
		    DISCLOSE_ABSENT : fg->parent_role[c->dim[DD_ROLE]];
	c->q = c->opt = DISCLOSE_ABSENT;
}

static uint64_t
dims_pack(const struct disclose_coords *c)
{
	uint64_t k = 0;

	for (int d = 0; d < DD__MAX; d++)
		k = k << 8 | (uint64_t)(uint8_t)(c->dim[d] + 1);	/* absent: 0 */
	return k | KEY_TAG;
}

static void
dims_unpack(uint64_t k, struct disclose_coords *c)
{
	for (int d = DD__MAX - 1; d >= 0; d--, k >>= 8)
		c->dim[d] = (int)(k & 0xFF) - 1;
	c->q = c->opt = DISCLOSE_ABSENT;
}

/* The combo number of a row's dimensions (a new one the first time). */
static uint32_t
combo_of(struct build *b, const struct disclose_coords *c)
{
	uint64_t k = dims_pack(c);
	uint32_t *v = acc_ref(&b->combos, k);

	if (v == NULL)
		return 0;
	if (*v == 0) {
		if (b->ncombos + 1 >= 0xFFFFFF) {	/* 24 bits in an answer key */
			b->err = PCS_ETOOBIG;
			return 0;
		}
		if (b->ncombos + 1 >= b->combo_cap) {
			size_t cap = b->combo_cap ? b->combo_cap * 2 : 1024;
			uint32_t *n = realloc(b->combo_n, cap * sizeof(*n));
			uint64_t *ks;

			if (n != NULL)
				b->combo_n = n;
			ks = n ? realloc(b->combo_key, cap * sizeof(*ks)) : NULL;
			if (ks == NULL) {
				b->err = PCS_ENOMEM;
				return 0;
			}
			b->combo_key = ks;
			b->combo_cap = cap;
		}
		*v = (uint32_t)++b->ncombos;
		b->combo_n[*v] = 0;
		b->combo_key[*v] = k;
	}
	return *v;
}

/* fig_json_fn: one string answer; staged once per option per response. */
static void
on_answer(void *arg, struct str key, struct str value, bool in_array)
{
	struct build *b = arg;
	int q = figures_question(b->fg, key), o;
	size_t slot;

	if (q < 0 || b->fg->qs[q].multi != in_array)
		return;		/* not countable, or the wrong JSON type (T-16) */
	if ((o = option_index(&b->fg->qs[q], value)) < 0)
		return;		/* no option of the question */
	slot = b->slot_base[q] + (size_t)o;
	if (b->seen[slot])
		return;		/* a repeated array element counts once */
	b->seen[slot] = 1;
	b->staged[b->nstaged++] = slot;
}

/* store_count_fn: one response. */
static enum pcs_err
on_row(void *arg, const struct store_count_row *r)
{
	struct build *b = arg;
	struct disclose_coords c;
	uint32_t combo;
	bool ok;

	b->nstaged = 0;
	ok = figures_json_strings(r->answers, on_answer, b);
	row_coords(b->fg, r, &c);
	if ((combo = combo_of(b, &c)) == 0)
		return b->err != PCS_OK ? b->err : PCS_ENOMEM;
	b->combo_n[combo]++;
	for (size_t i = 0; i < b->nstaged; i++) {
		/* a row whose answers do not parse still counts, without answers */
		if (ok)
			acc_add(&b->answers, KEY_TAG | (uint64_t)combo << 24 | b->staged[i], 1);
		b->seen[b->staged[i]] = 0;
	}
	return b->answers.err;
}

static enum pcs_err
build_init(struct build *b, struct figures *fg)
{
	memset(b, 0, sizeof(*b));
	b->fg = fg;
	if ((b->slot_base = calloc(fg->nq + 1, sizeof(*b->slot_base))) == NULL)
		return PCS_ENOMEM;
	for (size_t q = 0; q < fg->nq; q++) {
		b->slot_base[q] = b->nslots;
		b->nslots += fg->qs[q].nopts;
	}
	if ((b->seen = calloc(b->nslots + 1, 1)) == NULL ||
	    (b->staged = calloc(b->nslots + 1, sizeof(*b->staged))) == NULL)
		return PCS_ENOMEM;
	return b->nslots >= (1u << 24) ? PCS_ETOOBIG : PCS_OK;
}

static void
build_release(struct build *b)
{
	acc_release(&b->combos);
	acc_release(&b->answers);
	free(b->combo_n);
	free(b->combo_key);
	free(b->slot_base);
	free(b->seen);
	free(b->staged);
}

static void
project(const struct figures *fg, struct acc *figs, const struct disclose_coords *c, uint32_t n)
{
	uint64_t keys[DISCLOSE_PROJECT_MAX];
	size_t k = disclose_project(&fg->shape, c, keys);

	for (size_t i = 0; i < k; i++)
		acc_add(figs, keys[i], n);
}

/* The question of a slot (slot_base is increasing). */
static size_t
slot_question(const struct build *b, size_t slot)
{
	size_t lo = 0, hi = b->fg->nq;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (b->slot_base[mid] <= slot)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Combos and (combo, option) counts onto every figure they count in. */
static void
build_project(struct build *b, struct acc *figs)
{
	for (size_t i = 1; i <= b->ncombos; i++) {
		struct disclose_coords c;

		dims_unpack(b->combo_key[i], &c);
		project(b->fg, figs, &c, b->combo_n[i]);
	}
	for (size_t i = 0; i < b->answers.cap; i++) {
		uint64_t k = b->answers.keys[i];
		size_t combo = (size_t)(k >> 24 & 0xFFFFFF), slot = (size_t)(k & 0xFFFFFF);
		struct disclose_coords c;

		if (k == 0 || combo == 0 || combo > b->ncombos)
			continue;
		dims_unpack(b->combo_key[combo], &c);
		c.q = (int)slot_question(b, slot);
		c.opt = (int)(slot - b->slot_base[c.q]);
		project(b->fg, figs, &c, b->answers.vals[i]);
	}
}

/* The accumulated counts as disclose.h's sorted table, indexed (true counts). */
static enum pcs_err
table_from(struct disclose_table *t, const struct acc *a)
{
	size_t n = 0, nslots = 16;

	if ((t->v = calloc(a->n + 1, sizeof(*t->v))) == NULL)
		return PCS_ENOMEM;
	for (size_t i = 0; i < a->cap; i++)
		if (a->keys[i] != 0 && a->vals[i] > 0)
			t->v[n++] = (struct disclose_fig){ a->keys[i], a->vals[i], 0 };
	qsort(t->v, n, sizeof(*t->v), disclose_fig_cmp);
	while (nslots < 2 * n)
		nslots *= 2;
	if ((t->slots = calloc(nslots, sizeof(*t->slots))) == NULL)
		return PCS_ENOMEM;
	t->n = n;
	t->nslots = nslots;
	return disclose_index(t) == PCS_OK ? PCS_OK : PCS_EINTERNAL;
}

enum pcs_err
figures_publish(struct figures *fg, const struct disclose_table *t)
{
	struct fig_pub *p = calloc(t->n + 1, sizeof(*p));

	if (p == NULL)
		return PCS_ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		p[i] = (struct fig_pub){ t->v[i].key, disclose_value(&fg->rule, &t->v[i]) };
	lattice_release(fg);
	fg->pub = p;
	fg->npub = t->n;
	return PCS_OK;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * The true counts of fg->before's rows, in the caller's snapshot (one
 * transaction holding the marker's read too), projected, disclosed and
 * published into fg; the true counts are freed before returning.
 */
static enum pcs_err
lattice_compute(struct figures *fg, struct store *st)
{
	struct build b;
	struct acc figs = { 0 };
	struct disclose_table t = { .shape = &fg->shape };
	enum pcs_err err;

	if ((err = build_init(&b, fg)) == PCS_OK)
		err = store_counts_rows(st, fg->form->id, fg->before, on_row, &b);
	if (err == PCS_OK) {
		build_project(&b, &figs);
		err = figs.err != PCS_OK ? figs.err : table_from(&t, &figs);
	}
	if (err == PCS_OK) {
		disclose_apply(&t, &fg->rule, &fg->passes);
		err = figures_publish(fg, &t);
	}
	free(t.v);
	free(t.slots);
	acc_release(&figs);
	build_release(&b);
	return err;
}

/* ---- the serialised lattice (pcs.published) ---------------------------- */

/*
 * Layout (all integers little-endian): "PCSF", u32 format, u64 fingerprint,
 * i64 data_as_of, i64 marker n, max_id, sum_id, u32 passes, u64 figures;
 * then per figure LEB128(key - previous key, >= 1) and LEB128(value + 1);
 * then u64 FNV-1a of everything before.  The checksum finds a damaged or
 * truncated blob; it is no defence against someone who can write the
 * database (who could as well write responses).
 */
#define PUB_MAGIC	"PCSF"
#define PUB_FORMAT	1u
#define PUB_HEADER	(4 + 4 + 8 + 8 + 8 + 8 + 8 + 4 + 8)
#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

static uint64_t
fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s, strlen(s) + 1);	/* the NUL separates strings */
}

static uint64_t
fnv_u64(uint64_t h, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fnv(h, b, sizeof(b));
}

/*
 * What the numbers in a key mean: the form, every code, parent, question
 * key and option value in index order, and the rule (a value is only
 * right for the rule it was published under).
 */
static uint64_t
shape_fingerprint(const struct figures *fg)
{
	uint64_t h = fnv_u64(FNV_OFFSET, PUB_FORMAT);

	h = fnv_str(h, fg->form->id);
	for (int d = 0; d < DD__MAX; d++) {
		h = fnv_u64(h, fg->dims[d].present ? fg->dims[d].n + 1 : 0);
		for (size_t i = 0; i < fg->dims[d].n; i++) {
			h = fnv_str(h, fg->dims[d].codes[i]->code);
			if (fg->shape.parent[d] != NULL)
				h = fnv_u64(h, fg->shape.parent[d][i]);
		}
	}
	h = fnv_u64(h, fg->nq);
	for (size_t q = 0; q < fg->nq; q++) {
		h = fnv_str(h, fg->qs[q].key);
		h = fnv_u64(h, fg->qs[q].multi);
		for (size_t o = 0; o < fg->qs[q].nopts; o++)
			h = fnv_str(h, fg->qs[q].opts[o]->value);
	}
	h = fnv_u64(h, fg->rule.suppress_max);
	return fnv_u64(h, fg->rule.round_to);
}

static void
put_u64(struct buf *b, uint64_t v, int bytes)
{
	char c[8];

	for (int i = 0; i < bytes; i++)
		c[i] = (char)(uint8_t)(v >> (8 * i));
	buf_add(b, c, (size_t)bytes);
}

static void
put_leb(struct buf *b, uint64_t v)
{
	char c[10];
	size_t n = 0;

	do {
		c[n++] = (char)(uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
	buf_add(b, c, n);
}

enum pcs_err
figures_encode(const struct figures *fg, struct buf *out)
{
	uint64_t prev = 0;

	buf_add(out, PUB_MAGIC, 4);
	put_u64(out, PUB_FORMAT, 4);
	put_u64(out, fg->fingerprint, 8);
	put_u64(out, (uint64_t)fg->data_as_of, 8);
	put_u64(out, (uint64_t)fg->marker.n, 8);
	put_u64(out, (uint64_t)fg->marker.max_id, 8);
	put_u64(out, (uint64_t)fg->marker.sum_id, 8);
	put_u64(out, fg->passes, 4);
	put_u64(out, fg->npub, 8);
	for (size_t i = 0; i < fg->npub; i++) {
		put_leb(out, fg->pub[i].key - prev);
		put_leb(out, (uint64_t)(fg->pub[i].value + 1));
		prev = fg->pub[i].key;
	}
	if (out->err == PCS_OK)
		put_u64(out, fnv(FNV_OFFSET, out->p, out->len), 8);
	return out->err;
}

static uint64_t
get_u64(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* One LEB128 at p[*i] before end; false when cut short or past 64 bits. */
static bool
get_leb(const uint8_t *p, size_t *i, size_t end, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (*i >= end)
			return false;
		b = p[(*i)++];
		if (shift == 63 && (b & 0x7E) != 0)
			return false;
		*v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* A key fg's lattice can hold: canonical, inside the shape, at most two dimensions. */
static bool
key_ok(const struct figures *fg, uint64_t key)
{
	struct disclose_coords c;
	unsigned nd = 0;

	disclose_coords_of(key, &c);
	if (disclose_key(&c) != key)
		return false;
	for (int d = 0; d < DD__MAX; d++) {
		if (c.dim[d] == DISCLOSE_ABSENT)
			continue;
		if ((unsigned)c.dim[d] >= fg->shape.ncodes[d])
			return false;
		nd++;
	}
	if ((c.dim[DD_ICB] != DISCLOSE_ABSENT && c.dim[DD_REGION] != DISCLOSE_ABSENT) ||
	    (c.dim[DD_ROLE] != DISCLOSE_ABSENT && c.dim[DD_STAFF_GROUP] != DISCLOSE_ABSENT))
		return false;		/* never canonical (disclose.h) */
	if (c.q != DISCLOSE_ABSENT && ((unsigned)c.q >= fg->shape.nq ||
	    (unsigned)c.opt >= fg->shape.nopts[c.q]))
		return false;
	return nd <= 2;
}

/* A value the rule can publish: -1, or a multiple of round_to. */
static bool
value_ok(const struct figures *fg, uint64_t v1)
{
	uint64_t v = v1 - 1;

	if (v1 == 0)
		return true;		/* suppressed */
	if (v > UINT32_MAX)
		return false;
	return fg->rule.round_to <= 1 || v % fg->rule.round_to == 0;
}

/* The header of p: format, fingerprint, day and marker must be fg's. */
static bool
header_ok(const struct figures *fg, const uint8_t *p, size_t n, uint64_t *nfigs)
{
	if (n < PUB_HEADER + 8 || memcmp(p, PUB_MAGIC, 4) != 0 || get_u64(p + 4, 4) != PUB_FORMAT)
		return false;
	if (get_u64(p + 8, 8) != fg->fingerprint ||
	    get_u64(p + 16, 8) != (uint64_t)fg->data_as_of ||
	    get_u64(p + 24, 8) != (uint64_t)fg->marker.n ||
	    get_u64(p + 32, 8) != (uint64_t)fg->marker.max_id ||
	    get_u64(p + 40, 8) != (uint64_t)fg->marker.sum_id)
		return false;
	if (get_u64(p + n - 8, 8) != fnv(FNV_OFFSET, p, n - 8))
		return false;
	*nfigs = get_u64(p + 52, 8);
	/* each figure takes at least two bytes: bounds the allocation */
	return *nfigs <= (n - PUB_HEADER - 8) / 2;
}

enum pcs_err
figures_decode(struct figures *fg, const uint8_t *p, size_t n)
{
	uint64_t nfigs, prev = 0;
	size_t i = PUB_HEADER, end;
	struct fig_pub *v;

	if (!header_ok(fg, p, n, &nfigs))
		return PCS_EINPUT;
	end = n - 8;
	if ((v = calloc((size_t)nfigs + 1, sizeof(*v))) == NULL)
		return PCS_ENOMEM;
	for (size_t k = 0; k < nfigs; k++) {
		uint64_t d, v1;

		if (!get_leb(p, &i, end, &d) || !get_leb(p, &i, end, &v1) || d == 0 ||
		    d > UINT64_MAX - prev || !key_ok(fg, prev + d) || !value_ok(fg, v1)) {
			free(v);
			return PCS_EINPUT;
		}
		prev += d;
		v[k] = (struct fig_pub){ prev, (int64_t)v1 - 1 };
	}
	if (i != end) {
		free(v);
		return PCS_EINPUT;	/* bytes after the last figure */
	}
	lattice_release(fg);
	fg->pub = v;
	fg->npub = (size_t)nfigs;
	fg->passes = (unsigned)get_u64(p + 48, 4);
	return PCS_OK;
}

/* ---- building once, sharing ------------------------------------------- */

/* The advisory lock of a form's lattice: one builder at a time. */
static int64_t
lock_id(const struct form *f)
{
	return (int64_t)fnv_str(fnv_str(FNV_OFFSET, "pcs.published"), f->id);
}

static void
pub_key(const struct figures *fg, struct store_pub_key *k)
{
	*k = (struct store_pub_key){ fg->form->id, fg->data_as_of, fg->marker,
	    fg->fingerprint };
}

/*
 * The stored lattice of fg's key, checked.  PCS_ENOTFOUND: none, or a
 * damaged one (logged: it gets rebuilt and replaced, never trusted).
 */
static enum pcs_err
lattice_load(struct figures *fg, struct store *st)
{
	struct store_pub_key k;
	uint8_t *blob;
	size_t len;
	double t0 = now_ms();
	enum pcs_err err;

	pub_key(fg, &k);
	if ((err = store_published_get(st, &k, &blob, &len)) != PCS_OK)
		return err;
	if ((err = figures_decode(fg, blob, len)) == PCS_OK) {
		fg->built = true;
		log_event(LOG_INFO, "figures_loaded", "form=%s figures=%zu bytes=%zu ms=%.0f",
		    fg->form->id, fg->npub, len, now_ms() - t0);
	} else if (err == PCS_EINPUT) {
		log_event(LOG_WARN, "figures_rejected", "form=%s bytes=%zu then=rebuild",
		    fg->form->id, len);
		err = PCS_ENOTFOUND;
	}
	free(blob);
	return err;
}

/* Serialises fg and stores it (inside store_published_begin()). */
static enum pcs_err
lattice_store(struct figures *fg, struct store *st, size_t *bytes)
{
	struct store_pub_key k;
	struct buf b;
	enum pcs_err err;

	buf_init(&b, PCS_PUBLISHED_BLOB_MAX);
	pub_key(fg, &k);
	if ((err = figures_encode(fg, &b)) == PCS_OK)
		err = store_published_put(st, &k, (const uint8_t *)b.p, b.len);
	*bytes = b.len;
	buf_release(&b);
	return err;
}

static void
log_built(const struct figures *fg, const char *shared, size_t bytes, double t0)
{
	log_event(LOG_INFO, "figures_built", "form=%s figures=%zu passes=%u bytes=%zu shared=%s "
	    "ms=%.0f", fg->form->id, fg->npub, fg->passes, bytes, shared, now_ms() - t0);
}

/*
 * Holding the form's lock, in one REPEATABLE READ snapshot: the marker,
 * then the stored lattice of that marker if a worker stored it before the
 * snapshot, else the build, stored for the others.  The lattice in memory
 * is right whether or not storing it worked (best effort: a failure there
 * is logged, the request is answered).
 */
static enum pcs_err
lattice_build_shared(struct figures *fg, struct store *st)
{
	double t0 = now_ms();
	size_t bytes = 0;
	enum pcs_err err, serr;

	err = store_counts_marker(st, fg->form->id, fg->before, &fg->marker);
	if (err == PCS_OK && (err = lattice_load(fg, st)) == PCS_OK) {
		store_published_rollback(st);
		return PCS_OK;
	}
	if (err == PCS_ENOTFOUND)
		err = lattice_compute(fg, st);
	if (err != PCS_OK) {
		lattice_release(fg);
		if (err != PCS_EDBDOWN)
			store_published_rollback(st);
		return err;
	}
	fg->built = true;
	serr = lattice_store(fg, st, &bytes);
	if (serr == PCS_OK)
		serr = store_published_commit(st);
	else if (serr != PCS_EDBDOWN)
		store_published_rollback(st);
	if (serr != PCS_OK)
		log_event(LOG_WARN, "figures_not_shared", "form=%s err=%d", fg->form->id, (int)serr);
	log_built(fg, serr == PCS_OK ? "stored" : "no", bytes, t0);
	return PCS_OK;
}

/* The old way, when pcs.published cannot be used: this worker's own build. */
static enum pcs_err
lattice_build_local(struct figures *fg, struct store *st)
{
	double t0 = now_ms();
	enum pcs_err err;

	lattice_release(fg);
	if ((err = store_read_begin(st)) != PCS_OK)
		return err;
	err = store_counts_marker(st, fg->form->id, fg->before, &fg->marker);
	if (err == PCS_OK)
		err = lattice_compute(fg, st);
	store_read_end(st);
	if (err != PCS_OK) {
		lattice_release(fg);
		return err;
	}
	fg->built = true;
	log_built(fg, "local", 0, t0);
	return PCS_OK;
}

/*
 * perf.md B3: load the lattice of marker m if a worker stored it; else
 * build it under the form's lock; a worker that finds the lock taken waits
 * for the builder and loads.  The marker may have moved on meanwhile:
 * another round, at most PCS_FIGURES_SHARE_TRIES, then a local build.
 */
static enum pcs_err
lattice_get(struct figures *fg, struct store *st, const struct store_marker *m)
{
	enum pcs_err err;
	bool got;

	for (int i = 0; i < PCS_FIGURES_SHARE_TRIES; i++) {
		fg->marker = *m;
		if ((err = lattice_load(fg, st)) == PCS_OK || err == PCS_EDBDOWN ||
		    err == PCS_ENOMEM)
			return err;
		if (err != PCS_ENOTFOUND)
			break;		/* no pcs.published (logged): build alone */
		if ((err = store_published_begin(st, lock_id(fg->form), &got)) != PCS_OK)
			return err == PCS_EDBDOWN ? err : lattice_build_local(fg, st);
		if (got)
			return lattice_build_shared(fg, st);
		if ((err = store_published_wait(st, lock_id(fg->form))) == PCS_EDBDOWN)
			return err;
	}
	return lattice_build_local(fg, st);
}

/* The cache entry of f (a fresh one, evicting the least recently used, if none). */
static struct figures *
entry_for(const struct form *f, bool *fresh)
{
	struct figures *lru = &cache[0];

	*fresh = false;
	for (size_t i = 0; i < PCS_FIGURES_CACHE_MAX; i++) {
		if (cache[i].form == f)
			return &cache[i];
		if (cache[i].used < lru->used)
			lru = &cache[i];
	}
	figures_release(lru);
	*fresh = true;
	return lru;
}

enum pcs_err
figures_get(struct store *st, const struct conf *conf, const struct form *f, int64_t today,
    const struct figures **out)
{
	bool fresh;
	struct figures *fg = entry_for(f, &fresh);
	struct disclose_rule rule = { (unsigned)conf->suppress_max, (unsigned)conf->round_to };
	struct store_marker m;
	int64_t as_of = figures_data_as_of(conf, today);
	enum pcs_err err;

	*out = NULL;
	if (fresh && (err = figures_init(fg, f, &rule)) != PCS_OK) {
		figures_release(fg);
		return err;
	}
	fg->used = ++cache_clock;
	if ((err = store_counts_marker(st, f->id, figures_before(f->timestamp, as_of), &m)) !=
	    PCS_OK)
		return err;
	/* privacy.md rule 4: once per data day, again when the rows changed */
	if (!fg->built || fg->data_as_of != as_of || memcmp(&m, &fg->marker, sizeof(m)) != 0) {
		fg->data_as_of = as_of;
		fg->before = figures_before(f->timestamp, as_of);
		if ((err = lattice_get(fg, st, &m)) != PCS_OK) {
			lattice_release(fg);
			return err;
		}
	}
	*out = fg;
	return PCS_OK;
}

/* ---- coverage ---------------------------------------------------------- */

static int
cmp_cov(const void *a, const void *b)
{
	const struct fig_cov_icb *x = a, *y = b;
	int r = strcmp(x->region ? x->region->label : "", y->region ? y->region->label : "");

	return r != 0 ? r : strcmp(x->icb->full_name, y->icb->full_name);
}

/* The value of {icb=i[, staff_group=g]} (g < 0: none). */
static long
cov_value(const struct figures *fg, int i, int g)
{
	struct disclose_coords c = { { DISCLOSE_ABSENT, DISCLOSE_ABSENT, DISCLOSE_ABSENT,
	    DISCLOSE_ABSENT, DISCLOSE_ABSENT }, DISCLOSE_ABSENT, DISCLOSE_ABSENT };

	c.dim[DD_ICB] = i;
	c.dim[DD_STAFF_GROUP] = g;
	return figures_value(fg, &c);
}

static enum pcs_err
cov_groups(const struct figures *fg, struct arena *a, struct fig_coverage *out)
{
	const struct ref_table *t = ref_table(REF_STAFF_GROUPS);
	struct disclose_coords c = { { DISCLOSE_ABSENT, DISCLOSE_ABSENT, DISCLOSE_ABSENT,
	    DISCLOSE_ABSENT, DISCLOSE_ABSENT }, DISCLOSE_ABSENT, DISCLOSE_ABSENT };
	size_t n = fg->dims[DD_STAFF_GROUP].present && t ? t->n : 0;

	out->groups = arena_alloc(a, (n + 1) * sizeof(*out->groups));
	out->group_code = arena_alloc(a, (n + 1) * sizeof(*out->group_code));
	out->group_totals = arena_alloc(a, (n + 1) * sizeof(*out->group_totals));
	if (out->groups == NULL || out->group_code == NULL || out->group_totals == NULL)
		return PCS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int g = figures_code(fg, DD_STAFF_GROUP, str_cstr(t->v[i].code));

		if (g < 0)
			continue;
		c.dim[DD_STAFF_GROUP] = g;
		out->groups[out->ngroups] = &t->v[i];
		out->group_code[out->ngroups] = g;
		out->group_totals[out->ngroups++] = figures_value(fg, &c);
	}
	c.dim[DD_STAFF_GROUP] = DISCLOSE_ABSENT;
	out->total = figures_value(fg, &c);
	return PCS_OK;
}

enum pcs_err
figures_coverage(const struct figures *fg, struct arena *a, struct fig_coverage *out)
{
	const struct fig_dim *icbs = &fg->dims[DD_ICB];
	enum pcs_err err;

	memset(out, 0, sizeof(*out));
	if (!icbs->present)
		return PCS_ENOTFOUND;
	if ((err = cov_groups(fg, a, out)) != PCS_OK)
		return err;
	if ((out->icbs = arena_alloc(a, (icbs->n + 1) * sizeof(*out->icbs))) == NULL)
		return PCS_ENOMEM;
	for (size_t i = 0; i < icbs->n; i++) {
		struct fig_cov_icb *r = &out->icbs[i];
		const char *p = icbs->codes[i]->parent;

		r->icb = icbs->codes[i];
		r->region = p ? ref_find(REF_REGIONS, p, strlen(p)) : NULL;
		r->code = (int)i;
		r->total = cov_value(fg, (int)i, DISCLOSE_ABSENT);
		if ((r->counts = arena_alloc(a, (out->ngroups + 1) * sizeof(long))) == NULL)
			return PCS_ENOMEM;
		for (size_t g = 0; g < out->ngroups; g++)
			r->counts[g] = cov_value(fg, (int)i, out->group_code[g]);
	}
	out->nicbs = icbs->n;
	/* http-api.md: ordered by region, then name */
	qsort(out->icbs, out->nicbs, sizeof(*out->icbs), cmp_cov);
	return PCS_OK;
}
