/*
 * page_cache.h: the option lists of a question, rendered once when its form
 * is loaded (issue 9, perf.md B1: the 42-ICB and 39-role selects were most
 * of a question page's CPU).  Only what does not depend on the respondent
 * is pre-rendered: the <option>s of a select, the radio and checkbox items
 * of choice, choices, scale and consent questions.  A request splices in
 * what does: " selected" or " checked" after a chosen option's value, and
 * the "other" text box (its value and its error) where a list leaves a hole
 * for it.  Every byte of a fragment is written through html.h, so the one
 * escaping function still escapes everything that comes from a form.
 *
 * Markup is page.c's (http-api.md ids: a question's first radio or checkbox
 * has id = its field name, further ones field-2, field-3, ...).
 */
#ifndef PCS_PAGE_CACHE_H
#define PCS_PAGE_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "str.h"

struct question;

/* A place in a fragment where a request adds something. */
struct pc_slot {
	size_t		 off;		/* byte offset into the fragment */
	const char	*value;		/* option value; NULL: the "other" text box */
	size_t		 vlen;
};

/* Pre-rendered markup with its slots, in offset order. */
struct pc_frag {
	char		*html;
	size_t		 len;
	const char	*mark;		/* " selected" or " checked" */
	struct pc_slot	*slots;
	size_t		 nslots;
};

/*
 * Per question: select, choice, choices and consent use opts; a scale has
 * one fragment per statement (its radios, named question__statement).
 */
struct q_pre {
	struct pc_frag	 opts;
	struct pc_frag	*stmts;
	size_t		 nstmts;
};

/* What one request fills in while a fragment is copied. */
struct pc_fill {
	/* True when the option with this value is the answer (or one of them). */
	bool		(*chosen)(const void *arg, const char *value, size_t vlen);
	/* Writes the "other" text box (choice and choices only). */
	void		(*other)(const void *arg, struct buf *b);
	const void	*arg;
};

/*
 * Renders q's option lists into *out (NULL for a type without options).
 * Fails only for lack of memory or a list over PCS_RESP_BODY_MAX; then *out
 * is NULL and page.c renders the list per request instead.
 */
enum pcs_err	 pc_build(const struct question *q, struct q_pre **out) PCS_MUST;
void		 pc_free(struct q_pre *p);
/* Appends f, marking the options fill->chosen accepts and filling holes. */
void		 pc_splice(struct buf *b, const struct pc_frag *f,
		    const struct pc_fill *fill);

#endif
