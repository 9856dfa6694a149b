/*
 * page.c: every HTML page of the respondent journey, in nhsuk-frontend 10
 * markup (class names and structure from its component templates).
 *
 * Trusts nothing it renders: every string from a form, a request or the
 * store goes through html_text() (html.h); literal markup of our own goes
 * through html_raw().  The option lists of select, radio and checkbox
 * questions were written the same way once, at form load (page_cache.h);
 * a request splices in " selected"/" checked" and the "other" text box.  Field names and ids follow http-api.md: a question's
 * first input has id = its field name (qid, qid__statement, qid__day,
 * qid__other), further radios and checkboxes qid-2, qid-3, ...; hints are
 * <first id>-hint, errors <first id>-error.  No inline script or style
 * (CSP default-src 'self'); /assets/pcsurvey.js reveals same-page
 * conditional questions and focuses the error summary, and
 * /assets/pcsurvey-nhsuk.js starts nhsuk-frontend's own script for the
 * components marked data-module; every page works without either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "limits.h"
#include "page.h"
#include "page_cache.h"

#define SITE_NAME	"NHS primary care survey"

#define R(b, lit)	html_raw((b), (lit))
#define T(b, s)		html_cstr((b), (s))

/* Names used in data-show-if JSON, by enum q_type. */
static const char *const qtype_js[Q__MAX] = {
	[Q_TEXT] = "text", [Q_TEXTAREA] = "textarea", [Q_EMAIL] = "email",
	[Q_NUMBER] = "number", [Q_DATE] = "date", [Q_CHOICE] = "choice",
	[Q_SELECT] = "select", [Q_CHOICES] = "choices", [Q_SCALE] = "scale",
	[Q_CONSENT] = "consent", [Q_INFO] = "info",
};
_Static_assert(sizeof(qtype_js) / sizeof(qtype_js[0]) == Q__MAX, "qtype_js");

static const char *const cond_ops[COND__MAX] = {
	[COND_EQUALS] = "equals", [COND_IN] = "in",
	[COND_INCLUDES] = "includes", [COND_ANSWERED] = "answered",
	[COND_AT_LEAST] = "at_least", [COND_AT_MOST] = "at_most",
	[COND_ALL] = "all", [COND_ANY] = "any", [COND_NOT] = "not",
};
_Static_assert(sizeof(cond_ops) / sizeof(cond_ops[0]) == COND__MAX, "cond_ops");

static const char *const months[12] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December",
};

/* Date parts: field suffix and label, by q_error.part. */
static const struct {
	const char	*suffix, *label, *width;
} date_parts[3] = {
	{ "__day", "Day", "2" },
	{ "__month", "Month", "2" },
	{ "__year", "Year", "4" },
};

#define PART_OTHER	3	/* page.h: q_error.part of an "other" text */

/* ---- small helpers ---------------------------------------------------- */

void
page_date_long(int64_t day, char *out, size_t outlen)
{
	int y;
	unsigned m, d;

	if (outlen == 0)
		return;
	civil_from_days(day, &y, &m, &d);
	snprintf(out, outlen, "%u %s %d", d, months[(m - 1) % 12], y);
}

static const struct str *
val_get(const struct fields *f, const char *name)
{
	const struct str *s;

	if (f == NULL)
		return NULL;
	s = fields_get(f, str_cstr(name));
	return s;
}

/* The value named name, or an empty view. */
static struct str
val_str(const struct fields *f, const char *name)
{
	const struct str *s = val_get(f, name);

	return s ? *s : STR_NULL;
}

/* True when one of the values named name is value (checkboxes). */
static bool
val_has(const struct fields *f, const char *name, const char *value)
{
	if (f == NULL)
		return false;
	for (size_t i = 0; i < f->n; i++)
		if (str_eq_cstr(f->v[i].name, name) &&
		    str_eq_cstr(f->v[i].value, value))
			return true;
	return false;
}

static bool
str_blank(struct str s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] != ' ' && s.p[i] != '\t' && s.p[i] != '\r' &&
		    s.p[i] != '\n')
			return false;
	return true;
}

static const struct option *
opt_find(const struct question *q, const char *value, size_t len)
{
	for (size_t i = 0; i < q->nopts; i++)
		if (strlen(q->opts[i].value) == len &&
		    memcmp(q->opts[i].value, value, len) == 0)
			return &q->opts[i];
	return NULL;
}

/* The option label for value, or the value itself. */
static void
opt_label(struct buf *b, const struct question *q, const char *value,
    size_t len)
{
	const struct option *o = opt_find(q, value, len);

	if (o != NULL)
		T(b, o->label);
	else if (q->type == Q_CONSENT && len == 3 && memcmp(value, "yes", 3) == 0)
		R(b, "Yes");
	else if (q->other && len == 5 && memcmp(value, "other", 5) == 0)
		R(b, "Other");
	else
		html_text(b, value, len);
}

static bool
q_rendered(const struct page_view *v, size_t qi)
{
	return v->shown == NULL || v->shown[qi];
}

/* Id of the first input of q for a statement and part (page.h). */
static void
anchor_id(char *out, size_t outlen, const struct question *q, int stmt,
    int part)
{
	switch (q->type) {
	case Q_DATE:
		snprintf(out, outlen, "%s%s", q->id,
		    date_parts[part >= 0 && part < 3 ? part : 0].suffix);
		return;
	case Q_SCALE:
		if (q->nstmts > 0) {
			size_t s = stmt >= 0 && (size_t)stmt < q->nstmts ?
			    (size_t)stmt : 0;

			snprintf(out, outlen, "%s", q->stmts[s].field);
			return;
		}
		break;
	case Q_CHOICE:
	case Q_SELECT:
		if (part == PART_OTHER && q->other) {
			snprintf(out, outlen, "%s__other", q->id);
			return;
		}
		break;
	case Q_TEXT:
	case Q_TEXTAREA:
	case Q_EMAIL:
	case Q_NUMBER:
	case Q_CHOICES:
	case Q_CONSENT:
	case Q_INFO:
	case Q__MAX:
		break;
	}
	snprintf(out, outlen, "%s", q->id);
}

/*
 * The first error for question qi in a slot: stmt >= 0 a scale statement;
 * part PART_OTHER the "other" text; part -1 the question itself (any
 * statement -1 error that is not about the "other" text).
 */
static const struct q_error *
err_find(const struct page_view *v, size_t qi, int stmt, int part)
{
	for (size_t i = 0; i < v->nerrors; i++) {
		const struct q_error *e = &v->errors[i];

		if (e->qidx != qi)
			continue;
		if (stmt >= 0 ? e->stmt == stmt :
		    part == PART_OTHER ? e->stmt < 0 && e->part == PART_OTHER :
		    e->stmt < 0 && e->part != PART_OTHER)
			return e;
	}
	return NULL;
}

static bool
err_any(const struct page_view *v, size_t qi)
{
	for (size_t i = 0; i < v->nerrors; i++)
		if (v->errors[i].qidx == qi)
			return true;
	return false;
}

/* ---- page frame ------------------------------------------------------- */

static const char nhs_logo[] =
    "<svg class=\"nhsuk-header__logo\" xmlns=\"http://www.w3.org/2000/svg\" "
    "viewBox=\"0 0 200 80\" height=\"40\" width=\"100\" focusable=\"false\" "
    "role=\"img\" aria-label=\"NHS\">\n"
    "<title>NHS</title>\n"
    "<path fill=\"currentcolor\" d=\"M200 0v80H0V0h200Zm-27.5 5.5c-14.5 0-29 "
    "5-29 22 0 10.2 7.7 13.5 14.7 16.3l.7.3c5.4 2 10.1 3.9 10.1 8.4 0 6.5-8.5 "
    "7.5-14 7.5s-12.5-1.5-16-3.5L135 70c5.5 2 13.5 3.5 20 3.5 15.5 0 "
    "32-4.5 32-22.5 0-19.5-25.5-16.5-25.5-25.5 0-5.5 5.5-6.5 12.5-6.5a35 35 0 "
    "0 1 14.5 3l4-13.5c-4.5-2-12-3-20-3Zm-131 2h-22l-14 65H22l9-45h.5l13.5 "
    "45h21.5l14-65H64l-9 45h-.5l-13-45Zm63 0h-18l-13 65h17l6-28H117l-5.5 "
    "28H129l13.5-65H125L119.5 32h-20l5-24.5Z\"/>\n"
    "</svg>\n";

/*
 * Doctype, head and header, then the width container and <main>.  The
 * title is "[Error: ]<title>[ – <form title>] – NHS primary care survey".
 */
static void
begin(struct buf *b, bool error, const char *title, const struct form *f,
    const char *back_href)
{
	R(b, "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<title>");
	if (error)
		R(b, "Error: ");
	T(b, title);
	if (f != NULL) {
		R(b, " \xe2\x80\x93 ");
		T(b, f->title);
	}
	R(b, " \xe2\x80\x93 " SITE_NAME "</title>\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1, viewport-fit=cover\">\n"
	    "<meta name=\"theme-color\" content=\"#005eb8\">\n"
	    "<link rel=\"icon\" href=\"/assets/images/favicon.ico\" sizes=\"48x48\">\n"
	    "<link rel=\"stylesheet\" href=\"/assets/nhsuk-frontend.min.css\">\n"
	    "<link rel=\"stylesheet\" href=\"/assets/pcsurvey.css\">\n"
	    "<script src=\"/assets/pcsurvey.js\" defer></script>\n"
	    "<script type=\"module\" src=\"/assets/pcsurvey-nhsuk.js\"></script>\n"
	    "</head>\n<body>\n"
	    "<a class=\"nhsuk-skip-link\" data-module=\"nhsuk-skip-link\" "
	    "href=\"#maincontent\">Skip to main content</a>\n"
	    "<header class=\"nhsuk-header\" data-module=\"nhsuk-header\" "
	    "role=\"banner\">\n"
	    "<div class=\"nhsuk-header__container nhsuk-width-container\">\n"
	    "<div class=\"nhsuk-header__service\">\n"
	    "<a class=\"nhsuk-header__service-logo\" href=\"/\" "
	    "aria-label=\"" SITE_NAME " homepage\">\n");
	R(b, nhs_logo);
	R(b, "<span class=\"nhsuk-header__service-name\">" SITE_NAME
	    "</span>\n</a>\n</div>\n</div>\n</header>\n"
	    "<div class=\"nhsuk-width-container\">\n"
	    "<main class=\"nhsuk-main-wrapper\" id=\"maincontent\">\n");
	/* Inside <main> so that every piece of content is in a landmark. */
	if (back_href != NULL) {
		R(b, "<a class=\"nhsuk-back-link\" href=\"");
		T(b, back_href);
		R(b, "\">Back</a>\n");
	}
	R(b, "<div class=\"nhsuk-grid-row\">\n"
	    "<div class=\"nhsuk-grid-column-two-thirds\">\n");
}

void
page_begin(struct buf *b, const char *title, const struct form *f)
{
	begin(b, false, title, f, NULL);
}

/*
 * The end of every page.  Inside a form, a link to that form's own notice
 * on its start page (forms.md: privacy_notice is "linked from every page");
 * the footer stays the same everywhere (WCAG 3.2.6 consistent help).
 */
static void
end(struct buf *b, const struct form *f)
{
	if (f != NULL) {
		R(b, "<p class=\"nhsuk-body-s pcs-form-privacy\"><a href=\"/f/");
		T(b, f->id);
		R(b, "#privacy-notice\">Privacy notice for this survey</a></p>\n");
	}
	R(b, "</div>\n</div>\n</main>\n</div>\n"
	    "<footer class=\"nhsuk-footer\" role=\"contentinfo\">\n"
	    "<div class=\"nhsuk-width-container\">\n"
	    "<div class=\"nhsuk-footer__meta\">\n"
	    "<h2 class=\"nhsuk-u-visually-hidden\">Support links</h2>\n"
	    "<ul class=\"nhsuk-footer__list\">\n"
	    "<li class=\"nhsuk-footer__list-item\"><a "
	    "class=\"nhsuk-footer__list-item-link\" href=\"/privacy\">"
	    "Privacy notice</a></li>\n"
	    "<li class=\"nhsuk-footer__list-item\"><a "
	    "class=\"nhsuk-footer__list-item-link\" href=\"/accessibility\">"
	    "Accessibility statement</a></li>\n"
	    "<li class=\"nhsuk-footer__list-item\"><a "
	    "class=\"nhsuk-footer__list-item-link\" href=\"/withdraw\">"
	    "Withdraw your answers</a></li>\n"
	    "</ul>\n</div>\n</div>\n</footer>\n</body>\n</html>\n");
}

void
page_end(struct buf *b)
{
	end(b, NULL);
}

static void
button(struct buf *b, bool secondary, const char *value, const char *text)
{
	R(b, secondary ? "<button class=\"nhsuk-button nhsuk-button--secondary\""
	    : "<button class=\"nhsuk-button\"");
	R(b, " data-module=\"nhsuk-button\" type=\"submit\"");
	if (value != NULL) {
		R(b, " name=\"action\" value=\"");
		T(b, value);
		R(b, "\"");
	}
	R(b, ">");
	T(b, text);
	R(b, "</button>\n");
}

/* http-api.md: the error summary, with links to the fields. */
static void
summary_begin(struct buf *b)
{
	R(b, "<div class=\"nhsuk-error-summary\" data-module=\"nhsuk-error-summary\" "
	    "role=\"alert\" tabindex=\"-1\">\n"
	    "<h2 class=\"nhsuk-error-summary__heading\">There is a problem</h2>\n"
	    "<div class=\"nhsuk-error-summary__body\">\n");
}

static void
summary_end(struct buf *b)
{
	R(b, "</div>\n</div>\n");
}

static void
summary_link(struct buf *b, const char *id, const char *msg)
{
	R(b, "<li><a href=\"#");
	T(b, id);
	R(b, "\">");
	T(b, msg);
	R(b, "</a></li>\n");
}

/* A summary with one link, for the single-field pages. */
static void
summary_one(struct buf *b, const char *id, const char *msg)
{
	summary_begin(b);
	R(b, "<ul class=\"nhsuk-list nhsuk-error-summary__list\">\n");
	summary_link(b, id, msg);
	R(b, "</ul>\n");
	summary_end(b);
}

static void
error_message(struct buf *b, const char *id, const char *msg)
{
	R(b, "<span class=\"nhsuk-error-message\" id=\"");
	T(b, id);
	R(b, "-error\">\n<span class=\"nhsuk-u-visually-hidden\">Error: "
	    "</span>");
	T(b, msg);
	R(b, "\n</span>\n");
}

/* A single code field (invitation, resume or receipt code). */
static void
code_field(struct buf *b, const char *label, const char *hint,
    const char *error)
{
	R(b, error ? "<div class=\"nhsuk-form-group nhsuk-form-group--error\">\n"
	    : "<div class=\"nhsuk-form-group\">\n");
	R(b, "<label class=\"nhsuk-label nhsuk-label--m\" for=\"code\">");
	T(b, label);
	R(b, "</label>\n<div class=\"nhsuk-hint\" id=\"code-hint\">");
	T(b, hint);
	R(b, "</div>\n");
	if (error != NULL)
		error_message(b, "code", error);
	R(b, error ? "<input class=\"nhsuk-input nhsuk-input--code "
	    "nhsuk-input--width-20 nhsuk-input--error\""
	    : "<input class=\"nhsuk-input nhsuk-input--code "
	    "nhsuk-input--width-20\"");
	R(b, " id=\"code\" name=\"code\" type=\"text\" autocomplete=\"off\" "
	    "spellcheck=\"false\" autocapitalize=\"none\" aria-describedby=\"code-hint");
	if (error != NULL)
		R(b, " code-error");
	R(b, "\">\n</div>\n");
}

static void
inset(struct buf *b, const char *text)
{
	R(b, "<div class=\"nhsuk-inset-text\">\n<span "
	    "class=\"nhsuk-u-visually-hidden\">Information: </span>\n");
	html_paras(b, text, NULL);
	R(b, "</div>\n");
}

/* ---- conditions: JSON for pcsurvey.js and a readable hint ------------- */

static void
json_str(struct buf *j, const char *s)
{
	buf_addc(j, '"');
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf_addc(j, '\\');
			buf_addc(j, (char)c);
		} else if (c < 0x20 || c == 0x7F)
			buf_printf(j, "\\u%04x", c);
		else
			buf_addc(j, (char)c);
	}
	buf_addc(j, '"');
}

/*
 * c as JSON: {"op", "field", "type", "vals", "num", "flag", "kids"}.  A
 * leaf naming a question that is not on this page becomes {"op":"unknown"}:
 * the server already decided it (view->shown), and the script only ever
 * hides what it knows to be false.
 */
static void
cond_json(struct buf *j, const struct form *f, const struct page *pg,
    const struct cond *c, unsigned depth)
{
	bool leaf;

	if (depth > PCS_COND_DEPTH_MAX || (unsigned)c->op >= COND__MAX) {
		R(j, "{\"op\":\"unknown\"}");
		return;
	}
	leaf = c->op != COND_ALL && c->op != COND_ANY && c->op != COND_NOT;
	if (leaf && (c->qidx < 0 || (size_t)c->qidx < pg->first_q ||
	    (size_t)c->qidx >= pg->first_q + pg->nq || c->field == NULL)) {
		R(j, "{\"op\":\"unknown\"}");
		return;
	}
	R(j, "{\"op\":");
	json_str(j, cond_ops[c->op]);
	if (leaf) {
		const struct question *q = &f->qs[c->qidx];

		R(j, ",\"field\":");
		json_str(j, c->field);
		R(j, ",\"type\":");
		json_str(j, (unsigned)q->type < Q__MAX ? qtype_js[q->type] : "");
	}
	switch (c->op) {
	case COND_EQUALS:
	case COND_IN:
	case COND_INCLUDES:
		R(j, ",\"vals\":[");
		for (size_t i = 0; i < c->nvals; i++) {
			if (i > 0)
				buf_addc(j, ',');
			json_str(j, c->vals[i]);
		}
		buf_addc(j, ']');
		break;
	case COND_ANSWERED:
		R(j, c->flag ? ",\"flag\":true" : ",\"flag\":false");
		break;
	case COND_AT_LEAST:
	case COND_AT_MOST:
		R(j, ",\"num\":");
		buf_addi64(j, c->num);
		break;
	case COND_ALL:
	case COND_ANY:
	case COND_NOT:
		R(j, ",\"kids\":[");
		for (size_t i = 0; i < c->nkids; i++) {
			if (i > 0)
				buf_addc(j, ',');
			cond_json(j, f, pg, &c->kids[i], depth + 1);
		}
		buf_addc(j, ']');
		break;
	case COND__MAX:
		break;
	}
	buf_addc(j, '}');
}

#define LQ	"\xe2\x80\x9c"	/* “ */
#define RQ	"\xe2\x80\x9d"	/* ” */

/* The label a leaf's field stands for: a statement or the question. */
static void
cond_qlabel(struct buf *b, const struct question *q, const char *field)
{
	R(b, LQ);
	if (q->type == Q_SCALE && field != NULL)
		for (size_t i = 0; i < q->nstmts; i++)
			if (strcmp(q->stmts[i].field, field) == 0) {
				T(b, q->stmts[i].label);
				R(b, RQ);
				return;
			}
	T(b, q->label);
	R(b, RQ);
}

static void
cond_value(struct buf *b, const struct question *q, const char *value)
{
	int64_t day;

	R(b, LQ);
	if (q->type == Q_DATE && date_parse(str_cstr(value), &day)) {
		char d[32];

		page_date_long(day, d, sizeof(d));
		T(b, d);
	} else if (q->type == Q_NUMBER)
		T(b, value);
	else
		opt_label(b, q, value, strlen(value));
	R(b, RQ);
}

/* Readable text for c ("you answered “Yes” to “...”"); neg: its negation. */
static void
cond_text(struct buf *b, const struct form *f, const struct cond *c,
    bool neg, unsigned depth)
{
	const struct question *q;

	if (depth > PCS_COND_DEPTH_MAX)
		return;
	switch (c->op) {
	case COND_ALL:
	case COND_ANY:
		for (size_t i = 0; i < c->nkids; i++) {
			if (i > 0)
				R(b, (c->op == COND_ALL) != neg ? " and " : " or ");
			cond_text(b, f, &c->kids[i], neg, depth + 1);
		}
		return;
	case COND_NOT:
		if (c->nkids > 0)
			cond_text(b, f, &c->kids[0], !neg, depth + 1);
		return;
	case COND_EQUALS:
	case COND_IN:
	case COND_INCLUDES:
	case COND_ANSWERED:
	case COND_AT_LEAST:
	case COND_AT_MOST:
		break;
	case COND__MAX:
	default:
		return;
	}
	if (c->qidx < 0 || (size_t)c->qidx >= f->nq)
		return;
	q = &f->qs[c->qidx];
	if (c->op == COND_EQUALS || c->op == COND_IN) {
		R(b, neg ? "you did not answer " : "you answered ");
		for (size_t i = 0; i < c->nvals; i++) {
			if (i > 0)
				R(b, neg ? " nor " : " or ");
			cond_value(b, q, c->vals[i]);
		}
		R(b, " to ");
		cond_qlabel(b, q, c->field);
	} else if (c->op == COND_INCLUDES) {
		R(b, neg ? "you did not select " : "you selected ");
		for (size_t i = 0; i < c->nvals; i++) {
			if (i > 0)
				R(b, " or ");
			cond_value(b, q, c->vals[i]);
		}
		R(b, " for ");
		cond_qlabel(b, q, c->field);
	} else if (c->op == COND_ANSWERED) {
		R(b, c->flag != neg ? "you answered " : "you did not answer ");
		cond_qlabel(b, q, c->field);
	} else {
		R(b, "your answer to ");
		cond_qlabel(b, q, c->field);
		R(b, " is ");
		if ((c->op == COND_AT_LEAST) != neg) {
			buf_addi64(b, neg ? c->num + 1 : c->num);
			R(b, " or more");
		} else {
			buf_addi64(b, neg ? c->num - 1 : c->num);
			R(b, " or less");
		}
	}
}

/*
 * Ends a sentence with a full stop, unless it ends with a quoted question
 * or sentence already ("... to “Would you like to talk to us?”").
 */
static void
full_stop(struct buf *b)
{
	static const char rq[] = RQ;
	size_t n = sizeof(rq) - 1;

	if (b->err == PCS_OK && b->len > n &&
	    memcmp(b->p + b->len - n, rq, n) == 0 &&
	    (b->p[b->len - n - 1] == '?' || b->p[b->len - n - 1] == '.' ||
	    b->p[b->len - n - 1] == '!'))
		return;
	R(b, ".");
}

/* ---- question fragments ----------------------------------------------- */

/* A choices question with a rule on how many boxes to tick. */
static bool
has_count_rule(const struct question *q)
{
	return q->type == Q_CHOICES && (q->min_selected > 1 || q->max_selected > 0);
}

/*
 * A hint the page adds when the author did not write one: a date's
 * example (the one its error messages quote), a choices question's count.
 */
static bool
has_hint(const struct question *q)
{
	return q->hint != NULL || q->type == Q_DATE || has_count_rule(q);
}

static void
hint_rule(struct buf *b, const struct question *q)
{
	size_t lo = q->min_selected, hi = q->max_selected;

	if (q->type == Q_DATE && q->hint == NULL)
		R(b, "<p>For example, 27 3 2007</p>\n");
	if (!has_count_rule(q))
		return;
	if (hi > 0 && lo == hi)
		buf_printf(b, "<p>Select %zu.</p>\n", lo);
	else if (hi > 0 && lo > 1 && hi == lo + 1)
		buf_printf(b, "<p>Select %zu or %zu.</p>\n", lo, hi);
	else if (hi > 0 && lo > 1)
		buf_printf(b, "<p>Select from %zu to %zu.</p>\n", lo, hi);
	else if (hi > 0)
		buf_printf(b, "<p>Select up to %zu.</p>\n", hi);
	else
		buf_printf(b, "<p>Select at least %zu.</p>\n", lo);
}

/* Ids for aria-describedby: the condition hint, the hint, the error. */
static void
describedby(struct buf *b, const struct question *q, const char *id,
    bool has_error, const char *extra)
{
	bool any = false;

	if (q->same_page_cond && q->show_if != NULL) {
		R(b, " aria-describedby=\"");
		T(b, q->id);
		R(b, "-if");
		any = true;
	}
	if (has_hint(q)) {
		R(b, any ? " " : " aria-describedby=\"");
		T(b, q->id);
		R(b, "-hint");
		any = true;
	}
	if (extra != NULL) {
		R(b, any ? " " : " aria-describedby=\"");
		T(b, extra);
		any = true;
	}
	if (has_error) {
		R(b, any ? " " : " aria-describedby=\"");
		T(b, id);
		R(b, "-error");
		any = true;
	}
	if (any)
		R(b, "\"");
}

/* The question text, with " (optional)" when not required. */
static void
qlabel(struct buf *b, const struct question *q)
{
	T(b, q->label);
	if (!q->required && q->type != Q_CONSENT)
		R(b, " (optional)");
}

/* The "answer this only if" hint, then the question's own hint. */
static void
hints(struct buf *b, const struct form *f, const struct question *q)
{
	if (q->same_page_cond && q->show_if != NULL) {
		R(b, "<div class=\"nhsuk-hint pcs-answer-if\" id=\"");
		T(b, q->id);
		R(b, "-if\">Answer this only if ");
		cond_text(b, f, q->show_if, false, 1);
		full_stop(b);
		R(b, "</div>\n");
	}
	if (has_hint(q)) {
		R(b, "<div class=\"nhsuk-hint\" id=\"");
		T(b, q->id);
		R(b, "-hint\">\n");
		html_paras(b, q->hint, NULL);
		hint_rule(b, q);
		R(b, "</div>\n");
	}
}

static void
group_open(struct buf *b, bool error, const char *extra_cls)
{
	R(b, "<div class=\"nhsuk-form-group");
	if (error)
		R(b, " nhsuk-form-group--error");
	if (extra_cls != NULL) {
		R(b, " ");
		R(b, extra_cls);
	}
	R(b, "\"");
}

static void
value_attr(struct buf *b, struct str s)
{
	if (s.len == 0)
		return;
	R(b, " value=\"");
	html_text(b, s.p, s.len);
	R(b, "\"");
}

/*
 * nhsuk's fixed-width class for an answer of at most chars characters, or
 * NULL (full width): a box sized to its answer says what is expected.
 */
static const char *
width_class(size_t chars)
{
	static const struct {
		size_t		 max;
		const char	*cls;
	} w[] = {
		{ 2, " nhsuk-input--width-2" }, { 3, " nhsuk-input--width-3" },
		{ 4, " nhsuk-input--width-4" }, { 5, " nhsuk-input--width-5" },
		{ 10, " nhsuk-input--width-10" }, { 20, " nhsuk-input--width-20" },
	};

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (chars <= w[i].max)
			return w[i].cls;
	return NULL;
}

/* A number's box fits its widest value; a short text's, its max_length. */
static void
input_width(struct buf *b, const struct question *q)
{
	const char *cls = NULL;

	if (q->type == Q_NUMBER) {
		char tmp[24];
		int64_t big = q->max > -q->min ? q->max : -q->min;
		int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)big) +
		    (q->min < 0);

		cls = width_class(n > 0 ? (size_t)n : 1);
		if (cls == NULL || n > 10)
			cls = " nhsuk-input--width-10";
	} else if (q->type == Q_TEXT && q->max_length > 0)
		cls = width_class(q->max_length);
	if (cls != NULL)
		R(b, cls);
}

static void
input_type(struct buf *b, const struct question *q)
{
	switch (q->type) {
	case Q_EMAIL:
		R(b, " type=\"email\" autocomplete=\"email\" spellcheck=\"false\"");
		break;
	case Q_NUMBER:
		R(b, " type=\"text\" inputmode=\"numeric\" spellcheck=\"false\"");
		break;
	case Q_TEXT:
	case Q_TEXTAREA:
	case Q_DATE:
	case Q_CHOICE:
	case Q_SELECT:
	case Q_CHOICES:
	case Q_SCALE:
	case Q_CONSENT:
	case Q_INFO:
	case Q__MAX:
		R(b, " type=\"text\"");
		break;
	}
}

/*
 * A number's prefix ("£") or suffix ("hours"), id "<q>-prefix" or
 * "<q>-suffix": hidden from screen readers as text, as nhsuk does, but
 * part of the box's description so that the unit is not lost.
 */
static void
affix(struct buf *b, const struct question *q, const char *which,
    const char *text)
{
	if (text == NULL)
		return;
	R(b, "<div class=\"nhsuk-input-wrapper__");
	R(b, which);
	R(b, "\" id=\"");
	T(b, q->id);
	R(b, "-");
	R(b, which);
	R(b, "\" aria-hidden=\"true\">");
	T(b, text);
	R(b, "</div>\n");
}

/*
 * The label of a question with one input (text, email, number, textarea,
 * select), its hints and its error; the caller has opened the group.
 */
static void
label_block(struct buf *b, const struct page_view *v, const struct question *q,
    const struct q_error *e)
{
	R(b, ">\n<label class=\"nhsuk-label nhsuk-label--m\" for=\"");
	T(b, q->id);
	R(b, "\">");
	qlabel(b, q);
	R(b, "</label>\n");
	hints(b, v->form, q);
	if (e != NULL)
		error_message(b, q->id, e->msg);
}

/*
 * The group, fieldset and legend of a question with several inputs
 * (choice, choices, scale, date, consent), its hints and its error; the
 * caller closes the fieldset and the group.  A date's boxes are one
 * answer (role="group"); a consent's legend is fixed, its label being the
 * statement ticked.
 */
static void
fieldset_open(struct buf *b, const struct page_view *v, size_t qi,
    bool group_error)
{
	const struct question *q = &v->form->qs[qi];
	const struct q_error *e = err_find(v, qi, -1, -1);

	group_open(b, group_error, NULL);
	R(b, q->type == Q_DATE ? ">\n<fieldset class=\"nhsuk-fieldset\" role=\"group\"" :
	    ">\n<fieldset class=\"nhsuk-fieldset\"");
	describedby(b, q, q->id, e != NULL, NULL);
	R(b, ">\n<legend class=\"nhsuk-fieldset__legend "
	    "nhsuk-fieldset__legend--m\">");
	if (q->type == Q_CONSENT)
		R(b, "Your agreement");
	else
		qlabel(b, q);
	R(b, "</legend>\n");
	hints(b, v->form, q);
	if (e != NULL)
		error_message(b, q->id, e->msg);
}

/* text, email, number: label, hints, error, one input. */
static void
render_input(struct buf *b, const struct page_view *v, size_t qi)
{
	const struct question *q = &v->form->qs[qi];
	const struct q_error *e = err_find(v, qi, -1, -1);
	bool wrap = q->type == Q_NUMBER && (q->prefix || q->suffix);
	char units[2 * PCS_HTML_ID_MAX + 16];

	snprintf(units, sizeof(units), "%s%s%s%s%s", q->prefix ? q->id : "",
	    q->prefix ? "-prefix" : "", q->prefix && q->suffix ? " " : "",
	    q->suffix ? q->id : "", q->suffix ? "-suffix" : "");
	group_open(b, e != NULL, NULL);
	label_block(b, v, q, e);
	if (wrap) {
		R(b, "<div class=\"nhsuk-input-wrapper\">\n");
		affix(b, q, "prefix", q->prefix);
	}
	R(b, "<input class=\"nhsuk-input");
	input_width(b, q);
	if (e != NULL)
		R(b, " nhsuk-input--error");
	R(b, "\" id=\"");
	T(b, q->id);
	R(b, "\" name=\"");
	T(b, q->id);
	R(b, "\"");
	input_type(b, q);
	value_attr(b, val_str(v->values, q->id));
	describedby(b, q, q->id, e != NULL, wrap ? units : NULL);
	R(b, ">\n");
	if (wrap) {
		affix(b, q, "suffix", q->suffix);
		R(b, "</div>\n");
	}
	R(b, "</div>\n");
}

/* textarea: nhsuk character-count markup (its message is static here). */
static void
render_textarea(struct buf *b, const struct page_view *v, size_t qi)
{
	const struct question *q = &v->form->qs[qi];
	const struct q_error *e = err_find(v, qi, -1, -1);
	struct str val = val_str(v->values, q->id);
	char info[PCS_HTML_ID_MAX];

	snprintf(info, sizeof(info), "%s-info", q->id);
	group_open(b, e != NULL, "nhsuk-character-count");
	R(b, " data-module=\"nhsuk-character-count\"");
	if (q->max_length > 0)
		buf_printf(b, " data-maxlength=\"%zu\"", q->max_length);
	label_block(b, v, q, e);
	R(b, e ? "<textarea class=\"nhsuk-textarea nhsuk-textarea--error "
	    "nhsuk-js-character-count\" id=\""
	    : "<textarea class=\"nhsuk-textarea nhsuk-js-character-count\" id=\"");
	T(b, q->id);
	R(b, "\" name=\"");
	T(b, q->id);
	R(b, "\" rows=\"5\"");
	describedby(b, q, q->id, e != NULL, q->max_length > 0 ? info : NULL);
	R(b, ">");
	/* A leading newline would be eaten by the parser: keep it. */
	if (val.len > 0 && (val.p[0] == '\n' || val.p[0] == '\r'))
		R(b, "\n");
	html_text(b, val.p, val.len);
	R(b, "</textarea>\n");
	if (q->max_length > 0) {
		R(b, "<div class=\"nhsuk-hint nhsuk-character-count__message\" id=\"");
		T(b, info);
		buf_printf(b, "\">\nYou can enter up to %zu characters\n</div>\n",
		    q->max_length);
	}
	R(b, "</div>\n");
}

/* The "other" text box, inside a conditional reveal or under a select. */
static void
render_other(struct buf *b, const struct page_view *v, size_t qi,
    const char *label)
{
	const struct question *q = &v->form->qs[qi];
	const struct q_error *e = err_find(v, qi, -1, PART_OTHER);
	char id[PCS_HTML_ID_MAX];

	snprintf(id, sizeof(id), "%s__other", q->id);
	group_open(b, e != NULL, NULL);
	R(b, ">\n<label class=\"nhsuk-label\" for=\"");
	T(b, id);
	R(b, "\">");
	T(b, label);
	R(b, "</label>\n");
	if (e != NULL)
		error_message(b, id, e->msg);
	R(b, e ? "<input class=\"nhsuk-input nhsuk-input--error\" id=\""
	    : "<input class=\"nhsuk-input\" id=\"");
	T(b, id);
	R(b, "\" name=\"");
	T(b, id);
	R(b, "\" type=\"text\"");
	value_attr(b, val_str(v->values, id));
	if (e != NULL) {
		R(b, " aria-describedby=\"");
		T(b, id);
		R(b, "-error\"");
	}
	R(b, ">\n</div>\n");
}

/* ---- option lists: pre-rendered (page_cache.h), filled per request ---- */

/* What a request fills into question qi's lists. */
struct fill_arg {
	const struct page_view	*v;
	size_t			 qi;
	struct str		 cur;		/* select, radios: the answer */
};

/* select, radios: the option that is the answer. */
static bool
chosen_one(const void *arg, const char *value, size_t vlen)
{
	const struct fill_arg *a = arg;

	return a->cur.len == vlen &&
	    (vlen == 0 || memcmp(a->cur.p, value, vlen) == 0);
}

/* checkboxes: every option ticked (one field per box, all named qid). */
static bool
chosen_ticked(const void *arg, const char *value, size_t vlen)
{
	const struct fill_arg *a = arg;

	(void)vlen;
	return val_has(a->v->values, a->v->form->qs[a->qi].id, value);
}

static void
fill_other(const void *arg, struct buf *b)
{
	const struct fill_arg *a = arg;

	render_other(b, a->v, a->qi, "Please tell us which");
}

/*
 * q's lists, made when its form was loaded (form.c); a form built another
 * way (the unit tests' fixtures) or whose lists did not fit then gets them
 * for this request only, in *tmp (pc_free it).  NULL (b->err set) when
 * even that fails.
 */
static const struct q_pre *
pre_get(struct buf *b, const struct question *q, struct q_pre **tmp)
{
	enum pcs_err err;

	*tmp = NULL;
	if (q->pre != NULL)
		return q->pre;
	if ((err = pc_build(q, tmp)) != PCS_OK && b->err == PCS_OK)
		b->err = err;
	return *tmp;
}

/* One list of q, filled in for this request. */
static void
splice_opts(struct buf *b, const struct question *q, const struct pc_fill *fill)
{
	struct q_pre *tmp;
	const struct q_pre *pre = pre_get(b, q, &tmp);

	if (pre != NULL)
		pc_splice(b, &pre->opts, fill);
	pc_free(tmp);
}

static void
render_select(struct buf *b, const struct page_view *v, size_t qi)
{
	const struct question *q = &v->form->qs[qi];
	const struct q_error *e = err_find(v, qi, -1, -1);
	struct fill_arg a = { v, qi, val_str(v->values, q->id) };

	group_open(b, e != NULL || err_find(v, qi, -1, PART_OTHER) != NULL, NULL);
	label_block(b, v, q, e);
	R(b, e ? "<select class=\"nhsuk-select nhsuk-select--error\" id=\""
	    : "<select class=\"nhsuk-select\" id=\"");
	T(b, q->id);
	R(b, "\" name=\"");
	T(b, q->id);
	R(b, "\"");
	describedby(b, q, q->id, e != NULL, NULL);
	R(b, ">\n");
	splice_opts(b, q, &(struct pc_fill){ chosen_one, NULL, &a });
	R(b, "</select>\n");
	if (q->other) {
		R(b, "<div class=\"pcs-other\" data-show-if=\"{&quot;op&quot;:"
		    "&quot;equals&quot;,&quot;field&quot;:&quot;");
		T(b, q->id);
		R(b, "&quot;,&quot;type&quot;:&quot;select&quot;,&quot;vals"
		    "&quot;:[&quot;other&quot;]}\">\n");
		render_other(b, v, qi, "If you chose Other, please tell us which");
		R(b, "</div>\n");
	}
	R(b, "</div>\n");
}

/* choice (radios, with the "other" reveal) and choices (checkboxes). */
static void
render_choices(struct buf *b, const struct page_view *v, size_t qi)
{
	const struct question *q = &v->form->qs[qi];
	struct fill_arg a = { v, qi, val_str(v->values, q->id) };

	fieldset_open(b, v, qi, err_find(v, qi, -1, -1) != NULL ||
	    err_find(v, qi, -1, PART_OTHER) != NULL);
	splice_opts(b, q, &(struct pc_fill){
	    q->type == Q_CHOICE ? chosen_one : chosen_ticked, fill_other, &a });
	R(b, "</fieldset>\n</div>\n");
}

/* scale: one radio fieldset per statement, named q__statement. */
static void
render_scale(struct buf *b, const struct page_view *v, size_t qi)
{
	const struct question *q = &v->form->qs[qi];
	struct fill_arg a = { v, qi, STR_NULL };
	struct q_pre *tmp;
	const struct q_pre *pre = pre_get(b, q, &tmp);

	fieldset_open(b, v, qi, err_any(v, qi));
	for (size_t s = 0; s < q->nstmts; s++) {
		const struct statement *st = &q->stmts[s];
		const struct q_error *se = err_find(v, qi, (int)s, -1);

		group_open(b, se != NULL, NULL);
		R(b, ">\n<fieldset class=\"nhsuk-fieldset\"");
		if (se != NULL) {
			R(b, " aria-describedby=\"");
			T(b, st->field);
			R(b, "-error\"");
		}
		R(b, ">\n<legend class=\"nhsuk-fieldset__legend "
		    "nhsuk-fieldset__legend--s\">");
		T(b, st->label);
		R(b, "</legend>\n");
		if (se != NULL)
			error_message(b, st->field, se->msg);
		a.cur = val_str(v->values, st->field);
		if (pre != NULL && s < pre->nstmts)
			pc_splice(b, &pre->stmts[s],
			    &(struct pc_fill){ chosen_one, NULL, &a });
		R(b, "</fieldset>\n</div>\n");
	}
	pc_free(tmp);
	R(b, "</fieldset>\n</div>\n");
}

static void
render_date(struct buf *b, const struct page_view *v, size_t qi)
{
	const struct question *q = &v->form->qs[qi];
	const struct q_error *e = err_find(v, qi, -1, -1);

	fieldset_open(b, v, qi, e != NULL);
	R(b, "<div class=\"nhsuk-date-input\" id=\"");
	T(b, q->id);
	R(b, "\">\n");
	for (int p = 0; p < 3; p++) {
		char id[PCS_HTML_ID_MAX];
		bool bad = e != NULL && e->part == p;

		snprintf(id, sizeof(id), "%s%s", q->id, date_parts[p].suffix);
		R(b, "<div class=\"nhsuk-date-input__item\">\n");
		group_open(b, bad, NULL);
		R(b, ">\n<label class=\"nhsuk-label nhsuk-date-input__label\" for=\"");
		T(b, id);
		R(b, "\">");
		R(b, date_parts[p].label);
		R(b, "</label>\n<input class=\"nhsuk-input");
		if (bad)
			R(b, " nhsuk-input--error");
		R(b, " nhsuk-input--width-");
		R(b, date_parts[p].width);
		R(b, " nhsuk-date-input__input\" id=\"");
		T(b, id);
		R(b, "\" name=\"");
		T(b, id);
		R(b, "\" type=\"text\"");
		value_attr(b, val_str(v->values, id));
		R(b, " inputmode=\"numeric\">\n</div>\n</div>\n");
	}
	R(b, "</div>\n</fieldset>\n</div>\n");
}

/* consent: one checkbox name=qid value=yes (always required). */
static void
render_consent(struct buf *b, const struct page_view *v, size_t qi)
{
	const struct question *q = &v->form->qs[qi];
	struct fill_arg a = { v, qi, STR_NULL };

	fieldset_open(b, v, qi, err_find(v, qi, -1, -1) != NULL);
	splice_opts(b, q, &(struct pc_fill){ chosen_ticked, NULL, &a });
	R(b, "</fieldset>\n</div>\n");
}

static void
render_question(struct buf *b, const struct page_view *v, size_t qi)
{
	const struct question *q = &v->form->qs[qi];
	const struct page *pg = &v->form->pages[v->page];
	bool wrapped = q->same_page_cond && q->show_if != NULL;

	if (wrapped) {
		struct buf j;

		buf_init(&j, PCS_RESP_BODY_MAX);
		cond_json(&j, v->form, pg, q->show_if, 1);
		R(b, "<div class=\"pcs-show-if\" data-show-if=\"");
		if (j.err == PCS_OK)
			html_text(b, j.p, j.len);
		else if (b->err == PCS_OK)
			b->err = j.err;
		R(b, "\">\n");
		buf_release(&j);
	}
	switch (q->type) {
	case Q_TEXT:
	case Q_EMAIL:
	case Q_NUMBER:
		render_input(b, v, qi);
		break;
	case Q_TEXTAREA:
		render_textarea(b, v, qi);
		break;
	case Q_DATE:
		render_date(b, v, qi);
		break;
	case Q_CHOICE:
	case Q_CHOICES:
		render_choices(b, v, qi);
		break;
	case Q_SELECT:
		render_select(b, v, qi);
		break;
	case Q_SCALE:
		render_scale(b, v, qi);
		break;
	case Q_CONSENT:
		render_consent(b, v, qi);
		break;
	case Q_INFO:
		if (wrapped) {
			R(b, "<div class=\"nhsuk-hint pcs-answer-if\">This applies "
			    "only if ");
			cond_text(b, v->form, q->show_if, false, 1);
			full_stop(b);
			R(b, "</div>\n");
		}
		inset(b, q->text);
		break;
	case Q__MAX:
		break;
	}
	if (wrapped)
		R(b, "</div>\n");
}

/* ---- pages ------------------------------------------------------------ */

void
page_questions(struct buf *b, const struct page_view *v)
{
	const struct form *f = v->form;
	const struct page *pg = &f->pages[v->page];
	size_t shown_errors = 0;

	for (size_t i = 0; i < v->nerrors; i++)
		if (v->errors[i].qidx < f->nq && q_rendered(v, v->errors[i].qidx))
			shown_errors++;
	begin(b, shown_errors > 0 || v->db_down, pg->title, f, v->back_href);
	if (shown_errors > 0 || v->db_down) {
		summary_begin(b);
		if (v->db_down)
			R(b, "<p>We could not save your answers just now. Select "
			    "Continue to try again.</p>\n");
		if (shown_errors > 0) {
			R(b, "<ul class=\"nhsuk-list nhsuk-error-summary__list\">\n");
			for (size_t i = 0; i < v->nerrors; i++) {
				const struct q_error *e = &v->errors[i];
				char id[PCS_HTML_ID_MAX];

				if (e->qidx >= f->nq || !q_rendered(v, e->qidx))
					continue;
				anchor_id(id, sizeof(id), &f->qs[e->qidx],
				    e->stmt, e->part);
				summary_link(b, id, e->msg);
			}
			R(b, "</ul>\n");
		}
		summary_end(b);
	}
	if (v->page_count > 0)
		buf_printf(b, "<span class=\"nhsuk-caption-l\">Page %zu of %zu"
		    "</span>\n", v->page_no, v->page_count);
	html_h1(b, pg->title);
	html_paras(b, pg->intro, NULL);
	R(b, "<form method=\"post\" action=\"");
	T(b, v->action);
	R(b, "\" novalidate>\n");
	html_csrf_field(b, v->csrf);
	for (size_t i = 0; i < pg->nq; i++) {
		size_t qi = pg->first_q + i;

		if (qi < f->nq && q_rendered(v, qi))
			render_question(b, v, qi);
	}
	R(b, "<div class=\"nhsuk-button-group\">\n");
	button(b, false, "continue", "Continue");
	if (!v->preview)
		button(b, true, "save", "Save and come back later");
	R(b, "</div>\n</form>\n");
	end(b, v->form);
}

void
page_index(struct buf *b, const struct formset *fs, int64_t today)
{
	size_t n = 0;

	begin(b, false, "Surveys", NULL, NULL);
	html_h1(b, "Primary care surveys");
	R(b, "<p>Surveys about the wellbeing support offered to people who "
	    "work in primary care in England.</p>\n");
	for (size_t i = 0; fs != NULL && i < fs->n; i++) {
		const struct form *f = fs->v[i];

		if (!form_is_open(f, today))
			continue;
		if (n++ == 0)
			R(b, "<ul class=\"nhsuk-list nhsuk-list--border\">\n");
		R(b, "<li>\n<h2 class=\"nhsuk-heading-s nhsuk-u-margin-bottom-1\">"
		    "<a href=\"/f/");
		T(b, f->id);
		R(b, "\">");
		T(b, f->title);
		R(b, "</a></h2>\n");
		if (f->has_closes) {
			char d[32];

			page_date_long(f->closes, d, sizeof(d));
			R(b, "<p class=\"nhsuk-body-s nhsuk-u-margin-bottom-0\">"
			    "Closes ");
			T(b, d);
			R(b, "</p>\n");
		}
		R(b, "</li>\n");
	}
	if (n > 0)
		R(b, "</ul>\n");
	else
		R(b, "<p>There are no surveys open at the moment.</p>\n");
	page_end(b);
}

void
page_start(struct buf *b, const struct form *f, const char *csrf,
    bool closed, const char *code_error)
{
	bool invite = f->access == ACCESS_INVITE && !closed;
	bool err = invite && code_error != NULL;

	begin(b, err, f->title, NULL, NULL);
	if (err)
		summary_one(b, "code", code_error);
	html_h1(b, f->title);
	if (closed)
		R(b, "<div class=\"nhsuk-inset-text\">\n<span "
		    "class=\"nhsuk-u-visually-hidden\">Information: </span>\n"
		    "<p>This survey is closed. It is no longer taking "
		    "responses.</p>\n</div>\n");
	html_paras(b, f->intro, NULL);
	R(b, "<section aria-labelledby=\"privacy-notice\">\n"
	    "<h2 class=\"nhsuk-heading-m\" id=\"privacy-notice\">Privacy "
	    "notice</h2>\n");
	html_paras(b, f->privacy_notice, NULL);
	R(b, "</section>\n");
	if (!closed) {
		R(b, "<form method=\"post\" action=\"/f/");
		T(b, f->id);
		R(b, "/start\" novalidate>\n");
		html_csrf_field(b, csrf);
		if (invite)
			code_field(b, "Invitation code", "You can find it in "
			    "the email or letter that invited you to take part.",
			    code_error);
		button(b, false, NULL, "Start now");
		R(b, "</form>\n");
	}
	page_end(b);
}

/* ---- check your answers ----------------------------------------------- */

/* A date answer: q (YYYY-MM-DD) or the three boxes. */
static bool
answer_date(const struct fields *a, const struct question *q, int64_t *day)
{
	char name[PCS_HTML_ID_MAX];
	int64_t part[3];

	if (date_parse(val_str(a, q->id), day))
		return true;
	for (int p = 0; p < 3; p++) {
		struct str s;

		snprintf(name, sizeof(name), "%s%s", q->id, date_parts[p].suffix);
		s = val_str(a, name);
		while (s.len > 1 && s.p[0] == '0') {
			s.p++;
			s.len--;
		}
		if (!str_to_i64(s, &part[p]))
			return false;
	}
	if (part[0] < 1 || part[0] > 31 || part[1] < 1 || part[1] > 12 ||
	    part[2] < 1 || part[2] > 9999)
		return false;
	{
		char iso[16];

		snprintf(iso, sizeof(iso), "%04d-%02d-%02d", (int)part[2],
		    (int)part[1], (int)part[0]);
		return date_parse(str_cstr(iso), day);
	}
}

/* Free text for a summary value: newlines become <br>. */
static void
text_lines(struct buf *b, struct str s)
{
	size_t run = 0;

	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '\r' || s.p[i] == '\n') {
			html_text(b, s.p + run, i - run);
			R(b, "<br>");
			if (s.p[i] == '\r' && i + 1 < s.len && s.p[i + 1] == '\n')
				i++;
			run = i + 1;
		}
	}
	html_text(b, s.p + run, s.len - run);
}

static void
not_answered(struct buf *b)
{
	R(b, "Not answered");
}

/* The value cell of one question (not a scale). */
static void
answer_value(struct buf *b, const struct question *q, const struct fields *a)
{
	struct str s = val_str(a, q->id);
	int64_t day;

	switch (q->type) {
	case Q_TEXT:
	case Q_EMAIL:
	case Q_TEXTAREA:
		if (str_blank(s))
			not_answered(b);
		else
			text_lines(b, s);
		break;
	case Q_NUMBER:
		if (str_blank(s)) {
			not_answered(b);
			break;
		}
		T(b, q->prefix);
		html_text(b, s.p, s.len);
		if (q->suffix != NULL) {
			R(b, " ");
			T(b, q->suffix);
		}
		break;
	case Q_DATE:
		if (answer_date(a, q, &day)) {
			char d[32];

			page_date_long(day, d, sizeof(d));
			T(b, d);
		} else
			not_answered(b);
		break;
	case Q_CHOICE:
	case Q_SELECT:
		if (s.len == 0) {
			not_answered(b);
			break;
		}
		opt_label(b, q, s.p, s.len);
		if (q->other && str_eq_cstr(s, "other")) {
			char name[PCS_HTML_ID_MAX];
			struct str o;

			snprintf(name, sizeof(name), "%s__other", q->id);
			o = val_str(a, name);
			if (!str_blank(o)) {
				R(b, ": ");
				html_text(b, o.p, o.len);
			}
		}
		break;
	case Q_CHOICES: {
		size_t n = 0;

		for (size_t i = 0; a != NULL && i < a->n; i++) {
			if (!str_eq_cstr(a->v[i].name, q->id))
				continue;
			R(b, n++ == 0 ? "<ul class=\"nhsuk-list\">\n<li>" : "<li>");
			opt_label(b, q, a->v[i].value.p, a->v[i].value.len);
			R(b, "</li>\n");
		}
		if (n > 0)
			R(b, "</ul>");
		else
			not_answered(b);
		break;
	}
	case Q_CONSENT:
		if (str_eq_cstr(s, "yes"))
			R(b, "Yes, I agree");
		else
			not_answered(b);
		break;
	case Q_SCALE:
	case Q_INFO:
	case Q__MAX:
		break;
	}
}

static void
summary_row(struct buf *b, const char *key)
{
	R(b, "<div class=\"nhsuk-summary-list__row\">\n"
	    "<dt class=\"nhsuk-summary-list__key\">");
	T(b, key);
	R(b, "</dt>\n<dd class=\"nhsuk-summary-list__value\">");
}

static void
summary_row_end(struct buf *b, const struct form *f, const struct page *pg,
    const char *key, const char *anchor)
{
	R(b, "</dd>\n<dd class=\"nhsuk-summary-list__actions\">\n"
	    "<a class=\"nhsuk-link\" href=\"/f/");
	T(b, f->id);
	R(b, "/p/");
	T(b, pg->id);
	R(b, "#");
	T(b, anchor);
	R(b, "\">Change<span class=\"nhsuk-u-visually-hidden\"> ");
	T(b, key);
	R(b, "</span></a>\n</dd>\n</div>\n");
}

/* The rows of one scale: one per statement. */
static void
check_scale_rows(struct buf *b, const struct form *f, const struct page *pg,
    const struct question *q, const struct fields *answers)
{
	for (size_t s = 0; s < q->nstmts; s++) {
		struct str v = val_str(answers, q->stmts[s].field);

		summary_row(b, q->stmts[s].label);
		if (v.len == 0)
			not_answered(b);
		else
			opt_label(b, q, v.p, v.len);
		summary_row_end(b, f, pg, q->stmts[s].label, q->stmts[s].field);
	}
}

/* One page's answers: its title, then a summary list (nothing if none). */
static void
check_page(struct buf *b, const struct form *f, const struct page *pg,
    const struct fields *answers, const bool *shown)
{
	size_t rows = 0;

	for (size_t i = 0; i < pg->nq; i++) {
		size_t qi = pg->first_q + i;
		const struct question *q;
		char anchor[PCS_HTML_ID_MAX];

		if (qi >= f->nq || (shown != NULL && !shown[qi]) ||
		    f->qs[qi].type == Q_INFO)
			continue;
		q = &f->qs[qi];
		if (rows++ == 0) {
			R(b, "<h2 class=\"nhsuk-heading-m\">");
			T(b, pg->title);
			R(b, "</h2>\n<dl class=\"nhsuk-summary-list pcs-answers\">\n");
		}
		if (q->type == Q_SCALE) {
			check_scale_rows(b, f, pg, q, answers);
			continue;
		}
		anchor_id(anchor, sizeof(anchor), q, 0, 0);
		summary_row(b, q->label);
		answer_value(b, q, answers);
		summary_row_end(b, f, pg, q->label, anchor);
	}
	if (rows > 0)
		R(b, "</dl>\n");
}

void
page_check(struct buf *b, const struct form *f, const struct fields *answers,
    const bool *shown, const bool *page_shown, const char *csrf)
{
	begin(b, false, "Check your answers", f, NULL);
	html_h1(b, "Check your answers before submitting them");
	for (size_t p = 0; p < f->npages; p++)
		if (page_shown == NULL || page_shown[p])
			check_page(b, f, &f->pages[p], answers, shown);
	R(b, "<h2 class=\"nhsuk-heading-m\">Now submit your answers</h2>\n"
	    "<p>Check your answers are right. After you submit them you cannot "
	    "change them, but you can withdraw them with the receipt code you "
	    "will be given.</p>\n<form method=\"post\" action=\"/f/");
	T(b, f->id);
	R(b, "/submit\" novalidate>\n");
	html_csrf_field(b, csrf);
	button(b, false, NULL, "Submit");
	R(b, "</form>\n");
	end(b, f);
}

/* ---- confirmation, save, resume, withdraw ----------------------------- */

void
page_done(struct buf *b, const struct form *f, const char *receipt)
{
	begin(b, false, "Your response has been recorded", f, NULL);
	R(b, "<div class=\"nhsuk-panel\">\n<h1 class=\"nhsuk-panel__heading\">"
	    "Your response has been recorded</h1>\n"
	    "<div class=\"nhsuk-panel__body\">\nYour receipt code is<br>\n"
	    "<strong id=\"receipt-code\" class=\"pcs-code\">");
	T(b, receipt);
	R(b, "</strong>\n</div>\n</div>\n"
	    "<p>Thank you for taking part.</p>\n"
	    "<h2 class=\"nhsuk-heading-m\">If you change your mind</h2>\n"
	    "<p>Keep your receipt code somewhere safe. It is the only way to "
	    "find your answers: we do not know which answers are yours.</p>\n"
	    "<p>To delete your answers, go to <a href=\"/withdraw\">withdraw "
	    "your answers</a> and enter your receipt code.</p>\n");
	end(b, f);
}

void
page_saved(struct buf *b, const struct form *f, const char *resume_code,
    int64_t expires_day)
{
	char d[32];

	page_date_long(expires_day, d, sizeof(d));
	begin(b, false, "Your answers have been saved", f, NULL);
	R(b, "<div class=\"nhsuk-panel\">\n<h1 class=\"nhsuk-panel__heading\">"
	    "Your answers have been saved</h1>\n"
	    "<div class=\"nhsuk-panel__body\">\nYour resume code is<br>\n"
	    "<strong id=\"resume-code\" class=\"pcs-code\">");
	T(b, resume_code);
	R(b, "</strong>\n</div>\n</div>\n"
	    "<p>Write this code down or keep it somewhere safe. You need it to "
	    "carry on, on this or any other device. We cannot show it to you "
	    "again.</p>\n<p>We will keep your answers until ");
	T(b, d);
	R(b, ". After that they are deleted and you would need to start "
	    "again.</p>\n<p>To carry on, go to <a href=\"/f/");
	T(b, f->id);
	R(b, "/resume\">continue your answers</a> and enter your resume "
	    "code.</p>\n");
	end(b, f);
}

void
page_resume(struct buf *b, const struct form *f, const char *csrf,
    const char *error)
{
	begin(b, error != NULL, "Continue your answers", f, NULL);
	if (error != NULL)
		summary_one(b, "code", error);
	html_h1(b, "Continue your answers");
	R(b, "<form method=\"post\" action=\"/f/");
	T(b, f->id);
	R(b, "/resume\" novalidate>\n");
	html_csrf_field(b, csrf);
	code_field(b, "Resume code", "You were given this code when you chose "
	    "Save and come back later.", error);
	button(b, false, NULL, "Continue");
	R(b, "</form>\n");
	end(b, f);
}

void
page_withdraw(struct buf *b, const char *csrf, int outcome)
{
	const char *error = outcome == 2 ?
	    "We could not find a response with that code" : outcome == 3 ?
	    "Enter the receipt code you were given when you submitted your "
	    "answers" : NULL;

	if (outcome == 1) {
		begin(b, false, "Your response has been withdrawn", NULL, NULL);
		R(b, "<div class=\"nhsuk-panel\">\n<h1 class=\"nhsuk-panel__heading\">"
		    "Your response has been withdrawn</h1>\n</div>\n"
		    "<p>Your answers have been deleted. They will not be used in "
		    "the study.</p>\n");
		page_end(b);
		return;
	}
	begin(b, error != NULL, "Withdraw your answers", NULL, NULL);
	if (error != NULL)
		summary_one(b, "code", error);
	html_h1(b, "Withdraw your answers");
	R(b, "<p>If you no longer want us to use your answers, enter the "
	    "receipt code you were given when you submitted them. We will "
	    "delete your answers straight away.</p>\n"
	    "<form method=\"post\" action=\"/withdraw\" novalidate>\n");
	html_csrf_field(b, csrf);
	code_field(b, "Receipt code", "You were given it on the page that "
	    "said your response had been recorded.", error);
	button(b, false, NULL, "Withdraw my answers");
	R(b, "</form>\n");
	page_end(b);
}

/* ---- error and information pages -------------------------------------- */

static const struct {
	int		 status;
	const char	*title, *message;
} error_defaults[] = {
	{ 400, "There is a problem with what was sent",
	  "Go back and try again." },
	{ 401, "You need to sign in", "Sign in and try again." },
	{ 403, "You cannot do that",
	  "Go back to the start of the survey and try again." },
	{ 404, "Page not found",
	  "If you typed the web address, check it is correct. If you pasted "
	  "the web address, check you copied the entire address." },
	{ 405, "You cannot do that", "Go back and try again." },
	{ 410, "This survey is closed",
	  "It is no longer taking responses." },
	{ 413, "Too much information was sent",
	  "Shorten your answers and try again." },
	{ 415, "There is a problem with what was sent",
	  "Go back and try again." },
	{ 429, "Too many attempts", "Wait a few minutes and try again." },
	{ 500, "Sorry, there is a problem with the service",
	  "Try again later." },
	{ 503, "Sorry, the service is unavailable", "Try again later." },
};

void
page_error(struct buf *b, int status, const char *title, const char *message,
    const char *ref_id)
{
	const char *dt = "Sorry, there is a problem",
	    *dm = "Try again later.";

	for (size_t i = 0; i < sizeof(error_defaults) / sizeof(error_defaults[0]);
	    i++)
		if (error_defaults[i].status == status) {
			dt = error_defaults[i].title;
			dm = error_defaults[i].message;
		}
	if (title == NULL)
		title = dt;
	if (message == NULL)
		message = dm;
	begin(b, false, title, NULL, NULL);
	html_h1(b, title);
	R(b, "<p>");
	T(b, message);
	R(b, "</p>\n");
	if (status == 500 && ref_id != NULL) {
		R(b, "<p>If you contact us about this, give this reference: "
		    "</p>\n<p>Reference: <strong class=\"pcs-code\">");
		T(b, ref_id);
		R(b, "</strong></p>\n");
	}
	R(b, "<p><a href=\"/\">Go to the list of surveys</a></p>\n");
	page_end(b);
}

void
page_privacy(struct buf *b)
{
	begin(b, false, "Privacy notice", NULL, NULL);
	html_h1(b, "Privacy notice");
	R(b, "<p>This website runs surveys for a research study about the "
	    "wellbeing support offered to people who work in primary care in "
	    "England. Each survey's start page has its own privacy notice "
	    "saying what it asks and why. This page explains what the website "
	    "does with your answers.</p>\n"
	    "<h2 class=\"nhsuk-heading-m\">What we keep</h2>\n"
	    "<ul class=\"nhsuk-list nhsuk-list--bullet\">\n"
	    "<li>We do not ask for your name, and we do not store your IP "
	    "address or details of your device or browser with your "
	    "answers.</li>\n"
	    "<li>We record when you took part only as a day, week or month, "
	    "never the time.</li>\n"
	    "<li>Anything you type in your own words, and contact details if "
	    "you give them, are encrypted before they are stored. Only the "
	    "research team can read them, with a key that is kept offline, "
	    "away from this website.</li>\n"
	    "<li>Answers you save to finish later are encrypted with a key "
	    "only you hold (your resume code). They are deleted if you do not "
	    "come back.</li>\n</ul>\n"
	    "<h2 class=\"nhsuk-heading-m\">What we publish</h2>\n"
	    "<p>We publish results only as counts. Small counts are hidden "
	    "and other counts are rounded, so that no one can be identified "
	    "from the results.</p>\n"
	    "<h2 class=\"nhsuk-heading-m\">Cookies</h2>\n"
	    "<p>We use one cookie, only while you fill in a survey, to keep "
	    "your answers together. It is strictly necessary and is not used "
	    "to track you.</p>\n"
	    "<h2 class=\"nhsuk-heading-m\">Withdrawing your answers</h2>\n"
	    "<p>When you submit a survey you are given a receipt code. To "
	    "delete your answers, go to <a href=\"/withdraw\">withdraw your "
	    "answers</a> and enter the code. We cannot find your answers "
	    "without it.</p>\n");
	page_end(b);
}

void
page_accessibility(struct buf *b)
{
	begin(b, false, "Accessibility statement", NULL, NULL);
	html_h1(b, "Accessibility statement");
	R(b, "<p>We want as many people as possible to be able to use this "
	    "website. You should be able to:</p>\n"
	    "<ul class=\"nhsuk-list nhsuk-list--bullet\">\n"
	    "<li>change colours, contrast levels and fonts using your browser "
	    "or device settings</li>\n"
	    "<li>zoom in up to 400% without the text spilling off the "
	    "screen</li>\n"
	    "<li>get around the website using just a keyboard</li>\n"
	    "<li>use the website with a screen reader or speech recognition "
	    "software</li>\n"
	    "<li>fill in every survey with JavaScript turned off</li>\n</ul>\n"
	    "<h2 class=\"nhsuk-heading-m\">How accessible this website is</h2>\n"
	    "<p>This website aims to meet the Web Content Accessibility "
	    "Guidelines (WCAG) version 2.2 at level AA. It uses the NHS design "
	    "system. Every page is checked in a web browser with automated "
	    "accessibility tests, at phone and desktop screen widths, and every "
	    "survey is filled in with a keyboard alone and with JavaScript "
	    "turned off.</p>\n"
	    "<p>We do not know of any part of the website that does not meet "
	    "the standard. If you find one, please tell us.</p>\n"
	    "<h2 class=\"nhsuk-heading-m\">Reporting accessibility problems"
	    "</h2>\n"
	    "<p>If you find a problem, or need a survey in a different format "
	    "such as large print, audio or a paper copy, contact the research "
	    "team using the details in the invitation you received. Tell us "
	    "the web address of the page and what the problem is. We will "
	    "reply within 5 working days.</p>\n"
	    "<h2 class=\"nhsuk-heading-m\">Preparation of this accessibility "
	    "statement</h2>\n"
	    "<p>This statement was prepared on 24 November 2026, when the "
	    "website was last tested as described above.</p>\n"
	    "<h2 class=\"nhsuk-heading-m\">Enforcement procedure</h2>\n"
	    "<p>The Equality and Human Rights Commission (EHRC) is responsible "
	    "for enforcing the Public Sector Bodies (Websites and Mobile "
	    "Applications) (No. 2) Accessibility Regulations 2018. If you are "
	    "not happy with how we respond to your complaint, contact the "
	    "<a href=\"https://www.equalityadvisoryservice.com/\">Equality "
	    "Advisory and Support Service (EASS)</a>.</p>\n");
	page_end(b);
}
