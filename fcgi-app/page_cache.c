/*
 * page_cache.c: a question's option lists, rendered once (page_cache.h).
 *
 * Trusts nothing it renders: option values, labels, hints and group names
 * from a form go through html_text() (html_cstr), our own markup through
 * html_raw(), exactly as page.c writes the rest of the page; a request only
 * adds a fixed attribute and page.c's own "other" text box.  The markup is
 * nhsuk-frontend 10's select, radios and checkboxes components.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "html.h"
#include "limits.h"
#include "page_cache.h"

#define R(b, lit)	html_raw((b), (lit))
#define T(b, s)		html_cstr((b), (s))

/* The "other" option added when a list has none (forms.md: Options). */
static char other_value[] = "other", other_label[] = "Other", yes_value[] = "yes";
static const struct option other_opt = { .value = other_value,
    .label = other_label };

/* A fragment being written: its bytes and the slots found so far. */
struct frag_w {
	struct buf	 b;
	struct pc_slot	*slots;
	size_t		 nslots, cap;
	bool		 oom;
};

static void
fw_init(struct frag_w *w)
{
	memset(w, 0, sizeof(*w));
	buf_init(&w->b, PCS_RESP_BODY_MAX);	/* no list is bigger than its page */
}

/* A slot here: value NULL is the "other" text box. */
static void
fw_slot(struct frag_w *w, const char *value)
{
	if (w->nslots == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 16;
		struct pc_slot *nv = realloc(w->slots, ncap * sizeof(*nv));

		if (nv == NULL) {
			w->oom = true;
			return;
		}
		w->slots = nv;
		w->cap = ncap;
	}
	w->slots[w->nslots++] = (struct pc_slot){ .off = w->b.len,
	    .value = value, .vlen = value ? strlen(value) : 0 };
}

/* Moves w into f; on failure frees w and returns why. */
static enum pcs_err
fw_finish(struct frag_w *w, struct pc_frag *f, const char *mark)
{
	enum pcs_err err = w->oom ? PCS_ENOMEM : w->b.err;

	if (err == PCS_OK && w->b.p == NULL)
		err = PCS_ENOMEM;	/* every list writes at least its <div> */
	if (err != PCS_OK) {
		buf_release(&w->b);
		free(w->slots);
		return err;
	}
	*f = (struct pc_frag){ .html = w->b.p, .len = w->b.len, .mark = mark,
	    .slots = w->slots, .nslots = w->nslots };
	return PCS_OK;
}

/* "id" or "id-N" (N = i + 1) for the i-th radio or checkbox (http-api.md). */
static void
opt_id(char *out, size_t outlen, const char *base, size_t i)
{
	if (i == 0)
		snprintf(out, outlen, "%s", base);
	else
		snprintf(out, outlen, "%s-%zu", base, i + 1);
}

static bool
is_other(const struct question *q, const struct option *o)
{
	return q->other && strcmp(o->value, "other") == 0;
}

static const struct option *
listed_other(const struct question *q)
{
	for (size_t i = 0; i < q->nopts; i++)
		if (strcmp(q->opts[i].value, "other") == 0)
			return &q->opts[i];
	return NULL;
}

/* ---- select ----------------------------------------------------------- */

/* Placeholder option of a select, by reference list. */
static const char *
select_prompt(const struct question *q)
{
	switch (q->options_from) {
	case REF_ICBS:
		return "Choose an ICB";
	case REF_REGIONS:
		return "Choose a region";
	case REF_STAFF_ROLES:
		return "Choose a role";
	case REF_STAFF_GROUPS:
		return "Choose a staff group";
	case REF_ORG_TYPES:
		return "Choose a type of organisation";
	case REF__MAX:
		break;
	}
	return "Choose an option";
}

static void
select_option(struct frag_w *w, const struct option *o)
{
	R(&w->b, "<option value=\"");
	T(&w->b, o->value);
	R(&w->b, "\"");
	fw_slot(w, o->value);
	R(&w->b, ">");
	T(&w->b, o->label);
	R(&w->b, "</option>\n");
}

static bool
same_group(const char *g, const char *h)
{
	return (g == NULL) == (h == NULL) && (g == NULL || strcmp(g, h) == 0);
}

/*
 * The prompt, then the options, each group in an <optgroup> in first-seen
 * order (forms.md: icbs grouped by NHS region); options without a group
 * are one run, not wrapped, where the first of them is.  A list without
 * groups is one run of options.
 */
static void
select_options(struct frag_w *w, const struct question *q)
{
	R(&w->b, "<option value=\"\">");
	T(&w->b, select_prompt(q));
	R(&w->b, "</option>\n");
	for (size_t i = 0; i < q->nopts; i++) {
		const char *g = q->opts[i].group;
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = same_group(g, q->opts[k].group);
		if (seen)
			continue;
		if (g != NULL) {
			R(&w->b, "<optgroup label=\"");
			T(&w->b, g);
			R(&w->b, "\">\n");
		}
		for (size_t k = i; k < q->nopts; k++)
			if (same_group(g, q->opts[k].group))
				select_option(w, &q->opts[k]);
		if (g != NULL)
			R(&w->b, "</optgroup>\n");
	}
	if (q->other && listed_other(q) == NULL)
		select_option(w, &other_opt);
}

/* ---- radios and checkboxes -------------------------------------------- */

/* One radio or checkbox item; the slot is where " checked" goes. */
static void
choice_item(struct frag_w *w, const char *kind, const char *name,
    const char *id, const struct option *o, const char *controls)
{
	struct buf *b = &w->b;

	R(b, "<div class=\"nhsuk-");
	R(b, kind);
	R(b, "__item\">\n<input class=\"nhsuk-");
	R(b, kind);
	R(b, "__input\" id=\"");
	T(b, id);
	R(b, "\" name=\"");
	T(b, name);
	R(b, strcmp(kind, "radios") == 0 ? "\" type=\"radio\" value=\"" :
	    "\" type=\"checkbox\" value=\"");
	T(b, o->value);
	R(b, "\"");
	fw_slot(w, o->value);
	if (o->exclusive && strcmp(kind, "checkboxes") == 0)
		R(b, " data-behaviour=\"exclusive\"");
	if (controls != NULL) {
		R(b, " data-aria-controls=\"");
		T(b, controls);
		R(b, "\"");
	}
	if (o->hint != NULL) {
		R(b, " aria-describedby=\"");
		T(b, id);
		R(b, "-item-hint\"");
	}
	R(b, ">\n<label class=\"nhsuk-label nhsuk-");
	R(b, kind);
	R(b, "__label\" for=\"");
	T(b, id);
	R(b, "\">");
	T(b, o->label);
	R(b, "</label>\n");
	if (o->hint != NULL) {
		R(b, "<div class=\"nhsuk-hint nhsuk-");
		R(b, kind);
		R(b, "__hint\" id=\"");
		T(b, id);
		R(b, "-item-hint\">");
		T(b, o->hint);
		R(b, "</div>\n");
	}
	R(b, "</div>\n");
}

/*
 * The reveal under an "other" item: shown without JavaScript, hidden by
 * pcsurvey.js until chosen; the text box itself is the request's (hole).
 */
static void
other_reveal(struct frag_w *w, const struct question *q, const char *kind,
    const char *cond)
{
	bool radios = q->type == Q_CHOICE;

	R(&w->b, "<div class=\"nhsuk-");
	R(&w->b, kind);
	R(&w->b, "__conditional\" id=\"");
	T(&w->b, cond);
	R(&w->b, "\" data-show-if=\"{&quot;op&quot;:&quot;");
	R(&w->b, radios ? "equals" : "includes");
	R(&w->b, "&quot;,&quot;field&quot;:&quot;");
	T(&w->b, q->id);
	R(&w->b, "&quot;,&quot;type&quot;:&quot;");
	R(&w->b, radios ? "choice" : "choices");
	R(&w->b, "&quot;,&quot;vals&quot;:[&quot;other&quot;]}\">\n");
	fw_slot(w, NULL);
	R(&w->b, "</div>\n");
}

/* choice (radios, with the "other" reveal) and choices (checkboxes). */
static void
choice_list(struct frag_w *w, const struct question *q)
{
	bool radios = q->type == Q_CHOICE;
	const char *kind = radios ? "radios" : "checkboxes";
	size_t n = q->nopts + (q->other && listed_other(q) == NULL);

	/*
	 * nhsuk-frontend's radios script would put aria-expanded on the
	 * "Other" radio, which role=radio does not allow (axe
	 * aria-allowed-attr): pcsurvey.js does that reveal (data-show-if).
	 * Its checkboxes script does "None of these" (exclusive).
	 */
	R(&w->b, radios ? "<div class=\"nhsuk-radios\">\n" :
	    "<div class=\"nhsuk-checkboxes\" data-module=\"nhsuk-checkboxes\">\n");
	for (size_t i = 0; i < n; i++) {
		const struct option *o = i < q->nopts ? &q->opts[i] : &other_opt;
		char id[PCS_HTML_ID_MAX], cond[PCS_HTML_ID_MAX + 16];

		opt_id(id, sizeof(id), q->id, i);
		snprintf(cond, sizeof(cond), "conditional-%s", id);
		/* nhsuk "or" divider before the first exclusive option */
		if (o->exclusive && i > 0 && !q->opts[i - 1].exclusive) {
			R(&w->b, "<div class=\"nhsuk-");
			R(&w->b, kind);
			R(&w->b, "__divider\">or</div>\n");
		}
		choice_item(w, kind, q->id, id, o, is_other(q, o) ? cond : NULL);
		if (is_other(q, o))
			other_reveal(w, q, kind, cond);
	}
	R(&w->b, "</div>\n");
}

/*
 * One scale statement's radios, named question__statement.  Stacked, not
 * inline: five points that wrap onto two lines read out of order, and a
 * magnifier user would not see the points off to the right.
 */
static void
scale_radios(struct frag_w *w, const struct question *q,
    const struct statement *st)
{
	R(&w->b, "<div class=\"nhsuk-radios\">\n");
	for (size_t i = 0; i < q->nopts; i++) {
		char id[PCS_HTML_ID_MAX];

		opt_id(id, sizeof(id), st->field, i);
		choice_item(w, "radios", st->field, id, &q->opts[i], NULL);
	}
	R(&w->b, "</div>\n");
}

/* consent: one checkbox name=qid value=yes, labelled with the statement. */
static void
consent_box(struct frag_w *w, const struct question *q)
{
	const struct option o = { .value = yes_value, .label = q->label };

	R(&w->b, "<div class=\"nhsuk-checkboxes\" data-module=\"nhsuk-checkboxes\">\n");
	choice_item(w, "checkboxes", q->id, q->id, &o, NULL);
	R(&w->b, "</div>\n");
}

/* ---- building and splicing -------------------------------------------- */

static enum pcs_err
build_opts(const struct question *q, struct pc_frag *f)
{
	struct frag_w w;

	fw_init(&w);
	if (q->type == Q_SELECT)
		select_options(&w, q);
	else if (q->type == Q_CONSENT)
		consent_box(&w, q);
	else
		choice_list(&w, q);
	return fw_finish(&w, f, q->type == Q_SELECT ? " selected" : " checked");
}

static enum pcs_err
build_scale(const struct question *q, struct q_pre *p)
{
	if (q->nstmts == 0)
		return PCS_OK;
	if ((p->stmts = calloc(q->nstmts, sizeof(*p->stmts))) == NULL)
		return PCS_ENOMEM;
	for (size_t s = 0; s < q->nstmts; s++) {
		struct frag_w w;
		enum pcs_err err;

		fw_init(&w);
		scale_radios(&w, q, &q->stmts[s]);
		if ((err = fw_finish(&w, &p->stmts[s], " checked")) != PCS_OK)
			return err;
		p->nstmts++;
	}
	return PCS_OK;
}

enum pcs_err
pc_build(const struct question *q, struct q_pre **out)
{
	struct q_pre *p;
	enum pcs_err err;

	*out = NULL;
	switch (q->type) {
	case Q_SELECT:
	case Q_CHOICE:
	case Q_CHOICES:
	case Q_SCALE:
	case Q_CONSENT:
		break;
	case Q_TEXT:
	case Q_TEXTAREA:
	case Q_EMAIL:
	case Q_NUMBER:
	case Q_DATE:
	case Q_INFO:
	case Q__MAX:
		return PCS_OK;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return PCS_ENOMEM;
	err = q->type == Q_SCALE ? build_scale(q, p) : build_opts(q, &p->opts);
	if (err != PCS_OK) {
		pc_free(p);
		return err;
	}
	*out = p;
	return PCS_OK;
}

static void
frag_free(struct pc_frag *f)
{
	free(f->html);
	free(f->slots);
}

void
pc_free(struct q_pre *p)
{
	if (p == NULL)
		return;
	frag_free(&p->opts);
	for (size_t s = 0; s < p->nstmts; s++)
		frag_free(&p->stmts[s]);
	free(p->stmts);
	free(p);
}

void
pc_splice(struct buf *b, const struct pc_frag *f, const struct pc_fill *fill)
{
	size_t done = 0;

	for (size_t i = 0; i < f->nslots; i++) {
		const struct pc_slot *s = &f->slots[i];

		if (s->value != NULL ?
		    !fill->chosen(fill->arg, s->value, s->vlen) : fill->other == NULL)
			continue;
		buf_add(b, f->html + done, s->off - done);
		done = s->off;
		if (s->value != NULL)
			buf_adds(b, f->mark);
		else
			fill->other(fill->arg, b);
	}
	buf_add(b, f->html + done, f->len - done);
}
