/*
 * str.h: length-carrying strings, capped output buffers with a sticky error,
 * a read cursor, UTF-8 checks and strict integer parsing.  Pure: no I/O.
 *
 * Invariants: a struct str is a view (p may be NULL only when len is 0) and
 * is not NUL-terminated unless said.  A struct buf always keeps a NUL after
 * its bytes, and after one failed append every later append does nothing
 * (buf.err says why); callers check once at the end.
 */
#ifndef PCS_STR_H
#define PCS_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct str {
	const char	*p;
	size_t		 len;
};

#define STR_NULL	((struct str){ NULL, 0 })
#define STR_LIT(s)	((struct str){ (s), sizeof(s) - 1 })

struct cur {
	const unsigned char	*p;
	size_t			 left;
};

struct buf {
	char		*p;		/* NUL-terminated, malloc'd */
	size_t		 len;
	size_t		 cap;		/* allocated */
	size_t		 max;		/* hard cap on len */
	enum pcs_err	 err;		/* sticky */
};

struct str	 str_cstr(const char *s);
bool		 str_eq(struct str a, struct str b);
bool		 str_eq_cstr(struct str a, const char *s);
bool		 str_has_prefix(struct str a, const char *prefix);
/* Returns the index of the first c in s, or -1. */
long		 str_find(struct str s, char c);

/* Valid UTF-8 (no overlongs, surrogates or > U+10FFFF): true. */
bool		 utf8_valid(const char *p, size_t len);
/* Number of code points in valid UTF-8. */
size_t		 utf8_count(const char *p, size_t len);
/*
 * True when p holds a control character other than TAB, CR and LF, or a
 * NUL (http-api.md: such values are malformed).
 */
bool		 str_has_ctl(const char *p, size_t len);

/*
 * Strict decimal: optional '-', 1..18 digits, nothing else (T-16 rejects
 * "3abc", "0x3", "+3", " 3", "3.0" and overflow).  Returns false on any of
 * those.
 */
bool		 str_to_i64(struct str s, int64_t *out);

/*
 * Lifecycle: buf_init() gives an empty buffer capped at max bytes;
 * buf_release() frees it; buf_reset() empties it and clears err.
 */
void		 buf_init(struct buf *b, size_t max);
void		 buf_release(struct buf *b);
void		 buf_reset(struct buf *b);
void		 buf_add(struct buf *b, const void *p, size_t len);
void		 buf_adds(struct buf *b, const char *s);
void		 buf_addc(struct buf *b, char c);
void		 buf_addstr(struct buf *b, struct str s);
void		 buf_addi64(struct buf *b, int64_t v);
void		 buf_printf(struct buf *b, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
static inline struct str
buf_str(const struct buf *b)
{
	return (struct str){ b->p, b->len };
}

static inline bool
cur_take(struct cur *c, size_t n, struct str *out)
{
	if (n > c->left)
		return false;
	*out = (struct str){ (const char *)c->p, n };
	c->p += n;
	c->left -= n;
	return true;
}

/* Days since 1970-01-01 for a proleptic Gregorian date; no range checks. */
int64_t		 days_from_civil(int64_t y, unsigned m, unsigned d);
void		 civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);
/* Strict "YYYY-MM-DD" that exists in the calendar. */
bool		 date_parse(struct str s, int64_t *days);
/* Writes "YYYY-MM-DD" (11 bytes with NUL). */
void		 date_format(int64_t days, char out[11]);
/* Today (UTC) in days since the epoch. */
int64_t		 date_today(void);

#endif
