/*
 * cond.h: show_if conditions (forms.md: Conditions), compiled by form.c from
 * JSON into this tree and evaluated against answers held as fields.
 * Pure: no I/O.
 */
#ifndef PCS_COND_H
#define PCS_COND_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"

enum cond_op {
	COND_EQUALS,		/* vals[0] */
	COND_IN,		/* vals[0..nvals) */
	COND_INCLUDES,		/* choices: vals[0] ticked */
	COND_ANSWERED,		/* flag */
	COND_AT_LEAST,		/* num */
	COND_AT_MOST,		/* num */
	COND_ALL,
	COND_ANY,
	COND_NOT,		/* kids[0] */
	COND__MAX
};

struct cond {
	enum cond_op	 op;
	/* leaves */
	const char	*field;		/* field name: "q" or "q__statement" */
	int		 qidx;		/* index into form->qs */
	int		 qtype;		/* enum q_type of that question */
	const char	**vals;
	size_t		 nvals;
	int64_t		 num;
	bool		 flag;
	/* all / any / not */
	struct cond	*kids;
	size_t		 nkids;
};

/*
 * Evaluates c against ans (fields named as in http-api.md: q, q__day...).
 * A date question is read from its three boxes; a number from its value.
 */
bool	 cond_eval(const struct cond *c, const struct fields *ans);

#endif
