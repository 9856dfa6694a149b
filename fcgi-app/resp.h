/*
 * resp.h: the response being built: status, headers (security headers on
 * every response, http-api.md "Every response"), cookies, and the body.
 * A header value holding CR or LF is refused (T-21), never written.
 */
#ifndef PCS_RESP_H
#define PCS_RESP_H

#include <stdbool.h>

#include "str.h"

struct resp {
	int		 status;
	struct buf	 head;		/* "Name: value\r\n" lines */
	struct buf	 body;
	bool		 no_store;	/* Cache-Control: no-store */
	const char	*content_type;	/* default text/html; charset=utf-8 */
	/* streaming (exports): set by fcgi.c; see resp_flush() */
	bool		 streaming;	/* head already sent, without Content-Length */
	bool		(*flush_fn)(void *arg, struct resp *r);
	void		*flush_arg;
};

void	resp_init(struct resp *r);
void	resp_reset(struct resp *r);
void	resp_release(struct resp *r);
/* Adds a header; returns false (and adds nothing) if name or value holds CR/LF. */
bool	resp_header(struct resp *r, const char *name, struct str value);
/*
 * Set-Cookie: name=value; Path=path; HttpOnly; SameSite=samesite
 * [; Max-Age=max_age if >= 0][; Secure if secure].
 */
bool	resp_cookie(struct resp *r, const char *name, struct str value, const char *path,
	    const char *samesite, long max_age, bool secure);
/* 303 See Other to base_url + path (links are built from the configured base only). */
void	resp_redirect(struct resp *r, const char *base_url, struct str path);
/* Writes the CGI header block (Status, Content-Type, Content-Length, ...) into out. */
void	resp_serialise_head(const struct resp *r, struct buf *out);
const char *resp_reason(int status);
/*
 * Streams: sends the head (once, without Content-Length) and the body so
 * far, then empties the body.  Status and headers are final after the first
 * call.  Returns false when the client has gone (stop producing).
 */
bool	resp_flush(struct resp *r);

#endif
