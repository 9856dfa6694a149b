/*
 * html.c: the one escaping function (html_text) and forms.md "text".
 * Trusts nothing it is given: every byte of a form or a request goes
 * through html_text(), which escapes the five characters that can end a
 * text node or a quoted attribute value.  Bytes are otherwise passed
 * through unchanged (callers hand us valid UTF-8: forms are checked at
 * load, request fields by http.c).
 */
#include <stdbool.h>
#include <string.h>

#include "html.h"

/*
 * Replacement of each byte that needs one, by its class in esc_class (0:
 * none).  Pages are mostly safe bytes (issue 9: html_text was a fifth of a
 * worker's CPU one byte at a time), so each run of them is found by a
 * table lookup per byte and appended with one call.
 */
static const unsigned char esc_class[256] = {
	['&'] = 1, ['<'] = 2, ['>'] = 3, ['"'] = 4, ['\''] = 5,
};
static const struct {
	const char	*s;
	size_t		 len;
} esc_rep[6] = {
	[1] = { "&amp;", 5 }, [2] = { "&lt;", 4 }, [3] = { "&gt;", 4 },
	[4] = { "&quot;", 6 }, [5] = { "&#39;", 5 },
};

void
html_text(struct buf *b, const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, run = 0;

	for (;;) {
		unsigned char k;

		while (i < len && esc_class[u[i]] == 0)
			i++;
		if (i > run)
			buf_add(b, p + run, i - run);
		if (i == len)
			return;
		k = esc_class[u[i]];
		buf_add(b, esc_rep[k].s, esc_rep[k].len);
		run = ++i;
	}
}

void
html_cstr(struct buf *b, const char *s)
{
	if (s != NULL)
		html_text(b, s, strlen(s));
}

/*
 * Length of a "[label](https://...)" link at p[0..len), or 0 when p does
 * not start with one.  The label is one line without brackets; the address
 * starts with "https://" (forms.md: https only, so "javascript:" and every
 * other scheme stay text) and runs to the first ')' without whitespace,
 * quotes or angle brackets.
 */
static size_t
link_len(const char *p, size_t len, size_t *lab_len, size_t *href_off,
    size_t *href_len)
{
	static const char scheme[] = "https://";
	size_t i = 1, h;

	if (len < 2 || p[0] != '[')
		return 0;
	while (i < len && p[i] != ']' && p[i] != '[' && p[i] != '\n' &&
	    p[i] != '\r')
		i++;
	if (i >= len || p[i] != ']' || i == 1)
		return 0;
	*lab_len = i - 1;
	if (i + 1 >= len || p[i + 1] != '(')
		return 0;
	h = i + 2;
	if (len - h < sizeof(scheme) - 1 ||
	    memcmp(p + h, scheme, sizeof(scheme) - 1) != 0)
		return 0;
	for (i = h + sizeof(scheme) - 1; i < len && p[i] != ')'; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= ' ' || c == 0x7F || c == '"' || c == '\'' ||
		    c == '<' || c == '>' || c == '(')
			return 0;
	}
	if (i >= len || i == h + sizeof(scheme) - 1)
		return 0;
	*href_off = h;
	*href_len = i - h;
	return i + 1;
}

/* One paragraph: newlines become <br>, links become <a>. */
static void
para_body(struct buf *b, const char *p, size_t len)
{
	size_t i = 0, run = 0;

	while (i < len) {
		size_t n, lab, hoff, hlen;

		if (p[i] == '\n' || p[i] == '\r') {
			size_t e = i;

			while (e > run && (p[e - 1] == ' ' || p[e - 1] == '\t'))
				e--;
			html_text(b, p + run, e - run);
			html_raw(b, "<br>\n");
			if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')
				i++;
			i++;
			while (i < len && (p[i] == ' ' || p[i] == '\t'))
				i++;
			run = i;
			continue;
		}
		if (p[i] == '[' &&
		    (n = link_len(p + i, len - i, &lab, &hoff, &hlen)) > 0) {
			html_text(b, p + run, i - run);
			html_raw(b, "<a href=\"");
			html_text(b, p + i + hoff, hlen);
			html_raw(b, "\">");
			html_text(b, p + i + 1, lab);
			html_raw(b, "</a>");
			i += n;
			run = i;
			continue;
		}
		i++;
	}
	html_text(b, p + run, len - run);
}

/* True when p[0..len) holds only spaces, tabs and CRs. */
static bool
blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

/* Writes p[s..e), trimmed, as one <p>. */
static void
para_emit(struct buf *b, const char *p, size_t s, size_t e, const char *cls)
{
	while (s < e && (p[s] == ' ' || p[s] == '\t'))
		s++;
	while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t' || p[e - 1] == '\r'))
		e--;
	if (cls != NULL) {
		html_raw(b, "<p class=\"");
		html_cstr(b, cls);
		html_raw(b, "\">");
	} else
		html_raw(b, "<p>");
	para_body(b, p + s, e - s);
	html_raw(b, "</p>\n");
}

void
html_paras(struct buf *b, const char *text, const char *cls)
{
	size_t len, i = 0, start = 0, end = 0;
	bool open = false;

	if (text == NULL)
		return;
	len = strlen(text);
	/*
	 * Walk line by line; a blank line ends a paragraph.  start..end runs
	 * from the first to the end of the last non-blank line of the current
	 * paragraph.
	 */
	for (;;) {
		const char *nl = i < len ? memchr(text + i, '\n', len - i) : NULL;
		size_t eol = nl ? (size_t)(nl - text) : len;

		if (blank(text + i, eol - i)) {
			if (open)
				para_emit(b, text, start, end, cls);
			open = false;
		} else {
			if (!open)
				start = i;
			open = true;
			end = eol;
		}
		if (nl == NULL)
			break;
		i = eol + 1;
	}
	if (open)
		para_emit(b, text, start, end, cls);
}

void
html_h1(struct buf *b, const char *text)
{
	html_raw(b, "<h1 class=\"nhsuk-heading-l\">");
	html_cstr(b, text);
	html_raw(b, "</h1>\n");
}

void
html_csrf_field(struct buf *b, const char *csrf)
{
	html_raw(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_cstr(b, csrf);
	html_raw(b, "\">\n");
}
