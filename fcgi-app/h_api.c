/*
 * h_api.c: the researcher API, /api/v1 (http-api.md: Researcher API).
 * Every call is authenticated by a bearer token (auth.h), recorded in the
 * access audit (store_audit), and answered with Cache-Control: no-store;
 * errors are {"error": {"status", "code", "message"}}.  Counts and
 * coverage read the form's published lattice (figures.h), so every figure
 * has its one value under privacy.md's rule; responses.csv streams the
 * row-level export (export.h) in chunks with resp_flush().
 *
 * Trusts only what route.c and http.c decoded.  Query values are checked
 * against the form before use; an error message may quote a by or question
 * value (http-api.md), bounded and JSON-escaped, and no log line or audit
 * row holds one: the audit keeps the validated names only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "csv.h"
#include "export.h"
#include "figures.h"
#include "json.h"
#include "limits.h"
#include "log.h"
#include "route.h"

#define JSON_TYPE	"application/json; charset=utf-8"
#define CSV_TYPE	"text/csv; charset=utf-8"

/* One API call: who, what (for the audit) and the format asked for. */
struct api {
	struct ctx		*c;
	struct auth_who		 who;
	const char		*what;
	const struct form	*form;
	char			 detail[256];	/* validated parameters, for the audit */
	bool			 csv;
	bool			 audited;
};

static const char *const dim_key[DD__MAX] = {
	[DD_ICB] = "icb", [DD_REGION] = "region", [DD_ROLE] = "role",
	[DD_STAFF_GROUP] = "staff_group", [DD_ORG_TYPE] = "org_type",
};

/* ---- answers ----------------------------------------------------------- */

static struct buf *
body(struct api *a)
{
	return &a->c->resp->body;
}

/* Records the call once (T-27); false when the audit could not be written. */
static bool
api_audit(struct api *a, int status)
{
	struct ctx *c = a->c;
	struct store_audit row = { c->today, a->who.token_id, "api", a->what,
	    a->form ? a->form->id : NULL, a->detail[0] ? a->detail : NULL, status };
	enum pcs_err err;

	if (a->audited)
		return true;
	a->audited = true;
	if ((err = store_audit(c->app->store, &row)) != PCS_OK) {
		log_event(LOG_WARN, "audit_failed", "what=%s status=%d err=%s", a->what, status,
		    pcs_strerror(err));
		return false;
	}
	return true;
}

/*
 * The JSON error of http-api.md.  msg is printf-style; any value it quotes
 * was bounded by quote() first.
 */
static void __attribute__((format(printf, 4, 5)))
api_fail(struct api *a, int status, const char *code, const char *fmt, ...)
{
	struct resp *r = a->c->resp;
	char msg[512];
	va_list ap;

	(void)api_audit(a, status);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_reset(&r->body);
	r->status = status;
	r->content_type = JSON_TYPE;
	r->no_store = true;
	if (status == 401)
		(void)resp_header(r, "WWW-Authenticate", STR_LIT("Bearer"));
	buf_printf(&r->body, "{\"error\": {\"status\": %d, \"code\": ", status);
	json_cstr(&r->body, code);
	buf_adds(&r->body, ", \"message\": ");
	json_cstr(&r->body, msg);
	buf_adds(&r->body, "}}\n");
}

static void
api_err(struct api *a, enum pcs_err err)
{
	switch (err) {
	case PCS_EDBDOWN:
	case PCS_ENOMEM:
		api_fail(a, 503, "unavailable", "The database is unavailable; try again shortly.");
		break;
	case PCS_ETOOBIG:
		api_fail(a, 500, "too_large", "This form is too large to count.");
		break;
	case PCS_OK:
	case PCS_EINPUT:
	case PCS_ENOTFOUND:
	case PCS_EMETHOD:
	case PCS_EGONE:
	case PCS_ETYPE:
	case PCS_EFORBIDDEN:
	case PCS_EAUTH:
	case PCS_ECONFLICT:
	case PCS_ECRYPTO:
	case PCS_EIO:
	case PCS_EINTERNAL:
	case PCS_ERR__MAX:
	default:
		api_fail(a, 500, "internal_error", "Something went wrong on our side.");
		break;
	}
}

/* Audits a successful call; a call that cannot be recorded is not answered. */
static bool
api_ok(struct api *a)
{
	a->audited = false;
	if (api_audit(a, 200))
		return true;
	a->audited = true;
	api_fail(a, 503, "unavailable", "The database is unavailable; try again shortly.");
	return false;
}

/* A q-value in thousandths ("q=0.5" -> 500); 1000 when absent or malformed. */
static unsigned
qvalue(struct str params)
{
	for (size_t i = 0; i + 2 < params.len; i++) {
		if ((params.p[i] | 0x20) != 'q' || params.p[i + 1] != '=' ||
		    (i > 0 && params.p[i - 1] != ';' && params.p[i - 1] != ' '))
			continue;
		unsigned v = 0, scale = 1000;

		for (size_t k = i + 2; k < params.len && scale > 0; k++) {
			char ch = params.p[k];

			if (ch == '.')
				continue;
			if (ch < '0' || ch > '9')
				break;
			v += (unsigned)(ch - '0') * scale;
			scale /= 10;
		}
		return v > 1000 ? 1000 : v;
	}
	return 1000;
}

/* http-api.md Formats: CSV when Accept prefers text/csv over application/json. */
static bool
accept_csv(struct str accept)
{
	unsigned q_csv = 0, q_json = 0;
	size_t i = 0;

	while (i < accept.len) {
		size_t s = i, e, t;

		while (i < accept.len && accept.p[i] != ',')
			i++;
		e = i++;
		while (s < e && accept.p[s] == ' ')
			s++;
		for (t = s; t < e && accept.p[t] != ';' && accept.p[t] != ' '; t++)
			;
		struct str type = { accept.p + s, t - s }, params = { accept.p + t, e - t };

		if (type.len == 8 && strncasecmp(type.p, "text/csv", 8) == 0)
			q_csv = qvalue(params);
		else if (type.len == 16 && strncasecmp(type.p, "application/json", 16) == 0)
			q_json = qvalue(params);
	}
	return q_csv > 0 && q_csv >= q_json;
}

static bool
wants_csv(const struct ctx *c)
{
	const struct http_req *r = c->req;
	struct str last = r->nsegs ? r->segs[r->nsegs - 1] : STR_NULL;

	if (last.len >= 4 && memcmp(last.p + last.len - 4, ".csv", 4) == 0)
		return true;
	return accept_csv(r->accept);
}

/*
 * Authenticates and finds {form}; false when the answer is already made
 * (401, 403, 404, 503).  http-api.md: Cache-Control: no-store on every API
 * response, 401 before anything about the form is told.
 */
static bool
api_begin(struct ctx *c, struct api *a, const char *what, enum auth_need need, bool form)
{
	enum pcs_err err;

	memset(a, 0, sizeof(*a));
	a->c = c;
	a->what = what;
	c->resp->no_store = true;
	c->resp->content_type = JSON_TYPE;
	err = auth_bearer(c->app->store, c->req, c->today, need, &a->who);
	if (err == PCS_EAUTH) {
		api_fail(a, 401, "unauthorized", "Send a valid API token: Authorization: Bearer "
		    "<token> (see pcsurvey token create).");
		return false;
	}
	if (err == PCS_EFORBIDDEN) {
		api_fail(a, 403, "insufficient_scope", "This token's scope does not allow this; "
		    "row-level exports need a token with scope export.");
		return false;
	}
	if (err != PCS_OK) {
		api_err(a, err);
		return false;
	}
	if (form && (a->form = formset_find(c->app->forms, c->params[0])) == NULL) {
		api_fail(a, 404, "unknown_form", "No form has this id; GET /api/v1/forms lists them.");
		return false;
	}
	a->csv = wants_csv(c);
	return true;
}

/*
 * http-api.md: fixed breakdowns only.  Every query parameter must be one of
 * names (NULL-terminated) and appear once.
 */
static bool
params_ok(struct api *a, const char *const *names, const char *usage)
{
	const struct fields *q = &a->c->req->query;

	for (size_t i = 0; i < q->n; i++) {
		bool known = false;

		for (size_t k = 0; names[k] && !known; k++)
			known = str_eq_cstr(q->v[i].name, names[k]);
		if (!known) {
			api_fail(a, 400, "unknown_parameter", "Unknown query parameter; %s", usage);
			return false;
		}
		if (fields_count(q, q->v[i].name) != 1) {
			api_fail(a, 400, "repeated_parameter", "A query parameter is given more than "
			    "once; %s", usage);
			return false;
		}
	}
	return true;
}

/* A request value, quoted in a message: at most PCS_API_QUOTE_MAX bytes, whole code points. */
static void
quote(struct str v, char out[PCS_API_QUOTE_MAX + 4])
{
	size_t n = v.len;

	if (n > PCS_API_QUOTE_MAX) {
		n = PCS_API_QUOTE_MAX;
		while (n > 0 && ((unsigned char)v.p[n] & 0xC0) == 0x80)
			n--;	/* http.c checked UTF-8: back to a lead byte */
	}
	memcpy(out, v.p ? v.p : "", n);
	memcpy(out + n, n < v.len ? "..." : "", n < v.len ? 4 : 1);	/* with its NUL */
}

/* ---- JSON and CSV pieces ---------------------------------------------- */

static void
jkey(struct buf *b, const char *k)
{
	json_cstr(b, k);
	buf_adds(b, ": ");
}

/* "count": v, "suppressed": bool (null for a suppressed figure). */
static void
jcount(struct buf *b, long v)
{
	if (v < 0)
		buf_adds(b, "\"count\": null, \"suppressed\": true");
	else
		buf_printf(b, "\"count\": %ld, \"suppressed\": false", v);
}

static void
jvalue(struct buf *b, long v)
{
	if (v < 0)
		buf_adds(b, "null");
	else
		buf_printf(b, "%ld", v);
}

static void
jdisclosure(struct buf *b, const struct conf *conf)
{
	buf_printf(b, "\"disclosure\": {\"suppress_max\": %d, \"round_to\": %d, "
	    "\"secondary\": true}", conf->suppress_max, conf->round_to);
}

static void
jdate(struct buf *b, const char *key, int64_t day)
{
	char d[11];

	date_format(day, d);
	jkey(b, key);
	json_cstr(b, d);
}

static void
ccell(struct buf *b, const char *s)
{
	csv_write_cell(b, str_cstr(s ? s : ""));
}

/* A finished body: 500 if a cap was hit (the answer would be cut short). */
static void
api_send(struct api *a, const char *type)
{
	if (body(a)->err != PCS_OK) {
		log_event(LOG_ERROR, "api_body_too_large", "what=%s", a->what);
		a->audited = true;
		api_fail(a, 500, "too_large", "The answer is too large.");
		return;
	}
	a->c->resp->content_type = type;
}

/* ---- GET /api/v1/forms ------------------------------------------------- */

/* privacy.md: the grand total is suppressed when 1..suppress_max, else rounded. */
static long
grand_value(const struct conf *conf, int64_t n)
{
	struct disclose_rule r = { (unsigned)conf->suppress_max, (unsigned)conf->round_to };
	struct disclose_fig f = { 0, (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n),
	    n <= conf->suppress_max ? DISCLOSE_PRIMARY : DISCLOSE_SHOWN };

	return n <= 0 ? 0 : disclose_value(&r, &f);
}

static void
forms_json(struct api *a, const struct formset *fs, const int64_t *totals)
{
	struct buf *b = body(a);

	buf_adds(b, "{\"forms\": [");
	for (size_t i = 0; i < fs->n; i++) {
		const struct form *f = fs->v[i];

		buf_adds(b, i ? ",\n  {" : "\n  {");
		jkey(b, "id");
		json_cstr(b, f->id);
		buf_printf(b, ", \"version\": %d, ", f->version);
		jkey(b, "title");
		json_cstr(b, f->title);
		buf_adds(b, ", ");
		jkey(b, "audience");
		json_cstr(b, audience_names[f->audience]);
		buf_adds(b, ", ");
		jkey(b, "status");
		json_cstr(b, form_status_names[f->status]);
		buf_adds(b, ", \"responses\": ");
		jvalue(b, grand_value(a->c->app->conf, totals[i]));
		buf_adds(b, "}");
	}
	buf_adds(b, "\n]}\n");
}

static void
forms_csv(struct api *a, const struct formset *fs, const int64_t *totals)
{
	struct buf *b = body(a);

	buf_adds(b, "id,version,title,audience,status,responses\r\n");
	for (size_t i = 0; i < fs->n; i++) {
		const struct form *f = fs->v[i];
		long v = grand_value(a->c->app->conf, totals[i]);

		ccell(b, f->id);
		buf_printf(b, ",%d,", f->version);
		ccell(b, f->title);
		csv_write_sep(b);
		ccell(b, audience_names[f->audience]);
		csv_write_sep(b);
		ccell(b, form_status_names[f->status]);
		csv_write_sep(b);
		if (v >= 0)
			buf_printf(b, "%ld", v);
		csv_write_eol(b);
	}
}

void
h_api_forms(struct ctx *c)
{
	const struct formset *fs = c->app->forms;
	const char **ids;
	int64_t *before, *totals;
	struct api a;
	enum pcs_err err;

	if (!api_begin(c, &a, "forms", AUTH_AGGREGATE, false) ||
	    !params_ok(&a, (const char *const[]){ NULL }, "this endpoint takes none."))
		return;
	ids = arena_alloc(c->arena, (fs->n + 1) * sizeof(*ids));
	before = arena_alloc(c->arena, (fs->n + 1) * sizeof(*before));
	totals = arena_alloc(c->arena, (fs->n + 1) * sizeof(*totals));
	if (ids == NULL || before == NULL || totals == NULL) {
		api_err(&a, PCS_ENOMEM);
		return;
	}
	for (size_t i = 0; i < fs->n; i++) {
		ids[i] = fs->v[i]->id;
		before[i] = figures_before(fs->v[i]->timestamp,
		    figures_data_as_of(c->app->conf, c->today));
	}
	if ((err = store_form_totals(c->app->store, ids, before, fs->n, totals)) != PCS_OK) {
		api_err(&a, err);
		return;
	}
	if (!api_ok(&a))
		return;
	if (a.csv)
		forms_csv(&a, fs, totals);
	else
		forms_json(&a, fs, totals);
	api_send(&a, a.csv ? CSV_TYPE : JSON_TYPE);
}

/* ---- GET /api/v1/forms/{form}/codebook --------------------------------- */

static void
codebook_options_json(struct buf *b, const struct question *q)
{
	buf_adds(b, ", \"options\": [");
	for (size_t o = 0; o < q->nopts; o++) {
		buf_adds(b, o ? ", {" : "{");
		jkey(b, "value");
		json_cstr(b, q->opts[o].value);
		buf_adds(b, ", ");
		jkey(b, "label");
		json_cstr(b, q->opts[o].label);
		buf_adds(b, "}");
	}
	buf_adds(b, "]");
	if (q->type != Q_SCALE)
		return;
	buf_adds(b, ", \"statements\": [");
	for (size_t s = 0; s < q->nstmts; s++) {
		buf_adds(b, s ? ", {" : "{");
		jkey(b, "id");
		json_cstr(b, q->stmts[s].id);
		buf_adds(b, ", ");
		jkey(b, "label");
		json_cstr(b, q->stmts[s].label);
		buf_adds(b, "}");
	}
	buf_adds(b, "]");
}

static void
codebook_question_json(struct buf *b, const struct form *f, const struct question *q)
{
	buf_adds(b, "{");
	jkey(b, "id");
	json_cstr(b, q->id);
	buf_adds(b, ", ");
	jkey(b, "page");
	json_cstr(b, f->pages[q->page].id);
	buf_adds(b, ", ");
	jkey(b, "type");
	json_cstr(b, q_type_names[q->type]);
	buf_adds(b, ", ");
	jkey(b, "label");
	json_cstr(b, q->label);
	buf_printf(b, ", \"required\": %s, ", q->required ? "true" : "false");
	jkey(b, "store");
	json_cstr(b, q_store_names[q->store]);
	if (q->dim != DIM_NONE) {
		buf_adds(b, ", ");
		jkey(b, "dimension");
		json_cstr(b, dim_names[q->dim]);
	}
	if (q->nopts > 0)
		codebook_options_json(b, q);
	buf_adds(b, "}");
}

static void
codebook_json(struct api *a)
{
	const struct form *f = a->form;
	struct buf *b = body(a);
	size_t n = 0;

	buf_adds(b, "{");
	jkey(b, "form");
	json_cstr(b, f->id);
	buf_printf(b, ", \"version\": %d, ", f->version);
	jkey(b, "title");
	json_cstr(b, f->title);
	buf_adds(b, ", ");
	jkey(b, "audience");
	json_cstr(b, audience_names[f->audience]);
	buf_adds(b, ", \"questions\": [");
	for (size_t i = 0; i < f->nq; i++) {
		if (f->qs[i].type == Q_INFO)
			continue;	/* http-api.md: info items are not questions */
		buf_adds(b, n++ ? ",\n  " : "\n  ");
		codebook_question_json(b, f, &f->qs[i]);
	}
	buf_adds(b, "\n]}\n");
}

/* One CSV row: question,page,type,label,store,dimension,value,value_label. */
static void
codebook_row(struct buf *b, const struct form *f, const struct question *q, const char *key,
    const char *label, const struct option *o)
{
	ccell(b, key);
	csv_write_sep(b);
	ccell(b, f->pages[q->page].id);
	csv_write_sep(b);
	ccell(b, q_type_names[q->type]);
	csv_write_sep(b);
	ccell(b, label);
	csv_write_sep(b);
	ccell(b, q_store_names[q->store]);
	csv_write_sep(b);
	ccell(b, q->dim != DIM_NONE ? dim_names[q->dim] : NULL);
	csv_write_sep(b);
	ccell(b, o ? o->value : NULL);
	csv_write_sep(b);
	ccell(b, o ? o->label : NULL);
	csv_write_eol(b);
}

static void
codebook_csv(struct api *a)
{
	const struct form *f = a->form;
	struct buf *b = body(a);

	buf_adds(b, "question,page,type,label,store,dimension,value,value_label\r\n");
	for (size_t i = 0; i < f->nq; i++) {
		const struct question *q = &f->qs[i];

		if (q->type == Q_INFO)
			continue;
		if (q->type == Q_SCALE) {	/* one row per statement and option */
			for (size_t s = 0; s < q->nstmts; s++)
				for (size_t o = 0; o < q->nopts; o++)
					codebook_row(b, f, q, q->stmts[s].field,
					    q->stmts[s].label, &q->opts[o]);
			continue;
		}
		if (q->nopts == 0)
			codebook_row(b, f, q, q->id, q->label, NULL);
		for (size_t o = 0; o < q->nopts; o++)
			codebook_row(b, f, q, q->id, q->label, &q->opts[o]);
	}
}

void
h_api_codebook(struct ctx *c)
{
	struct api a;

	if (!api_begin(c, &a, "codebook", AUTH_AGGREGATE, true) ||
	    !params_ok(&a, (const char *const[]){ NULL }, "this endpoint takes none.") ||
	    !api_ok(&a))
		return;
	if (a.csv)
		codebook_csv(&a);
	else
		codebook_json(&a);
	api_send(&a, a.csv ? CSV_TYPE : JSON_TYPE);
}

/* ---- GET /api/v1/forms/{form}/counts ----------------------------------- */

struct counts_req {
	int		 by[2];		/* enum disclose_dim, in the order asked */
	size_t		 nby;
	struct str	 qkey;		/* question=, or empty */
	int		 q;		/* index in the lattice, or -1 */
	unsigned	 mask;		/* the figures' own dimensions (canonical) */
};

/* One published cell, with its coordinates in the order of by. */
struct counts_cell {
	int		 code[2];
	int		 opt;
	long		 value;
};

static void
dims_list(const struct form *f, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (int d = 0; d < DD__MAX; d++)
		if (figures_form_has_dim(f, (enum disclose_dim)d))
			n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s",
			    n ? ", " : "", dim_key[d]);
}

static int
dim_named(struct str s)
{
	for (int d = 0; d < DD__MAX; d++)
		if (str_eq_cstr(s, dim_key[d]))
			return d;
	return -1;
}

/* by=D1[,D2]: http-api.md counts; false when the 400 is sent. */
static bool
counts_by(struct api *a, struct counts_req *cr)
{
	const struct str *by = fields_get(&a->c->req->query, STR_LIT("by"));
	char dims[128], qv[PCS_API_QUOTE_MAX + 4];
	size_t i = 0;

	dims_list(a->form, dims, sizeof(dims));
	if (by == NULL) {
		api_fail(a, 400, "missing_by", "by is required: by=D1 or by=D1,D2 with D one "
		    "of %s", dims);
		return false;
	}
	for (;;) {
		size_t s = i;
		int d;

		while (i < by->len && by->p[i] != ',')
			i++;
		struct str el = { by->p + s, i - s };

		d = dim_named(el);
		quote(el, qv);
		if (d < 0 || !figures_form_has_dim(a->form, (enum disclose_dim)d)) {
			api_fail(a, 400, "unknown_dimension", "by=%s: unknown dimension; use one "
			    "of %s", qv, dims);
			return false;
		}
		if (cr->nby == 2) {
			quote(*by, qv);
			api_fail(a, 400, "too_many_dimensions", "by=%s: at most two dimensions", qv);
			return false;
		}
		if (cr->nby == 1 && cr->by[0] == d) {
			api_fail(a, 400, "repeated_dimension", "by=%s: a dimension is repeated", qv);
			return false;
		}
		cr->by[cr->nby++] = d;
		if (i++ >= by->len)
			return true;
	}
}

/* question=Q or Q__statement: http-api.md counts; false when the 400 is sent. */
static bool
counts_question(struct api *a, struct counts_req *cr)
{
	const struct str *q = fields_get(&a->c->req->query, STR_LIT("question"));
	char qv[PCS_API_QUOTE_MAX + 4];

	cr->q = -1;
	if (q == NULL)
		return true;
	quote(*q, qv);
	switch (figures_question_check(a->form, *q)) {
	case FQ_OK:
		cr->qkey = *q;
		return true;
	case FQ_SCALE:
		api_fail(a, 400, "question_not_countable", "question=%s: a scale is counted one "
		    "statement at a time: question=%s__<statement> (see the codebook)", qv, qv);
		return false;
	case FQ_NOT_COUNTABLE:
		api_fail(a, 400, "question_not_countable", "question=%s: only a clear choice, "
		    "select or choices question, or one statement of a scale, that is not a "
		    "dimension can split counts", qv);
		return false;
	case FQ_UNKNOWN:
	default:
		api_fail(a, 400, "unknown_question", "question=%s: unknown question; the "
		    "codebook lists them", qv);
		return false;
	}
}

/* The dimensions the cells' figures hold: {icb, region} is {icb} (figures.h). */
static unsigned
counts_mask(const struct counts_req *cr)
{
	unsigned m = 0;

	for (size_t i = 0; i < cr->nby; i++)
		m |= 1u << cr->by[i];
	if ((m & 1u << DD_ICB) && (m & 1u << DD_REGION))
		m &= ~(1u << DD_REGION);
	if ((m & 1u << DD_ROLE) && (m & 1u << DD_STAFF_GROUP))
		m &= ~(1u << DD_STAFF_GROUP);
	return m;
}

/* Code of dimension d in c, derived from the child when the figure holds the child. */
static int
code_in(const struct figures *fg, const struct disclose_coords *c, int d)
{
	int kid = d == DD_REGION ? DD_ICB : d == DD_STAFF_GROUP ? DD_ROLE : -1;

	if (c->dim[d] != DISCLOSE_ABSENT || kid < 0 || c->dim[kid] == DISCLOSE_ABSENT ||
	    fg->shape.parent[kid] == NULL)
		return c->dim[d];
	return fg->shape.parent[kid][c->dim[kid]];
}

static int
cmp_cell(const void *x, const void *y)
{
	const struct counts_cell *a = x, *b = y;

	if (a->code[0] != b->code[0])
		return a->code[0] < b->code[0] ? -1 : 1;
	if (a->code[1] != b->code[1])
		return a->code[1] < b->code[1] ? -1 : 1;
	return a->opt < b->opt ? -1 : a->opt > b->opt;
}

/* The cells of the query, ordered by by[0], by[1], then option (codes in byte order). */
static enum pcs_err
counts_cells(struct api *a, const struct figures *fg, const struct counts_req *cr,
    struct counts_cell **out, size_t *n)
{
	const struct fig_pub **figs;
	enum pcs_err err = figures_list(fg, a->c->arena, counts_mask(cr), cr->q, &figs, n);

	if (err != PCS_OK)
		return err;
	if ((*out = arena_alloc(a->c->arena, (*n + 1) * sizeof(**out))) == NULL)
		return PCS_ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		struct disclose_coords c;

		disclose_coords_of(figs[i]->key, &c);
		(*out)[i].code[0] = code_in(fg, &c, cr->by[0]);
		(*out)[i].code[1] = cr->nby > 1 ? code_in(fg, &c, cr->by[1]) : 0;
		(*out)[i].opt = c.opt;
		(*out)[i].value = figs[i]->value;
	}
	qsort(*out, *n, sizeof(**out), cmp_cell);
	return PCS_OK;
}

static const char *
code_text(const struct figures *fg, int d, int code)
{
	return code >= 0 && (size_t)code < fg->dims[d].n ? fg->dims[d].codes[code]->code : "";
}

static const char *
code_name(const struct figures *fg, int d, int code)
{
	return code >= 0 && (size_t)code < fg->dims[d].n ? fg->dims[d].codes[code]->full_name : "";
}

static const char *
opt_text(const struct figures *fg, const struct counts_req *cr, int opt)
{
	const struct fig_question *fq = &fg->qs[cr->q];

	return opt >= 0 && (size_t)opt < fq->nopts ? fq->opts[opt]->value : "";
}

static void
counts_json_cells(struct buf *b, const struct figures *fg, const struct counts_req *cr,
    const struct counts_cell *cells, size_t n)
{
	buf_adds(b, "\"cells\": [");
	for (size_t i = 0; i < n; i++) {
		buf_adds(b, i ? ",\n  {" : "\n  {");
		for (size_t k = 0; k < cr->nby; k++) {
			jkey(b, dim_key[cr->by[k]]);
			json_cstr(b, code_text(fg, cr->by[k], cells[i].code[k]));
			buf_adds(b, ", ");
		}
		if (cr->q >= 0) {
			json_cstr(b, fg->qs[cr->q].key);
			buf_adds(b, ": ");
			json_cstr(b, opt_text(fg, cr, cells[i].opt));
			buf_adds(b, ", ");
		}
		jcount(b, cells[i].value);
		buf_adds(b, "}");
	}
	buf_adds(b, "\n]");
}

/* totals.D or totals.Q: every figure of one coordinate with responses, in code order. */
static enum pcs_err
counts_json_total(struct api *a, const struct figures *fg, int d, int q)
{
	const struct fig_pub **figs;
	struct buf *b = body(a);
	const char *key = q >= 0 ? fg->qs[q].key : dim_key[d];
	size_t n;
	enum pcs_err err = figures_list(fg, a->c->arena, q >= 0 ? 0 : 1u << d, q, &figs, &n);

	if (err != PCS_OK)
		return err;
	buf_adds(b, ",\n  ");
	jkey(b, key);
	buf_adds(b, "[");
	for (size_t i = 0; i < n; i++) {
		struct disclose_coords c;

		disclose_coords_of(figs[i]->key, &c);
		buf_adds(b, i ? ", {" : "{");
		jkey(b, key);
		json_cstr(b, q >= 0 ? fg->qs[q].opts[c.opt]->value : code_text(fg, d, c.dim[d]));
		buf_adds(b, ", ");
		jcount(b, figs[i]->value);
		buf_adds(b, "}");
	}
	buf_adds(b, "]");
	return PCS_OK;
}

static enum pcs_err
counts_json(struct api *a, const struct figures *fg, const struct counts_req *cr,
    const struct counts_cell *cells, size_t n)
{
	struct buf *b = body(a);
	struct disclose_coords none = { { DISCLOSE_ABSENT, DISCLOSE_ABSENT, DISCLOSE_ABSENT,
	    DISCLOSE_ABSENT, DISCLOSE_ABSENT }, DISCLOSE_ABSENT, DISCLOSE_ABSENT };
	enum pcs_err err = PCS_OK;

	buf_adds(b, "{");
	jkey(b, "form");
	json_cstr(b, a->form->id);
	buf_printf(b, ", \"form_version\": %d,\n\"by\": [", a->form->version);
	for (size_t k = 0; k < cr->nby; k++) {
		buf_adds(b, k ? ", " : "");
		json_cstr(b, dim_key[cr->by[k]]);
	}
	buf_adds(b, "], \"question\": ");
	if (cr->q >= 0)
		json_cstr(b, fg->qs[cr->q].key);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\n");
	jdate(b, "data_as_of", fg->data_as_of);
	buf_adds(b, ",\n");
	jdisclosure(b, a->c->app->conf);
	buf_adds(b, ",\n");
	counts_json_cells(b, fg, cr, cells, n);
	buf_adds(b, ",\n\"totals\": {\"all\": ");
	jvalue(b, figures_value(fg, &none));
	for (size_t k = 0; k < cr->nby && err == PCS_OK; k++)
		err = counts_json_total(a, fg, cr->by[k], -1);
	if (cr->q >= 0 && err == PCS_OK)
		err = counts_json_total(a, fg, 0, cr->q);
	buf_adds(b, "}}\n");
	return err;
}

/* CSV: the codes, a *_name per dimension, Q if given, count, suppressed (http-api.md). */
static void
counts_csv(struct api *a, const struct figures *fg, const struct counts_req *cr,
    const struct counts_cell *cells, size_t n)
{
	struct buf *b = body(a);

	for (size_t k = 0; k < cr->nby; k++)
		buf_printf(b, "%s%s", k ? "," : "", dim_key[cr->by[k]]);
	for (size_t k = 0; k < cr->nby; k++)
		buf_printf(b, ",%s_name", dim_key[cr->by[k]]);
	if (cr->q >= 0)
		buf_printf(b, ",%s", fg->qs[cr->q].key);
	buf_adds(b, ",count,suppressed\r\n");
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < cr->nby; k++) {
			if (k)
				csv_write_sep(b);
			ccell(b, code_text(fg, cr->by[k], cells[i].code[k]));
		}
		for (size_t k = 0; k < cr->nby; k++) {
			csv_write_sep(b);
			ccell(b, code_name(fg, cr->by[k], cells[i].code[k]));
		}
		if (cr->q >= 0) {
			csv_write_sep(b);
			ccell(b, opt_text(fg, cr, cells[i].opt));
		}
		if (cells[i].value < 0)
			buf_adds(b, ",,true\r\n");	/* read as NA in R */
		else
			buf_printf(b, ",%ld,false\r\n", cells[i].value);
	}
}

static void
counts_detail(struct api *a, const struct counts_req *cr)
{
	snprintf(a->detail, sizeof(a->detail), "by=%s%s%s%s%.*s", dim_key[cr->by[0]],
	    cr->nby > 1 ? "," : "", cr->nby > 1 ? dim_key[cr->by[1]] : "",
	    cr->qkey.len ? " question=" : "", (int)cr->qkey.len, cr->qkey.p ? cr->qkey.p : "");
}

void
h_api_counts(struct ctx *c)
{
	struct counts_req cr = { .q = -1 };
	const struct figures *fg;
	struct counts_cell *cells;
	struct api a;
	size_t n;
	enum pcs_err err;

	if (!api_begin(c, &a, "counts", AUTH_AGGREGATE, true) ||
	    !params_ok(&a, (const char *const[]){ "by", "question", NULL },
	    "counts takes by and question.") ||
	    !counts_by(&a, &cr) || !counts_question(&a, &cr))
		return;
	counts_detail(&a, &cr);		/* validated names only */
	err = figures_get(c->app->store, c->app->conf, a.form, c->today, &fg);
	if (err == PCS_OK && cr.qkey.len && (cr.q = figures_question(fg, cr.qkey)) < 0)
		err = PCS_EINTERNAL;
	if (err == PCS_OK)
		err = counts_cells(&a, fg, &cr, &cells, &n);
	if (err != PCS_OK) {
		api_err(&a, err);
		return;
	}
	if (!api_ok(&a))
		return;
	if (a.csv)
		counts_csv(&a, fg, &cr, cells, n);
	else if ((err = counts_json(&a, fg, &cr, cells, n)) != PCS_OK) {
		api_err(&a, err);
		return;
	}
	api_send(&a, a.csv ? CSV_TYPE : JSON_TYPE);
}

/* ---- GET /api/v1/forms/{form}/coverage --------------------------------- */

static void
coverage_json(struct api *a, const struct figures *fg, const struct fig_coverage *cv)
{
	struct buf *b = body(a);

	buf_adds(b, "{");
	jkey(b, "form");
	json_cstr(b, a->form->id);
	buf_adds(b, ", ");
	jdate(b, "data_as_of", fg->data_as_of);
	buf_adds(b, ",\n");
	jdisclosure(b, a->c->app->conf);
	buf_adds(b, ",\n\"staff_groups\": [");
	for (size_t g = 0; g < cv->ngroups; g++) {
		buf_adds(b, g ? ", " : "");
		json_cstr(b, cv->groups[g]->code);
	}
	buf_adds(b, "],\n\"icbs\": [");
	for (size_t i = 0; i < cv->nicbs; i++) {
		const struct fig_cov_icb *r = &cv->icbs[i];

		buf_adds(b, i ? ",\n  {" : "\n  {");
		jkey(b, "icb");
		json_cstr(b, r->icb->code);
		buf_adds(b, ", ");
		jkey(b, "name");
		json_cstr(b, r->icb->full_name);
		buf_adds(b, ", ");
		jkey(b, "region");
		json_cstr(b, r->icb->parent);
		buf_adds(b, ", \"counts\": {");
		for (size_t g = 0; g < cv->ngroups; g++) {
			buf_adds(b, g ? ", " : "");
			jkey(b, cv->groups[g]->code);
			jvalue(b, r->counts[g]);
		}
		buf_adds(b, "}, \"total\": ");
		jvalue(b, r->total);
		buf_adds(b, "}");
	}
	buf_adds(b, "\n],\n\"staff_group_totals\": {");
	for (size_t g = 0; g < cv->ngroups; g++) {
		buf_adds(b, g ? ", " : "");
		jkey(b, cv->groups[g]->code);
		jvalue(b, cv->group_totals[g]);
	}
	buf_adds(b, "},\n\"total\": ");
	jvalue(b, cv->total);
	buf_adds(b, "}\n");
}

/* CSV: one row per ICB, a column per staff group, then total; suppressed is empty. */
static void
coverage_csv(struct api *a, const struct fig_coverage *cv)
{
	struct buf *b = body(a);

	buf_adds(b, "icb,icb_name,region,region_name");
	for (size_t g = 0; g < cv->ngroups; g++) {
		csv_write_sep(b);
		ccell(b, cv->groups[g]->code);
	}
	buf_adds(b, ",total\r\n");
	for (size_t i = 0; i < cv->nicbs; i++) {
		const struct fig_cov_icb *r = &cv->icbs[i];

		ccell(b, r->icb->code);
		csv_write_sep(b);
		ccell(b, r->icb->full_name);
		csv_write_sep(b);
		ccell(b, r->icb->parent);
		csv_write_sep(b);
		ccell(b, r->region ? r->region->label : NULL);
		for (size_t g = 0; g <= cv->ngroups; g++) {
			long v = g < cv->ngroups ? r->counts[g] : r->total;

			csv_write_sep(b);
			if (v >= 0)
				buf_printf(b, "%ld", v);
		}
		csv_write_eol(b);
	}
}

void
h_api_coverage(struct ctx *c)
{
	const struct figures *fg;
	struct fig_coverage cv;
	struct api a;
	enum pcs_err err;

	if (!api_begin(c, &a, "coverage", AUTH_AGGREGATE, true) ||
	    !params_ok(&a, (const char *const[]){ NULL }, "coverage takes none."))
		return;
	if (!figures_form_has_dim(a.form, DD_ICB)) {
		api_fail(&a, 400, "no_icb_dimension", "This form has no icb dimension, so it has "
		    "no coverage by ICB; use counts.");
		return;
	}
	err = figures_get(c->app->store, c->app->conf, a.form, c->today, &fg);
	if (err == PCS_OK)
		err = figures_coverage(fg, c->arena, &cv);
	if (err != PCS_OK) {
		api_err(&a, err);
		return;
	}
	if (!api_ok(&a))
		return;
	if (a.csv)
		coverage_csv(&a, &cv);
	else
		coverage_json(&a, fg, &cv);
	api_send(&a, a.csv ? CSV_TYPE : JSON_TYPE);
}

/* ---- GET /api/v1/forms/{form}/responses.csv ---------------------------- */

struct export_stream {
	struct ctx		*c;
	const struct form	*form;
};

/* One row into the body; a full chunk goes out (perf.md B4: constant memory). */
static enum pcs_err
export_row(void *arg, struct str rid, struct str version, struct str submitted,
    const struct str *cells, const bool *present, size_t n)
{
	struct export_stream *x = arg;
	struct resp *r = x->c->resp;

	export_line(&r->body, x->form, rid, version, submitted, cells, present, n);
	if (r->body.err != PCS_OK)
		return r->body.err;
	/* the first row starts the stream; then a chunk at a time */
	if ((!r->streaming || r->body.len >= PCS_EXPORT_CHUNK) && !resp_flush(r))
		return PCS_EIO;		/* the client has gone: stop the query */
	return PCS_OK;
}

void
h_api_responses(struct ctx *c)
{
	struct export_cols cols = { NULL, 0 };
	struct export_stream x = { c, NULL };
	char disp[PCS_FORM_ID_MAX + 64];
	struct api a;
	enum pcs_err err;

	if (!api_begin(c, &a, "responses", AUTH_EXPORT, true) ||
	    !params_ok(&a, (const char *const[]){ NULL }, "responses.csv takes none."))
		return;
	x.form = a.form;
	if ((err = export_cols_init(a.form, &cols)) != PCS_OK) {
		export_cols_release(&cols);
		api_err(&a, err);
		return;
	}
	if (!api_ok(&a)) {
		export_cols_release(&cols);
		return;
	}
	c->resp->content_type = CSV_TYPE;
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s-responses.csv\"", a.form->id);
	(void)resp_header(c->resp, "Content-Disposition", str_cstr(disp));
	export_header(&c->resp->body, &cols);
	err = store_export(c->app->store, a.form->id, cols.keys, cols.n, export_row, &x);
	export_cols_release(&cols);
	if (err == PCS_OK)
		return;			/* fcgi.c sends the tail */
	log_event(LOG_WARN, "export_failed", "form=%s err=%s streamed=%d", a.form->id,
	    pcs_strerror(err), c->resp->streaming);
	if (!c->resp->streaming) {
		a.audited = true;	/* recorded as 200 above; the answer changes */
		api_err(&a, err);
	}
}
