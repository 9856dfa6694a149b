/*
 * http.h: a FastCGI request turned into typed, decoded, UTF-8-checked parts.
 * Knows nothing of forms.  Everything points into the request arena and dies
 * with the request.
 */
#ifndef PCS_HTTP_H
#define PCS_HTTP_H

#include <stdbool.h>

#include "arena.h"
#include "err.h"
#include "limits.h"
#include "str.h"

enum http_method { M_GET = 1, M_POST = 2, M_HEAD = 4, M_OTHER = 8 };

/* One decoded name=value pair, in the order received. */
struct field {
	struct str	name;
	struct str	value;
};

struct fields {
	struct field	*v;
	size_t		 n;
};

struct http_req {
	enum http_method method;
	struct str	 method_name;
	struct str	 path;		/* decoded-free: DOCUMENT_URI as given */
	struct str	 segs[PCS_MAX_PATH_SEGS];
	size_t		 nsegs;
	struct fields	 query;
	struct fields	 body;		/* urlencoded POST body */
	struct fields	 cookies;
	struct str	 content_type;
	struct str	 origin;
	struct str	 sec_fetch_site;
	struct str	 authorization;
	struct str	 accept;
	bool		 https;
	size_t		 content_length;
	struct str	 raw_body;
	/* set by the parser when a field is malformed: which one, for the 400 page */
	struct str	 bad_field;
	/* raw CGI values as fcgi.c read them (bounded by limits.h) */
	struct str	 raw_query;
	struct str	 raw_cookie;
	bool		 body_too_big;	/* CONTENT_LENGTH over max_body: not read */
	bool		 body_short;	/* fewer bytes than CONTENT_LENGTH arrived (T-03) */
};

/*
 * Fills method, segs, query and cookies from the raw values fcgi.c set.
 * PCS_EINPUT for a malformed path or query, PCS_ETOOBIG past a limit.
 */
enum pcs_err	 http_parse_request(struct arena *a, struct http_req *r) PCS_MUST;
/* True when the Content-Type is application/x-www-form-urlencoded (UTF-8 or no charset). */
bool		 http_is_urlencoded(const struct http_req *r);

/*
 * Decodes an application/x-www-form-urlencoded string into f.  Every name
 * and value is percent-decoded, '+' is a space, and must be valid UTF-8
 * without NUL or control characters (TAB, CR, LF allowed in values).
 * Returns PCS_EINPUT (bad_field set to the decoded name when known),
 * PCS_ETOOBIG past PCS_MAX_PAIRS or a field limit, PCS_ENOMEM.
 */
enum pcs_err	 http_parse_urlencoded(struct arena *a, struct str in,
		    struct fields *f, struct str *bad_field) PCS_MUST;
/* Parses a Cookie header into f (name=value; ...); values are not decoded. */
enum pcs_err	 http_parse_cookies(struct arena *a, struct str in,
		    struct fields *f) PCS_MUST;
/* Splits a path into segments; rejects empty, "." and ".." segments. */
enum pcs_err	 http_split_path(struct str path, struct str *segs,
		    size_t max, size_t *n) PCS_MUST;

/* Number of fields named name. */
size_t		 fields_count(const struct fields *f, struct str name);
/* The first value named name, or NULL. */
const struct str *fields_get(const struct fields *f, struct str name);
/* Fills out[] with up to max values named name; returns how many there are. */
size_t		 fields_all(const struct fields *f, struct str name,
		    struct str *out, size_t max);

#endif
