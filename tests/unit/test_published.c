/*
 * test_published.c: the serialised published lattice that workers share
 * through pcs.published (figures.h figures_encode/figures_decode, perf.md
 * B3).  A lattice of forms/staff-wellbeing.json made from random responses
 * goes through disclose_apply(), figures_publish(), encode and decode and
 * must come back figure for figure; a blob damaged anywhere, cut short,
 * made for another marker, day or rule, or holding a key or a value the
 * rule cannot publish is refused (PCS_EINPUT) and leaves the figures as
 * they were, so figures.c rebuilds instead of trusting it.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disclose.h"
#include "figures.h"
#include "form.h"
#include "ref.h"

struct fixture {
	struct form	*form;
	struct figures	 a, b;		/* a: built; b: decoded into */
	struct buf	 blob;
};

static const struct disclose_rule rule = { 7, 5 };

static const char *
top(void)
{
	const char *t = getenv("PCS_TOP");

	return t && *t ? t : ".";
}

/* Deterministic pseudo-random numbers (xorshift), so a failure repeats. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Adds count n at key into the unsorted (key, count) list v. */
static void
add(struct disclose_fig *v, size_t *nv, uint64_t key, uint32_t n)
{
	for (size_t i = 0; i < *nv; i++)
		if (v[i].key == key) {
			v[i].count += n;
			return;
		}
	v[(*nv)++] = (struct disclose_fig){ key, n, 0 };
}

/* A random response's coordinates in fg's shape (region and group derived). */
static void
random_row(const struct figures *fg, uint64_t *s, struct disclose_coords *c)
{
	for (int d = 0; d < DD__MAX; d++) {
		unsigned n = fg->shape.ncodes[d];

		c->dim[d] = n == 0 || rnd(s) % 8 == 0 ? DISCLOSE_ABSENT : (int)(rnd(s) % n);
	}
	c->dim[DD_REGION] = c->dim[DD_STAFF_GROUP] = DISCLOSE_ABSENT;
	if (c->dim[DD_ICB] != DISCLOSE_ABSENT && fg->shape.parent[DD_ICB] != NULL &&
	    fg->shape.parent[DD_ICB][c->dim[DD_ICB]] != DISCLOSE_NO_PARENT)
		c->dim[DD_REGION] = fg->shape.parent[DD_ICB][c->dim[DD_ICB]];
	if (c->dim[DD_ROLE] != DISCLOSE_ABSENT && fg->shape.parent[DD_ROLE] != NULL &&
	    fg->shape.parent[DD_ROLE][c->dim[DD_ROLE]] != DISCLOSE_NO_PARENT)
		c->dim[DD_STAFF_GROUP] = fg->shape.parent[DD_ROLE][c->dim[DD_ROLE]];
	c->q = c->opt = DISCLOSE_ABSENT;
}

/* fg's published lattice from nrows random responses, each with one answer. */
static void
make_lattice(struct figures *fg, size_t nrows)
{
	size_t cap = nrows * 2 * DISCLOSE_PROJECT_MAX, nv = 0, nslots = 16;
	struct disclose_fig *v = calloc(cap, sizeof(*v));
	struct disclose_table t = { .shape = &fg->shape };
	uint64_t s = 0x9e3779b97f4a7c15ULL;

	assert_non_null(v);
	for (size_t r = 0; r < nrows; r++) {
		struct disclose_coords c;
		uint64_t keys[DISCLOSE_PROJECT_MAX];
		size_t k;

		random_row(fg, &s, &c);
		k = disclose_project(&fg->shape, &c, keys);
		for (size_t i = 0; i < k; i++)
			add(v, &nv, keys[i], 1);
		c.q = (int)(rnd(&s) % fg->shape.nq);
		c.opt = (int)(rnd(&s) % fg->shape.nopts[c.q]);
		k = disclose_project(&fg->shape, &c, keys);
		for (size_t i = 0; i < k; i++)
			add(v, &nv, keys[i], 1);
	}
	qsort(v, nv, sizeof(*v), disclose_fig_cmp);
	while (nslots < 2 * nv)
		nslots *= 2;
	t.v = v;
	t.n = nv;
	t.nslots = nslots;
	assert_non_null(t.slots = calloc(nslots, sizeof(*t.slots)));
	assert_int_equal(disclose_index(&t), PCS_OK);
	disclose_apply(&t, &rule, &fg->passes);
	assert_int_equal(figures_publish(fg, &t), PCS_OK);
	free(t.slots);
	free(v);
}

static int
setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));
	char path[1024];
	size_t n = 0;
	char *report = NULL;
	FILE *m = open_memstream(&report, &n);

	if (x == NULL || m == NULL || ref_load() != PCS_OK)
		return -1;
	snprintf(path, sizeof(path), "%s/forms/staff-wellbeing.json", top());
	if (form_load(path, &x->form, m) != PCS_OK)
		return -1;
	fclose(m);
	free(report);
	if (figures_init(&x->a, x->form, &rule) != PCS_OK ||
	    figures_init(&x->b, x->form, &rule) != PCS_OK)
		return -1;
	x->a.data_as_of = x->b.data_as_of = 20500;
	x->a.marker = x->b.marker = (struct store_marker){ 600, 1234, 98765 };
	make_lattice(&x->a, 600);
	buf_init(&x->blob, 64 * 1024 * 1024);
	if (figures_encode(&x->a, &x->blob) != PCS_OK)
		return -1;
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *x = *state;

	figures_release(&x->a);
	figures_release(&x->b);
	form_free(x->form);
	buf_release(&x->blob);
	free(x);
	return 0;
}

static void
assert_same(const struct figures *a, const struct figures *b)
{
	assert_int_equal(a->npub, b->npub);
	for (size_t i = 0; i < a->npub; i++) {
		struct disclose_coords c;

		assert_true(a->pub[i].key == b->pub[i].key);
		assert_int_equal(a->pub[i].value, b->pub[i].value);
		disclose_coords_of(a->pub[i].key, &c);
		assert_int_equal(figures_value(a, &c), figures_value(b, &c));
	}
}

static void
test_published_round_trip(void **state)
{
	struct fixture *x = *state;
	size_t shown = 0, supp = 0;

	assert_true(x->a.npub > 1000);		/* a real lattice, not a toy */
	for (size_t i = 0; i < x->a.npub; i++) {
		shown += x->a.pub[i].value > 0;
		supp += x->a.pub[i].value < 0;
	}
	assert_true(shown > 0 && supp > 0);	/* both kinds of value travel */
	assert_int_equal(figures_decode(&x->b, (const uint8_t *)x->blob.p, x->blob.len), PCS_OK);
	assert_same(&x->a, &x->b);
	assert_int_equal(x->b.passes, x->a.passes);
}

/* Keeps b's figures when p is refused. */
static void
refused(struct fixture *x, const uint8_t *p, size_t n)
{
	size_t before = x->b.npub;

	assert_int_equal(figures_decode(&x->b, p, n), PCS_EINPUT);
	assert_int_equal(x->b.npub, before);
}

static void
test_published_damage_refused(void **state)
{
	struct fixture *x = *state;
	size_t n = x->blob.len;
	uint8_t *p = malloc(n);

	assert_non_null(p);
	assert_int_equal(figures_decode(&x->b, (const uint8_t *)x->blob.p, n), PCS_OK);
	for (size_t i = 0; i < n; i++) {		/* one flipped bit anywhere */
		memcpy(p, x->blob.p, n);
		p[i] ^= (uint8_t)(1u << (i % 8));
		refused(x, p, n);
	}
	memcpy(p, x->blob.p, n);
	for (size_t k = 0; k < n; k += 1 + k / 3)	/* cut short anywhere */
		refused(x, p, k);
	refused(x, NULL, 0);
	assert_same(&x->a, &x->b);
	free(p);
}

static void
test_published_other_key_refused(void **state)
{
	struct fixture *x = *state;
	struct figures *b = &x->b;
	const uint8_t *p = (const uint8_t *)x->blob.p;
	size_t n = x->blob.len;
	struct disclose_rule other = { 7, 10 };
	struct figures c;

	b->marker.n++;				/* the rows changed since */
	refused(x, p, n);
	b->marker.n--;
	b->marker.sum_id = -1;
	refused(x, p, n);
	b->marker.sum_id = 98765;
	b->data_as_of++;			/* another data day */
	refused(x, p, n);
	b->data_as_of--;
	assert_int_equal(figures_init(&c, x->form, &other), PCS_OK);
	assert_true(c.fingerprint != b->fingerprint);	/* another rule, another shape */
	c.data_as_of = b->data_as_of;
	c.marker = b->marker;
	assert_int_equal(figures_decode(&c, p, n), PCS_EINPUT);
	figures_release(&c);
	assert_int_equal(figures_decode(b, p, n), PCS_OK);
}

/* A well-formed blob (right checksum) whose contents the rule cannot make. */
static void
reencoded_refused(struct fixture *x, size_t i, uint64_t key, int64_t value)
{
	struct fig_pub saved = x->a.pub[i];
	struct buf bad;

	buf_init(&bad, 64 * 1024 * 1024);
	x->a.pub[i] = (struct fig_pub){ key, value };
	assert_int_equal(figures_encode(&x->a, &bad), PCS_OK);
	x->a.pub[i] = saved;
	refused(x, (const uint8_t *)bad.p, bad.len);
	buf_release(&bad);
}

static void
test_published_bad_contents_refused(void **state)
{
	struct fixture *x = *state;
	size_t last = x->a.npub - 1;
	struct disclose_coords c;

	assert_int_equal(figures_decode(&x->b, (const uint8_t *)x->blob.p, x->blob.len), PCS_OK);
	reencoded_refused(x, 0, x->a.pub[0].key, 3);		/* not a multiple of round_to */
	reencoded_refused(x, 0, x->a.pub[0].key, -2);
	/*
	 * A key past the shape, still in key order: the last {icb=i} becomes
	 * {icb=120}, a code the form does not have (it has 42).
	 */
	for (size_t i = 0; i + 1 < x->a.npub; i++) {
		struct disclose_coords next;

		disclose_coords_of(x->a.pub[i].key, &c);
		disclose_coords_of(x->a.pub[i + 1].key, &next);
		if (disclose_ncoords(x->a.pub[i].key) != 1 || c.dim[DD_ICB] == DISCLOSE_ABSENT ||
		    next.dim[DD_ICB] != DISCLOSE_ABSENT)
			continue;
		c.dim[DD_ICB] = 120;
		assert_true(disclose_key(&c) < x->a.pub[i + 1].key);
		reencoded_refused(x, i, disclose_key(&c), 5);
		break;
	}
	/* a key that is not canonical: icb with its region */
	disclose_coords_of(x->a.pub[last].key, &c);
	c.dim[DD_REGION] = 0;
	c.dim[DD_ICB] = 0;
	c.dim[DD_ROLE] = c.dim[DD_STAFF_GROUP] = c.dim[DD_ORG_TYPE] = DISCLOSE_ABSENT;
	c.q = c.opt = DISCLOSE_ABSENT;
	reencoded_refused(x, 0, disclose_key(&c), 5);
	/* keys out of order (a repeated key) */
	reencoded_refused(x, 1, x->a.pub[0].key, x->a.pub[1].value);
	assert_same(&x->a, &x->b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_published_round_trip),
		cmocka_unit_test(test_published_damage_refused),
		cmocka_unit_test(test_published_other_key_refused),
		cmocka_unit_test(test_published_bad_contents_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
