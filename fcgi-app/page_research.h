/*
 * page_research.h: the HTML of the /research pages (http-api.md: coverage
 * page, researcher login, preview index), in the nhsuk-frontend markup of
 * page.c and only through html.h.  Pure: appends to a struct buf.  No
 * script and no style attribute: looks come from classes in
 * /assets/pcsurvey-research.css; every figure is also written as text, so
 * the pages read without colour, at 320 px and with a screen reader.
 */
#ifndef PCS_PAGE_RESEARCH_H
#define PCS_PAGE_RESEARCH_H

#include <stdint.h>

#include "figures.h"
#include "form.h"
#include "str.h"

/* GET/POST /research/login: field "token"; error (or NULL) shown on it. */
void	page_research_login(struct buf *b, const char *csrf, const char *error);
/* GET /research: every form (drafts too), with coverage and preview links. */
void	page_research_home(struct buf *b, const struct formset *fs, const char *csrf);

struct research_coverage_view {
	const struct form		*form;
	const struct fig_coverage	*cv;
	int64_t				 data_as_of;
	int				 suppress_max, round_to;
	int				 group;		/* index in cv->groups shown on the map, -1: all */
	const char			*csrf;		/* the session's, for the sign-out button */
};
/* GET /research/coverage: map, staff-group filter, table, key, attribution. */
void	page_research_coverage(struct buf *b, const struct research_coverage_view *v);

/* GET /research/preview/{form}: what the preview is, and its pages. */
void	page_research_preview_index(struct buf *b, const struct form *f, const char *csrf);

#endif
