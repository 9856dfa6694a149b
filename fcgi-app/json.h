/*
 * json.h: writing JSON (RFC 8259) into a struct buf.  Strings are escaped
 * here and only here; input must already be valid UTF-8.
 */
#ifndef PCS_JSON_H
#define PCS_JSON_H

#include <stddef.h>

#include "str.h"

/* Appends "p" quoted and escaped. */
void	json_str(struct buf *b, const char *p, size_t len);
void	json_cstr(struct buf *b, const char *s);	/* NULL: null */

#endif
