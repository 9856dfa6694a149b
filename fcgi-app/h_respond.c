/*
 * h_respond.c: the respondent journey (http-api.md: Respondent pages).
 * Handlers see decoded fields from route.c; they call valid.c, journey.c,
 * record.c, crypto.h and store.h, and render with page.h.  No library header
 * and no HTML here.
 *
 * The draft cookie holds the resume token (a 16-character code, 80 random
 * bits).  The database keeps only its keyed hash and the draft sealed under a
 * key derived from it (privacy.md), so every page that reads a draft needs
 * the cookie.  CSRF tokens are MACs of that token (or, before a draft exists,
 * of the form and the day), so they need no storage.
 */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "journey.h"
#include "log.h"
#include "page.h"
#include "record.h"
#include "route.h"
#include "valid.h"

#define DRAFT_COOKIE	"pcs_draft"
#define CSRF_HEX	32

struct draft {
	char		 token[CRYPTO_CODE_CHARS + 1];	/* canonical resume code */
	uint8_t		 id[CRYPTO_HASH_BYTES];		/* keyed hash: the row's key */
	struct fields	 answers;
};

/* ---- tokens ----------------------------------------------------------- */

static void
csrf_make(const char *context, struct str secret, char out[CSRF_HEX + 1])
{
	uint8_t h[CRYPTO_HASH_BYTES];

	crypto_keyed_hash(CP_CSRF, context, secret.p, secret.len, h);
	crypto_hex(h, CSRF_HEX / 2, out);
	crypto_wipe(h, sizeof(h));
}

/* Before a draft exists: bound to a context (form, page kind) and the UTC day. */
static void
csrf_public(const char *context, int64_t day, char out[CSRF_HEX + 1])
{
	char d[24];

	snprintf(d, sizeof(d), "%lld", (long long)day);
	csrf_make(context, str_cstr(d), out);
}

/* The one posted csrf field equals want (constant time). */
static bool
csrf_matches(const struct ctx *c, const char *want)
{
	const struct str *got = fields_get(&c->req->body, STR_LIT("csrf"));

	if (got == NULL || got->len != CSRF_HEX ||
	    fields_count(&c->req->body, STR_LIT("csrf")) != 1)
		return false;
	return crypto_equal(got->p, want, CSRF_HEX);
}

static bool
csrf_public_ok(const struct ctx *c, const char *context)
{
	char want[CSRF_HEX + 1];

	for (int back = 0; back <= 1; back++) {	/* a page loaded just before midnight */
		csrf_public(context, c->today - back, want);
		if (csrf_matches(c, want))
			return true;
	}
	return false;
}

static void
csrf_draft(const struct draft *d, char out[CSRF_HEX + 1])
{
	csrf_make("draft", str_cstr(d->token), out);
}

static void
forbid(struct ctx *c)
{
	ctx_error(c, 403, "Your answers could not be accepted",
	    "This page was out of date or was not sent from the survey. Go back, "
	    "reload the page and try again.");
}

static bool
hex_decode(struct str in, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int v = 0;

		for (int k = 0; k < 2; k++) {
			char ch = in.p[2 * i + (size_t)k];

			v <<= 4;
			if (ch >= '0' && ch <= '9')
				v |= ch - '0';
			else if (ch >= 'a' && ch <= 'f')
				v |= ch - 'a' + 10;
			else
				return false;
		}
		out[i] = (uint8_t)v;
	}
	return true;
}

/* ---- drafts ----------------------------------------------------------- */

static bool
draft_from_code(struct draft *d, struct str code)
{
	memset(d, 0, sizeof(*d));
	if (!crypto_code_normalise(code, d->token))
		return false;
	crypto_keyed_hash(CP_RESUME, NULL, d->token, CRYPTO_CODE_CHARS, d->id);
	return true;
}

static bool
draft_from_cookie(const struct ctx *c, struct draft *d)
{
	const struct str *v = fields_get(&c->req->cookies, STR_LIT(DRAFT_COOKIE));

	return v && v->len <= 32 && draft_from_code(d, *v);
}

static bool
is_unreserved(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

static void
urlencode(struct buf *b, struct str s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.p[i];

		if (is_unreserved(ch))
			buf_addc(b, (char)ch);
		else {
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };

			buf_add(b, e, 3);
		}
	}
}

/* Reads and opens the draft.  PCS_ENOTFOUND: none (or expired); PCS_ECRYPTO: tampered. */
static enum pcs_err
draft_load(struct ctx *c, struct draft *d)
{
	uint8_t *box, *plain;
	size_t len;
	enum pcs_err err;
	struct str bad;

	err = store_draft_get(c->app->store, c->arena, d->id, c->form->id, c->today, &box, &len);
	if (err != PCS_OK)
		return err;
	if (len < CRYPTO_DRAFT_OVERHEAD ||
	    (plain = arena_alloc(c->arena, len - CRYPTO_DRAFT_OVERHEAD + 1)) == NULL)
		return PCS_ECRYPTO;
	if (!crypto_draft_open(str_cstr(d->token), box, len, plain)) {
		log_event(LOG_WARN, "draft_open_failed", "form=%s", c->form->id);
		return PCS_ECRYPTO;
	}
	err = http_parse_urlencoded(c->arena, (struct str){ (char *)plain,
	    len - CRYPTO_DRAFT_OVERHEAD }, &d->answers, &bad);
	return err == PCS_OK ? PCS_OK : PCS_ECRYPTO;
}

static enum pcs_err
draft_save(struct ctx *c, const struct draft *d, const struct fields *answers)
{
	struct buf b;
	uint8_t *box;
	enum pcs_err err;

	buf_init(&b, PCS_RESP_BODY_MAX);
	for (size_t i = 0; i < answers->n; i++) {
		if (i)
			buf_addc(&b, '&');
		urlencode(&b, answers->v[i].name);
		buf_addc(&b, '=');
		urlencode(&b, answers->v[i].value);
	}
	if ((err = b.err) == PCS_OK) {
		if ((box = arena_alloc(c->arena, b.len + CRYPTO_DRAFT_OVERHEAD)) == NULL)
			err = PCS_ENOMEM;
		else {
			crypto_draft_seal(str_cstr(d->token), b.p ? b.p : "", b.len, box);
			err = store_draft_update(c->app->store, d->id,
			    c->today + c->app->conf->draft_days, box, b.len + CRYPTO_DRAFT_OVERHEAD);
		}
	}
	if (b.p)
		crypto_wipe(b.p, b.cap);	/* the draft's plaintext (privacy.md) */
	buf_release(&b);
	return err;
}

/*
 * After a submit the cookie only has to outlive retries and the done page;
 * kept for draft_days it would let a later user of the same browser see the
 * receipt and withdraw the response (privacy review).
 */
#define SUBMITTED_COOKIE_SECONDS	3600

static void
set_draft_cookie_for(struct ctx *c, const struct draft *d, long max_age)
{
	char path[PCS_FORM_ID_MAX + 8];

	snprintf(path, sizeof(path), "/f/%s", c->form->id);
	(void)resp_cookie(c->resp, DRAFT_COOKIE, str_cstr(d->token), path, "Lax",
	    max_age, c->app->conf->https);
}

static void
set_draft_cookie(struct ctx *c, const struct draft *d)
{
	set_draft_cookie_for(c, d, (long)c->app->conf->draft_days * 86400);
}

/* 303 to "/f/{form}" + tail + page (tail and page may be NULL). */
static void
redirect_to(struct ctx *c, const char *tail, const char *page)
{
	struct buf path;

	buf_init(&path, PCS_MAX_PATH);
	buf_adds(&path, "/f/");
	buf_adds(&path, c->form->id);
	if (tail)
		buf_adds(&path, tail);
	if (page)
		buf_adds(&path, page);
	resp_redirect(c->resp, c->app->conf->base_url, buf_str(&path));
	buf_release(&path);
}

static void
redirect_page(struct ctx *c, int page)
{
	if (page < 0)
		redirect_to(c, "/check", NULL);
	else
		redirect_to(c, "/p/", c->form->pages[page].id);
}

static void
db_down(struct ctx *c)
{
	ctx_error(c, 503, "Sorry, there is a problem with the service",
	    "We could not reach our database just now. Nothing you have already saved "
	    "is lost. Try again in a few minutes.");
}

/*
 * The draft of the cookie is gone: to the confirmation when it was
 * submitted (the back button; a retry after a COMMIT whose answer was
 * lost), else to the start page.
 */
static void
draft_gone(struct ctx *c, const struct draft *d)
{
	char receipt[CRYPTO_CODE_TEXT + 1];
	uint8_t hash[CRYPTO_HASH_BYTES];
	bool exists = false;

	record_receipt(str_cstr(d->token), receipt, hash);
	crypto_wipe(receipt, sizeof(receipt));
	if (store_response_exists(c->app->store, hash, &exists) != PCS_OK)
		db_down(c);
	else if (exists)
		redirect_to(c, "/done", NULL);
	else
		redirect_to(c, NULL, NULL);
}

/* The draft of this request, or an answer already sent (redirect or error). */
static bool
need_draft(struct ctx *c, struct draft *d)
{
	enum pcs_err err;

	if (!draft_from_cookie(c, d)) {
		redirect_to(c, NULL, NULL);
		return false;
	}
	err = draft_load(c, d);
	if (err == PCS_OK)
		return true;
	if (err == PCS_ENOTFOUND)
		draft_gone(c, d);
	else if (err == PCS_ECRYPTO)
		redirect_to(c, NULL, NULL);	/* damaged: start again */
	else
		/*
		 * Any other failure is the database's (a killed backend can
		 * come back as an error without SQLSTATE, PCS_EINTERNAL): the
		 * draft is still there, so never send the respondent to start
		 * again over it (test_faults.py T-33).
		 */
		db_down(c);
	return false;
}

/* ---- pages ------------------------------------------------------------ */

void
h_index(struct ctx *c)
{
	page_index(&c->resp->body, c->app->forms, c->today);
}

void
h_privacy(struct ctx *c)
{
	page_privacy(&c->resp->body);
}

void
h_accessibility(struct ctx *c)
{
	page_accessibility(&c->resp->body);
}

void
h_form_start_page(struct ctx *c)
{
	char csrf[CSRF_HEX + 1], context[PCS_FORM_ID_MAX + 16];

	snprintf(context, sizeof(context), "start:%s", c->form->id);
	csrf_public(context, c->today, csrf);
	page_start(&c->resp->body, c->form, csrf, !form_is_open(c->form, c->today), NULL);
}

/*
 * Creates an empty draft (remembering the invitation it was opened with),
 * sets the cookie and sends the respondent to the first page.
 */
static void
draft_create(struct ctx *c, const uint8_t *invite_hash)
{
	char code[CRYPTO_CODE_TEXT + 1], hex[2 * CRYPTO_HASH_BYTES + 1];
	uint8_t *box;
	struct draft d;
	struct journey j;
	struct fields none = { NULL, 0 };
	struct buf plain;
	enum pcs_err err;

	crypto_code_new(code);
	if (!draft_from_code(&d, str_cstr(code))) {
		ctx_error(c, 500, "Sorry, there is a problem with the service", "Try again later.");
		return;
	}
	buf_init(&plain, 256);
	if (invite_hash) {
		/* not a question id (ids start with a letter): kept until submit */
		crypto_hex(invite_hash, CRYPTO_HASH_BYTES, hex);
		buf_adds(&plain, "__invite=");
		buf_adds(&plain, hex);
	}
	box = arena_alloc(c->arena, plain.len + CRYPTO_DRAFT_OVERHEAD);
	if (box == NULL || plain.err) {
		buf_release(&plain);
		db_down(c);
		return;
	}
	crypto_draft_seal(str_cstr(d.token), plain.p ? plain.p : "", plain.len, box);
	err = store_draft_insert(c->app->store, d.id, c->form->id,
	    c->today + c->app->conf->draft_days, box, plain.len + CRYPTO_DRAFT_OVERHEAD);
	buf_release(&plain);
	if (err != PCS_OK) {
		db_down(c);
		return;
	}
	set_draft_cookie(c, &d);
	if (journey_eval(c->arena, c->form, &none, &j) != PCS_OK) {
		db_down(c);
		return;
	}
	redirect_page(c, journey_next(c->form, &j, -1));
}

/* The keyed hash of an unused invitation code for form f; false if none. */
static enum pcs_err
invite_lookup(struct ctx *c, struct str code, uint8_t hash[CRYPTO_HASH_BYTES],
    const struct form **f)
{
	char canon[CRYPTO_CODE_CHARS + 1], form_id[PCS_FORM_ID_MAX + 1] = "";
	bool found = false;
	enum pcs_err err;

	*f = NULL;
	if (!crypto_code_normalise(code, canon))
		memset(canon, '0', CRYPTO_CODE_CHARS), canon[CRYPTO_CODE_CHARS] = '\0';
	/* T-24: the same work for a malformed, unknown or used code */
	crypto_keyed_hash(CP_INVITE, NULL, canon, CRYPTO_CODE_CHARS, hash);
	err = store_invite_find(c->app->store, hash, form_id, sizeof(form_id), &found);
	if (err == PCS_OK && found)
		*f = formset_find(c->app->forms, str_cstr(form_id));
	return err;
}

void
h_form_start(struct ctx *c)
{
	char context[PCS_FORM_ID_MAX + 16], csrf[CSRF_HEX + 1];
	uint8_t hash[CRYPTO_HASH_BYTES];
	const struct form *f = NULL;
	const struct str *code;
	enum pcs_err err;

	snprintf(context, sizeof(context), "start:%s", c->form->id);
	if (!csrf_public_ok(c, context)) {
		forbid(c);
		return;
	}
	if (c->form->access != ACCESS_INVITE) {
		draft_create(c, NULL);
		return;
	}
	code = fields_get(&c->req->body, STR_LIT("code"));
	if (code == NULL || code->len == 0 || code->len > 64) {
		csrf_public(context, c->today, csrf);
		page_start(&c->resp->body, c->form, csrf, false,
		    "Enter the invitation code from your invitation");
		return;
	}
	if ((err = invite_lookup(c, *code, hash, &f)) != PCS_OK) {
		db_down(c);
		return;
	}
	if (f != c->form) {
		csrf_public(context, c->today, csrf);
		page_start(&c->resp->body, c->form, csrf, false,
		    "This invitation code is not valid or has already been used. Check the "
		    "code in your invitation, like ABCD-EFGH-JKMN-PQRS");
		return;
	}
	draft_create(c, hash);
}

/* GET /i/{code}: http-api.md; unknown and used codes get the same 404. */
void
h_invite_link(struct ctx *c)
{
	uint8_t hash[CRYPTO_HASH_BYTES];
	const struct form *f = NULL;
	enum pcs_err err;

	c->resp->no_store = true;
	if (c->params[0].len > 64 || (err = invite_lookup(c, c->params[0], hash, &f)) == PCS_OK) {
		if (f == NULL || f->status == FS_DRAFT || f->access != ACCESS_INVITE) {
			ctx_error(c, 404, "This invitation link is not valid",
			    "It may have been used already. If you were sent a code, you can "
			    "enter it on the survey's start page.");
			return;
		}
		if (!form_is_open(f, c->today)) {
			/* http-api.md: a GET of a closed form answers 200 "This survey is closed" */
			c->form = f;
			page_start(&c->resp->body, f, "", true, NULL);
			return;
		}
		c->form = f;
		draft_create(c, hash);
		return;
	}
	db_down(c);
}

static void
render_page(struct ctx *c, size_t p, const struct journey *j, const struct fields *values,
    const struct valid_out *v, const char *csrf, bool dbdown)
{
	char action[PCS_MAX_PATH], back[PCS_MAX_PATH];
	int prev = journey_prev(c->form, j, (int)p);
	struct page_view view = {
		.form = c->form, .page = p,
		.page_no = journey_page_no(c->form, j, p),
		.page_count = j->npages_shown,
		.values = values, .shown = j->qshown,
		.errors = v ? v->errs : NULL, .nerrors = v ? v->nerrs : 0,
		.csrf = csrf, .action = action, .back_href = back, .db_down = dbdown,
	};

	snprintf(action, sizeof(action), "/f/%s/p/%s", c->form->id, c->form->pages[p].id);
	if (prev >= 0)
		snprintf(back, sizeof(back), "/f/%s/p/%s", c->form->id, c->form->pages[prev].id);
	else
		snprintf(back, sizeof(back), "/f/%s", c->form->id);
	c->resp->no_store = true;
	page_questions(&c->resp->body, &view);
}

/* Everything not owned by a question of page p. */
static struct fields
answers_without_page(struct ctx *c, const struct fields *all, size_t p)
{
	const struct page *pg = &c->form->pages[p];
	struct fields out = { arena_alloc(c->arena, (all->n + 1) * sizeof(struct field)), 0 };

	if (out.v == NULL)
		return out;
	for (size_t i = 0; i < all->n; i++) {
		bool mine = false;

		for (size_t k = 0; k < pg->nq && !mine; k++)
			mine = question_owns_field(&c->form->qs[pg->first_q + k], all->v[i].name);
		if (!mine)
			out.v[out.n++] = all->v[i];
	}
	return out;
}

/*
 * The first shown page whose saved answers fail valid_page(), or -1 in
 * *page.  "Save and come back later" keeps what was typed, errors and all,
 * so submit checks every shown page again before anything is stored
 * (http-api.md: validation happens on the server, always).
 */
static enum pcs_err
first_invalid(struct ctx *c, const struct draft *d, const struct journey *j, int *page)
{
	*page = -1;
	for (size_t p = 0; p < c->form->npages; p++) {
		struct fields before;
		struct valid_out v;
		enum pcs_err err;

		if (!j->pshown[p])
			continue;
		before = answers_without_page(c, &d->answers, p);
		if (before.v == NULL)
			return PCS_ENOMEM;
		err = valid_page(c->arena, c->form, p, &d->answers, &before, j->qshown,
		    c->today, &v);
		if (err == PCS_ENOMEM)
			return err;
		if (err != PCS_OK || v.nerrs > 0) {
			*page = (int)p;
			return PCS_OK;
		}
	}
	return PCS_OK;
}

static void
show_saved(struct ctx *c, const struct draft *d)
{
	char code[CRYPTO_CODE_TEXT + 1];

	/* the resume code is the token, shown in groups of four */
	snprintf(code, sizeof(code), "%.4s-%.4s-%.4s-%.4s", d->token, d->token + 4,
	    d->token + 8, d->token + 12);
	c->resp->no_store = true;
	page_saved(&c->resp->body, c->form, code, c->today + c->app->conf->draft_days);
}

static void
page_post(struct ctx *c, size_t p, struct draft *d, bool have_draft, struct journey *j)
{
	char csrf[CSRF_HEX + 1];
	struct fields before, merged;
	struct valid_out v;
	struct journey next;
	enum pcs_err err;
	bool save = false;
	const struct str *action = fields_get(&c->req->body, STR_LIT("action"));

	if (action && str_eq_cstr(*action, "save"))
		save = true;
	csrf_draft(d, csrf);
	if (!have_draft) {
		/* http-api.md: the database is down: keep what was typed, say so, 503 */
		c->resp->status = 503;
		render_page(c, p, j, &c->req->body, NULL, csrf, true);
		return;
	}
	before = answers_without_page(c, &d->answers, p);
	err = valid_page(c->arena, c->form, p, &c->req->body, &before, j->qshown, c->today, &v);
	if (err == PCS_EINPUT) {
		ctx_error(c, 400, "Some of your answers could not be read",
		    "A question that takes one answer was sent more than one. Go back, "
		    "reload the page and answer again.");
		return;
	}
	if (err != PCS_OK) {
		db_down(c);
		return;
	}
	if (v.nerrs > 0 && !save) {
		render_page(c, p, j, &c->req->body, &v, csrf, false);
		return;
	}
	merged.v = arena_alloc(c->arena, (before.n + v.clean.n + 1) * sizeof(struct field));
	if (merged.v == NULL) {
		db_down(c);
		return;
	}
	if (before.n)
		memcpy(merged.v, before.v, before.n * sizeof(struct field));
	if (v.clean.n)
		memcpy(merged.v + before.n, v.clean.v, v.clean.n * sizeof(struct field));
	merged.n = before.n + v.clean.n;
	if ((err = draft_save(c, d, &merged)) != PCS_OK) {
		c->resp->status = 503;
		buf_reset(&c->resp->body);
		render_page(c, p, j, &c->req->body, NULL, csrf, true);
		return;
	}
	if (save) {
		show_saved(c, d);
		return;
	}
	if (journey_eval(c->arena, c->form, &merged, &next) != PCS_OK) {
		db_down(c);
		return;
	}
	redirect_page(c, journey_next(c->form, &next, (int)p));
}

void
h_form_page(struct ctx *c)
{
	int p = form_page_index(c->form, c->params[1]);
	char csrf[CSRF_HEX + 1];
	struct draft d;
	struct journey j;
	struct fields none = { NULL, 0 };
	enum pcs_err err;

	if (p < 0) {
		ctx_error(c, 404, "Page not found", "Go back to the start of the survey.");
		return;
	}
	if (c->req->method == M_POST) {
		bool have = false;

		if (!draft_from_cookie(c, &d)) {
			forbid(c);
			return;
		}
		csrf_draft(&d, csrf);
		if (!csrf_matches(c, csrf)) {
			forbid(c);
			return;
		}
		err = draft_load(c, &d);
		if (err == PCS_OK)
			have = true;
		else if (err == PCS_ENOTFOUND) {
			draft_gone(c, &d);
			return;
		} else if (err == PCS_ECRYPTO) {
			redirect_to(c, NULL, NULL);
			return;
		}	/* else the database failed: 503 with what was typed, below */
		if (journey_eval(c->arena, c->form, have ? &d.answers : &none, &j) != PCS_OK) {
			db_down(c);
			return;
		}
		if (!have)	/* unknown answers: show every question of this page */
			for (size_t i = 0; i < c->form->pages[p].nq; i++)
				j.qshown[c->form->pages[p].first_q + i] = true;
		if (have && !j.pshown[p]) {
			redirect_page(c, journey_next(c->form, &j, p));
			return;
		}
		page_post(c, (size_t)p, &d, have, &j);
		return;
	}
	if (!need_draft(c, &d))
		return;
	if (journey_eval(c->arena, c->form, &d.answers, &j) != PCS_OK) {
		db_down(c);
		return;
	}
	if (!j.pshown[p]) {
		redirect_page(c, journey_next(c->form, &j, p));
		return;
	}
	csrf_draft(&d, csrf);
	render_page(c, (size_t)p, &j, &j.eff, NULL, csrf, false);
}

void
h_form_check(struct ctx *c)
{
	char csrf[CSRF_HEX + 1];
	struct draft d;
	struct journey j;

	if (!need_draft(c, &d))
		return;
	if (journey_eval(c->arena, c->form, &d.answers, &j) != PCS_OK) {
		db_down(c);
		return;
	}
	csrf_draft(&d, csrf);
	c->resp->no_store = true;
	page_check(&c->resp->body, c->form, &j.eff, j.qactive, j.pshown, csrf);
}

/* forms.md one_per_person: the message stands at the pseudonym question. */
static void
duplicate_person(struct ctx *c, const struct journey *j, const char *csrf)
{
	int qi = c->form->pseudonym_q;
	const struct question *q;
	struct valid_out v;
	struct q_error e;

	if (qi < 0) {
		ctx_error(c, 409, "A response has already been recorded", "Nothing was stored.");
		return;
	}
	q = &c->form->qs[qi];
	e = (struct q_error){ (size_t)qi, -1, 0, q->type == Q_EMAIL ?
	    "A response has already been recorded for this email address" :
	    "A response has already been recorded for this answer. Each person can "
	    "respond once" };
	memset(&v, 0, sizeof(v));
	v.errs = &e;
	v.nerrs = 1;
	render_page(c, q->page, j, &j->eff, &v, csrf, false);
}

void
h_form_submit(struct ctx *c)
{
	char csrf[CSRF_HEX + 1], receipt[CRYPTO_CODE_TEXT + 1];
	uint8_t receipt_hash[CRYPTO_HASH_BYTES];
	struct draft d;
	struct journey j;
	struct response_row row;
	enum store_submit_result result;
	enum pcs_err err;
	bool exists = false;
	int missing, invalid;

	if (!draft_from_cookie(c, &d)) {
		forbid(c);
		return;
	}
	csrf_draft(&d, csrf);
	if (!csrf_matches(c, csrf)) {
		forbid(c);
		return;
	}
	err = draft_load(c, &d);
	if (err == PCS_ENOTFOUND) {
		/* http-api.md: submit is idempotent; the draft went with the first submit */
		record_receipt(str_cstr(d.token), receipt, receipt_hash);
		err = store_response_exists(c->app->store, receipt_hash, &exists);
		if (err != PCS_OK)
			db_down(c);
		else if (exists)
			redirect_to(c, "/done", NULL);
		else
			redirect_to(c, NULL, NULL);
		return;
	}
	if (err != PCS_OK) {
		if (err == PCS_ECRYPTO)
			redirect_to(c, NULL, NULL);
		else
			db_down(c);
		return;
	}
	if (journey_eval(c->arena, c->form, &d.answers, &j) != PCS_OK) {
		db_down(c);
		return;
	}
	missing = journey_first_missing(c->form, &j);
	if ((err = first_invalid(c, &d, &j, &invalid)) != PCS_OK) {
		db_down(c);
		return;
	}
	if (invalid >= 0 && (missing < 0 || invalid < missing))
		missing = invalid;
	if (missing >= 0) {
		redirect_page(c, missing);
		return;
	}
	if ((err = record_build(c->arena, c->form, &j, str_cstr(d.token), c->today, &row)) != PCS_OK) {
		log_event(LOG_ERROR, "record_failed", "form=%s err=%s", c->form->id,
		    pcs_strerror(err));
		ctx_error(c, 500, "Sorry, there is a problem with the service",
		    "Your answers are saved. Try again later.");
		return;
	}
	row.draft_id = d.id;
	{
		const struct str *inv = fields_get(&d.answers, STR_LIT("__invite"));
		uint8_t *ih;

		if (inv && inv->len == 2 * CRYPTO_HASH_BYTES &&
		    (ih = arena_alloc(c->arena, CRYPTO_HASH_BYTES)) != NULL &&
		    hex_decode(*inv, ih, CRYPTO_HASH_BYTES))
			row.invite_hash = ih;
		else if (c->form->access == ACCESS_INVITE) {
			redirect_to(c, NULL, NULL);	/* cannot happen: drafts start with one */
			return;
		}
	}
	if ((err = store_submit(c->app->store, &row, &result)) != PCS_OK) {
		db_down(c);
		return;
	}
	switch (result) {
	case SUBMIT_STORED:
	case SUBMIT_ALREADY:
		log_event(LOG_INFO, "response_stored", "form=%s", c->form->id);
		set_draft_cookie_for(c, &d, SUBMITTED_COOKIE_SECONDS);
		redirect_to(c, "/done", NULL);
		return;
	case SUBMIT_INVITE_USED:
		/* a double click: the first click's response used the invitation */
		if (store_response_exists(c->app->store, row.receipt_hash, &exists) == PCS_OK &&
		    exists) {
			redirect_to(c, "/done", NULL);
			return;
		}
		ctx_error(c, 409, "This invitation has already been used",
		    "A response has already been recorded with this invitation, so these "
		    "answers were not stored.");
		return;
	case SUBMIT_DUPLICATE_PERSON:
	default:
		/*
		 * Two submits of this same draft whose INSERTs overlap: the
		 * loser can trip UNIQUE (form_id, pseudonym) instead of ON
		 * CONFLICT (receipt_hash), as the pre-check of ON CONFLICT does
		 * not cover the other index.  Its response is recorded.
		 */
		if (store_response_exists(c->app->store, row.receipt_hash, &exists) == PCS_OK &&
		    exists) {
			redirect_to(c, "/done", NULL);
			return;
		}
		duplicate_person(c, &j, csrf);
		return;
	}
}

void
h_form_done(struct ctx *c)
{
	char receipt[CRYPTO_CODE_TEXT + 1];
	uint8_t receipt_hash[CRYPTO_HASH_BYTES];
	struct draft d;
	bool exists = false;

	if (!draft_from_cookie(c, &d)) {
		redirect_to(c, NULL, NULL);
		return;
	}
	record_receipt(str_cstr(d.token), receipt, receipt_hash);
	if (store_response_exists(c->app->store, receipt_hash, &exists) != PCS_OK) {
		db_down(c);
		return;
	}
	if (!exists) {
		redirect_to(c, NULL, NULL);
		return;
	}
	c->resp->no_store = true;
	page_done(&c->resp->body, c->form, receipt);
}

void
h_form_resume(struct ctx *c)
{
	char csrf[CSRF_HEX + 1], context[PCS_FORM_ID_MAX + 16];
	const struct str *code;
	struct draft d;
	struct journey j;
	enum pcs_err err;
	int p, q;

	snprintf(context, sizeof(context), "resume:%s", c->form->id);
	csrf_public(context, c->today, csrf);
	c->resp->no_store = true;
	if (c->req->method != M_POST) {
		page_resume(&c->resp->body, c->form, csrf, NULL);
		return;
	}
	if (!csrf_public_ok(c, context)) {
		forbid(c);
		return;
	}
	code = fields_get(&c->req->body, STR_LIT("code"));
	if (code == NULL || !draft_from_code(&d, *code)) {
		page_resume(&c->resp->body, c->form, csrf,
		    "Enter the resume code you were given, like ABCD-EFGH-JKMN-PQRS");
		return;
	}
	err = draft_load(c, &d);
	if (err != PCS_OK && err != PCS_ENOTFOUND && err != PCS_ECRYPTO) {
		db_down(c);
		return;
	}
	if (err != PCS_OK) {
		char msg[200];

		/* the lifetime is draft_days (cli.md), not always 30 */
		snprintf(msg, sizeof(msg), "We could not find saved answers with that code. "
		    "Check the code, or start again if your answers were saved more than "
		    "%d days ago", c->app->conf->draft_days);
		page_resume(&c->resp->body, c->form, csrf, msg);
		return;
	}
	set_draft_cookie(c, &d);
	if (journey_eval(c->arena, c->form, &d.answers, &j) != PCS_OK) {
		db_down(c);
		return;
	}
	/* continue where they stopped: the first page still unanswered */
	p = journey_first_missing(c->form, &j);
	q = journey_first_unanswered(c->form, &j);
	if (p < 0 || (q >= 0 && q < p))
		p = q;
	redirect_page(c, p);
}

void
h_withdraw(struct ctx *c)
{
	char csrf[CSRF_HEX + 1], canon[CRYPTO_CODE_CHARS + 1];
	uint8_t hash[CRYPTO_HASH_BYTES];
	const struct str *code;
	bool deleted = false;

	csrf_public("withdraw", c->today, csrf);
	c->resp->no_store = true;
	if (c->req->method != M_POST) {
		page_withdraw(&c->resp->body, csrf, 0);
		return;
	}
	if (!csrf_public_ok(c, "withdraw")) {
		forbid(c);
		return;
	}
	code = fields_get(&c->req->body, STR_LIT("code"));
	if (code == NULL || !crypto_code_normalise(*code, canon)) {
		page_withdraw(&c->resp->body, csrf, 3);
		return;
	}
	/* same work whether or not it matches: one keyed hash, one DELETE */
	crypto_keyed_hash(CP_RECEIPT, NULL, canon, CRYPTO_CODE_CHARS, hash);
	if (store_withdraw(c->app->store, hash, &deleted) != PCS_OK) {
		db_down(c);
		return;
	}
	if (deleted)
		log_event(LOG_INFO, "response_withdrawn", NULL);
	page_withdraw(&c->resp->body, csrf, deleted ? 1 : 2);
}
