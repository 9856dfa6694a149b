/*
 * http.c: untrusted request bytes into decoded, checked fields.  Input is
 * never NUL-terminated here: every reader takes (p, len).  Limits come from
 * limits.h and are checked before allocating (T-15).
 */
#include <string.h>
#include <strings.h>

#include "http.h"

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes in[0..len) into out (len bytes at least); -1 on a bad escape. */
static long
urldecode(const char *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int hi, lo;

		if (c == '+')
			out[o++] = ' ';
		else if (c == '%') {
			if (len - i < 3 || (hi = hexval((unsigned char)in[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)in[i + 2])) < 0)
				return -1;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			out[o++] = (char)c;
	}
	return (long)o;
}

static enum pcs_err
decode_part(struct arena *a, const char *p, size_t len, size_t max, bool is_name,
    struct str *out)
{
	char *buf;
	long n;

	if (len > max * 3)		/* each decoded byte takes at most 3 */
		return PCS_ETOOBIG;
	if ((buf = arena_alloc(a, len + 1)) == NULL)
		return PCS_ENOMEM;
	if ((n = urldecode(p, len, buf)) < 0)
		return PCS_EINPUT;
	if ((size_t)n > max)
		return PCS_ETOOBIG;
	buf[n] = '\0';
	*out = (struct str){ buf, (size_t)n };
	if (!utf8_valid(buf, (size_t)n))
		return PCS_EINPUT;
	if (str_has_ctl(buf, (size_t)n) ||
	    (is_name && (memchr(buf, '\t', (size_t)n) || memchr(buf, '\n', (size_t)n) ||
	    memchr(buf, '\r', (size_t)n))))
		return PCS_EINPUT;
	return PCS_OK;
}

enum pcs_err
http_parse_urlencoded(struct arena *a, struct str in, struct fields *f,
    struct str *bad_field)
{
	size_t npairs = 0, i, start;
	enum pcs_err err;

	*f = (struct fields){ NULL, 0 };
	if (bad_field)
		*bad_field = STR_NULL;
	if (in.len == 0)
		return PCS_OK;
	for (i = 0; i < in.len; i++)	/* count first: allocate once, bounded */
		if (in.p[i] == '&')
			npairs++;
	npairs++;
	if (npairs > PCS_MAX_PAIRS)
		return PCS_ETOOBIG;
	if ((f->v = arena_alloc(a, npairs * sizeof(*f->v))) == NULL)
		return PCS_ENOMEM;
	start = 0;
	for (i = 0; i <= in.len; i++) {
		const char *p;
		size_t len;
		long eq;
		struct field *fl;

		if (i < in.len && in.p[i] != '&')
			continue;
		p = in.p + start;
		len = i - start;
		start = i + 1;
		if (len == 0)
			continue;	/* "a=1&&b=2" */
		fl = &f->v[f->n];
		eq = str_find((struct str){ p, len }, '=');
		err = decode_part(a, p, eq < 0 ? len : (size_t)eq,
		    PCS_MAX_FIELD_NAME, true, &fl->name);
		if (err != PCS_OK)
			return err;
		if (eq < 0)
			fl->value = (struct str){ "", 0 };
		else if ((err = decode_part(a, p + eq + 1, len - (size_t)eq - 1,
		    PCS_MAX_FIELD_VALUE * 4, false, &fl->value)) != PCS_OK) {
			if (bad_field)
				*bad_field = fl->name;
			return err;
		}
		if (fl->name.len == 0)
			continue;
		f->n++;
	}
	return PCS_OK;
}

enum pcs_err
http_parse_cookies(struct arena *a, struct str in, struct fields *f)
{
	size_t i, start = 0, n = 0;

	*f = (struct fields){ NULL, 0 };
	if (in.len == 0)
		return PCS_OK;
	if ((f->v = arena_alloc(a, PCS_MAX_COOKIES * sizeof(*f->v))) == NULL)
		return PCS_ENOMEM;
	for (i = 0; i <= in.len; i++) {
		struct str pair, name, value;
		long eq;

		if (i < in.len && in.p[i] != ';')
			continue;
		pair = (struct str){ in.p + start, i - start };
		start = i + 1;
		while (pair.len && (pair.p[0] == ' ' || pair.p[0] == '\t')) {
			pair.p++;
			pair.len--;
		}
		while (pair.len && (pair.p[pair.len - 1] == ' ' || pair.p[pair.len - 1] == '\t'))
			pair.len--;
		if ((eq = str_find(pair, '=')) <= 0)
			continue;
		name = (struct str){ pair.p, (size_t)eq };
		value = (struct str){ pair.p + eq + 1, pair.len - (size_t)eq - 1 };
		if (value.len >= 2 && value.p[0] == '"' && value.p[value.len - 1] == '"') {
			value.p++;
			value.len -= 2;
		}
		if (n == PCS_MAX_COOKIES)
			break;		/* extra cookies are not ours to read */
		f->v[n].name = name;
		f->v[n].value = value;
		n++;
	}
	f->n = n;
	return PCS_OK;
}

enum pcs_err
http_split_path(struct str path, struct str *segs, size_t max, size_t *n)
{
	size_t i = 0, start;

	*n = 0;
	if (path.len == 0 || path.p[0] != '/')
		return PCS_EINPUT;
	if (path.len == 1)
		return PCS_OK;
	start = 1;
	for (i = 1; i <= path.len; i++) {
		struct str s;

		if (i < path.len && path.p[i] != '/')
			continue;
		s = (struct str){ path.p + start, i - start };
		start = i + 1;
		if (s.len == 0 && i == path.len)
			break;		/* trailing slash */
		if (s.len == 0 || str_eq_cstr(s, ".") || str_eq_cstr(s, ".."))
			return PCS_EINPUT;
		if (*n == max)
			return PCS_ENOTFOUND;
		segs[(*n)++] = s;
	}
	return PCS_OK;
}

size_t
fields_count(const struct fields *f, struct str name)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		if (str_eq(f->v[i].name, name))
			n++;
	return n;
}

const struct str *
fields_get(const struct fields *f, struct str name)
{
	for (size_t i = 0; i < f->n; i++)
		if (str_eq(f->v[i].name, name))
			return &f->v[i].value;
	return NULL;
}

size_t
fields_all(const struct fields *f, struct str name, struct str *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		if (str_eq(f->v[i].name, name)) {
			if (n < max)
				out[n] = f->v[i].value;
			n++;
		}
	return n;
}

enum pcs_err
http_parse_request(struct arena *a, struct http_req *r)
{
	enum pcs_err err;

	if (str_eq_cstr(r->method_name, "GET"))
		r->method = M_GET;
	else if (str_eq_cstr(r->method_name, "POST"))
		r->method = M_POST;
	else if (str_eq_cstr(r->method_name, "HEAD"))
		r->method = M_HEAD;
	else
		r->method = M_OTHER;
	if (r->path.len > PCS_MAX_PATH)
		return PCS_ETOOBIG;
	if (!utf8_valid(r->path.p, r->path.len) || str_has_ctl(r->path.p, r->path.len))
		return PCS_EINPUT;
	if ((err = http_split_path(r->path, r->segs, PCS_MAX_PATH_SEGS, &r->nsegs)) != PCS_OK)
		return err;
	if (r->raw_query.len > PCS_MAX_QUERY)
		return PCS_ETOOBIG;
	if ((err = http_parse_urlencoded(a, r->raw_query, &r->query, NULL)) != PCS_OK)
		return err;
	return http_parse_cookies(a, r->raw_cookie, &r->cookies);
}

bool
http_is_urlencoded(const struct http_req *r)
{
	static const char want[] = "application/x-www-form-urlencoded";
	struct str ct = r->content_type, rest;
	size_t n = sizeof(want) - 1;

	if (ct.len < n || strncasecmp(ct.p, want, n) != 0)
		return false;
	rest = (struct str){ ct.p + n, ct.len - n };
	while (rest.len && (rest.p[0] == ' ' || rest.p[0] == ';')) {
		rest.p++;
		rest.len--;
	}
	if (rest.len == 0)
		return true;
	/* T-17: a charset other than UTF-8 is refused */
	return rest.len == 13 && strncasecmp(rest.p, "charset=utf-8", 13) == 0;
}
