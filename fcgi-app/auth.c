/*
 * auth.c: bearer tokens, research sessions and their CSRF tokens (auth.h).
 * Trusts only what http.c decoded: the Authorization header and cookie are
 * bounded by fcgi.c and are hashed whatever their shape, so a malformed,
 * unknown or revoked token takes the same path (T-24).  Every comparison of
 * a secret's hash is crypto_equal() (constant time).
 */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "limits.h"

/* A token as crypto_token_new() makes them: 43 base64url characters. */
static bool
token_shape_ok(struct str t)
{
	if (t.len != CRYPTO_TOKEN_TEXT)
		return false;
	for (size_t i = 0; i < t.len; i++) {
		char ch = t.p[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

/* The same work for any presented bytes: hash (bounded), look up, compare. */
static enum pcs_err
lookup(struct store *st, enum crypto_purpose purpose, struct str secret,
    struct auth_who *who)
{
	uint8_t h[CRYPTO_HASH_BYTES];
	struct store_token t;
	bool found = false;
	enum pcs_err err;

	memset(who, 0, sizeof(*who));
	crypto_keyed_hash(purpose, NULL, secret.p ? secret.p : "",
	    secret.len > PCS_TOKEN_INPUT_MAX ? PCS_TOKEN_INPUT_MAX : secret.len, h);
	err = purpose == CP_API_TOKEN ? store_token_find(st, h, &t, &found) :
	    store_session_find(st, h, &t, &found);
	if (err != PCS_OK)
		return err;
	/* T-24: the row was found by the hash; confirm it in constant time */
	if (!(crypto_equal(h, t.hash, CRYPTO_HASH_BYTES) & found & token_shape_ok(secret)))
		return PCS_EAUTH;
	who->token_id = t.id;
	who->export_scope = t.export_scope;
	return PCS_OK;
}

static enum pcs_err
token_check(struct store *st, struct str token, int64_t today, struct auth_who *who)
{
	enum pcs_err err = lookup(st, CP_API_TOKEN, token, who);

	if (err == PCS_OK)
		err = store_token_touch(st, who->token_id, today);
	return err;
}

/* "Bearer <token>" (RFC 6750 §2.1; the scheme is case-insensitive). */
static bool
bearer_token(struct str h, struct str *token)
{
	static const char scheme[] = "bearer";
	size_t i = sizeof(scheme) - 1;

	if (h.len <= i || h.len > PCS_MAX_HEADER_VALUE)
		return false;
	for (size_t k = 0; k < i; k++)
		if ((h.p[k] | 0x20) != scheme[k])
			return false;
	if (h.p[i] != ' ')
		return false;
	while (i < h.len && h.p[i] == ' ')
		i++;
	*token = (struct str){ h.p + i, h.len - i };
	while (token->len > 0 && token->p[token->len - 1] == ' ')
		token->len--;
	return token->len > 0;
}

enum pcs_err
auth_bearer(struct store *st, const struct http_req *req, int64_t today, enum auth_need need,
    struct auth_who *who)
{
	struct str token = STR_NULL;
	enum pcs_err err;

	memset(who, 0, sizeof(*who));
	if (req->authorization.len == 0)
		return PCS_EAUTH;
	if (!bearer_token(req->authorization, &token))
		token = req->authorization;	/* hashed all the same, then refused */
	if ((err = token_check(st, token, today, who)) != PCS_OK)
		return err;
	if (need == AUTH_EXPORT && !who->export_scope)
		return PCS_EFORBIDDEN;		/* export includes aggregate, not the reverse */
	return PCS_OK;
}

/* ---- CSRF -------------------------------------------------------------- */

static void
csrf_make(const char *context, struct str secret, char out[AUTH_CSRF_HEX + 1])
{
	uint8_t h[CRYPTO_HASH_BYTES];

	crypto_keyed_hash(CP_CSRF, context, secret.p ? secret.p : "", secret.len, h);
	crypto_hex(h, AUTH_CSRF_HEX / 2, out);
	crypto_wipe(h, sizeof(h));
}

void
auth_login_csrf(int64_t day, char out[AUTH_CSRF_HEX + 1])
{
	char d[24];

	snprintf(d, sizeof(d), "%lld", (long long)day);
	csrf_make("research-login", str_cstr(d), out);
}

bool
auth_csrf_ok(const struct http_req *req, const char want[AUTH_CSRF_HEX + 1])
{
	const struct str *got = fields_get(&req->body, STR_LIT("csrf"));

	if (got == NULL || got->len != AUTH_CSRF_HEX ||
	    fields_count(&req->body, STR_LIT("csrf")) != 1)
		return false;
	return crypto_equal(got->p, want, AUTH_CSRF_HEX);
}

bool
auth_login_csrf_ok(const struct http_req *req, int64_t today)
{
	char want[AUTH_CSRF_HEX + 1];

	for (int back = 0; back <= 1; back++) {	/* a form loaded before midnight */
		auth_login_csrf(today - back, want);
		if (auth_csrf_ok(req, want))
			return true;
	}
	return false;
}

/* ---- sessions ---------------------------------------------------------- */

static const struct str *
session_cookie(const struct http_req *req)
{
	return fields_get(&req->cookies, STR_LIT(AUTH_SESSION_COOKIE));
}

enum pcs_err
auth_session(struct store *st, const struct http_req *req, struct auth_who *who,
    char csrf[AUTH_CSRF_HEX + 1])
{
	const struct str *v = session_cookie(req);
	enum pcs_err err;

	memset(who, 0, sizeof(*who));
	if (v == NULL)
		return PCS_EAUTH;
	if ((err = lookup(st, CP_SESSION, *v, who)) != PCS_OK)
		return err;
	if (csrf != NULL)
		csrf_make("research", *v, csrf);
	return PCS_OK;
}

enum pcs_err
auth_logout(struct store *st, const struct http_req *req)
{
	const struct str *v = session_cookie(req);
	uint8_t h[CRYPTO_HASH_BYTES];

	if (v == NULL)
		return PCS_OK;
	crypto_keyed_hash(CP_SESSION, NULL, v->p ? v->p : "",
	    v->len > PCS_TOKEN_INPUT_MAX ? PCS_TOKEN_INPUT_MAX : v->len, h);
	return store_session_delete(st, h);
}

enum pcs_err
auth_login(struct store *st, const struct http_req *req, struct str token, int64_t today,
    struct auth_who *who, char cookie[CRYPTO_TOKEN_TEXT + 1])
{
	uint8_t h[CRYPTO_HASH_BYTES];
	enum pcs_err err;

	if ((err = token_check(st, token, today, who)) != PCS_OK)
		return err;
	/* T-26: a new id at every login; the one the browser brought is ended */
	if ((err = auth_logout(st, req)) != PCS_OK)
		return err;
	crypto_token_new(cookie);
	crypto_keyed_hash(CP_SESSION, NULL, cookie, CRYPTO_TOKEN_TEXT, h);
	if ((err = store_session_create(st, h, who->token_id, PCS_SESSION_SECONDS)) != PCS_OK)
		return err;
	return store_session_purge(st);
}
