/*
 * resp.c: status line, headers and cookies of a response.  Trusts nothing
 * it is given for header values: CR, LF and NUL are refused (T-21).
 */
#include <string.h>

#include "limits.h"
#include "resp.h"

void
resp_init(struct resp *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->head, 16 * 1024);
	buf_init(&r->body, PCS_RESP_BODY_MAX);
	resp_reset(r);
}

void
resp_reset(struct resp *r)
{
	r->status = 200;
	r->no_store = false;
	r->streaming = false;
	r->content_type = "text/html; charset=utf-8";
	/* a page may show answers (check page) or codes: wipe, then reuse */
	if (r->body.p)
		explicit_bzero(r->body.p, r->body.len);
	buf_reset(&r->head);
	buf_reset(&r->body);
}

void
resp_release(struct resp *r)
{
	buf_release(&r->head);
	buf_release(&r->body);
}

static bool
header_safe(struct str s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == '\r' || s.p[i] == '\n' || s.p[i] == '\0')
			return false;
	return true;
}

bool
resp_header(struct resp *r, const char *name, struct str value)
{
	if (!header_safe(str_cstr(name)) || !header_safe(value))
		return false;
	buf_adds(&r->head, name);
	buf_add(&r->head, ": ", 2);
	buf_addstr(&r->head, value);
	buf_add(&r->head, "\r\n", 2);
	return true;
}

bool
resp_cookie(struct resp *r, const char *name, struct str value, const char *path,
    const char *samesite, long max_age, bool secure)
{
	struct buf v;
	bool ok;

	for (size_t i = 0; i < value.len; i++)	/* RFC 6265 cookie-octet */
		if (value.p[i] <= 0x20 || value.p[i] == '"' || value.p[i] == ',' ||
		    value.p[i] == ';' || value.p[i] == '\\' || value.p[i] == 0x7f)
			return false;
	buf_init(&v, 1024);
	buf_adds(&v, name);
	buf_addc(&v, '=');
	buf_addstr(&v, value);
	buf_adds(&v, "; Path=");
	buf_adds(&v, path);
	buf_adds(&v, "; HttpOnly; SameSite=");
	buf_adds(&v, samesite);
	if (max_age >= 0) {
		buf_adds(&v, "; Max-Age=");
		buf_addi64(&v, max_age);
	}
	if (secure)
		buf_adds(&v, "; Secure");
	ok = v.err == PCS_OK && resp_header(r, "Set-Cookie", buf_str(&v));
	buf_release(&v);
	return ok;
}

void
resp_redirect(struct resp *r, const char *base_url, struct str path)
{
	struct buf loc;

	buf_init(&loc, PCS_MAX_PATH + 512);
	buf_adds(&loc, base_url);
	buf_addstr(&loc, path);
	r->status = 303;
	if (loc.err == PCS_OK)
		(void)resp_header(r, "Location", buf_str(&loc));
	buf_release(&loc);
	buf_reset(&r->body);
}

const char *
resp_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return status >= 500 ? "Internal Server Error" : "Error";
	}
}

void
resp_serialise_head(const struct resp *r, struct buf *out)
{
	buf_printf(out, "Status: %d %s\r\n", r->status, resp_reason(r->status));
	buf_adds(out, "Content-Type: ");
	buf_adds(out, r->content_type);
	buf_add(out, "\r\n", 2);
	if (!r->streaming)
		buf_printf(out, "Content-Length: %zu\r\n", r->body.len);
	/* http-api.md "Every response": nginx adds them too, hiding ours */
	buf_adds(out, "Content-Security-Policy: default-src 'self'; script-src 'self'; "
	    "style-src 'self'; img-src 'self' data:; font-src 'self' https://assets.nhs.uk; "
	    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "X-Frame-Options: DENY\r\n");
	if (r->no_store)
		buf_adds(out, "Cache-Control: no-store\r\n");
	buf_addstr(out, buf_str(&r->head));
	buf_add(out, "\r\n", 2);
}

bool
resp_flush(struct resp *r)
{
	return r->flush_fn ? r->flush_fn(r->flush_arg, r) : false;
}
