/*
 * html.h: the one escaping function and the few helpers built on it.
 * Everything written into HTML that is not a literal of our own templates
 * goes through html_text().
 */
#ifndef PCS_HTML_H
#define PCS_HTML_H

#include <stddef.h>
#include <string.h>

#include "str.h"

/* Appends p[0..len) escaped for text and attribute values (& < > " '). */
void	html_text(struct buf *b, const char *p, size_t len);
void	html_cstr(struct buf *b, const char *s);	/* html_text of a C string; NULL: nothing */
/*
 * Appends a literal of our own template (never input).  Inline, so that
 * the length of a literal is known when compiling (issue 9: the page
 * frame is kilobytes of literals on every request).
 */
static inline void
html_raw(struct buf *b, const char *lit)
{
	buf_add(b, lit, strlen(lit));
}
/*
 * forms.md "text": blank lines separate paragraphs (<p class=cls>), and
 * [label](https://...) becomes a link; nothing else is markup.
 */
void	html_paras(struct buf *b, const char *text, const char *cls);
/* The page heading, <h1 class="nhsuk-heading-l">, and the hidden csrf field. */
void	html_h1(struct buf *b, const char *text);
void	html_csrf_field(struct buf *b, const char *csrf);

#endif
