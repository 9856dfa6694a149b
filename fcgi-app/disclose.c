/*
 * disclose.c: privacy.md rules 2-4 (suppression, rounding, secondary
 * suppression with one value per figure) over a form's whole lattice of
 * figures.  Pure: trusts only its own invariants (disclose.h) and checks
 * the table it is given in disclose_index(); allocates nothing (a line's
 * entries live on the stack, bounded by DISCLOSE_OPTS_MAX).
 *
 * Lines (rule 4).  For a margin F, one line per coordinate that can be
 * added to F: a dimension D not in F (F has fewer than two), or a question
 * (F has none).  Region > ICB and staff group > role are the hierarchy
 * lines: F with region=r and the figures that replace it by each ICB of r.
 * Because figures are canonical (disclose.h), "F with region=r plus icb" is
 * that same hierarchy line, and "F with icb plus region" refines nothing.
 * The lines of one margin are visited in the order of the coordinate they
 * add: icb, region, role, staff_group, org_type, then the questions.
 */
#include <string.h>

#include "disclose.h"

/* Key layout, most significant first: ncoords:2 icb:7 region:7 role:7 sg:7 org:7 q:16 opt:8 */
#define DIM_BITS	7
#define DIM_ABSENT	0x7Fu
#define Q_SHIFT		8
#define Q_ABSENT	0xFFFFu
#define OPT_ABSENT	0xFFu
#define NC_SHIFT	59

static unsigned
dim_shift(int d)
{
	return 24 + DIM_BITS * (unsigned)(DD__MAX - 1 - d);	/* org_type lowest */
}

bool
disclose_shape_ok(const struct disclose_shape *s)
{
	for (int d = 0; d < DD__MAX; d++)
		if (s->ncodes[d] > DISCLOSE_CODES_MAX)
			return false;
	if (s->nq > DISCLOSE_QS_MAX || (s->nq > 0 && s->nopts == NULL))
		return false;
	for (unsigned q = 0; q < s->nq; q++)
		if (s->nopts[q] > DISCLOSE_OPTS_MAX)
			return false;
	return true;
}

uint64_t
disclose_key(const struct disclose_coords *c)
{
	uint64_t k = 0, n = 0;

	for (int d = 0; d < DD__MAX; d++) {
		uint64_t v = DIM_ABSENT;

		if (c->dim[d] != DISCLOSE_ABSENT) {
			v = (uint64_t)c->dim[d] & DIM_ABSENT;
			n++;
		}
		k |= v << dim_shift(d);
	}
	if (c->q != DISCLOSE_ABSENT) {
		k |= ((uint64_t)c->q & Q_ABSENT) << Q_SHIFT;
		k |= (uint64_t)c->opt & OPT_ABSENT;
		n++;
	} else
		k |= (uint64_t)Q_ABSENT << Q_SHIFT | OPT_ABSENT;
	return k | n << NC_SHIFT;
}

void
disclose_coords_of(uint64_t key, struct disclose_coords *c)
{
	unsigned q = (unsigned)(key >> Q_SHIFT) & Q_ABSENT;

	for (int d = 0; d < DD__MAX; d++) {
		unsigned v = (unsigned)(key >> dim_shift(d)) & DIM_ABSENT;

		c->dim[d] = v == DIM_ABSENT ? DISCLOSE_ABSENT : (int)v;
	}
	c->q = q == Q_ABSENT ? DISCLOSE_ABSENT : (int)q;
	c->opt = q == Q_ABSENT ? DISCLOSE_ABSENT : (int)(key & OPT_ABSENT);
}

unsigned
disclose_ncoords(uint64_t key)
{
	return (unsigned)(key >> NC_SHIFT) & 3u;
}

int
disclose_fig_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct disclose_fig *)a)->key;
	uint64_t y = ((const struct disclose_fig *)b)->key;

	return x < y ? -1 : x > y;
}

static unsigned
ndims(const struct disclose_coords *c)
{
	unsigned n = 0;

	for (int d = 0; d < DD__MAX; d++)
		n += c->dim[d] != DISCLOSE_ABSENT;
	return n;
}

/* The child dimension of a hierarchy (icb under region, role under staff group). */
static int
child_of(int d)
{
	return d == DD_REGION ? DD_ICB : d == DD_STAFF_GROUP ? DD_ROLE : -1;
}

static int
parent_of(int d)
{
	return d == DD_ICB ? DD_REGION : d == DD_ROLE ? DD_STAFF_GROUP : -1;
}

size_t
disclose_project(const struct disclose_shape *s, const struct disclose_coords *row,
    uint64_t out[DISCLOSE_PROJECT_MAX])
{
	int have[DD__MAX], nh = 0;
	size_t n = 0;
	struct disclose_coords c;

	for (int d = 0; d < DD__MAX; d++)
		if (s->ncodes[d] > 0 && row->dim[d] != DISCLOSE_ABSENT)
			have[nh++] = d;
	c = *row;
	for (int d = 0; d < DD__MAX; d++)
		c.dim[d] = DISCLOSE_ABSENT;
	out[n++] = disclose_key(&c);		/* no dimension */
	for (int i = 0; i < nh; i++) {
		c.dim[have[i]] = row->dim[have[i]];
		out[n++] = disclose_key(&c);
		for (int j = i + 1; j < nh; j++) {
			/* a child with its own parent is the child alone (disclose.h) */
			if (parent_of(have[i]) == have[j] || parent_of(have[j]) == have[i])
				continue;
			c.dim[have[j]] = row->dim[have[j]];
			out[n++] = disclose_key(&c);
			c.dim[have[j]] = DISCLOSE_ABSENT;
		}
		c.dim[have[i]] = DISCLOSE_ABSENT;
	}
	return n;
}

/* ---- the hash index --------------------------------------------------- */

static size_t
slot_of(uint64_t key, size_t nslots)
{
	key ^= key >> 33;		/* murmur3 finaliser */
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	key *= 0xc4ceb9fe1a85ec53ULL;
	key ^= key >> 33;
	return (size_t)key & (nslots - 1);
}

enum pcs_err
disclose_index(struct disclose_table *t)
{
	if (t->nslots < 2 * t->n || t->nslots == 0 || (t->nslots & (t->nslots - 1)) != 0 ||
	    t->n >= UINT32_MAX)
		return PCS_EINPUT;
	memset(t->slots, 0, t->nslots * sizeof(*t->slots));
	for (size_t i = 0; i < t->n; i++) {
		size_t s;

		if (t->v[i].count == 0 || (i > 0 && t->v[i - 1].key >= t->v[i].key))
			return PCS_EINPUT;
		for (s = slot_of(t->v[i].key, t->nslots); t->slots[s] != 0;
		    s = (s + 1) & (t->nslots - 1))
			;
		t->slots[s] = (uint32_t)(i + 1);
	}
	return PCS_OK;
}

struct disclose_fig *
disclose_find(const struct disclose_table *t, uint64_t key)
{
	if (t->nslots == 0)
		return NULL;
	for (size_t s = slot_of(key, t->nslots); t->slots[s] != 0;
	    s = (s + 1) & (t->nslots - 1))
		if (t->v[t->slots[s] - 1].key == key)
			return &t->v[t->slots[s] - 1];
	return NULL;
}

/* ---- lines ------------------------------------------------------------ */

/* Appends the figure with coordinates c, if it has responses. */
static void
entry(const struct disclose_table *t, const struct disclose_coords *c, size_t *out, size_t *n)
{
	const struct disclose_fig *f = disclose_find(t, disclose_key(c));

	if (f != NULL)
		out[(*n)++] = (size_t)(f - t->v);
}

/* Refinements of m by dimension d: each code, or each child of m's parent code. */
static void
dim_line(const struct disclose_table *t, const struct disclose_coords *m, int d,
    size_t *out, size_t *n)
{
	const struct disclose_shape *s = t->shape;
	struct disclose_coords c = *m;
	int up = parent_of(d);

	if (m->dim[d] != DISCLOSE_ABSENT || s->ncodes[d] == 0)
		return;
	if (child_of(d) >= 0 && m->dim[child_of(d)] != DISCLOSE_ABSENT)
		return;			/* {icb=i} plus its region is {icb=i} */
	if (up >= 0 && m->dim[up] != DISCLOSE_ABSENT) {
		/* hierarchy line: replace the parent code by each of its children */
		if (s->parent[d] == NULL)
			return;
		c.dim[up] = DISCLOSE_ABSENT;
		for (unsigned x = 0; x < s->ncodes[d]; x++) {
			if (s->parent[d][x] != (unsigned)m->dim[up])
				continue;
			c.dim[d] = (int)x;
			entry(t, &c, out, n);
		}
		return;
	}
	if (ndims(m) >= 2)
		return;			/* rule 1: at most two dimensions */
	for (unsigned x = 0; x < s->ncodes[d]; x++) {
		c.dim[d] = (int)x;
		entry(t, &c, out, n);
	}
}

/* The entries of margin m's line of kind (disclose_line()). */
static size_t
line_of(const struct disclose_table *t, size_t margin, const struct disclose_coords *m,
    unsigned kind, size_t *out)
{
	size_t n = 1;

	out[0] = margin;
	if (kind < DD__MAX)
		dim_line(t, m, (int)kind, out, &n);
	else if (m->q == DISCLOSE_ABSENT && kind - DD__MAX < t->shape->nq) {
		struct disclose_coords c = *m;

		c.q = (int)(kind - DD__MAX);
		for (unsigned o = 0; o < t->shape->nopts[c.q]; o++) {
			c.opt = (int)o;
			entry(t, &c, out, &n);
		}
	}
	return n > 1 ? n : 0;
}

size_t
disclose_line(const struct disclose_table *t, size_t margin, unsigned kind, size_t *out)
{
	struct disclose_coords m;

	if (margin >= t->n)
		return 0;
	disclose_coords_of(t->v[margin].key, &m);
	return line_of(t, margin, &m, kind, out);
}

/* state holds enum disclose_state, plus DIRTY while disclose_apply() runs. */
#define STATE_MASK	0xFFu
#define DIRTY		0x100u

static bool
suppressed(const struct disclose_fig *f)
{
	return (f->state & STATE_MASK) != DISCLOSE_SHOWN;
}

/* The figure with coordinates c, marked dirty if it has responses. */
static void
mark(struct disclose_table *t, const struct disclose_coords *c)
{
	struct disclose_fig *f = disclose_find(t, disclose_key(c));

	if (f != NULL)
		f->state |= DIRTY;
}

/*
 * After fig changed state: every margin with a line that holds it must be
 * visited again (fig itself, fig less one coordinate, and fig with an ICB
 * or role replaced by its parent).  A margin whose lines' entries did not
 * change since its last visit would decide nothing new, so passes may skip
 * it and still make exactly the decisions of full passes.
 */
static void
mark_margins(struct disclose_table *t, size_t fig)
{
	const struct disclose_shape *s = t->shape;
	struct disclose_coords c, m;

	t->v[fig].state |= DIRTY;
	disclose_coords_of(t->v[fig].key, &c);
	for (int d = 0; d < DD__MAX; d++) {
		int up = parent_of(d);

		if (c.dim[d] == DISCLOSE_ABSENT)
			continue;
		m = c;
		m.dim[d] = DISCLOSE_ABSENT;
		mark(t, &m);
		if (up >= 0 && s->parent[d] != NULL &&
		    s->parent[d][c.dim[d]] != DISCLOSE_NO_PARENT) {
			m.dim[up] = s->parent[d][c.dim[d]];
			mark(t, &m);		/* the hierarchy line's margin */
		}
	}
	if (c.q != DISCLOSE_ABSENT) {
		m = c;
		m.q = m.opt = DISCLOSE_ABSENT;
		mark(t, &m);
	}
}

/*
 * privacy.md rule 4 for one line: with exactly one suppressed entry, also
 * suppress the smallest non-zero unsuppressed entry by true count,
 * refinements before the margin, ties in byte order (entries come in code
 * order); the grand total is never secondarily suppressed.  True if it
 * suppressed something.
 */
/*
 * Rule 4 asks for a second suppression in a line with exactly one
 * suppressed entry.  That is not enough: when the margin is published, the
 * suppressed refinements must add up to margin minus the others, each is
 * known to be at least 1, and the published figures are exact to within
 * the rounding.  Four hidden cells that must add up to at most 4 are each
 * exactly 1 (tests/integration/test_attack.py found this).  So a line is
 * also unprotected while its suppressed refinements add up to less than
 * their number plus the rounding's width; it then gets the same extra
 * suppression (README: where we differ from the spec).
 */
static bool
line_unprotected(const struct disclose_table *t, const size_t *e, size_t n,
    unsigned width)
{
	size_t nsupp = 0, nref = 0;
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		nsupp += suppressed(&t->v[e[i]]);
	if (nsupp == 1)
		return true;			/* rule 4 as written */
	if (nsupp == 0 || suppressed(&t->v[e[0]]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (suppressed(&t->v[e[i]])) {
			nref++;
			sum += t->v[e[i]].count;
		}
	return sum < nref + width;
}

static bool
line_apply(struct disclose_table *t, const size_t *e, size_t n, unsigned width)
{
	size_t best = n;

	if (!line_unprotected(t, e, n, width))
		return false;
	for (size_t i = 1; i < n; i++)		/* refinements first: a tie keeps the first */
		if (!suppressed(&t->v[e[i]]) &&
		    (best == n || t->v[e[i]].count < t->v[e[best]].count))
			best = i;
	if (!suppressed(&t->v[e[0]]) && disclose_ncoords(t->v[e[0]].key) > 0 &&
	    (best == n || t->v[e[0]].count < t->v[e[best]].count))
		best = 0;
	if (best == n)
		return false;			/* only the grand total is left */
	t->v[e[best]].state = (t->v[e[best]].state & DIRTY) | DISCLOSE_SECONDARY;
	mark_margins(t, e[best]);
	return true;
}

/* Visits every line of margin i; true if one of them suppressed something. */
static bool
margin_apply(struct disclose_table *t, size_t i, size_t *e, unsigned width)
{
	unsigned kinds = DD__MAX + t->shape->nq;
	struct disclose_coords m;
	bool changed = false;

	disclose_coords_of(t->v[i].key, &m);
	for (unsigned k = 0; k < (m.q == DISCLOSE_ABSENT ? kinds : DD__MAX); k++) {
		size_t n = line_of(t, i, &m, k, e);

		if (n > 0 && line_apply(t, e, n, width))
			changed = true;
	}
	return changed;
}

void
disclose_apply(struct disclose_table *t, const struct disclose_rule *r, unsigned *passes)
{
	size_t e[DISCLOSE_OPTS_MAX + 2];
	/* what one published count leaves open: round_to - 1 values, at least 1 */
	unsigned width = r->round_to > 1 ? r->round_to - 1 : 1;
	unsigned np = 0;
	bool changed;

	for (size_t i = 0; i < t->n; i++)	/* rule 2: 0 stays 0 (never in v) */
		t->v[i].state = (t->v[i].count <= r->suppress_max ? DISCLOSE_PRIMARY :
		    DISCLOSE_SHOWN) | DIRTY;
	do {
		changed = false;
		np++;
		/* v is in margin order; a pass goes on after a suppression */
		for (size_t i = 0; i < t->n; i++) {
			if (!(t->v[i].state & DIRTY))
				continue;	/* nothing in its lines changed since its visit */
			t->v[i].state &= ~DIRTY;
			if (margin_apply(t, i, e, width))
				changed = true;
		}
	} while (changed);
	if (passes != NULL)
		*passes = np;
}

/* ---- values ----------------------------------------------------------- */

int64_t
disclose_data_as_of(int64_t today, unsigned lag_days)
{
	return today - (int64_t)lag_days;	/* rule 5 */
}

long
disclose_round(const struct disclose_rule *r, uint32_t count)
{
	uint64_t to = r->round_to;

	if (to <= 1)
		return (long)count;
	return (long)((((uint64_t)count + to / 2) / to) * to);	/* rule 3, halves up */
}

long
disclose_value(const struct disclose_rule *r, const struct disclose_fig *f)
{
	if (f == NULL)
		return 0;
	if (f->state != DISCLOSE_SHOWN)
		return -1;
	return disclose_round(r, f->count);
}
