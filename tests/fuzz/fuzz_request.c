/*
 * fuzz_request.c: http_parse_request() (http.c), the method, path
 * (DOCUMENT_URI), query string and Cookie header of every request, plus
 * http_is_urlencoded() on the Content-Type (adversarial.md T-10, T-11,
 * T-15, T-17, T-21, T-40).
 *
 * Input: METHOD \0 PATH \0 QUERY \0 COOKIE \0 CONTENT_TYPE.  NUL separates
 * them because a CGI param can never hold one (fcgi.c reads params as C
 * strings), so every param value nginx could send is reachable.
 *
 * Properties: on PCS_OK the path has at most PCS_MAX_PATH_SEGS segments,
 * none empty, ".", ".." or holding '/', each a view inside the path (T-21:
 * a path is never built from a traversal); the path is valid UTF-8 without
 * control bytes; query fields obey the urlencoded rules; a Content-Type
 * accepted as urlencoded starts with that type and names no charset but
 * UTF-8 (T-17).
 */
#include <string.h>
#include <strings.h>

#include "harness.h"
#include "http.h"

static struct arena A;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	arena_init(&A, 64u << 20);
	return 0;
}

/* The next NUL-terminated part of the input (the rest if no NUL). */
static struct str
part(const uint8_t **p, size_t *left)
{
	const uint8_t *z = *left ? memchr(*p, '\0', *left) : NULL;
	size_t n = z ? (size_t)(z - *p) : *left;
	struct str s = { (const char *)*p, n };

	*p += n + (z != NULL);
	*left -= n + (z != NULL);
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size;
	struct http_req r;
	enum pcs_err e;

	memset(&r, 0, sizeof(r));
	r.method_name = part(&p, &left);
	r.path = part(&p, &left);
	r.raw_query = part(&p, &left);
	r.raw_cookie = part(&p, &left);
	r.content_type = part(&p, &left);

	if (http_is_urlencoded(&r)) {
		FUZZ_CHECK(r.content_type.len >= 33 &&
		    strncasecmp(r.content_type.p, "application/x-www-form-urlencoded", 33) == 0,
		    "accepted a Content-Type that is not urlencoded");
		/* T-17: any charset other than UTF-8 is refused */
		for (size_t i = 33; i + 8 <= r.content_type.len; i++)
			if (strncasecmp(r.content_type.p + i, "charset=", 8) == 0)
				FUZZ_CHECK(r.content_type.len - i - 8 == 5 &&
				    strncasecmp(r.content_type.p + i + 8, "utf-8", 5) == 0,
				    "accepted a charset other than UTF-8");
	}

	e = http_parse_request(&A, &r);
	FUZZ_CHECK(e == PCS_OK || e == PCS_EINPUT || e == PCS_ETOOBIG || e == PCS_ENOTFOUND,
	    "error %d", (int)e);
	FUZZ_CHECK(r.method == M_GET || r.method == M_POST || r.method == M_HEAD ||
	    r.method == M_OTHER, "method %d", (int)r.method);
	if (e == PCS_OK) {
		FUZZ_CHECK(r.path.len <= PCS_MAX_PATH, "path of %zu bytes accepted", r.path.len);
		FUZZ_CHECK(r.path.len > 0 && r.path.p[0] == '/', "path without a leading /");
		FUZZ_CHECK(utf8_valid(r.path.p, r.path.len) && !str_has_ctl(r.path.p, r.path.len),
		    "path with bad bytes accepted");
		FUZZ_CHECK(r.nsegs <= PCS_MAX_PATH_SEGS, "%zu segments", r.nsegs);
		for (size_t i = 0; i < r.nsegs; i++) {
			struct str s = r.segs[i];

			FUZZ_CHECK(s.len > 0, "empty segment %zu", i);
			FUZZ_CHECK(!str_eq_cstr(s, ".") && !str_eq_cstr(s, ".."), "dot segment %zu", i);
			FUZZ_CHECK(!memchr(s.p, '/', s.len), "segment %zu holds '/'", i);
			FUZZ_CHECK(s.p > r.path.p && s.p + s.len <= r.path.p + r.path.len,
			    "segment %zu outside the path", i);
		}
		FUZZ_CHECK(r.query.n <= PCS_MAX_PAIRS, "%zu query fields", r.query.n);
		for (size_t i = 0; i < r.query.n; i++) {
			struct str n = r.query.v[i].name, v = r.query.v[i].value;

			FUZZ_CHECK(n.len > 0 && utf8_valid(n.p, n.len) && utf8_valid(v.p, v.len) &&
			    !str_has_ctl(n.p, n.len) && !str_has_ctl(v.p, v.len),
			    "query field %zu", i);
		}
		FUZZ_CHECK(r.cookies.n <= PCS_MAX_COOKIES, "%zu cookies", r.cookies.n);
	}
	arena_reset(&A);
	return 0;
}
