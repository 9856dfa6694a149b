/*
 * disclose.h: privacy.md "Disclosure control on every count" as one pure
 * module: no I/O, no allocation, no logging.  The caller gives every array.
 *
 * Invariants.  A *figure* is the number of responses matching a set of
 * coordinates: at most two dimensions and at most one question option
 * (privacy.md rule 4).  Figures are canonical: a figure never holds both
 * icb and region, nor both role and staff_group, because region is derived
 * from icb and staff_group from role (forms.md: Dimensions), so
 * {icb=i, region=r} is the same set of responses as {icb=i} (or empty) and
 * gets that one value.  Codes, questions and options are small indexes
 * that the caller numbers in byte order of their text, so comparing indexes
 * compares text as rule 4's pass order asks.
 *
 * A struct disclose_table holds every figure with a true count >= 1 of one
 * form (the whole published lattice); a figure that is not in it is 0 and
 * is published as 0.  disclose_apply() fills each figure's state, once, from
 * the true counts: then every query reads the one value of each figure.
 */
#ifndef PCS_DISCLOSE_H
#define PCS_DISCLOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* privacy.md rule 4: coordinates are compared in this order. */
enum disclose_dim { DD_ICB, DD_REGION, DD_ROLE, DD_STAFF_GROUP, DD_ORG_TYPE, DD__MAX };

#define DISCLOSE_ABSENT		(-1)
#define DISCLOSE_CODES_MAX	126	/* codes of one dimension (7 bits in a key) */
#define DISCLOSE_QS_MAX		65534	/* countable questions of a form (16 bits) */
#define DISCLOSE_OPTS_MAX	254	/* options of one question (8 bits) */
#define DISCLOSE_PROJECT_MAX	16	/* figures one group of responses counts in */
#define DISCLOSE_NO_PARENT	0xFF	/* parent[] entry of a code without one */

struct disclose_coords {
	int	dim[DD__MAX];	/* code index, or DISCLOSE_ABSENT */
	int	q;		/* question index, or DISCLOSE_ABSENT */
	int	opt;		/* option index of q; absent when q is */
};

/* What coordinates a form's figures can have. */
struct disclose_shape {
	unsigned	 ncodes[DD__MAX];	/* 0: not a dimension of the form */
	/*
	 * [DD_ICB]: the region code of each ICB code, [DD_ROLE]: the staff
	 * group of each role (DISCLOSE_NO_PARENT if none); NULL for the other
	 * dimensions, or when the form lacks the parent dimension.
	 */
	const uint8_t	*parent[DD__MAX];
	unsigned	 nq;			/* countable questions (and scale statements) */
	const uint8_t	*nopts;			/* options of each question */
};

/* privacy.md rules 2 and 3 (configured once for the server, cli.md). */
struct disclose_rule {
	unsigned	suppress_max;	/* rule 2: 1..suppress_max is suppressed */
	unsigned	round_to;	/* rule 3: nearest multiple; 0 or 1: as is */
};

enum disclose_state {
	DISCLOSE_SHOWN,		/* published, rounded */
	DISCLOSE_PRIMARY,	/* rule 2 */
	DISCLOSE_SECONDARY,	/* rule 4 */
};

struct disclose_fig {
	uint64_t	key;	/* disclose_key() of its coordinates */
	uint32_t	count;	/* true count, >= 1 */
	uint32_t	state;	/* enum disclose_state, set by disclose_apply() */
};

/*
 * The lattice.  v is sorted by key (disclose_fig_cmp), keys unique, counts
 * >= 1.  slots is the caller's memory for the hash index: nslots entries,
 * a power of two at least 2 * n.
 */
struct disclose_table {
	const struct disclose_shape *shape;
	struct disclose_fig	*v;
	size_t			 n;
	uint32_t		*slots;
	size_t			 nslots;
};

/* True when s fits the key (code, question and option counts under the maxima). */
bool		 disclose_shape_ok(const struct disclose_shape *s);

/*
 * The key of canonical coordinates.  Keys sort as privacy.md rule 4 orders
 * margins: fewer coordinates first, then coordinate by coordinate (icb,
 * region, role, staff_group, org_type, question, option; a present code
 * before an absent one).
 */
uint64_t	 disclose_key(const struct disclose_coords *c);
void		 disclose_coords_of(uint64_t key, struct disclose_coords *c);
/* Number of coordinates (dimensions plus the question option): 0..3. */
unsigned	 disclose_ncoords(uint64_t key);
/* qsort comparator of struct disclose_fig by key. */
int		 disclose_fig_cmp(const void *a, const void *b);

/*
 * The keys of every figure a group of responses with coordinates row
 * counts in: each canonical choice of at most two of its dimensions (only
 * the shape's), with row's question option if it has one, without it
 * otherwise.  row must itself be canonical except that it holds all its
 * dimensions (region derived from icb, staff group from role).  Returns how
 * many keys were written to out.
 */
size_t		 disclose_project(const struct disclose_shape *s,
		    const struct disclose_coords *row,
		    uint64_t out[DISCLOSE_PROJECT_MAX]);

/*
 * Builds the hash index in t->slots.  PCS_EINPUT when v is not sorted and
 * unique, holds a count of 0, or nslots is not a power of two >= 2n.
 */
enum pcs_err	 disclose_index(struct disclose_table *t) PCS_MUST;
/* The figure with key, or NULL (a true count of 0).  Needs disclose_index(). */
struct disclose_fig *disclose_find(const struct disclose_table *t, uint64_t key);

/*
 * privacy.md rules 2 and 4 on the whole table: primary suppression, then
 * passes over every line until a pass changes nothing.  *passes (may be
 * NULL) gets the number of passes made, the last one included.
 */
void		 disclose_apply(struct disclose_table *t, const struct disclose_rule *r,
		    unsigned *passes);

/*
 * Rule 5 (delay): the last UTC day whose responses are counted, today minus
 * counts_lag_days.  A response counts when the period its day was stored at
 * (forms.md timestamp) is over on that day: figures.h turns it into the
 * first stored day not counted with record.c's own rule.
 */
int64_t		 disclose_data_as_of(int64_t today, unsigned lag_days);

/* Rule 3: count rounded to the nearest round_to (halves up). */
long		 disclose_round(const struct disclose_rule *r, uint32_t count);
/*
 * The published value of a figure: -1 when suppressed, its rounded true
 * count otherwise, 0 for NULL (a figure with no response).
 */
long		 disclose_value(const struct disclose_rule *r, const struct disclose_fig *f);

/*
 * One line (privacy.md rule 4) for the tests and for anyone checking the
 * property: the entries of the line whose margin is t->v[margin] and which
 * adds kind (0..DD__MAX-1: that dimension, or its hierarchy; DD__MAX + q:
 * question q).  Writes the indexes of the present entries, the margin
 * first, to out (room for DISCLOSE_OPTS_MAX + 2) and returns how many;
 * 0 when the margin has no such line.
 */
size_t		 disclose_line(const struct disclose_table *t, size_t margin, unsigned kind,
		    size_t *out);

#endif
