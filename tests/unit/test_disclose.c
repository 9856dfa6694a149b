/*
 * test_disclose.c: disclose.h against privacy.md "Disclosure control on
 * every count": rule 2 (primary suppression 1..suppress_max, 0 stays 0),
 * rule 3 (rounding of every count, totals from true counts), rule 4
 * (secondary suppression over lines, pass order, hierarchies region > ICB
 * and staff group > role, the grand total never secondarily suppressed,
 * one value per figure).  Each table case was worked out by hand from the
 * rule text (the comments show the pass); then a property test on random
 * tables checks, with its own line enumeration written from privacy.md,
 * that no line is left with exactly one suppressed entry while another
 * entry could have been suppressed.
 */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "disclose.h"

#define A	DISCLOSE_ABSENT
#define MAXROWS	16
#define MAXEXP	24

/* A group of n identical responses: dimensions, and up to two answers. */
struct trow {
	int		 d[DD__MAX];
	int		 ans[2][2];	/* (question, option); {A, A} when none */
	uint32_t	 n;
};

/* The expected published value of the figure with these coordinates. */
struct texp {
	int		 d[DD__MAX];
	int		 q, opt;
	long		 value;		/* -1: suppressed */
};

#define NOANS	{ { A, A }, { A, A } }
#define ROW(i, r, ro, g, n)	{ { i, r, ro, g, A }, NOANS, n }
#define EXP(i, r, ro, g, v)	{ { i, r, ro, g, A }, A, A, v }

static const uint8_t icb_region[4] = { 0, 0, 1, 1 };	/* icb 0,1 in region 0 */
static const uint8_t role_group[4] = { 0, 0, 1, 1 };	/* role 0,1 in group 0 */
static const uint8_t three_opts[1] = { 3 };

static const struct disclose_rule nhs = { 7, 5 };	/* privacy.md defaults */

struct tcase {
	const char		*name;
	struct disclose_shape	 shape;
	struct disclose_rule	 rule;
	struct trow		 rows[MAXROWS];
	size_t			 nrows;
	struct texp		 exp[MAXEXP];
	size_t			 nexp;
	unsigned		 passes;	/* 0: not checked */
};

#define S_REGION	{ .ncodes = { 0, 3, 0, 0, 0 } }
#define S_REGION_GROUP	{ .ncodes = { 0, 2, 0, 2, 0 } }
#define S_ICB_REGION	{ .ncodes = { 4, 2, 0, 0, 0 }, .parent = { icb_region, NULL, NULL, NULL, NULL } }
#define S_ROLE_GROUP	{ .ncodes = { 0, 0, 4, 2, 0 }, .parent = { NULL, NULL, role_group, NULL, NULL } }
#define S_REGION_Q	{ .ncodes = { 0, 2, 0, 0, 0 }, .nq = 1, .nopts = three_opts }

static const struct tcase cases[] = {
	{ "rule 2: every cell 1..7 suppressed, total shown", S_REGION, { 7, 5 },
	    { ROW(A, 0, A, A, 2), ROW(A, 1, A, A, 3), ROW(A, 2, A, A, 4) }, 3,
	    { EXP(A, A, A, A, 10), EXP(A, 0, A, A, -1), EXP(A, 1, A, A, -1),
	      EXP(A, 2, A, A, -1) }, 4, 1 },
	{ "one-row table over the threshold", S_REGION, { 7, 5 },
	    { ROW(A, 0, A, A, 20) }, 1,
	    { EXP(A, A, A, A, 20), EXP(A, 0, A, A, 20), EXP(A, 1, A, A, 0) }, 3, 1 },
	{ "one-row table under it: the grand total is primarily suppressed", S_REGION, { 7, 5 },
	    { ROW(A, 0, A, A, 5) }, 1,
	    { EXP(A, A, A, A, -1), EXP(A, 0, A, A, -1) }, 2, 0 },
	{ "ties: the first code in byte order is suppressed", S_REGION, { 7, 5 },
	    /* line {} + region: 3 alone suppressed; 10 and 10 tie: code 1 */
	    { ROW(A, 0, A, A, 3), ROW(A, 1, A, A, 10), ROW(A, 2, A, A, 10) }, 3,
	    { EXP(A, A, A, A, 25), EXP(A, 0, A, A, -1), EXP(A, 1, A, A, -1),
	      EXP(A, 2, A, A, 10) }, 4, 2 },
	{ "zeros stay zero and are never chosen", S_REGION, { 7, 5 },
	    { ROW(A, 0, A, A, 3), ROW(A, 2, A, A, 12) }, 2,
	    { EXP(A, A, A, A, 15), EXP(A, 0, A, A, -1), EXP(A, 1, A, A, 0),
	      EXP(A, 2, A, A, -1) }, 4, 0 },
	{ "rule 3: totals from true counts (24 -> 25, not 10 + 10)", S_REGION, { 7, 5 },
	    { ROW(A, 0, A, A, 12), ROW(A, 1, A, A, 12) }, 2,
	    { EXP(A, A, A, A, 25), EXP(A, 0, A, A, 10), EXP(A, 1, A, A, 10) }, 3, 1 },
	{ "rule 3: 22 -> 20 and 13 -> 15; the smaller 8 joins the 1", S_REGION, { 7, 5 },
	    { ROW(A, 0, A, A, 8), ROW(A, 1, A, A, 13), ROW(A, 2, A, A, 1) }, 3,
	    /* 1 is suppressed, then 8 (the smaller) */
	    { EXP(A, A, A, A, 20), EXP(A, 0, A, A, -1), EXP(A, 1, A, A, 15),
	      EXP(A, 2, A, A, -1) }, 4, 0 },
	{ "the grand total is never secondarily suppressed", S_REGION, { 7, 5 },
	    /* 20 responses without a region: the line's only other entry is {} */
	    { ROW(A, 0, A, A, 3), ROW(A, A, A, A, 20) }, 2,
	    { EXP(A, A, A, A, 25), EXP(A, 0, A, A, -1), EXP(A, 1, A, A, 0) }, 3, 0 },
	{ "secondary suppression in rows and columns", S_REGION_GROUP, { 7, 5 },
	    /*
	     * pass 1: {} lines clean; {R0}+group: R0A alone -> R0B (20 < 23);
	     * {R1} clean; {A}+region: R0A alone -> R1A (20 < 23); {B}+region:
	     * R0B alone -> R1B (30 < 50).  Pass 2 changes nothing.
	     */
	    { ROW(A, 0, A, 0, 3), ROW(A, 0, A, 1, 20), ROW(A, 1, A, 0, 20),
	      ROW(A, 1, A, 1, 30) }, 4,
	    { EXP(A, 0, A, 0, -1), EXP(A, 0, A, 1, -1), EXP(A, 1, A, 0, -1),
	      EXP(A, 1, A, 1, -1), EXP(A, 0, A, A, 25), EXP(A, 1, A, A, 50),
	      EXP(A, A, A, 0, 25), EXP(A, A, A, 1, 50), EXP(A, A, A, A, 75) }, 9, 2 },
	{ "hierarchy region > ICB", S_ICB_REGION, { 7, 5 },
	    /*
	     * {}+icb: icb0 (3) alone -> icb2 (10); {r0}+its ICBs: icb0 alone ->
	     * icb1 (20 < 23); {r1}: icb2 alone -> icb3 (40 < 50).
	     */
	    { ROW(0, 0, A, A, 3), ROW(1, 0, A, A, 20), ROW(2, 1, A, A, 10),
	      ROW(3, 1, A, A, 40) }, 4,
	    { EXP(0, A, A, A, -1), EXP(1, A, A, A, -1), EXP(2, A, A, A, -1),
	      EXP(3, A, A, A, -1), EXP(A, 0, A, A, 25), EXP(A, 1, A, A, 50),
	      EXP(A, A, A, A, 75),
	      /* one value per figure: {icb, its region} is {icb} */
	      EXP(1, 0, A, A, -1), EXP(1, 1, A, A, 0) }, 9, 2 },
	{ "hierarchy staff group > role", S_ROLE_GROUP, { 7, 5 },
	    { ROW(A, A, 0, 0, 3), ROW(A, A, 1, 0, 20), ROW(A, A, 2, 1, 10),
	      ROW(A, A, 3, 1, 40) }, 4,
	    { EXP(A, A, 0, A, -1), EXP(A, A, 1, A, -1), EXP(A, A, 2, A, -1),
	      EXP(A, A, 3, A, -1), EXP(A, A, A, 0, 25), EXP(A, A, A, 1, 50),
	      EXP(A, A, A, A, 75) }, 7, 2 },
	{ "question lines (region x option)", S_REGION_Q, { 7, 5 },
	    /*
	     * {R1}+q: R1o0 (3) alone -> R1o1 (12); {o0}+region: R1o0 alone ->
	     * R0o0 (10 < 13); {o1}+region: R1o1 alone -> R0o1 (10 < 22).
	     */
	    { { { A, 0, A, A, A }, { { 0, 0 }, { A, A } }, 10 },
	      { { A, 0, A, A, A }, { { 0, 1 }, { A, A } }, 10 },
	      { { A, 1, A, A, A }, { { 0, 0 }, { A, A } }, 3 },
	      { { A, 1, A, A, A }, { { 0, 1 }, { A, A } }, 12 },
	      { { A, 1, A, A, A }, { { 0, 2 }, { A, A } }, 15 } }, 5,
	    { { { A, 0, A, A, A }, 0, 0, -1 }, { { A, 0, A, A, A }, 0, 1, -1 },
	      { { A, 1, A, A, A }, 0, 0, -1 }, { { A, 1, A, A, A }, 0, 1, -1 },
	      { { A, 1, A, A, A }, 0, 2, 15 }, { { A, A, A, A, A }, 0, 0, 15 },
	      { { A, A, A, A, A }, 0, 1, 20 }, { { A, A, A, A, A }, 0, 2, 15 },
	      EXP(A, 0, A, A, 20), EXP(A, 1, A, A, 30), EXP(A, A, A, A, 50) }, 11, 2 },
	{ "choices: one response counts once per ticked option", S_REGION_Q, { 7, 5 },
	    { { { A, 0, A, A, A }, { { 0, 0 }, { 0, 1 } }, 10 } }, 1,
	    { { { A, 0, A, A, A }, 0, 0, 10 }, { { A, 0, A, A, A }, 0, 1, 10 },
	      { { A, A, A, A, A }, 0, 0, 10 }, { { A, A, A, A, A }, 0, 2, 0 },
	      EXP(A, 0, A, A, 10), EXP(A, A, A, A, 10) }, 6, 1 },
	{ "suppress_max 0 and round_to 1 publish true counts", S_REGION, { 0, 1 },
	    { ROW(A, 0, A, A, 1), ROW(A, 1, A, A, 2) }, 2,
	    { EXP(A, 0, A, A, 1), EXP(A, 1, A, A, 2), EXP(A, A, A, A, 3) }, 3, 1 },
};

/* ---- a table from rows ------------------------------------------------ */

struct built {
	struct disclose_table	 t;
	struct disclose_fig	*v;
	uint32_t		*slots;
};

static void
add_key(struct disclose_fig **v, size_t *n, size_t *cap, uint64_t key, uint32_t count)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = realloc(*v, *cap * sizeof(**v));
		assert_non_null(*v);
	}
	(*v)[(*n)++] = (struct disclose_fig){ key, count, 0 };
}

/* Projects each row (its dimensions, then each answer) and sums equal keys. */
static void
build(struct built *b, const struct disclose_shape *s, const struct trow *rows, size_t nrows)
{
	struct disclose_fig *v = NULL;
	size_t n = 0, cap = 0, m = 0, nslots = 16;

	assert_true(disclose_shape_ok(s));
	for (size_t r = 0; r < nrows; r++) {
		uint64_t keys[DISCLOSE_PROJECT_MAX];
		struct disclose_coords c;
		size_t k;

		memcpy(c.dim, rows[r].d, sizeof(c.dim));
		c.q = c.opt = A;
		k = disclose_project(s, &c, keys);
		for (size_t i = 0; i < k; i++)
			add_key(&v, &n, &cap, keys[i], rows[r].n);
		for (int a = 0; a < 2; a++) {
			if (rows[r].ans[a][0] == A)
				continue;
			c.q = rows[r].ans[a][0];
			c.opt = rows[r].ans[a][1];
			k = disclose_project(s, &c, keys);
			for (size_t i = 0; i < k; i++)
				add_key(&v, &n, &cap, keys[i], rows[r].n);
		}
	}
	qsort(v, n, sizeof(*v), disclose_fig_cmp);
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && v[m - 1].key == v[i].key)
			v[m - 1].count += v[i].count;
		else
			v[m++] = v[i];
	}
	while (nslots < 2 * m)
		nslots *= 2;
	b->v = v;
	b->slots = calloc(nslots, sizeof(*b->slots));
	assert_non_null(b->slots);
	b->t = (struct disclose_table){ s, v, m, b->slots, nslots };
	assert_int_equal(disclose_index(&b->t), PCS_OK);
}

static void
built_free(struct built *b)
{
	free(b->v);
	free(b->slots);
}

static long
value_at(const struct built *b, const struct disclose_rule *r, const int d[DD__MAX],
    int q, int opt)
{
	struct disclose_coords c;

	memcpy(c.dim, d, sizeof(c.dim));
	c.q = q;
	c.opt = opt;
	/* one value per figure: {icb, its region} and {role, its group} are canonical */
	if (c.dim[DD_ICB] != A && c.dim[DD_REGION] != A) {
		if (b->t.shape->parent[DD_ICB][c.dim[DD_ICB]] != (unsigned)c.dim[DD_REGION])
			return 0;
		c.dim[DD_REGION] = A;
	}
	if (c.dim[DD_ROLE] != A && c.dim[DD_STAFF_GROUP] != A) {
		if (b->t.shape->parent[DD_ROLE][c.dim[DD_ROLE]] != (unsigned)c.dim[DD_STAFF_GROUP])
			return 0;
		c.dim[DD_STAFF_GROUP] = A;
	}
	return disclose_value(r, disclose_find(&b->t, disclose_key(&c)));
}

static void
test_disclose_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct tcase *tc = &cases[i];
		struct built b;
		unsigned passes = 0;

		build(&b, &tc->shape, tc->rows, tc->nrows);
		disclose_apply(&b.t, &tc->rule, &passes);
		for (size_t e = 0; e < tc->nexp; e++) {
			long got = value_at(&b, &tc->rule, tc->exp[e].d, tc->exp[e].q,
			    tc->exp[e].opt);

			if (got != tc->exp[e].value)
				fail_msg("case \"%s\", expectation %zu: got %ld, want %ld",
				    tc->name, e, got, tc->exp[e].value);
		}
		if (tc->passes && passes != tc->passes)
			fail_msg("case \"%s\": %u passes, want %u (a pass goes on after a "
			    "suppression)", tc->name, passes, tc->passes);
		built_free(&b);
	}
}

/* ---- keys ------------------------------------------------------------- */

static uint64_t
key_of(int icb, int region, int role, int group, int org, int q, int opt)
{
	struct disclose_coords c = { { icb, region, role, group, org }, q, opt };

	return disclose_key(&c);
}

/* privacy.md rule 4: fewer coordinates first, then icb, region, role, staff_group, org_type, question. */
static void
test_disclose_key_order(void **state)
{
	const uint64_t ordered[] = {
		key_of(A, A, A, A, A, A, A),
		key_of(0, A, A, A, A, A, A),
		key_of(1, A, A, A, A, A, A),
		key_of(A, 0, A, A, A, A, A),
		key_of(A, A, 0, A, A, A, A),
		key_of(A, A, A, 0, A, A, A),
		key_of(A, A, A, A, 0, A, A),
		key_of(A, A, A, A, A, 0, 0),
		key_of(A, A, A, A, A, 0, 1),
		key_of(A, A, A, A, A, 1, 0),
		key_of(0, A, 0, A, A, A, A),
		key_of(0, A, 1, A, A, A, A),
		key_of(0, A, A, 0, A, A, A),
		key_of(0, A, A, A, A, 0, 0),
		key_of(A, 0, 0, A, A, A, A),
		key_of(A, A, A, 0, 5, A, A),
		key_of(A, A, A, A, 0, 3, 2),
		key_of(0, A, 0, A, A, 0, 0),
	};

	(void)state;
	for (size_t i = 1; i < NELEM(ordered); i++)
		if (!(ordered[i - 1] < ordered[i]))
			fail_msg("key %zu does not sort before key %zu", i - 1, i);
	for (size_t i = 0; i < NELEM(ordered); i++) {
		struct disclose_coords c;

		disclose_coords_of(ordered[i], &c);
		assert_true(disclose_key(&c) == ordered[i]);	/* round trip */
	}
	assert_int_equal(disclose_ncoords(ordered[0]), 0);
	assert_int_equal(disclose_ncoords(ordered[17]), 3);
}

/* A row with all five dimensions counts in 14 canonical figures, never {icb, region}. */
static void
test_disclose_project_canonical(void **state)
{
	static const uint8_t ir[1] = { 0 }, rg[1] = { 0 };
	struct disclose_shape s = { .ncodes = { 1, 1, 1, 1, 1 },
	    .parent = { ir, NULL, rg, NULL, NULL } };
	struct disclose_coords row = { { 0, 0, 0, 0, 0 }, A, A };
	uint64_t keys[DISCLOSE_PROJECT_MAX];
	size_t n;

	(void)state;
	n = disclose_project(&s, &row, keys);
	assert_int_equal(n, 14);	/* 1 + 5 + (10 pairs - 2) */
	for (size_t i = 0; i < n; i++) {
		struct disclose_coords c;

		disclose_coords_of(keys[i], &c);
		assert_false(c.dim[DD_ICB] != A && c.dim[DD_REGION] != A);
		assert_false(c.dim[DD_ROLE] != A && c.dim[DD_STAFF_GROUP] != A);
		assert_true(disclose_ncoords(keys[i]) <= 2);
	}
	s.ncodes[DD_ORG_TYPE] = 0;	/* not a dimension of the form: ignored */
	assert_int_equal(disclose_project(&s, &row, keys), 9);	/* 1 + 4 + (6 - 2) */
}

static void
test_disclose_index_rejects(void **state)
{
	struct disclose_shape s = S_REGION;
	struct disclose_fig v[2] = { { key_of(A, 1, A, A, A, A, A), 3, 0 },
	    { key_of(A, 0, A, A, A, A, A), 4, 0 } };	/* not sorted */
	uint32_t slots[8];
	struct disclose_table t = { &s, v, 2, slots, 8 };

	(void)state;
	assert_int_equal(disclose_index(&t), PCS_EINPUT);
	qsort(v, 2, sizeof(v[0]), disclose_fig_cmp);
	assert_int_equal(disclose_index(&t), PCS_OK);
	t.nslots = 3;					/* not a power of two */
	assert_int_equal(disclose_index(&t), PCS_EINPUT);
	t.nslots = 2;					/* under 2n */
	assert_int_equal(disclose_index(&t), PCS_EINPUT);
	t.nslots = 8;
	v[1].count = 0;					/* 0 is never a figure */
	assert_int_equal(disclose_index(&t), PCS_EINPUT);
	s.ncodes[0] = DISCLOSE_CODES_MAX + 1;
	assert_false(disclose_shape_ok(&s));
}

static void
test_disclose_round(void **state)
{
	static const struct { unsigned to; uint32_t in; long want; } r[] = {
		{ 5, 8, 10 }, { 5, 12, 10 }, { 5, 13, 15 }, { 5, 10, 10 }, { 5, 1240, 1240 },
		{ 10, 15, 20 }, { 10, 14, 10 }, { 1, 13, 13 }, { 0, 13, 13 },
		{ 5, 4000000000u, 4000000000L },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(r); i++) {
		struct disclose_rule rule = { 7, r[i].to };

		if (disclose_round(&rule, r[i].in) != r[i].want)
			fail_msg("round %u to %u: got %ld", r[i].in, r[i].to,
			    disclose_round(&rule, r[i].in));
	}
	assert_int_equal(disclose_value(&nhs, NULL), 0);
	/* rule 5: counts_lag_days 1 (default) and 0 (tests) */
	assert_int_equal(disclose_data_as_of(20000, 1), 19999);
	assert_int_equal(disclose_data_as_of(20000, 0), 20000);
}

/* ---- the property on random tables ------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng_state ^= rng_state << 13;	/* xorshift64: reproducible */
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

static const uint8_t p_icb[5] = { 0, 0, 1, 1, 1 };
static const uint8_t p_role[4] = { 0, 1, 1, 0 };
static const uint8_t p_nopts[2] = { 3, 2 };
static const struct disclose_shape pshape = { .ncodes = { 5, 2, 4, 2, 3 },
    .parent = { p_icb, NULL, p_role, NULL, NULL }, .nq = 2, .nopts = p_nopts };

/* Random responses: each a group of 1..3, dimensions often missing. */
static size_t
random_rows(struct trow *rows, size_t max)
{
	size_t n = 1 + rnd((unsigned)max);

	for (size_t i = 0; i < n; i++) {
		struct trow *r = &rows[i];

		for (int d = 0; d < DD__MAX; d++)
			r->d[d] = rnd(5) == 0 ? A : (int)rnd(pshape.ncodes[d]);
		if (r->d[DD_ICB] != A)
			r->d[DD_REGION] = p_icb[r->d[DD_ICB]];	/* derived */
		if (r->d[DD_ROLE] != A)
			r->d[DD_STAFF_GROUP] = p_role[r->d[DD_ROLE]];
		r->ans[0][0] = rnd(4) == 0 ? A : 0;
		r->ans[0][1] = r->ans[0][0] == A ? A : (int)rnd(3);
		r->ans[1][0] = rnd(2) == 0 ? A : 1;
		r->ans[1][1] = r->ans[1][0] == A ? A : (int)rnd(2);
		r->n = 1 + rnd(3);
	}
	return n;
}

/*
 * The figure M plus one coordinate, made canonical; NULL when that set of
 * responses is empty or is M itself (not a refinement).
 */
static const struct disclose_fig *
refine(const struct built *b, const struct disclose_coords *m, int dim, int code, int q, int opt)
{
	struct disclose_coords c = *m;

	if (dim >= 0)
		c.dim[dim] = code;
	else {
		c.q = q;
		c.opt = opt;
	}
	if (c.dim[DD_ICB] != A && c.dim[DD_REGION] != A) {
		if (p_icb[c.dim[DD_ICB]] != (unsigned)c.dim[DD_REGION])
			return NULL;
		if (dim == DD_REGION)
			return NULL;		/* {icb} plus its own region is {icb} */
		c.dim[DD_REGION] = A;		/* region > ICB: the ICB replaces it */
	}
	if (c.dim[DD_ROLE] != A && c.dim[DD_STAFF_GROUP] != A) {
		if (p_role[c.dim[DD_ROLE]] != (unsigned)c.dim[DD_STAFF_GROUP])
			return NULL;
		if (dim == DD_STAFF_GROUP)
			return NULL;
		c.dim[DD_STAFF_GROUP] = A;
	}
	return disclose_find(&b->t, disclose_key(&c));
}

/* privacy.md: no line keeps exactly one suppressed entry while it has an eligible one. */
static void
check_line(const struct disclose_fig *margin, const struct disclose_fig **e, size_t n,
    size_t iter)
{
	size_t nsupp = margin->state != DISCLOSE_SHOWN, eligible = 0;

	for (size_t i = 0; i < n; i++) {
		nsupp += e[i]->state != DISCLOSE_SHOWN;
		eligible += e[i]->state == DISCLOSE_SHOWN;
	}
	if (margin->state == DISCLOSE_SHOWN && disclose_ncoords(margin->key) > 0)
		eligible++;
	if (nsupp == 1 && eligible > 0)
		fail_msg("table %zu: a line of margin %016llx keeps one suppressed entry",
		    iter, (unsigned long long)margin->key);
}

/* Every line of every margin, enumerated from the rule text. */
static void
check_all_lines(const struct built *b, size_t iter)
{
	for (size_t i = 0; i < b->t.n; i++) {
		const struct disclose_fig *e[DISCLOSE_OPTS_MAX];
		struct disclose_coords m;
		unsigned nd = 0;

		disclose_coords_of(b->t.v[i].key, &m);
		for (int d = 0; d < DD__MAX; d++)
			nd += m.dim[d] != A;
		for (int d = 0; d < DD__MAX; d++) {
			size_t n = 0;
			bool hier = (d == DD_ICB && m.dim[DD_REGION] != A) ||
			    (d == DD_ROLE && m.dim[DD_STAFF_GROUP] != A);

			if (m.dim[d] != A || (nd >= 2 && !hier))
				continue;
			for (int x = 0; x < (int)pshape.ncodes[d]; x++) {
				const struct disclose_fig *f = refine(b, &m, d, x, A, A);

				if (f != NULL)
					e[n++] = f;
			}
			check_line(&b->t.v[i], e, n, iter);
		}
		for (int q = 0; q < (int)pshape.nq && m.q == A; q++) {
			size_t n = 0;

			for (int o = 0; o < pshape.nopts[q]; o++) {
				const struct disclose_fig *f = refine(b, &m, -1, 0, q, o);

				if (f != NULL)
					e[n++] = f;
			}
			check_line(&b->t.v[i], e, n, iter);
		}
	}
}

static void
test_disclose_property_random(void **state)
{
	struct trow *rows = calloc(120, sizeof(*rows));

	(void)state;
	assert_non_null(rows);
	for (size_t iter = 0; iter < 300; iter++) {
		struct disclose_rule rule = { 1 + rnd(9), 1 + rnd(6) };
		size_t n = random_rows(rows, 120);
		struct built b, b2;

		build(&b, &pshape, rows, n);
		disclose_apply(&b.t, &rule, NULL);
		check_all_lines(&b, iter);
		for (size_t i = 0; i < b.t.n; i++) {
			const struct disclose_fig *f = &b.t.v[i];

			/* rule 2 exactly; rule 3 for the rest; never the grand total */
			assert_true((f->count <= rule.suppress_max) == (f->state == DISCLOSE_PRIMARY));
			if (f->state == DISCLOSE_SHOWN)
				assert_int_equal(disclose_value(&rule, f), disclose_round(&rule, f->count));
			else
				assert_int_equal(disclose_value(&rule, f), -1);
			if (disclose_ncoords(f->key) == 0)
				assert_int_not_equal(f->state, DISCLOSE_SECONDARY);
		}
		/* the values depend only on the responses, not on their order */
		for (size_t i = 0; i + 1 < n; i += 2) {
			struct trow t = rows[i];

			rows[i] = rows[n - 1 - i];
			rows[n - 1 - i] = t;
		}
		build(&b2, &pshape, rows, n);
		disclose_apply(&b2.t, &rule, NULL);
		assert_int_equal(b.t.n, b2.t.n);
		for (size_t i = 0; i < b.t.n; i++)
			assert_true(b.t.v[i].key == b2.t.v[i].key &&
			    b.t.v[i].state == b2.t.v[i].state);
		built_free(&b);
		built_free(&b2);
	}
	free(rows);
}

/*
 * A reference run of rule 4 written straight from privacy.md (with our
 * stronger line test, disclose.c): full passes
 * over every line of every margin in order, through disclose_line().
 * disclose_apply() skips margins whose lines did not change; it must
 * decide exactly the same.
 */
static unsigned
naive_apply(struct disclose_table *t, const struct disclose_rule *r)
{
	size_t e[DISCLOSE_OPTS_MAX + 2];
	unsigned passes = 0;
	bool changed;

	for (size_t i = 0; i < t->n; i++)
		t->v[i].state = t->v[i].count <= r->suppress_max ? DISCLOSE_PRIMARY : DISCLOSE_SHOWN;
	do {
		changed = false;
		passes++;
		for (size_t i = 0; i < t->n; i++)
			for (unsigned k = 0; k < DD__MAX + t->shape->nq; k++) {
				size_t n = disclose_line(t, i, k, e), ns = 0, best = n;

				uint64_t sum = 0;
				size_t nref = 0;
				unsigned width = r->round_to > 1 ? r->round_to - 1 : 1;

				for (size_t j = 0; j < n; j++)
					ns += t->v[e[j]].state != DISCLOSE_SHOWN;
				for (size_t j = 1; j < n; j++)
					if (t->v[e[j]].state != DISCLOSE_SHOWN) {
						nref++;
						sum += t->v[e[j]].count;
					}
				/*
				 * rule 4, plus: a published margin whose hidden
				 * refinements add up to less than their number
				 * plus the rounding width (disclose.c)
				 */
				if (ns != 1 && (ns == 0 || t->v[e[0]].state != DISCLOSE_SHOWN ||
				    sum >= nref + width))
					continue;
				for (size_t j = 1; j < n; j++)
					if (t->v[e[j]].state == DISCLOSE_SHOWN &&
					    (best == n || t->v[e[j]].count < t->v[e[best]].count))
						best = j;
				if (t->v[e[0]].state == DISCLOSE_SHOWN &&
				    disclose_ncoords(t->v[e[0]].key) > 0 &&
				    (best == n || t->v[e[0]].count < t->v[e[best]].count))
					best = 0;
				if (best < n) {
					t->v[e[best]].state = DISCLOSE_SECONDARY;
					changed = true;
				}
			}
	} while (changed);
	return passes;
}

static void
test_disclose_same_as_full_passes(void **state)
{
	struct trow *rows = calloc(200, sizeof(*rows));

	(void)state;
	assert_non_null(rows);
	for (size_t iter = 0; iter < 200; iter++) {
		struct disclose_rule rule = { 1 + rnd(9), 5 };
		size_t n = random_rows(rows, 200);
		struct built a, b;
		unsigned pa, pb;

		build(&a, &pshape, rows, n);
		build(&b, &pshape, rows, n);
		disclose_apply(&a.t, &rule, &pa);
		pb = naive_apply(&b.t, &rule);
		if (pa != pb)
			fail_msg("table %zu: %u passes, full passes take %u", iter, pa, pb);
		for (size_t i = 0; i < a.t.n; i++)
			if (a.t.v[i].state != b.t.v[i].state)
				fail_msg("table %zu: figure %016llx is %u, full passes say %u", iter,
				    (unsigned long long)a.t.v[i].key, a.t.v[i].state, b.t.v[i].state);
		built_free(&a);
		built_free(&b);
	}
	free(rows);
}

/* disclose_line() agrees with the rule text on a worked case. */
static void
test_disclose_line_entries(void **state)
{
	const struct tcase *tc = &cases[9];	/* hierarchy region > ICB */
	struct built b;
	size_t e[DISCLOSE_OPTS_MAX + 2], n;
	struct disclose_fig *r0;

	(void)state;
	build(&b, &tc->shape, tc->rows, tc->nrows);
	r0 = disclose_find(&b.t, key_of(A, 0, A, A, A, A, A));
	assert_non_null(r0);
	n = disclose_line(&b.t, (size_t)(r0 - b.t.v), DD_ICB, e);
	assert_int_equal(n, 3);		/* {r0}, icb0, icb1 */
	assert_true(b.t.v[e[1]].key == key_of(0, A, A, A, A, A, A));
	assert_true(b.t.v[e[2]].key == key_of(1, A, A, A, A, A, A));
	assert_int_equal(disclose_line(&b.t, (size_t)(r0 - b.t.v), DD_REGION, e), 0);
	built_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disclose_cases),
		cmocka_unit_test(test_disclose_key_order),
		cmocka_unit_test(test_disclose_project_canonical),
		cmocka_unit_test(test_disclose_index_rejects),
		cmocka_unit_test(test_disclose_round),
		cmocka_unit_test(test_disclose_line_entries),
		cmocka_unit_test(test_disclose_property_random),
		cmocka_unit_test(test_disclose_same_as_full_passes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
