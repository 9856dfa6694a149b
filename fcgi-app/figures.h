/*
 * figures.h: the published figures of a form (privacy.md: Disclosure
 * control on every count).  figures_get() builds the form's whole lattice
 * (every figure any allowed query can publish, disclose.h) from the true
 * counts of store_research.c, applies disclose_apply() once, and keeps it
 * in the worker, keyed by form, data day and a change marker of the rows;
 * the counts API, the coverage API and the coverage page then only read
 * it, so each figure has one value in every result.
 *
 * Rule 5 (delay): data_as_of = today - counts_lag_days; a response counts
 * when its stored period (day, ISO week or month, forms.md timestamp) ended
 * on or before data_as_of, so a week or month form shows a period once it
 * is over and two calls around one submission see the same values.
 *
 * Shared (perf.md B3): the first worker that needs a lattice builds it
 * under an advisory lock and stores its published values in pcs.published;
 * the others wait for that lock and load it, so a form's lattice is built
 * once per data day and change of rows, not once per worker.
 *
 * The struct figures returned is owned by the cache and stays valid until
 * the next figures_get() of this worker (one request).
 */
#ifndef PCS_FIGURES_H
#define PCS_FIGURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "conf.h"
#include "disclose.h"
#include "form.h"
#include "ref.h"
#include "store.h"
#include "str.h"

/* One dimension of a form's lattice: its reference codes in byte order. */
struct fig_dim {
	bool			  present;	/* a dimension of the form (forms.md) */
	enum ref_list		  list;
	const struct ref_entry	**codes;
	size_t			  n;
};

/* One countable question (or scale statement): its options in byte order. */
struct fig_question {
	const char		 *key;		/* "q" or "q__statement" */
	const struct question	 *q;
	int			  stmt;		/* scale statement index, or -1 */
	const struct option	**opts;
	size_t			  nopts;
	bool			  multi;	/* choices: one count per ticked option */
};

/*
 * One published figure: its key (disclose_key()) and the one value every
 * result shows: -1 suppressed, else the rounded count (0 possible when
 * suppress_max < round_to / 2).  Only figures with a true count >= 1.
 */
struct fig_pub {
	uint64_t	key;
	int64_t		value;
};

struct figures {
	const struct form	*form;
	struct fig_dim		 dims[DD__MAX];		/* indexed by enum disclose_dim */
	struct fig_question	*qs;			/* sorted by key */
	size_t			 nq;
	struct disclose_shape	 shape;
	struct disclose_rule	 rule;
	int64_t			 data_as_of;		/* rule 5 */
	int64_t			 before;		/* stored day < before counts */
	struct store_marker	 marker;
	/*
	 * The published values only, sorted by key: the true counts are
	 * dropped once disclose_apply() has run (privacy.md), so a lattice
	 * built here and one loaded from pcs.published are the same bytes.
	 */
	struct fig_pub		*pub;
	size_t			 npub;
	unsigned		 passes;
	uint64_t		 fingerprint;		/* shape and rule: figures_init() */
	/* private to figures.c */
	uint8_t			*nopts, *parent_icb, *parent_role;
	bool			 built;
	uint64_t		 used;
};

/* forms.md Dimensions: d is one of f's (declared, or region / staff group derived). */
bool		 figures_form_has_dim(const struct form *f, enum disclose_dim d);

/* What a counts question=KEY names (http-api.md: counts). */
enum fig_qcheck {
	FQ_OK,			/* a countable question or scale statement */
	FQ_UNKNOWN,		/* no such question or statement */
	FQ_NOT_COUNTABLE,	/* not a clear choice/select/choices/scale, or a dimension */
	FQ_SCALE,		/* a scale: name one statement, Q__statement */
};
enum fig_qcheck	 figures_question_check(const struct form *f, struct str key);

/*
 * Calls fn for each member of a JSON object (the stored answers) whose
 * value is a string, and for each string element of a member whose value
 * is an array (in_array).  Strings holding an escape are passed over: no
 * option value or question id needs one.  Other values, nested ones
 * included, are skipped without recursion.  False when in is not one
 * well-formed object (fn may have been called for earlier members).
 */
typedef void	(*fig_json_fn)(void *arg, struct str key, struct str value, bool in_array);
bool		 figures_json_strings(struct str in, fig_json_fn fn, void *arg);

/* data_as_of for today (rule 5). */
int64_t		 figures_data_as_of(const struct conf *conf, int64_t today);
/* The first stored day not counted on data_as_of for a form of precision p. */
int64_t		 figures_before(enum ts_precision p, int64_t data_as_of);

/*
 * The form's published lattice for today: cached, or rebuilt when the data
 * day or the rows changed.  PCS_EDBDOWN, PCS_ENOMEM, PCS_ETOOBIG (a form
 * past disclose.h's limits), PCS_EINTERNAL.
 */
enum pcs_err	 figures_get(struct store *st, const struct conf *conf, const struct form *f,
		    int64_t today, const struct figures **out) PCS_MUST;

/*
 * The shape of f and the rule r in fg (zeroed first), with its fingerprint;
 * no figures yet.  figures_release() frees what it holds.  figures_get()
 * uses them for its cache; the unit tests for the serialised form.
 */
enum pcs_err	 figures_init(struct figures *fg, const struct form *f,
		    const struct disclose_rule *r) PCS_MUST;
void		 figures_release(struct figures *fg);
/*
 * Replaces fg's figures by the published values of t (after
 * disclose_apply(), with fg's rule): what pcs.published may keep.
 */
enum pcs_err	 figures_publish(struct figures *fg, const struct disclose_table *t) PCS_MUST;
/*
 * The serialised published lattice of pcs.published (0004_published.sql):
 * a header naming the fingerprint, data_as_of and marker, then each
 * figure's key and published value, then a checksum.  figures_decode()
 * trusts nothing: PCS_EINPUT unless the blob is whole, undamaged, made for
 * fg's fingerprint, data_as_of and marker, with every key canonical and in
 * fg's shape and every value one the rule can publish; fg's figures are
 * then replaced.
 */
enum pcs_err	 figures_encode(const struct figures *fg, struct buf *out) PCS_MUST;
enum pcs_err	 figures_decode(struct figures *fg, const uint8_t *p, size_t n) PCS_MUST;

/* Index of code in dimension d of the form, or -1. */
int		 figures_code(const struct figures *fg, enum disclose_dim d, struct str code);
/* Index of a countable question key ("q" or "q__statement"), or -1. */
int		 figures_question(const struct figures *fg, struct str key);
/*
 * The published value of the figure with coordinates c (-1: suppressed,
 * else the rounded count, 0 when no response matches).  c may hold icb with
 * region or role with staff_group: that is the child's figure when it lies
 * in that parent, 0 otherwise (one value per figure).
 */
long		 figures_value(const struct figures *fg, const struct disclose_coords *c);
/*
 * The figures (count >= 1) whose coordinates are exactly the dimensions in
 * mask (bit 1 << d) plus, when q >= 0, an option of question q; in key
 * order.  *out is in the arena.
 */
enum pcs_err	 figures_list(const struct figures *fg, struct arena *a, unsigned mask, int q,
		    const struct fig_pub ***out, size_t *n) PCS_MUST;

/* http-api.md coverage: ICB x staff group, every ICB valid on reference_date. */
struct fig_cov_icb {
	const struct ref_entry	*icb;
	const struct ref_entry	*region;	/* NULL if its region is unknown */
	int			 code;		/* index in dims[DD_ICB] */
	long			 total;		/* published {icb}; -1 suppressed */
	long			*counts;	/* published {icb, group} per groups[] */
};
struct fig_coverage {
	const struct ref_entry	**groups;	/* staff groups, reference-list order */
	int			 *group_code;	/* index of each in dims[DD_STAFF_GROUP] */
	size_t			  ngroups;	/* 0 when the form has no role */
	struct fig_cov_icb	 *icbs;		/* by region name, then ICB name */
	size_t			  nicbs;
	long			 *group_totals;	/* published {staff_group} */
	long			  total;	/* the grand total */
};
/* Fills out in the arena; PCS_ENOTFOUND when the form has no icb dimension. */
enum pcs_err	 figures_coverage(const struct figures *fg, struct arena *a,
		    struct fig_coverage *out) PCS_MUST;

#endif
