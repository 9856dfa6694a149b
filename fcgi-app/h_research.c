/*
 * h_research.c: the /research pages (http-api.md: coverage page, researcher
 * login and logout; forms.md: preview of any form, drafts included).  A
 * researcher session (auth.h) is needed for everything but the login form;
 * without one, a GET goes to /research/login.  Every page sent is recorded
 * in the access audit.  Pages render through page_research.h and, for the
 * preview, page.h's page_questions(); nothing of a preview is stored.
 *
 * Trusts only what route.c decoded; query and form values are matched
 * against the forms and reference lists before use and never logged.
 */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "figures.h"
#include "limits.h"
#include "log.h"
#include "page.h"
#include "page_research.h"
#include "route.h"
#include "valid.h"

/* Records a page in the access audit (T-27); a failure is logged, not shown. */
static void
audit(struct ctx *c, const char *via, int token_id, const char *what, const char *form_id,
    const char *detail, int status)
{
	struct store_audit row = { c->today, token_id, via, what, form_id, detail, status };

	if (store_audit(c->app->store, &row) != PCS_OK)
		log_event(LOG_WARN, "audit_failed", "what=%s status=%d", what, status);
}

static void
db_down(struct ctx *c)
{
	ctx_error(c, 503, "Sorry, there is a problem with the service",
	    "We could not reach our database just now. Try again in a few minutes.");
}

static void
redirect(struct ctx *c, const char *path)
{
	resp_redirect(c->resp, c->app->conf->base_url, str_cstr(path));
}

/* The session of this request, or an answer already made (303 to login, 503). */
static bool
need_session(struct ctx *c, struct auth_who *who, char csrf[AUTH_CSRF_HEX + 1])
{
	enum pcs_err err = auth_session(c->app->store, c->req, who, csrf);

	c->resp->no_store = true;	/* http-api.md: pages that show results */
	if (err == PCS_OK)
		return true;
	if (err == PCS_EAUTH)
		redirect(c, "/research/login");
	else
		db_down(c);
	return false;
}

/* A form by id, whatever its status (forms.md: a session can preview drafts). */
static const struct form *
any_form(struct ctx *c, struct str id)
{
	const struct form *f = formset_find(c->app->forms, id);

	if (f == NULL)
		ctx_error(c, 404, "Survey not found", "Check the web address, or go back to the "
		    "list of surveys.");
	return f;
}

/* ---- login and logout -------------------------------------------------- */

static void
login_form(struct ctx *c, const char *error)
{
	char csrf[AUTH_CSRF_HEX + 1];

	auth_login_csrf(c->today, csrf);
	c->resp->no_store = true;
	page_research_login(&c->resp->body, csrf, error);
}

static void
set_session_cookie(struct ctx *c, const char *value, long max_age)
{
	/* http-api.md: HttpOnly; SameSite=Strict; Path=/research; Max-Age=28800 */
	(void)resp_cookie(c->resp, AUTH_SESSION_COOKIE, str_cstr(value), "/research", "Strict",
	    max_age, c->app->conf->https);
}

static void
login_post(struct ctx *c)
{
	const struct str *token = fields_get(&c->req->body, STR_LIT("token"));
	char cookie[CRYPTO_TOKEN_TEXT + 1];
	struct auth_who who;
	enum pcs_err err;

	if (!auth_login_csrf_ok(c->req, c->today)) {
		ctx_error(c, 403, "This sign-in form was out of date",
		    "Go back, reload the page and sign in again.");
		return;
	}
	if (fields_count(&c->req->body, STR_LIT("token")) > 1) {
		ctx_error(c, 400, "Your sign-in could not be read", "Go back and try again.");
		return;
	}
	if (token == NULL || token->len == 0) {
		login_form(c, "Enter your API token");
		return;
	}
	err = auth_login(c->app->store, c->req, *token, c->today, &who, cookie);
	audit(c, "login", who.token_id, "login", NULL, NULL, err == PCS_OK ? 303 :
	    err == PCS_EAUTH ? 401 : 503);
	if (err == PCS_EAUTH) {
		login_form(c, "This API token is not valid. Check it, or ask for a new one");
		return;
	}
	if (err != PCS_OK) {
		db_down(c);
		return;
	}
	set_session_cookie(c, cookie, PCS_SESSION_SECONDS);
	crypto_wipe(cookie, sizeof(cookie));
	c->resp->no_store = true;
	redirect(c, "/research");
}

void
h_research_login(struct ctx *c)
{
	if (c->req->method == M_POST)
		login_post(c);
	else
		login_form(c, NULL);
}

void
h_research_logout(struct ctx *c)
{
	char csrf[AUTH_CSRF_HEX + 1];
	struct auth_who who;
	enum pcs_err err = auth_session(c->app->store, c->req, &who, csrf);

	c->resp->no_store = true;
	if (err == PCS_OK && !auth_csrf_ok(c->req, csrf)) {
		ctx_error(c, 403, "You could not be signed out",
		    "Go back, reload the page and select Sign out again.");
		return;
	}
	if ((err != PCS_OK && err != PCS_EAUTH) ||
	    (err = auth_logout(c->app->store, c->req)) != PCS_OK) {
		db_down(c);
		return;
	}
	audit(c, "session", who.token_id, "logout", NULL, NULL, 303);
	set_session_cookie(c, "", 0);	/* the server side is already gone */
	redirect(c, "/research/login");
}

/* ---- pages ------------------------------------------------------------- */

void
h_research_home(struct ctx *c)
{
	char csrf[AUTH_CSRF_HEX + 1];
	struct auth_who who;

	if (!need_session(c, &who, csrf))
		return;
	audit(c, "session", who.token_id, "home", NULL, NULL, 200);
	page_research_home(&c->resp->body, c->app->forms, csrf);
}

/* ?form=F[&staff_group=G]: each at most once; anything else is ignored. */
static bool
coverage_params(struct ctx *c, const struct str **form, const struct str **group)
{
	const struct fields *q = &c->req->query;

	*form = fields_get(q, STR_LIT("form"));
	*group = fields_get(q, STR_LIT("staff_group"));
	if (fields_count(q, STR_LIT("form")) > 1 || fields_count(q, STR_LIT("staff_group")) > 1) {
		ctx_error(c, 400, "There is a problem with the web address",
		    "Choose the survey again from the list of surveys.");
		return false;
	}
	if (*form == NULL || (*form)->len == 0) {
		redirect(c, "/research");
		return false;
	}
	return true;
}

/* Index of the staff group code in cv->groups; -1 for all; -2 unknown. */
static int
group_index(const struct fig_coverage *cv, const struct str *g)
{
	if (g == NULL || g->len == 0)
		return -1;
	for (size_t i = 0; i < cv->ngroups; i++)
		if (str_eq_cstr(*g, cv->groups[i]->code))
			return (int)i;
	return -2;
}

static void
coverage_render(struct ctx *c, const struct form *f, const struct str *g, const char *csrf,
    int token_id)
{
	const struct figures *fg;
	struct fig_coverage cv;
	struct research_coverage_view v;
	enum pcs_err err = figures_get(c->app->store, c->app->conf, f, c->today, &fg);

	if (err == PCS_OK)
		err = figures_coverage(fg, c->arena, &cv);
	if (err != PCS_OK) {
		db_down(c);
		return;
	}
	v = (struct research_coverage_view){ f, &cv, fg->data_as_of, c->app->conf->suppress_max,
	    c->app->conf->round_to, group_index(&cv, g), csrf };
	if (v.group == -2) {
		ctx_error(c, 400, "There is no such staff group",
		    "Choose a staff group from the list on the coverage page.");
		return;
	}
	audit(c, "session", token_id, "coverage", f->id,
	    v.group >= 0 ? cv.groups[v.group]->code : NULL, 200);
	page_research_coverage(&c->resp->body, &v);
}

void
h_research_coverage(struct ctx *c)
{
	char csrf[AUTH_CSRF_HEX + 1];
	const struct str *fid, *group;
	const struct form *f;
	struct auth_who who;

	if (!need_session(c, &who, csrf) || !coverage_params(c, &fid, &group) ||
	    (f = any_form(c, *fid)) == NULL)
		return;
	if (!figures_form_has_dim(f, DD_ICB)) {
		ctx_error(c, 404, "This survey has no coverage by ICB",
		    "It does not ask which ICB people work in.");
		return;
	}
	coverage_render(c, f, group, csrf, who.token_id);
}

/* ---- preview ----------------------------------------------------------- */

void
h_research_preview(struct ctx *c)
{
	char csrf[AUTH_CSRF_HEX + 1];
	const struct form *f;
	struct auth_who who;

	if (!need_session(c, &who, csrf) || (f = any_form(c, c->params[0])) == NULL)
		return;
	audit(c, "session", who.token_id, "preview", f->id, NULL, 200);
	page_research_preview_index(&c->resp->body, f, csrf);
}

/* page_questions() as a respondent sees it, every question shown, no Save button. */
static void
preview_render(struct ctx *c, const struct form *f, size_t p, const char *csrf,
    const struct valid_out *v)
{
	char action[PCS_MAX_PATH], back[PCS_MAX_PATH];
	struct page_view view = {
		.form = f, .page = p, .page_no = p + 1, .page_count = f->npages,
		.values = v ? &c->req->body : NULL, .shown = NULL,
		.errors = v ? v->errs : NULL, .nerrors = v ? v->nerrs : 0,
		.csrf = csrf, .action = action, .back_href = back, .preview = true,
	};

	snprintf(action, sizeof(action), "/research/preview/%s/p/%s", f->id, f->pages[p].id);
	if (p > 0)
		snprintf(back, sizeof(back), "/research/preview/%s/p/%s", f->id,
		    f->pages[p - 1].id);
	else
		snprintf(back, sizeof(back), "/research/preview/%s", f->id);
	page_questions(&c->resp->body, &view);
}

/* POST: validated as a respondent's would be, then the next page; nothing stored. */
static void
preview_post(struct ctx *c, const struct form *f, size_t p, const char *csrf)
{
	struct fields none = { NULL, 0 };
	bool *shown = arena_alloc(c->arena, f->nq + 1);
	char next[PCS_MAX_PATH];
	struct valid_out v;
	enum pcs_err err;

	if (!auth_csrf_ok(c->req, csrf)) {
		ctx_error(c, 403, "Your answers could not be accepted",
		    "This page was out of date. Go back, reload the page and try again.");
		return;
	}
	if (shown == NULL) {
		db_down(c);
		return;
	}
	memset(shown, 1, f->nq + 1);
	err = valid_page(c->arena, f, p, &c->req->body, &none, shown, c->today, &v);
	if (err != PCS_OK) {
		ctx_error(c, err == PCS_EINPUT ? 400 : 503, "Some of your answers could not be "
		    "read", "Go back and try again.");
		return;
	}
	if (v.nerrs > 0) {
		preview_render(c, f, p, csrf, &v);
		return;
	}
	if (p + 1 < f->npages)
		snprintf(next, sizeof(next), "/research/preview/%s/p/%s", f->id, f->pages[p + 1].id);
	else
		snprintf(next, sizeof(next), "/research/preview/%s", f->id);
	redirect(c, next);
}

void
h_research_preview_page(struct ctx *c)
{
	char csrf[AUTH_CSRF_HEX + 1];
	const struct form *f;
	struct auth_who who;
	int p;

	if (!need_session(c, &who, csrf) || (f = any_form(c, c->params[0])) == NULL)
		return;
	if ((p = form_page_index(f, c->params[1])) < 0) {
		ctx_error(c, 404, "Page not found", "This survey has no such page.");
		return;
	}
	audit(c, "session", who.token_id, "preview", f->id, f->pages[p].id,
	    c->req->method == M_POST ? 303 : 200);
	if (c->req->method == M_POST)
		preview_post(c, f, (size_t)p, csrf);
	else
		preview_render(c, f, (size_t)p, csrf, NULL);
}
