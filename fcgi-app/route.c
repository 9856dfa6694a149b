/*
 * route.c: the route table and the checks every request passes before its
 * handler (http-api.md): 400 malformed, 404 unknown, 405 with Allow, 413
 * too large, 415 content type, 410 closed form (before CSRF), 403 cross-site
 * POST.  Trusts only what http.c has decoded.
 */
#include <stdio.h>
#include <string.h>

#include "html.h"
#include "log.h"
#include "page.h"
#include "route.h"
#include "valid.h"

enum route_flag {
	RF_FORM = 1,		/* {form} must name a public form */
};

enum route {
	ROUTE_INDEX, ROUTE_HEALTHZ, ROUTE_READYZ, ROUTE_PRIVACY, ROUTE_ACCESSIBILITY,
	ROUTE_WITHDRAW, ROUTE_FORM, ROUTE_FORM_START, ROUTE_FORM_PAGE, ROUTE_FORM_CHECK,
	ROUTE_FORM_SUBMIT, ROUTE_FORM_DONE, ROUTE_FORM_RESUME, ROUTE_INVITE,
	ROUTE_API_FORMS, ROUTE_API_FORMS_CSV, ROUTE_API_CODEBOOK, ROUTE_API_CODEBOOK_CSV,
	ROUTE_API_COUNTS, ROUTE_API_COUNTS_CSV, ROUTE_API_COVERAGE, ROUTE_API_COVERAGE_CSV,
	ROUTE_API_RESPONSES, ROUTE_RESEARCH, ROUTE_RESEARCH_LOGIN, ROUTE_RESEARCH_LOGOUT,
	ROUTE_RESEARCH_COVERAGE, ROUTE_RESEARCH_PREVIEW, ROUTE_RESEARCH_PREVIEW_PAGE,
	ROUTE__MAX
};

static const struct route_def {
	const char	*path;		/* "{x}" matches one segment */
	unsigned	 methods;
	unsigned	 flags;
	void		(*fn)(struct ctx *);
} routes[] = {
	[ROUTE_INDEX] = { "/", M_GET | M_HEAD, 0, h_index },
	[ROUTE_HEALTHZ] = { "/healthz", M_GET | M_HEAD, 0, h_healthz },
	[ROUTE_READYZ] = { "/readyz", M_GET | M_HEAD, 0, h_readyz },
	[ROUTE_PRIVACY] = { "/privacy", M_GET | M_HEAD, 0, h_privacy },
	[ROUTE_ACCESSIBILITY] = { "/accessibility", M_GET | M_HEAD, 0, h_accessibility },
	[ROUTE_WITHDRAW] = { "/withdraw", M_GET | M_HEAD | M_POST, 0, h_withdraw },
	[ROUTE_FORM] = { "/f/{form}", M_GET | M_HEAD, RF_FORM, h_form_start_page },
	[ROUTE_FORM_START] = { "/f/{form}/start", M_POST, RF_FORM, h_form_start },
	[ROUTE_FORM_PAGE] = { "/f/{form}/p/{page}", M_GET | M_HEAD | M_POST, RF_FORM, h_form_page },
	[ROUTE_FORM_CHECK] = { "/f/{form}/check", M_GET | M_HEAD, RF_FORM, h_form_check },
	[ROUTE_FORM_SUBMIT] = { "/f/{form}/submit", M_POST, RF_FORM, h_form_submit },
	[ROUTE_FORM_DONE] = { "/f/{form}/done", M_GET | M_HEAD, RF_FORM, h_form_done },
	[ROUTE_FORM_RESUME] = { "/f/{form}/resume", M_GET | M_HEAD | M_POST, RF_FORM, h_form_resume },
	[ROUTE_INVITE] = { "/i/{code}", M_GET | M_HEAD, 0, h_invite_link },
	/* http-api.md Researcher API: auth, {form} and drafts are the handlers' (h_api.c) */
	[ROUTE_API_FORMS] = { "/api/v1/forms", M_GET | M_HEAD, 0, h_api_forms },
	[ROUTE_API_FORMS_CSV] = { "/api/v1/forms.csv", M_GET | M_HEAD, 0, h_api_forms },
	[ROUTE_API_CODEBOOK] = { "/api/v1/forms/{form}/codebook", M_GET | M_HEAD, 0, h_api_codebook },
	[ROUTE_API_CODEBOOK_CSV] = { "/api/v1/forms/{form}/codebook.csv", M_GET | M_HEAD, 0,
	    h_api_codebook },
	[ROUTE_API_COUNTS] = { "/api/v1/forms/{form}/counts", M_GET | M_HEAD, 0, h_api_counts },
	[ROUTE_API_COUNTS_CSV] = { "/api/v1/forms/{form}/counts.csv", M_GET | M_HEAD, 0,
	    h_api_counts },
	[ROUTE_API_COVERAGE] = { "/api/v1/forms/{form}/coverage", M_GET | M_HEAD, 0, h_api_coverage },
	[ROUTE_API_COVERAGE_CSV] = { "/api/v1/forms/{form}/coverage.csv", M_GET | M_HEAD, 0,
	    h_api_coverage },
	[ROUTE_API_RESPONSES] = { "/api/v1/forms/{form}/responses.csv", M_GET, 0, h_api_responses },
	/* /research pages: a researcher session (h_research.c), drafts included */
	[ROUTE_RESEARCH] = { "/research", M_GET | M_HEAD, 0, h_research_home },
	[ROUTE_RESEARCH_LOGIN] = { "/research/login", M_GET | M_HEAD | M_POST, 0, h_research_login },
	[ROUTE_RESEARCH_LOGOUT] = { "/research/logout", M_POST, 0, h_research_logout },
	[ROUTE_RESEARCH_COVERAGE] = { "/research/coverage", M_GET | M_HEAD, 0, h_research_coverage },
	[ROUTE_RESEARCH_PREVIEW] = { "/research/preview/{form}", M_GET | M_HEAD, 0,
	    h_research_preview },
	[ROUTE_RESEARCH_PREVIEW_PAGE] = { "/research/preview/{form}/p/{page}",
	    M_GET | M_HEAD | M_POST, 0, h_research_preview_page },
};
_Static_assert(sizeof(routes) / sizeof(routes[0]) == ROUTE__MAX, "routes[]");

/* Matches segs against a pattern; fills params in order of "{x}". */
static bool
route_match(const char *pattern, const struct str *segs, size_t nsegs, struct str *params)
{
	size_t i = 0, np = 0;
	const char *p = pattern + 1;

	if (*p == '\0')
		return nsegs == 0;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (i >= nsegs)
			return false;
		if (p[0] == '{') {
			if (np < 2)
				params[np++] = segs[i];
		} else if (!str_eq(segs[i], (struct str){ p, len }))
			return false;
		i++;
		p += len;
		if (*p == '/')
			p++;
	}
	return i == nsegs;
}

void
ctx_error(struct ctx *c, int status, const char *title, const char *message)
{
	buf_reset(&c->resp->body);
	c->resp->status = status;
	c->resp->content_type = "text/html; charset=utf-8";
	page_error(&c->resp->body, status, title, message, NULL);
}

static void
allow_header(struct resp *r, unsigned methods)
{
	const char *v = (methods & M_GET) ? ((methods & M_POST) ? "GET, HEAD, POST" :
	    "GET, HEAD") : "POST";

	(void)resp_header(r, "Allow", str_cstr(v));
}

/* http-api.md: a POST whose Origin is another origin or null, or Sec-Fetch-Site cross-site: 403. */
static bool
cross_site(const struct ctx *c)
{
	const struct http_req *r = c->req;
	const char *base = c->app->conf->base_url;
	const char *host = strstr(base, "://");
	const char *slash = host ? strchr(host + 3, '/') : NULL;
	size_t origin_len = slash ? (size_t)(slash - base) : strlen(base);

	if (str_eq_cstr(r->sec_fetch_site, "cross-site"))
		return true;
	if (r->origin.len == 0)
		return false;	/* judged by the token alone */
	/*
	 * Fetch: under our own "Referrer-Policy: no-referrer" a browser
	 * serialises the Origin of every form POST as "null", same-origin
	 * ones included.  Sec-Fetch-Site cannot be set by a page, so
	 * "same-origin" there vouches for such a request; a bare "null"
	 * with no Sec-Fetch-Site is refused as http-api.md says.
	 */
	if (str_eq_cstr(r->origin, "null"))
		return !str_eq_cstr(r->sec_fetch_site, "same-origin");
	/* the origin of base_url is scheme://host[:port], without its path */
	return !str_eq(r->origin, (struct str){ base, origin_len });
}

static bool
form_public(const struct form *f)
{
	return f->status != FS_DRAFT;	/* forms.md: a draft form is not public (404) */
}

/*
 * adversarial.md T-10/T-11: the 400 for an unreadable answer names the
 * question it was for (its label from the form, never the value).
 */
static void
bad_answer(struct ctx *c)
{
	static const char generic[] = "An answer contained characters we cannot accept, "
	    "such as control characters. Go back, retype it and try again.";
	char msg[PCS_FORM_LABEL_MAX * 4 + 200];

	for (size_t i = 0; c->form && c->req->bad_field.len && i < c->form->nq; i++) {
		const struct question *q = &c->form->qs[i];

		if (q->label == NULL || !question_owns_field(q, c->req->bad_field))
			continue;
		snprintf(msg, sizeof(msg), "Your answer to \"%s\" contained characters we "
		    "cannot accept, such as control characters. Go back, retype it and "
		    "try again.", q->label);
		ctx_error(c, 400, "Some of your answers could not be read", msg);
		return;
	}
	ctx_error(c, 400, "Some of your answers could not be read", generic);
}

void
route_dispatch(void *arg, struct arena *a, struct http_req *req, struct resp *resp)
{
	const struct app *app = arg;
	struct ctx c = { .app = app, .arena = a, .req = req, .resp = resp,
	    .today = date_today() };
	const struct route_def *rt = NULL;
	unsigned allowed = 0;
	enum pcs_err err;

	err = http_parse_request(a, req);
	if (err == PCS_ETOOBIG) {
		ctx_error(&c, 413, "Your request was too long", "Go back and try again.");
		return;
	}
	if (err != PCS_OK) {
		ctx_error(&c, 400, "There is a problem with the web address",
		    "Check the address and try again.");
		return;
	}
	for (int i = 0; i < ROUTE__MAX; i++) {
		struct str params[2] = { STR_NULL, STR_NULL };

		if (!route_match(routes[i].path, req->segs, req->nsegs, params))
			continue;
		allowed |= routes[i].methods;
		if ((routes[i].methods & req->method) && rt == NULL) {
			rt = &routes[i];
			c.params[0] = params[0];
			c.params[1] = params[1];
		}
	}
	if (allowed == 0) {
		ctx_error(&c, 404, "Page not found",
		    "If you typed the web address, check it is correct.");
		return;
	}
	if (rt == NULL) {
		allow_header(resp, allowed);
		ctx_error(&c, 405, "This action is not allowed",
		    "Go back to the survey and use its buttons.");
		return;
	}
	if (rt->flags & RF_FORM) {
		c.form = formset_find(app->forms, c.params[0]);
		if (c.form == NULL || !form_public(c.form)) {
			ctx_error(&c, 404, "Survey not found",
			    "Check the web address of the survey you were sent.");
			return;
		}
	}
	if (req->method == M_POST) {
		if (req->body_too_big) {
			ctx_error(&c, 413, "Your answers were too long to send",
			    "Go back, shorten your longest answers and try again.");
			return;
		}
		if (req->body_short) {
			ctx_error(&c, 400, "Your answers did not arrive in full",
			    "Go back and try again.");
			return;
		}
		/* http-api.md: closed forms get 410 on every POST, checked before CSRF */
		if (c.form && !form_is_open(c.form, c.today)) {
			ctx_error(&c, 410, "This survey is closed",
			    "It is no longer taking responses.");
			return;
		}
		if (req->raw_body.len && !http_is_urlencoded(req)) {
			ctx_error(&c, 415, "Your answers were sent in a format we cannot read",
			    "Use the survey's own pages to send your answers.");
			return;
		}
		if (cross_site(&c)) {
			ctx_error(&c, 403, "Your answers could not be accepted",
			    "Open the survey from its own web address and try again.");
			return;
		}
		err = http_parse_urlencoded(a, req->raw_body, &req->body, &req->bad_field);
		if (err == PCS_ETOOBIG) {
			ctx_error(&c, 413, "Your answers were too long to send",
			    "Go back, shorten your longest answers and try again.");
			return;
		}
		if (err != PCS_OK) {
			bad_answer(&c);
			return;
		}
	}
	rt->fn(&c);
}
