/*
 * page.h: every HTML page of the respondent journey, in nhsuk-frontend
 * markup (GOV.UK/NHS patterns: error summary, inline errors, fieldsets).
 * Pages are made only of html_*() calls (html.h) and of option lists made
 * by them at form load (page_cache.h), so everything from a form or a
 * request is escaped by the one escaping function.  Pure: appends to a
 * struct buf, never does I/O.  Works without JavaScript; /assets/pcsurvey.js
 * only reveals same-page conditional questions.
 */
#ifndef PCS_PAGE_H
#define PCS_PAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "form.h"
#include "http.h"
#include "str.h"

/* One validation message (valid.c); the page decides the anchor id. */
struct q_error {
	size_t		 qidx;		/* index into form->qs */
	int		 stmt;		/* scale statement index, or -1 */
	int		 part;		/* date: 0 day, 1 month, 2 year; "other" text: 3; else 0 */
	const char	*msg;		/* "Enter a number of hours between 0 and 80" */
};

struct page_view {
	const struct form	*form;
	size_t			 page;		/* index into form->pages */
	size_t			 page_no;	/* 1-based, among shown pages */
	size_t			 page_count;	/* pages whose show_if holds so far */
	const struct fields	*values;	/* pre-fill: what was posted, or the draft */
	const bool		*shown;		/* per form->qs: false when an earlier page's answer hides it */
	const struct q_error	*errors;
	size_t			 nerrors;
	const char		*csrf;		/* hidden field "csrf" */
	const char		*action;	/* form action, e.g. "/f/x/p/y" */
	const char		*back_href;	/* NULL: no Back link */
	bool			 db_down;	/* http-api.md: "We could not save your answers just now..." */
	bool			 preview;	/* researcher preview: no Save button */
};

/* Begin a page: doctype, head (title "<title> - <site>"), header, <main>. */
void	page_begin(struct buf *b, const char *title, const struct form *f);
/* Close <main>, footer (privacy, accessibility, withdraw links), scripts. */
void	page_end(struct buf *b);

/* GET /: open forms, title, link and closing date ("31 March 2027"). */
void	page_index(struct buf *b, const struct formset *fs, int64_t today);
/*
 * GET /f/{form}: title, intro, privacy notice, "Start now" (a POST to
 * /f/{form}/start with csrf).  invite forms ask for field "code" here;
 * code_error (or NULL) is shown as an error on it.  closed: "This survey is
 * closed" and no button.
 */
void	page_start(struct buf *b, const struct form *f, const char *csrf,
	    bool closed, const char *code_error);
/* One page of questions (GET or a POST with errors). */
void	page_questions(struct buf *b, const struct page_view *v);
/*
 * "Check your answers": a summary list per shown page with a "Change" link
 * to /f/{form}/p/{page}, then a "Submit" button (POST /f/{form}/submit).
 */
void	page_check(struct buf *b, const struct form *f, const struct fields *answers,
	    const bool *shown, const bool *page_shown, const char *csrf);
/* "Your response has been recorded", receipt code in id="receipt-code", how to withdraw. */
void	page_done(struct buf *b, const struct form *f, const char *receipt);
/* After "Save and come back later": the resume code in id="resume-code". */
void	page_saved(struct buf *b, const struct form *f, const char *resume_code,
	    int64_t expires_day);
/* GET/POST /f/{form}/resume: field "code"; error or NULL. */
void	page_resume(struct buf *b, const struct form *f, const char *csrf,
	    const char *error);
/* GET/POST /withdraw: field "code"; outcome 0 form, 1 withdrawn, 2 not found, 3 bad input. */
void	page_withdraw(struct buf *b, const char *csrf, int outcome);
/* An error page: h1 title, a paragraph message, optional reference id (500). */
void	page_error(struct buf *b, int status, const char *title, const char *message,
	    const char *ref_id);
/* /privacy and /accessibility */
void	page_privacy(struct buf *b);
void	page_accessibility(struct buf *b);

/* "31 March 2027" into out (at least 20 bytes). */
void	page_date_long(int64_t day, char *out, size_t outlen);

#endif
