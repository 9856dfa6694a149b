/*
 * journey.h: where a respondent is in a form, computed from the draft's
 * answers (forms.md: Pages and Conditions).  Pages and questions are walked
 * in order and a condition sees only the answers of questions still shown,
 * so a changed earlier answer drops what it hides.  Pure: no I/O.
 */
#ifndef PCS_JOURNEY_H
#define PCS_JOURNEY_H

#include <stdbool.h>

#include "arena.h"
#include "form.h"
#include "http.h"

struct journey {
	struct fields	 eff;		/* answers of active questions only */
	bool		*pshown;	/* per page: its show_if holds */
	bool		*qshown;	/* per question: rendered on its page */
	bool		*qactive;	/* per question: its answer counts (all conditions hold) */
	size_t		 npages_shown;
};

enum pcs_err	journey_eval(struct arena *a, const struct form *f,
		    const struct fields *answers, struct journey *j) PCS_MUST;
/* The next shown page after p (or the first if p < 0); -1: none, go to check. */
int		journey_next(const struct form *f, const struct journey *j, int p);
/* The shown page before p, or -1. */
int		journey_prev(const struct form *f, const struct journey *j, int p);
/* 1-based number of page p among shown pages. */
size_t		journey_page_no(const struct form *f, const struct journey *j, size_t p);
/* The first shown page with a required active question unanswered, or -1. */
int		journey_first_missing(const struct form *f, const struct journey *j);
/* The first shown page none of whose questions has an answer yet, or -1. */
int		journey_first_unanswered(const struct form *f, const struct journey *j);
/* True when q has an answer in fields. */
bool		question_answered(const struct question *q, const struct fields *ans);

#endif
