/*
 * valid.h: the answers posted for one page, checked against the form model
 * (forms.md: Types, Conditions) and turned into normalised fields, or a
 * message per question in the NHS/GOV.UK style.  Pure: no I/O.
 */
#ifndef PCS_VALID_H
#define PCS_VALID_H

#include "arena.h"
#include "form.h"
#include "http.h"
#include "page.h"

struct valid_out {
	struct fields	 clean;		/* normalised fields of shown, answered questions */
	struct q_error	*errs;
	size_t		 nerrs;
	struct str	 bad_field;	/* PCS_EINPUT: the field that made the request malformed */
};

/*
 * Validates the fields posted for page p of f.  before holds the effective
 * answers of the other pages (same-page and earlier conditions read it);
 * shown[q] false means an earlier page hides q (its answer is discarded).
 * Returns PCS_EINPUT when a single-answer field is repeated (http-api.md:
 * 400), PCS_ENOMEM; otherwise PCS_OK with out->nerrs messages (0: valid).
 */
enum pcs_err	valid_page(struct arena *a, const struct form *f, size_t p,
		    const struct fields *posted, const struct fields *before,
		    const bool *shown, int64_t today, struct valid_out *out) PCS_MUST;

/* True when name is one of q's fields (q, q__other, q__day, q__stmt...). */
bool		question_owns_field(const struct question *q, struct str name);

#endif
