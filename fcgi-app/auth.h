/*
 * auth.h: who is calling the researchers' side (http-api.md: Researcher
 * API, /research pages).  API tokens arrive as "Authorization: Bearer
 * <token>"; researcher pages use the pcs_session cookie that POST
 * /research/login sets.  Tokens and session ids are only ever hashed
 * (privacy.md: stored as keyed hashes), looked up by that hash and then
 * compared in constant time (T-24); a malformed, unknown or revoked token
 * costs the same work.  Nothing here renders or logs a token.
 */
#ifndef PCS_AUTH_H
#define PCS_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto.h"
#include "err.h"
#include "http.h"
#include "store.h"

#define AUTH_SESSION_COOKIE	"pcs_session"
#define AUTH_CSRF_HEX		32

/* http-api.md: aggregate (counts, coverage, codebook); export also row-level. */
enum auth_need { AUTH_AGGREGATE, AUTH_EXPORT };

struct auth_who {
	int	 token_id;		/* 0: nobody */
	bool	 export_scope;
};

/*
 * The bearer token of req.  PCS_EAUTH when the header is missing or the
 * token malformed, unknown or revoked (401); PCS_EFORBIDDEN when its scope
 * lacks need (403; who is filled); PCS_EDBDOWN.  Marks the token used today.
 */
enum pcs_err	auth_bearer(struct store *st, const struct http_req *req, int64_t today,
		    enum auth_need need, struct auth_who *who) PCS_MUST;

/*
 * The research session named by req's pcs_session cookie: PCS_OK with who
 * and (if csrf is not NULL) the session's CSRF token; PCS_EAUTH when there
 * is none, it expired (8 hours) or its token was revoked; PCS_EDBDOWN.
 */
enum pcs_err	auth_session(struct store *st, const struct http_req *req,
		    struct auth_who *who, char csrf[AUTH_CSRF_HEX + 1]) PCS_MUST;

/*
 * POST /research/login with an API token (either scope): ends the session
 * the request came with, if any, and starts a new one with a new id
 * (T-26: no fixation).  cookie gets the new id, the pcs_session value.
 * PCS_EAUTH for a bad token.
 */
enum pcs_err	auth_login(struct store *st, const struct http_req *req, struct str token,
		    int64_t today, struct auth_who *who,
		    char cookie[CRYPTO_TOKEN_TEXT + 1]) PCS_MUST;
/* POST /research/logout: ends the request's session server-side (none: PCS_OK). */
enum pcs_err	auth_logout(struct store *st, const struct http_req *req) PCS_MUST;

/* CSRF of the login form: bound to the UTC day (yesterday's still accepted). */
void		auth_login_csrf(int64_t day, char out[AUTH_CSRF_HEX + 1]);
bool		auth_login_csrf_ok(const struct http_req *req, int64_t today);
/* The posted csrf field equals a session's token (constant time). */
bool		auth_csrf_ok(const struct http_req *req, const char want[AUTH_CSRF_HEX + 1]);

#endif
