/*
 * form.c: survey definitions (forms.md) into immutable struct form (form.h),
 * with every problem reported as "<file>: <json path>: <message>".  The only
 * includer of cJSON.h.
 *
 * Trusts nothing in the file.  Before cJSON sees a byte, scan() checks the
 * size, UTF-8, the full JSON grammar without recursion (depth <=
 * PCS_FORM_JSON_DEPTH, so cJSON's own recursion is bounded), duplicate keys
 * at every level (cJSON keeps both), and NUL or lone-surrogate escapes
 * (cJSON would cut or mangle them).  Then the tree is checked against
 * forms.md key by key: unknown keys are errors with a did-you-mean, and every
 * problem is reported, not just the first (capped at REPORT_MAX lines so a
 * hostile file cannot flood a terminal).  Work is bounded: arrays past their
 * limit are reported and not read further, and suggestions share a budget.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "form.h"
#include "limits.h"
#include "page_cache.h"

#define REPORT_MAX	500		/* lines per file, then one summary */
#define SUGGEST_BUDGET	20000000L	/* edit-distance cells per file */
#define JP_MAX		768		/* bytes of a JSON path in a message */
#define QS_MAX		400		/* bytes of a quoted value in a message */
#define QS_CP		60		/* code points quoted before "..." */
#define NUM_LIMIT	9007199254740991.0	/* 2^53 - 1: exact in a double */
#define RETENTION_MAX	36500		/* days: 100 years */
#define AFFIX_MAX	PCS_FORM_TITLE_MAX /* number prefix/suffix */
#define IN_MAX		PCS_FORM_OPTIONS_MAX /* values in one "in" */

const char *const q_type_names[Q__MAX] = {
	[Q_TEXT] = "text", [Q_TEXTAREA] = "textarea", [Q_EMAIL] = "email",
	[Q_NUMBER] = "number", [Q_DATE] = "date", [Q_CHOICE] = "choice",
	[Q_SELECT] = "select", [Q_CHOICES] = "choices", [Q_SCALE] = "scale",
	[Q_CONSENT] = "consent", [Q_INFO] = "info",
};
const char *const q_store_names[STORE__MAX] = {
	[STORE_CLEAR] = "clear", [STORE_SEALED] = "sealed",
	[STORE_PSEUDONYM] = "pseudonym",
};
/* DIM_NONE is "": no dimension (an empty CSV cell, an absent JSON key). */
const char *const dim_names[DIM__MAX] = {
	[DIM_NONE] = "", [DIM_ICB] = "icb", [DIM_REGION] = "region",
	[DIM_ROLE] = "role", [DIM_STAFF_GROUP] = "staff_group",
	[DIM_ORG_TYPE] = "org_type",
};
const char *const audience_names[AUD__MAX] = {
	[AUD_STAFF] = "staff", [AUD_ORGANISATION] = "organisation",
	[AUD_PUBLIC] = "public",
};
const char *const form_status_names[FS__MAX] = {
	[FS_DRAFT] = "draft", [FS_OPEN] = "open", [FS_CLOSED] = "closed",
};
const char *const ts_precision_names[TS__MAX] = {
	[TS_DAY] = "day", [TS_WEEK] = "week", [TS_MONTH] = "month",
};
static const char *const access_names[ACCESS__MAX] = {
	[ACCESS_OPEN] = "open", [ACCESS_INVITE] = "invite",
};
static const char *const ref_names[REF__MAX] = {
	[REF_ICBS] = "icbs", [REF_REGIONS] = "regions",
	[REF_STAFF_ROLES] = "staff_roles", [REF_STAFF_GROUPS] = "staff_groups",
	[REF_ORG_TYPES] = "organisation_types",
};
/* forms.md: a dimension's answers come from its own reference list */
static const enum ref_list dim_list[DIM__MAX] = {
	[DIM_NONE] = REF__MAX, [DIM_ICB] = REF_ICBS,
	[DIM_REGION] = REF_REGIONS, [DIM_ROLE] = REF_STAFF_ROLES,
	[DIM_STAFF_GROUP] = REF_STAFF_GROUPS, [DIM_ORG_TYPE] = REF_ORG_TYPES,
};
/* Field names the pages POST besides question ids (http-api.md). */
static const char *const reserved_ids[] = { "csrf", "action" };

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Reporting                                                           */

struct jp {
	char	s[JP_MAX];
	size_t	len;
};

struct qref {
	const char	*id;
	size_t		 qidx;
};

struct ctx {
	char		 path[PCS_PATH_MAX];	/* as given, control bytes as '?' */
	FILE		*report;
	size_t		 nerr;
	bool		 oom;
	long		 budget;		/* suggestion work left */
	struct form	*f;
	struct qref	*ids;			/* question ids, sorted */
	size_t		 nids;
	const cJSON	**qjson;		/* per form->qs */
	size_t		*qpos;			/* index within its page */
	const cJSON	**pjson;		/* per form->pages */
};

static void problem(struct ctx *, const struct jp *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(struct ctx *x, const struct jp *jp, const char *fmt, ...)
{
	va_list ap;

	x->nerr++;
	if (x->report == NULL)
		return;
	if (x->nerr > REPORT_MAX) {
		if (x->nerr == REPORT_MAX + 1)
			fprintf(x->report, "%s: (file): more than %d problems; "
			    "fix these and check again to see the rest\n",
			    x->path, REPORT_MAX);
		return;
	}
	fprintf(x->report, "%s: %s: ", x->path, jp == NULL ? "(file)" :
	    jp->len > 0 ? jp->s : "(top level)");
	va_start(ap, fmt);
	vfprintf(x->report, fmt, ap);
	va_end(ap);
	fputc('\n', x->report);
}

static void
jp_addn(struct jp *p, const char *s, size_t n)
{
	if (n > sizeof(p->s) - 1 - p->len)
		n = sizeof(p->s) - 1 - p->len;
	memcpy(p->s + p->len, s, n);
	p->len += n;
	p->s[p->len] = '\0';
}

static bool
is_ident(const char *k, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/*
 * Writes s[0..n) as a double-quoted string for a message: quotes,
 * backslashes and control characters escaped, cut after QS_CP code points.
 */
static const char *
qsn(char out[QS_MAX], const char *s, size_t n)
{
	size_t o = 0, cp = 0;

	out[o++] = '"';
	for (size_t i = 0; i < n && o < QS_MAX - 12; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c & 0xC0) != 0x80 && cp++ == QS_CP) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c < 0x20 || c == 0x7F) {
			o += (size_t)snprintf(out + o, QS_MAX - o, "\\u%04x", c);
		} else
			out[o++] = (char)c;
	}
	/* never end inside a UTF-8 sequence */
	while (o > 1 && ((unsigned char)out[o - 1] & 0xC0) == 0x80) {
		size_t k = o - 1;

		while (k > 1 && ((unsigned char)out[k] & 0xC0) == 0x80)
			k--;
		{
			unsigned char lead = (unsigned char)out[k];
			size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 :
			    lead >= 0xC0 ? 2 : 1;

			if (o - k >= want)
				break;
			o = k;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

static const char *
qs(char out[QS_MAX], const char *s)
{
	return qsn(out, s ? s : "", s ? strlen(s) : 0);
}

/* Appends ".key" (or ["key"] when it is not a plain name); returns the old length. */
static size_t
jp_keyn(struct jp *p, const char *k, size_t n)
{
	size_t old = p->len;

	if (is_ident(k, n) && n <= 64) {
		if (p->len > 0)
			jp_addn(p, ".", 1);
		jp_addn(p, k, n);
	} else {
		char q[QS_MAX];

		jp_addn(p, "[", 1);
		qsn(q, k, n);
		jp_addn(p, q, strlen(q));
		jp_addn(p, "]", 1);
	}
	return old;
}

static size_t
jp_key(struct jp *p, const char *k)
{
	return jp_keyn(p, k, strlen(k));
}

static size_t
jp_idx(struct jp *p, size_t i)
{
	size_t old = p->len;
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "[%zu]", i);

	jp_addn(p, tmp, (size_t)n);
	return old;
}

static void
jp_pop(struct jp *p, size_t len)
{
	p->len = len;
	p->s[len] = '\0';
}

/* ------------------------------------------------------------------ */
/* Did you mean                                                        */

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * Optimal string alignment distance (a swap of two neighbours counts one),
 * ignoring ASCII case; SIZE_MAX when either is over 64 bytes or the budget
 * is spent.
 */
static size_t
osa(struct ctx *x, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t r[3][65];	/* rows i-2, i-1, i of the distance table */

	if (la > 64 || lb > 64 || x->budget < (long)((la + 1) * (lb + 1)))
		return SIZE_MAX;
	x->budget -= (long)((la + 1) * (lb + 1));
	for (size_t j = 0; j <= lb; j++)
		r[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		/* row i is r[i % 3]; rows i-1 and i-2 are the other two */
		size_t *c = r[i % 3], *p = r[(i - 1) % 3], *pp = r[(i + 1) % 3];

		c[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = lower(a[i - 1]) != lower(b[j - 1]);
			size_t v = p[j] + 1;

			if (c[j - 1] + 1 < v)
				v = c[j - 1] + 1;
			if (p[j - 1] + cost < v)
				v = p[j - 1] + cost;
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) &&
			    pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			c[j] = v;
		}
	}
	return r[la % 3][lb];
}

struct suggest {
	const char	*best;
	size_t		 dist;
};

static void
suggest_try(struct ctx *x, struct suggest *s, const char *got, const char *cand)
{
	size_t d, lg, lc, lim;

	if (cand == NULL || got == NULL || strcmp(got, cand) == 0)
		return;
	d = osa(x, got, cand);
	lg = strlen(got);
	lc = strlen(cand);
	lim = (lg > lc ? lg : lc) / 3 + 1;
	if (lim > 3)
		lim = 3;
	if (d <= lim && d < lc && (s->best == NULL || d < s->dist)) {
		s->best = cand;
		s->dist = d;
	}
}

/* " (did you mean \"x\"?)" or "" into out. */
static const char *
dym(char out[QS_MAX + 32], const struct suggest *s)
{
	char q[QS_MAX];

	out[0] = '\0';
	if (s->best == NULL)
		return out;
	snprintf(out, QS_MAX + 32, " (did you mean %s?)", qs(q, s->best));
	return out;
}

static const char *
dym_list(struct ctx *x, char out[QS_MAX + 32], const char *got,
    const char *const *cands, size_t n)
{
	struct suggest s = { NULL, 0 };

	for (size_t i = 0; i < n; i++)
		suggest_try(x, &s, got, cands[i]);
	return dym(out, &s);
}

/* "a, b or c" of names[] into out. */
static const char *
list_names(char *out, size_t outlen, const char *const *names, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (names[i] == NULL || names[i][0] == '\0')
			continue;
		o += (size_t)snprintf(out + o, outlen - o, "%s%s",
		    o == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
		if (o >= outlen)
			break;
	}
	return out;
}

/* ------------------------------------------------------------------ */
/* The raw scan, before cJSON                                          */

struct sframe {
	bool	obj;
	bool	haskey;
	size_t	idx;		/* array: index of the current element */
	size_t	koff, klen;	/* object: current key in s->kb */
	size_t	kbase;		/* object: first of its keys in s->keys */
	size_t	kbbase;		/* object: s->kb length at open */
};

struct skey {
	size_t		 off, len, line;
	const char	*p;	/* set at close, for sorting */
};

struct scan {
	struct ctx		*x;
	const unsigned char	*p;
	size_t			 n, i;
	size_t			 line, lstart;
	struct sframe		 st[PCS_FORM_JSON_DEPTH];
	size_t			 depth;
	struct skey		*keys;
	size_t			 nkeys, capkeys;
	struct buf		 kb;
};

static void
scan_path(const struct scan *s, struct jp *jp)
{
	jp->len = 0;
	jp->s[0] = '\0';
	for (size_t k = 0; k < s->depth; k++) {
		const struct sframe *f = &s->st[k];

		if (f->obj && f->haskey)
			jp_keyn(jp, s->kb.p ? s->kb.p + f->koff : "", f->klen);
		else if (!f->obj)
			jp_idx(jp, f->idx);
	}
}

static void scan_fail(struct scan *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
scan_fail(struct scan *s, const char *fmt, ...)
{
	struct jp jp;
	char msg[512];
	va_list ap;
	size_t col = utf8_count((const char *)s->p + s->lstart,
	    (s->i > s->n ? s->n : s->i) - s->lstart) + 1;

	scan_path(s, &jp);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	problem(s->x, &jp, "line %zu, column %zu: %s", s->line, col, msg);
}

/* What is at s->i, for "found ..." */
static const char *
scan_found(const struct scan *s, char out[QS_MAX])
{
	size_t n = 1;

	if (s->i >= s->n)
		return memcpy(out, "the end of the file", sizeof("the end of the file"));
	if (s->p[s->i] >= 0xC0)
		n = s->p[s->i] >= 0xF0 ? 4 : s->p[s->i] >= 0xE0 ? 3 : 2;
	if (n > s->n - s->i)
		n = s->n - s->i;
	return qsn(out, (const char *)s->p + s->i, n);
}

static void
scan_ws(struct scan *s)
{
	while (s->i < s->n) {
		unsigned char c = s->p[s->i];

		if (c == '\n') {
			s->line++;
			s->lstart = s->i + 1;
		} else if (c != ' ' && c != '\t' && c != '\r')
			break;
		s->i++;
	}
}

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

/* Reads \uXXXX at s->i (after the backslash and 'u'); -1 if malformed. */
static long
scan_hex4(struct scan *s)
{
	long v = 0;

	if (s->n - s->i < 4)
		return -1;
	for (int k = 0; k < 4; k++) {
		int h = hexval(s->p[s->i + (size_t)k]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	s->i += 4;
	return v;
}

static void
put_utf8(struct buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	buf_add(b, u, n);
}

/*
 * A string at s->i (on the opening quote).  The file is valid UTF-8
 * already.  Decodes into out when not NULL (keys).  False after reporting.
 */
static bool
scan_string(struct scan *s, struct buf *out)
{
	char q[QS_MAX];
	size_t esc;

	s->i++;
	for (;;) {
		unsigned char c;

		if (s->i >= s->n) {
			scan_fail(s, "the file ends inside text in quotes; "
			    "a closing \" is missing");
			return false;
		}
		c = s->p[s->i];
		if (c == '"') {
			s->i++;
			return true;
		}
		if (c < 0x20) {
			scan_fail(s, "a line break or control character inside "
			    "text in quotes; write \\n for a new line, or close "
			    "the quote");
			return false;
		}
		if (c != '\\') {
			if (out)
				buf_addc(out, (char)c);
			s->i++;
			continue;
		}
		esc = s->i++;
		if (s->i >= s->n) {
			scan_fail(s, "the file ends inside text in quotes");
			return false;
		}
		c = s->p[s->i++];
		switch (c) {
		case '"': case '\\': case '/':
			if (out)
				buf_addc(out, (char)c);
			break;
		case 'b': case 'f': case 'n': case 'r': case 't':
			if (out)
				buf_addc(out, c == 'b' ? '\b' : c == 'f' ? '\f' :
				    c == 'n' ? '\n' : c == 'r' ? '\r' : '\t');
			break;
		case 'u': {
			long hi = scan_hex4(s), lo = -1;
			size_t after = s->i;

			if (hi >= 0xD800 && hi <= 0xDBFF && s->n - after >= 6 &&
			    s->p[after] == '\\' && s->p[after + 1] == 'u') {
				s->i = after + 2;
				lo = scan_hex4(s);
			}
			if (hi < 0 || hi == 0 || (hi >= 0xDC00 && hi <= 0xDFFF) ||
			    (hi >= 0xD800 && hi <= 0xDBFF &&
			    (lo < 0xDC00 || lo > 0xDFFF))) {
				s->i = esc;	/* point at the backslash */
				if (hi < 0)
					scan_fail(s, "\\u must be followed by "
					    "four hex digits, e.g. \\u00e9");
				else if (hi == 0)
					scan_fail(s, "\\u0000 (a NUL character) "
					    "is not allowed in a form");
				else if (hi >= 0xDC00)
					scan_fail(s, "\\u%04lX is the second "
					    "half of a surrogate pair without its "
					    "first half", hi);
				else
					scan_fail(s, "\\u%04lX is the first half "
					    "of a surrogate pair without its "
					    "second half", hi);
				return false;
			}
			if (out == NULL)
				break;
			if (lo >= 0)
				put_utf8(out, 0x10000 +
				    (((unsigned long)hi - 0xD800) << 10) +
				    ((unsigned long)lo - 0xDC00));
			else
				put_utf8(out, (unsigned long)hi);
			break;
		}
		default:
			s->i = esc;
			if (c > 0x20 && c < 0x7F)
				scan_fail(s, "\\%c is not a valid escape; use "
				    "\\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or "
				    "\\uXXXX", c);
			else
				scan_fail(s, "a backslash must start an escape: "
				    "\\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or "
				    "\\uXXXX (write \\\\ for a backslash)");
			(void)q;
			return false;
		}
	}
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
scan_number(struct scan *s)
{
	size_t st = s->i;
	char q[QS_MAX];
	bool ok = true;

	if (s->i < s->n && s->p[s->i] == '-')
		s->i++;
	if (s->i < s->n && s->p[s->i] == '0')
		s->i++;
	else if (s->i < s->n && is_digit(s->p[s->i]))
		while (s->i < s->n && is_digit(s->p[s->i]))
			s->i++;
	else
		ok = false;
	if (ok && s->i < s->n && s->p[s->i] == '.') {
		s->i++;
		if (s->i >= s->n || !is_digit(s->p[s->i]))
			ok = false;
		while (s->i < s->n && is_digit(s->p[s->i]))
			s->i++;
	}
	if (ok && s->i < s->n && (s->p[s->i] == 'e' || s->p[s->i] == 'E')) {
		s->i++;
		if (s->i < s->n && (s->p[s->i] == '+' || s->p[s->i] == '-'))
			s->i++;
		if (s->i >= s->n || !is_digit(s->p[s->i]))
			ok = false;
		while (s->i < s->n && is_digit(s->p[s->i]))
			s->i++;
	}
	if (ok && s->i < s->n && (is_digit(s->p[s->i]) ||
	    s->p[s->i] == '.' || (s->p[s->i] >= 'a' && s->p[s->i] <= 'z') ||
	    (s->p[s->i] >= 'A' && s->p[s->i] <= 'Z')))
		ok = false;
	if (!ok) {
		size_t e = s->i;

		while (e < s->n && e - st < 40 && (is_digit(s->p[e]) ||
		    strchr("+-.eExXabcdfABCDF", s->p[e]) != NULL) &&
		    s->p[e] != '\0')
			e++;
		s->i = st;
		scan_fail(s, "%s is not a number JSON accepts; write whole "
		    "numbers like 42 or -5 (no leading zeros, no +)",
		    qsn(q, (const char *)s->p + st, e > st ? e - st : 1));
		return false;
	}
	return true;
}

static int
skey_cmp(const void *a, const void *b)
{
	const struct skey *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = n ? memcmp(x->p, y->p, n) : 0;

	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Closing an object: report keys given twice (forms.md: Limits). */
static void
scan_close_obj(struct scan *s)
{
	struct sframe *f = &s->st[s->depth - 1];
	size_t nk = s->nkeys - f->kbase;
	struct skey *k = s->keys != NULL ? s->keys + f->kbase : NULL;

	if (k != NULL && nk > 1 && s->kb.err == PCS_OK) {
		for (size_t i = 0; i < nk; i++)
			k[i].p = s->kb.p ? s->kb.p + k[i].off : "";
		qsort(k, nk, sizeof(*k), skey_cmp);
		f->haskey = false;
		for (size_t i = 1; i < nk; i++) {
			struct jp jp;
			char q[QS_MAX];

			if (k[i].len != k[i - 1].len || (k[i].len &&
			    memcmp(k[i].p, k[i - 1].p, k[i].len) != 0))
				continue;
			scan_path(s, &jp);
			jp_keyn(&jp, k[i].p, k[i].len);
			problem(s->x, &jp, "the key %s is given more than once "
			    "in the same object (lines %zu and %zu); keep only "
			    "one", qsn(q, k[i].p, k[i].len), k[i - 1].line,
			    k[i].line);
		}
	}
	s->nkeys = f->kbase;
	s->kb.len = f->kbbase;
	s->depth--;
}

static bool
scan_push(struct scan *s, bool obj)
{
	struct sframe *f;

	if (s->depth >= PCS_FORM_JSON_DEPTH) {
		scan_fail(s, "the JSON is nested more than %d levels deep",
		    PCS_FORM_JSON_DEPTH);
		return false;
	}
	f = &s->st[s->depth++];
	*f = (struct sframe){ .obj = obj, .kbase = s->nkeys,
	    .kbbase = s->kb.len };
	return true;
}

static bool
scan_key(struct scan *s)
{
	struct sframe *f = &s->st[s->depth - 1];
	size_t off = s->kb.len;

	if (s->nkeys == s->capkeys) {
		size_t ncap = s->capkeys ? s->capkeys * 2 : 64;
		struct skey *nk = realloc(s->keys, ncap * sizeof(*nk));

		if (nk == NULL) {
			s->x->oom = true;
			scan_fail(s, "out of memory");
			return false;
		}
		s->keys = nk;
		s->capkeys = ncap;
	}
	if (!scan_string(s, &s->kb))
		return false;
	if (s->kb.err != PCS_OK) {
		s->x->oom = true;
		scan_fail(s, "out of memory");
		return false;
	}
	s->keys[s->nkeys++] = (struct skey){ off, s->kb.len - off, s->line,
	    NULL };
	f->koff = off;
	f->klen = s->kb.len - off;
	f->haskey = true;
	return true;
}

/* Position of the first byte that breaks UTF-8 (RFC 3629), or n. */
static size_t
utf8_bad_at(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t k;

		for (k = 1; k <= 4 && i + k <= n; k++)
			if (utf8_valid((const char *)p + i, k))
				break;
		if (k > 4 || i + k > n)
			return i;
		i += k;
	}
	return n;
}

static bool
scan_literal(struct scan *s)
{
	static const char *const words[] = { "true", "false", "null" };
	char q[QS_MAX];

	for (size_t w = 0; w < NELEM(words); w++) {
		size_t l = strlen(words[w]);

		if (s->n - s->i >= l && memcmp(s->p + s->i, words[w], l) == 0 &&
		    (s->n - s->i == l || !((s->p[s->i + l] >= 'a' &&
		    s->p[s->i + l] <= 'z') || (s->p[s->i + l] >= 'A' &&
		    s->p[s->i + l] <= 'Z') || is_digit(s->p[s->i + l])))) {
			s->i += l;
			return true;
		}
	}
	if (s->p[s->i] == '\'')
		scan_fail(s, "text must be in double quotes (\"), not single "
		    "quotes");
	else if (s->p[s->i] == ']' || s->p[s->i] == '}')
		scan_fail(s, "expected a value but found %s; is there a comma "
		    "too many before it?", scan_found(s, q));
	else
		scan_fail(s, "expected a value (text in double quotes, a "
		    "number, true, false, null, { or [) but found %s",
		    scan_found(s, q));
	return false;
}

/*
 * The whole file, iteratively.  Reports the first syntax problem (nothing
 * after it can be trusted) and every duplicate key.  True when cJSON may
 * parse it.
 */
static bool
scan(struct ctx *x, const char *data, size_t len)
{
	struct scan s = { .x = x, .p = (const unsigned char *)data, .n = len,
	    .line = 1 };
	size_t errs0 = x->nerr;
	char q[QS_MAX];
	bool ok = false;

	buf_init(&s.kb, PCS_FORM_FILE_MAX * 2);
	if (len == 0) {
		problem(x, NULL, "the file is empty; a form is one JSON object "
		    "{ ... }");
		goto out;
	}
	if (!utf8_valid(data, len)) {
		size_t at = utf8_bad_at(s.p, len);

		for (size_t k = 0; k < at; k++)
			if (s.p[k] == '\n') {
				s.line++;
				s.lstart = k + 1;
			}
		s.i = at;
		scan_fail(&s, "this is not valid UTF-8 text (byte 0x%02X); save "
		    "the file as UTF-8", s.p[at]);
		goto out;
	}
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		scan_fail(&s, "the file starts with a byte order mark; save it "
		    "as UTF-8 without BOM");
		goto out;
	}
	scan_ws(&s);
value:
	scan_ws(&s);
	if (s.i >= s.n) {
		scan_fail(&s, "the file ends too early: a value or a closing } "
		    "or ] is missing");
		goto out;
	}
	switch (s.p[s.i]) {
	case '{':
		if (!scan_push(&s, true))
			goto out;
		s.i++;
		scan_ws(&s);
		if (s.i < s.n && s.p[s.i] == '}') {
			s.i++;
			scan_close_obj(&s);
			goto after;
		}
		goto key;
	case '[':
		if (!scan_push(&s, false))
			goto out;
		s.i++;
		scan_ws(&s);
		if (s.i < s.n && s.p[s.i] == ']') {
			s.i++;
			s.depth--;
			goto after;
		}
		goto value;
	case '"':
		if (!scan_string(&s, NULL))
			goto out;
		goto after;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		if (!scan_number(&s))
			goto out;
		goto after;
	default:
		if (!scan_literal(&s))
			goto out;
		goto after;
	}
after:
	scan_ws(&s);
	if (s.depth == 0) {
		if (s.i < s.n) {
			scan_fail(&s, "there is more after the end of the form's "
			    "closing }; found %s", scan_found(&s, q));
			goto out;
		}
		ok = true;
		goto out;
	}
	if (s.i >= s.n) {
		scan_fail(&s, "the file ends too early: a closing %s is "
		    "missing", s.st[s.depth - 1].obj ? "}" : "]");
		goto out;
	}
	if (s.st[s.depth - 1].obj) {
		if (s.p[s.i] == ',') {
			s.i++;
			s.st[s.depth - 1].haskey = false;
			scan_ws(&s);
			if (s.i < s.n && s.p[s.i] == '}') {
				scan_fail(&s, "there is a comma before }; remove "
				    "it");
				goto out;
			}
			goto key;
		}
		if (s.p[s.i] == '}') {
			s.i++;
			scan_close_obj(&s);
			goto after;
		}
		scan_fail(&s, "expected , or } after this value but found %s; "
		    "is a comma missing?", scan_found(&s, q));
		goto out;
	}
	if (s.p[s.i] == ',') {
		s.i++;
		s.st[s.depth - 1].idx++;
		goto value;
	}
	if (s.p[s.i] == ']') {
		s.i++;
		s.depth--;
		goto after;
	}
	scan_fail(&s, "expected , or ] after this value but found %s; is a "
	    "comma missing?", scan_found(&s, q));
	goto out;
key:
	if (s.i >= s.n || s.p[s.i] != '"') {
		scan_fail(&s, "expected a key in double quotes but found %s",
		    scan_found(&s, q));
		goto out;
	}
	if (!scan_key(&s))
		goto out;
	scan_ws(&s);
	if (s.i >= s.n || s.p[s.i] != ':') {
		scan_fail(&s, "expected : after the key but found %s",
		    scan_found(&s, q));
		goto out;
	}
	s.i++;
	goto value;
out:
	free(s.keys);
	buf_release(&s.kb);
	return ok && x->nerr == errs0;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

static char *
xstrdup(struct ctx *x, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		x->oom = true;
	return p;
}

static void *
xcalloc(struct ctx *x, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		x->oom = true;
	return p;
}

static size_t
arr_len(const cJSON *a)
{
	size_t n = 0;
	const cJSON *e;

	cJSON_ArrayForEach(e, a)
		n++;
	return n;
}

static const cJSON *
get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* [a-z0-9][a-z0-9-]{0,63} (form), [a-z][a-z0-9-]{0,63} (page) */
static bool
id_form_ok(const char *s, bool page)
{
	size_t n = strlen(s);

	if (n == 0 || n > PCS_FORM_ID_MAX)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (!page && is_digit((unsigned char)s[0]))))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || is_digit((unsigned char)s[i]) ||
		    s[i] == '-'))
			return false;
	return true;
}

/* [a-z][a-z0-9_]{0,62} without "__" (questions, statements) */
static bool
id_q_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || is_digit((unsigned char)s[i]) ||
		    s[i] == '_'))
			return false;
	return strstr(s, "__") == NULL;
}

/* [a-z0-9_]{1,64} (option values) */
static bool
value_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PCS_FORM_VALUE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || is_digit((unsigned char)s[i]) ||
		    s[i] == '_'))
			return false;
	return true;
}

static bool
blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

enum kind { K_LINE, K_TEXT };

/*
 * forms.md "text": [label](url) is a link and its url must be https.  A
 * link is '[' label ']' '(' url ')' with no line break in the label and no
 * space in the url, the shape html_paras() turns into <a>.
 */
static void
check_links(struct ctx *x, const struct jp *jp, const char *s)
{
	char q[QS_MAX];

	for (const char *p = s; (p = strchr(p, '[')) != NULL; p++) {
		const char *e = p + 1, *u, *ue;

		while (*e && *e != ']' && *e != '[' && *e != '\n')
			e++;
		if (*e != ']' || e[1] != '(')
			continue;
		u = e + 2;
		ue = u;
		while (*ue && *ue != ')' && *ue != ' ' && *ue != '\t' &&
		    *ue != '\n')
			ue++;
		if (*ue != ')')
			continue;
		if (e == p + 1 || blank(p + 1) ||
		    (size_t)(e - p - 1) == strspn(p + 1, " \t"))
			problem(x, jp, "the link %s has no text between [ and ]",
			    qsn(q, p, (size_t)(ue - p + 1)));
		if ((size_t)(ue - u) <= 8 || strncmp(u, "https://", 8) != 0)
			problem(x, jp, "the link %s must point to an address "
			    "starting with https:// (other kinds of link are not "
			    "allowed)", qsn(q, p, (size_t)(ue - p + 1)));
		p = ue;
	}
}

/* Checks a string value; returns a copy or NULL (reported). */
static char *
check_string(struct ctx *x, const struct jp *jp, const cJSON *v, size_t maxcp,
    enum kind kind)
{
	const char *s;
	size_t n, cp;

	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		problem(x, jp, "must be text in double quotes");
		return NULL;
	}
	s = v->valuestring;
	n = strlen(s);
	if (blank(s)) {
		problem(x, jp, "is empty; write the text here");
		return NULL;
	}
	cp = utf8_count(s, n);
	if (maxcp > 0 && cp > maxcp) {
		problem(x, jp, "is %zu characters long; the limit is %zu", cp,
		    maxcp);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (kind == K_TEXT && (c == '\n' || c == '\t'))
			continue;
		if (c < 0x20 || c == 0x7F) {
			problem(x, jp, kind == K_LINE ? "must be one line, "
			    "without line breaks or control characters" :
			    "contains a control character; only line breaks "
			    "(\\n) and tabs are allowed");
			return NULL;
		}
	}
	if (kind == K_TEXT)
		check_links(x, jp, s);
	return xstrdup(x, s);
}

/* Optional or required string member key of obj. */
static char *
get_string(struct ctx *x, struct jp *jp, const cJSON *obj, const char *key,
    bool required, size_t maxcp, enum kind kind, const char *why)
{
	const cJSON *v = get(obj, key);
	size_t old = jp_key(jp, key);
	char *r = NULL;

	if (v == NULL) {
		if (required)
			problem(x, jp, "is missing; %s", why);
	} else
		r = check_string(x, jp, v, maxcp, kind);
	jp_pop(jp, old);
	return r;
}

/* A whole number in [lo, hi]; true when present and valid. */
static bool
check_int(struct ctx *x, const struct jp *jp, const cJSON *v, double lo,
    double hi, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v)) {
		problem(x, jp, "must be a whole number (without quotes)");
		return false;
	}
	d = v->valuedouble;
	if (!(d >= lo && d <= hi)) {
		problem(x, jp, "must be a whole number from %.0f to %.0f", lo,
		    hi);
		return false;
	}
	if ((double)(int64_t)d != d) {
		problem(x, jp, "must be a whole number, without a fraction");
		return false;
	}
	*out = (int64_t)d;
	return true;
}

static bool
get_int(struct ctx *x, struct jp *jp, const cJSON *obj, const char *key,
    bool required, double lo, double hi, int64_t *out, const char *why)
{
	const cJSON *v = get(obj, key);
	size_t old = jp_key(jp, key);
	bool ok = false;

	if (v == NULL) {
		if (required)
			problem(x, jp, "is missing; %s", why);
	} else
		ok = check_int(x, jp, v, lo, hi, out);
	jp_pop(jp, old);
	return ok;
}

static bool
get_bool(struct ctx *x, struct jp *jp, const cJSON *obj, const char *key,
    bool *out)
{
	const cJSON *v = get(obj, key);
	size_t old;
	bool ok = false;

	if (v == NULL)
		return false;
	old = jp_key(jp, key);
	if (!cJSON_IsBool(v))
		problem(x, jp, "must be true or false (without quotes)");
	else {
		*out = cJSON_IsTrue(v);
		ok = true;
	}
	jp_pop(jp, old);
	return ok;
}

/* One of names[first..n); true when present and valid. */
static bool
get_enum(struct ctx *x, struct jp *jp, const cJSON *obj, const char *key,
    bool required, const char *const *names, size_t first, size_t n,
    int *out, const char *why)
{
	const cJSON *v = get(obj, key);
	size_t old = jp_key(jp, key);
	char q[QS_MAX], d[QS_MAX + 32], list[512];
	bool ok = false;

	if (v == NULL) {
		if (required)
			problem(x, jp, "is missing; %s (use %s)", why,
			    list_names(list, sizeof(list), names + first,
			    n - first));
		goto out;
	}
	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		problem(x, jp, "must be one of %s, in double quotes",
		    list_names(list, sizeof(list), names + first, n - first));
		goto out;
	}
	for (size_t i = first; i < n; i++)
		if (strcmp(names[i], v->valuestring) == 0) {
			*out = (int)i;
			ok = true;
			goto out;
		}
	problem(x, jp, "%s is not allowed here%s; use %s",
	    qs(q, v->valuestring),
	    dym_list(x, d, v->valuestring, names + first, n - first),
	    list_names(list, sizeof(list), names + first, n - first));
out:
	jp_pop(jp, old);
	return ok;
}

static bool
get_date(struct ctx *x, struct jp *jp, const cJSON *obj, const char *key,
    bool allow_today, bool *today, int64_t *out)
{
	const cJSON *v = get(obj, key);
	size_t old;
	char q[QS_MAX];
	bool ok = false;

	if (v == NULL)
		return false;
	old = jp_key(jp, key);
	if (today)
		*today = false;
	if (cJSON_IsString(v) && v->valuestring != NULL) {
		if (allow_today && strcmp(v->valuestring, "today") == 0) {
			*today = true;
			ok = true;
		} else if (date_parse(str_cstr(v->valuestring), out))
			ok = true;
	}
	if (!ok)
		problem(x, jp, "%s is not a date; write it as YYYY-MM-DD, e.g. "
		    "2026-03-31%s", cJSON_IsString(v) ? qs(q, v->valuestring) :
		    "this", allow_today ? ", or \"today\"" : "");
	jp_pop(jp, old);
	return ok;
}

/* Unknown keys are errors (forms.md: Limits). */
static void
check_keys(struct ctx *x, struct jp *jp, const cJSON *obj,
    const char *const *keys, size_t n, const char *what)
{
	const cJSON *m;
	char q[QS_MAX], d[QS_MAX + 32], list[512];

	cJSON_ArrayForEach(m, obj) {
		size_t i, old;

		for (i = 0; i < n; i++)
			if (strcmp(m->string, keys[i]) == 0)
				break;
		if (i < n)
			continue;
		old = jp_key(jp, m->string);
		problem(x, jp, "unknown key %s%s; %s may have only %s",
		    qs(q, m->string), dym_list(x, d, m->string, keys, n), what,
		    list_names(list, sizeof(list), keys, n));
		jp_pop(jp, old);
	}
}

static bool
want_object(struct ctx *x, const struct jp *jp, const cJSON *v,
    const char *what)
{
	if (cJSON_IsObject(v))
		return true;
	problem(x, jp, "%s must be an object in { }", what);
	return false;
}

/* An array with lo..hi elements; returns how many to read (<= hi). */
static size_t
want_array(struct ctx *x, const struct jp *jp, const cJSON *v, size_t lo,
    size_t hi, const char *what)
{
	size_t n;

	if (!cJSON_IsArray(v)) {
		problem(x, jp, "must be a list in [ ] of %s", what);
		return 0;
	}
	n = arr_len(v);
	if (n < lo) {
		if (lo == 1)
			problem(x, jp, "is empty; it needs at least one of its "
			    "%s", what);
		else
			problem(x, jp, "must have at least %zu %s", lo, what);
		return 0;
	}
	if (n > hi) {
		problem(x, jp, "has %zu %s; the limit is %zu (only the first "
		    "%zu were checked)", n, what, hi, hi);
		return hi;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */

static const char *const opt_keys[] = { "value", "label", "hint",
    "exclusive" };
static const char *const stmt_keys[] = { "id", "label" };

static void
option_release(struct option *o)
{
	free(o->value);
	free(o->label);
	free(o->hint);
}

/* Room for one more option in q->opts. */
static bool
opts_grow(struct ctx *x, struct question *q, size_t cap)
{
	struct option *n = realloc(q->opts, (cap ? cap : 1) * sizeof(*n));

	if (n == NULL) {
		x->oom = true;
		return false;
	}
	q->opts = n;
	return true;
}

static void
parse_options(struct ctx *x, struct jp *jp, const cJSON *arr,
    struct question *q)
{
	size_t n = want_array(x, jp, arr, 1, PCS_FORM_OPTIONS_MAX, "options");
	const cJSON *e;
	size_t i = 0;
	char q1[QS_MAX];

	if (n == 0)
		return;
	if ((q->opts = xcalloc(x, n + 1, sizeof(*q->opts))) == NULL)
		return;
	cJSON_ArrayForEach(e, arr) {
		size_t old = jp_idx(jp, i);
		struct option *o = &q->opts[q->nopts];
		const cJSON *v;

		if (i++ >= n) {
			jp_pop(jp, old);
			break;
		}
		if (!want_object(x, jp, e, "each option")) {
			jp_pop(jp, old);
			continue;
		}
		check_keys(x, jp, e, opt_keys, NELEM(opt_keys), "an option");
		memset(o, 0, sizeof(*o));
		v = get(e, "value");
		{
			size_t o2 = jp_key(jp, "value");

			if (v == NULL)
				problem(x, jp, "is missing; every option needs "
				    "a value, e.g. \"yes\"");
			else if (!cJSON_IsString(v) || v->valuestring == NULL)
				problem(x, jp, "must be text in double quotes, "
				    "e.g. \"1\" (not a number)");
			else if (!value_ok(v->valuestring))
				problem(x, jp, "%s is not a valid option value; "
				    "use 1 to 64 lower-case letters, digits and "
				    "_ (e.g. \"not_sure\")",
				    qs(q1, v->valuestring));
			else {
				for (size_t k = 0; k < q->nopts; k++)
					if (strcmp(q->opts[k].value,
					    v->valuestring) == 0) {
						problem(x, jp, "%s is already "
						    "the value of options[%zu]; "
						    "values must be unique",
						    qs(q1, v->valuestring), k);
						v = NULL;
						break;
					}
				if (v != NULL && strcmp(v->valuestring, "other") == 0 &&
				    (q->type == Q_CHOICE || q->type == Q_SELECT) &&
				    !q->other)
					problem(x, jp, "\"other\" is kept for "
					    "the free-text \"Other\" answer; add "
					    "\"other\": true to the question to "
					    "mean that, or use another value "
					    "such as \"other_%s\"", q->id ?
					    q->id : "answer");
				if (v != NULL)
					o->value = xstrdup(x, v->valuestring);
			}
			jp_pop(jp, o2);
		}
		o->label = get_string(x, jp, e, "label", true,
		    PCS_FORM_HINT_MAX, K_LINE, "every option needs a label");
		o->hint = get_string(x, jp, e, "hint", false, PCS_FORM_HINT_MAX,
		    K_TEXT, "");
		if (get_bool(x, jp, e, "exclusive", &o->exclusive) &&
		    o->exclusive && q->type != Q_CHOICES) {
			size_t o2 = jp_key(jp, "exclusive");

			problem(x, jp, "only an option of a choices (checkbox) "
			    "question can be exclusive");
			jp_pop(jp, o2);
		}
		if (o->value != NULL && o->label != NULL)
			q->nopts++;
		else {
			option_release(o);
			memset(o, 0, sizeof(*o));
		}
		jp_pop(jp, old);
	}
}

static int
opt_cmp_group(const void *a, const void *b)
{
	const struct option *x = a, *y = b;
	int c = strcmp(x->group ? x->group : "", y->group ? y->group : "");

	return c != 0 ? c : strcmp(x->label, y->label);
}

/* options_from: the entries valid on the reference date (forms.md). */
static void
options_from_ref(struct ctx *x, struct jp *jp, struct question *q)
{
	const struct ref_table *t = ref_table(q->options_from);
	size_t n = 0;

	if (t == NULL) {
		problem(x, jp, "the reference lists are not loaded (a bug)");
		return;
	}
	if ((q->opts = xcalloc(x, t->n + 1, sizeof(*q->opts))) == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		const struct ref_entry *e = &t->v[i];
		struct option *o = &q->opts[n];

		if (!ref_valid_on(e, x->f->reference_date))
			continue;
		o->value = xstrdup(x, e->code);
		o->label = xstrdup(x, e->label);
		o->parent = e->parent;
		if (q->options_from == REF_ICBS) {
			const struct ref_entry *r = ref_find(REF_REGIONS,
			    e->parent, strlen(e->parent));

			o->group = r ? r->label : NULL;
		}
		if (o->value == NULL || o->label == NULL) {
			option_release(o);
			memset(o, 0, sizeof(*o));
			continue;
		}
		n++;
	}
	q->nopts = n;
	if (n == 0) {
		char d[11];

		date_format(x->f->reference_date, d);
		problem(x, jp, "no entry of %s is valid on the reference date "
		    "%s; check reference_date", ref_names[q->options_from], d);
		return;
	}
	/* forms.md: an icbs list is grouped by region, ordered by name */
	if (q->options_from == REF_ICBS)
		qsort(q->opts, n, sizeof(*q->opts), opt_cmp_group);
}

static void
parse_statements(struct ctx *x, struct jp *jp, const cJSON *arr,
    struct question *q)
{
	size_t n = want_array(x, jp, arr, 1, PCS_FORM_STMTS_MAX, "statements");
	const cJSON *e;
	size_t i = 0;
	char q1[QS_MAX];

	if (n == 0)
		return;
	if ((q->stmts = xcalloc(x, n, sizeof(*q->stmts))) == NULL)
		return;
	cJSON_ArrayForEach(e, arr) {
		size_t old = jp_idx(jp, i);
		struct statement *s = &q->stmts[q->nstmts];
		char *id = NULL;

		if (i++ >= n) {
			jp_pop(jp, old);
			break;
		}
		if (!want_object(x, jp, e, "each statement")) {
			jp_pop(jp, old);
			continue;
		}
		check_keys(x, jp, e, stmt_keys, NELEM(stmt_keys), "a statement");
		id = get_string(x, jp, e, "id", true, 0, K_LINE,
		    "every statement needs an id, e.g. \"valued\"");
		if (id != NULL) {
			size_t o2 = jp_key(jp, "id");

			if (!id_q_ok(id)) {
				problem(x, jp, "%s is not a valid statement id; "
				    "start with a lower-case letter, then up to "
				    "62 lower-case letters, digits or single _ "
				    "(no \"__\")", qs(q1, id));
				free(id);
				id = NULL;
			} else
				for (size_t k = 0; k < q->nstmts; k++)
					if (strcmp(q->stmts[k].id, id) == 0) {
						problem(x, jp, "%s is already "
						    "the id of statements[%zu]; "
						    "ids must be unique",
						    qs(q1, id), k);
						free(id);
						id = NULL;
						break;
					}
			jp_pop(jp, o2);
		}
		s->id = id;
		s->label = get_string(x, jp, e, "label", true,
		    PCS_FORM_LABEL_MAX, K_LINE,
		    "every statement needs a label");
		if (s->id != NULL && s->label != NULL && q->id != NULL) {
			size_t fl = strlen(q->id) + 2 + strlen(s->id) + 1;

			if ((s->field = malloc(fl)) == NULL)
				x->oom = true;
			else
				snprintf(s->field, fl, "%s__%s", q->id, s->id);
		}
		if (s->field != NULL)
			q->nstmts++;
		else {
			free(s->id);
			free(s->label);
			memset(s, 0, sizeof(*s));
		}
		jp_pop(jp, old);
	}
}

/* ------------------------------------------------------------------ */
/* Questions                                                           */

#define TM(t)		(1u << (t))
#define TM_ALL		((1u << Q__MAX) - 1)
#define TM_ANSWER	(TM_ALL & ~TM(Q_INFO))
#define TM_OPTS		(TM(Q_CHOICE) | TM(Q_SELECT) | TM(Q_CHOICES))

/* forms.md: Question, common keys and the extra keys of each type */
static const struct qkey {
	const char	*name;
	unsigned	 types;
} qkeys[] = {
	{ "id", TM_ALL }, { "type", TM_ALL }, { "label", TM_ANSWER },
	{ "hint", TM_ANSWER }, { "required", TM_ANSWER },
	{ "show_if", TM_ALL }, { "store", TM_ANSWER },
	{ "dimension", TM_ANSWER }, { "text", TM(Q_INFO) },
	{ "max_length", TM(Q_TEXT) | TM(Q_TEXTAREA) },
	{ "pattern", TM(Q_TEXT) }, { "pattern_message", TM(Q_TEXT) },
	{ "min", TM(Q_NUMBER) | TM(Q_DATE) },
	{ "max", TM(Q_NUMBER) | TM(Q_DATE) },
	{ "prefix", TM(Q_NUMBER) }, { "suffix", TM(Q_NUMBER) },
	{ "options", TM_OPTS | TM(Q_SCALE) }, { "options_from", TM_OPTS },
	{ "other", TM(Q_CHOICE) | TM(Q_SELECT) },
	{ "min_selected", TM(Q_CHOICES) }, { "max_selected", TM(Q_CHOICES) },
	{ "statements", TM(Q_SCALE) },
};

static void
check_qkeys(struct ctx *x, struct jp *jp, const cJSON *obj, int type)
{
	const char *allowed[NELEM(qkeys)];
	size_t na = 0;
	const cJSON *m;
	char q[QS_MAX], d[QS_MAX + 32], list[512];
	unsigned mask = type >= 0 && type < Q__MAX ? TM(type) : TM_ALL;

	for (size_t i = 0; i < NELEM(qkeys); i++)
		if (qkeys[i].types & mask)
			allowed[na++] = qkeys[i].name;
	cJSON_ArrayForEach(m, obj) {
		size_t i, old;

		for (i = 0; i < NELEM(qkeys); i++)
			if (strcmp(m->string, qkeys[i].name) == 0)
				break;
		if (i < NELEM(qkeys) && (qkeys[i].types & mask))
			continue;
		old = jp_key(jp, m->string);
		if (i < NELEM(qkeys))
			problem(x, jp, "%s does not apply to %s %s question; "
			    "remove it", qs(q, m->string),
			    type == Q_INFO || type == Q_EMAIL ? "an" : "a",
			    q_type_names[type]);
		else if (mask == TM_ALL)
			problem(x, jp, "unknown key %s%s; a question may have "
			    "only %s", qs(q, m->string),
			    dym_list(x, d, m->string, allowed, na),
			    list_names(list, sizeof(list), allowed, na));
		else
			problem(x, jp, "unknown key %s%s; %s %s question may "
			    "have only %s", qs(q, m->string),
			    dym_list(x, d, m->string, allowed, na),
			    type == Q_INFO || type == Q_EMAIL ? "an" : "a",
			    q_type_names[type],
			    list_names(list, sizeof(list), allowed, na));
		jp_pop(jp, old);
	}
}

#define PATTERN_NODES_MAX	2000	/* expanded size glibc compiles at once */
#define PATTERN_DUP_MAX		255	/* POSIX _POSIX_RE_DUP_MAX */
#define PATTERN_DEPTH_MAX	64

/*
 * glibc regcomp() expands {m,n} into copies, so nested counts blow up
 * ("((a{1,100}){1,100}){1,100}" takes seconds and a gigabyte) and so does a
 * count after *, + or ? (undefined in POSIX ERE anyway).  Estimates the
 * expanded size without compiling; returns why it is refused, or NULL
 * (regcomp() then reports any syntax error itself).
 */
static const char *
pattern_too_complex(const char *s)
{
	size_t tot[PATTERN_DEPTH_MAX + 1] = { 0 }, last[PATTERN_DEPTH_MAX + 1] = { 0 };
	size_t d = 0, size;
	bool quant = false;

	for (size_t i = 0; s[i] != '\0'; i++) {
		switch (s[i]) {
		case '\\':
			if (is_digit((unsigned char)s[i + 1]))
				return "uses a back-reference (\\1 to \\9), which "
				    "is not allowed: it makes matching slow";
			if (s[i + 1] != '\0')
				i++;
			size = 1;
			break;
		case '[': {
			size_t j = i + 1;

			if (s[j] == '^')
				j++;
			if (s[j] == ']')
				j++;
			while (s[j] != '\0' && s[j] != ']') {
				if (s[j] == '[' && (s[j + 1] == ':' ||
				    s[j + 1] == '.' || s[j + 1] == '=')) {
					char end[3] = { s[j + 1], ']', '\0' };
					const char *k = strstr(s + j + 2, end);

					if (k == NULL)
						return NULL;
					j = (size_t)(k - s) + 2;
					continue;
				}
				j++;
			}
			if (s[j] == '\0')
				return NULL;
			i = j;
			size = 1;
			break;
		}
		case '(':
			if (d == PATTERN_DEPTH_MAX)
				return "has brackets nested too deeply";
			d++;
			tot[d] = last[d] = 0;
			quant = false;
			continue;
		case ')':
			if (d == 0) {
				size = 1;
				break;
			}
			size = tot[d] ? tot[d] : 1;
			d--;
			break;
		case '|':
			last[d] = 0;
			quant = false;
			continue;
		case '*':
		case '+':
		case '?':
			if (quant)
				return "has two repetition marks in a row (such "
				    "as ** or *{2}); use one";
			quant = true;
			continue;
		case '{': {
			size_t m = 0, n = 0, j = i + 1;
			bool comma = false, hasn = false;

			if (!is_digit((unsigned char)s[j]) && s[j] != ',') {
				size = 1;
				break;
			}
			while (is_digit((unsigned char)s[j]) && m <= PATTERN_DUP_MAX)
				m = m * 10 + (size_t)(s[j++] - '0');
			if (s[j] == ',') {
				comma = true;
				j++;
				while (is_digit((unsigned char)s[j]) &&
				    n <= PATTERN_DUP_MAX) {
					n = n * 10 + (size_t)(s[j++] - '0');
					hasn = true;
				}
			}
			if (m > PATTERN_DUP_MAX || n > PATTERN_DUP_MAX)
				return "has a count above 255 in { }";
			if (s[j] != '}')
				return NULL;
			if (quant)
				return "has two repetition marks in a row (such "
				    "as ** or *{2}); use one";
			n = hasn ? n : comma ? m + 1 : m;
			if (n > 1) {
				tot[d] += last[d] * (n - 1);
				last[d] *= n;
			}
			if (tot[d] > PATTERN_NODES_MAX)
				return "is too complex: its counts in { } multiply "
				    "to more than 2000 parts; use smaller counts";
			quant = true;
			i = j;
			continue;
		}
		default:
			size = 1;
			break;
		}
		tot[d] += size;
		last[d] = size;
		quant = false;
		if (tot[d] > PATTERN_NODES_MAX)
			return "is too complex: its counts in { } multiply to "
			    "more than 2000 parts; use smaller counts";
	}
	return NULL;
}

static void
parse_pattern(struct ctx *x, struct jp *jp, const cJSON *jq, struct question *q)
{
	char *src = get_string(x, jp, jq, "pattern", false, PCS_FORM_LABEL_MAX,
	    K_LINE, "");
	char *full;
	const char *why;
	size_t n, old;
	int rc;

	q->pattern_message = get_string(x, jp, jq, "pattern_message", false,
	    PCS_FORM_LABEL_MAX, K_LINE, "");
	if (src == NULL) {
		if (q->pattern_message != NULL && get(jq, "pattern") == NULL) {
			old = jp_key(jp, "pattern_message");
			problem(x, jp, "is only used with \"pattern\"; add a "
			    "pattern or remove it");
			jp_pop(jp, old);
		}
		return;
	}
	if ((why = pattern_too_complex(src)) != NULL) {
		old = jp_key(jp, "pattern");
		problem(x, jp, "%s", why);
		jp_pop(jp, old);
		free(src);
		return;
	}
	/* forms.md: the whole answer must match: "^(src)$" */
	n = strlen(src) + 5;
	if ((full = malloc(n)) == NULL) {
		x->oom = true;
		free(src);
		return;
	}
	snprintf(full, n, "^(%s)$", src);
	rc = regcomp(&q->pattern, full, REG_EXTENDED | REG_NOSUB);
	free(full);
	if (rc != 0) {
		char e[160];

		regerror(rc, &q->pattern, e, sizeof(e));
		old = jp_key(jp, "pattern");
		problem(x, jp, "is not a valid POSIX extended regular "
		    "expression: %s", e);
		jp_pop(jp, old);
		free(src);
		return;
	}
	q->pattern_src = src;		/* set only when compiled: form_free */
}

static void
parse_question(struct ctx *x, struct jp *jp, const cJSON *jq,
    struct question *q, size_t page)
{
	char q1[QS_MAX];
	int t = -1, v;
	bool b;
	int64_t lo, hi;
	size_t old;

	q->page = page;
	q->type = Q__MAX;
	q->store = STORE_CLEAR;
	q->dim = DIM_NONE;
	q->options_from = REF__MAX;
	if (!want_object(x, jp, jq, "each question"))
		return;

	/* id */
	q->id = get_string(x, jp, jq, "id", true, 0, K_LINE,
	    "every question needs an id, e.g. \"role\"");
	if (q->id != NULL) {
		old = jp_key(jp, "id");
		if (!id_q_ok(q->id)) {
			problem(x, jp, "%s is not a valid question id; start "
			    "with a lower-case letter, then up to 62 lower-case "
			    "letters, digits or single _ (no \"__\")",
			    qs(q1, q->id));
			free(q->id);
			q->id = NULL;
		} else
			for (size_t i = 0; i < NELEM(reserved_ids); i++)
				if (strcmp(q->id, reserved_ids[i]) == 0) {
					problem(x, jp, "%s is used by the "
					    "survey pages themselves; choose "
					    "another id", qs(q1, q->id));
					free(q->id);
					q->id = NULL;
					break;
				}
		jp_pop(jp, old);
	}

	/* type first: it decides which keys are allowed */
	if (get_enum(x, jp, jq, "type", true, q_type_names, 0, Q__MAX, &t,
	    "every question needs a type"))
		q->type = (enum q_type)t;
	check_qkeys(x, jp, jq, q->type == Q__MAX ? -1 : (int)q->type);
	if (q->type == Q__MAX)
		return;

	if (q->type == Q_INFO) {
		q->text = get_string(x, jp, jq, "text", true, PCS_FORM_HINT_MAX,
		    K_TEXT, "an info item needs its text");
		return;
	}

	q->label = get_string(x, jp, jq, "label", true, PCS_FORM_LABEL_MAX,
	    K_LINE, q->type == Q_CONSENT ? "a consent needs the statement "
	    "people agree to as its label" : "every question except info "
	    "needs a label");
	q->hint = get_string(x, jp, jq, "hint", false, PCS_FORM_HINT_MAX,
	    K_TEXT, "");
	if (get_bool(x, jp, jq, "required", &b))
		q->required = b;
	if (q->type == Q_CONSENT) {
		if (get(jq, "required") != NULL && !q->required) {
			old = jp_key(jp, "required");
			problem(x, jp, "a consent is always required; remove "
			    "\"required\": false");
			jp_pop(jp, old);
		}
		q->required = true;
	}

	/* store: default by type, forms.md Types; privacy.md */
	switch (q->type) {
	case Q_TEXT:
	case Q_TEXTAREA:
	case Q_EMAIL:
		q->store = STORE_SEALED;
		break;
	case Q_NUMBER:
	case Q_DATE:
	case Q_CHOICE:
	case Q_SELECT:
	case Q_CHOICES:
	case Q_SCALE:
	case Q_CONSENT:
	case Q_INFO:
	case Q__MAX:
		q->store = STORE_CLEAR;
		break;
	}
	if (get_enum(x, jp, jq, "store", false, q_store_names, 0, STORE__MAX,
	    &v, "")) {
		old = jp_key(jp, "store");
		if (v == STORE_CLEAR && (q->type == Q_TEXT ||
		    q->type == Q_TEXTAREA || q->type == Q_EMAIL))
			problem(x, jp, "a %s answer is typed freely and may "
			    "identify someone, so it cannot be stored clear; "
			    "use \"sealed\"%s", q_type_names[q->type],
			    q->type == Q_TEXTAREA ? "" : " or \"pseudonym\"");
		else if (v == STORE_PSEUDONYM && q->type != Q_TEXT &&
		    q->type != Q_EMAIL)
			problem(x, jp, "\"pseudonym\" is allowed on text and "
			    "email questions only");
		else
			q->store = (enum q_store)v;
		jp_pop(jp, old);
	}

	switch (q->type) {
	case Q_TEXT:
		q->max_length = PCS_TEXT_MAXLEN_DEFAULT;
		if (get_int(x, jp, jq, "max_length", false, 1,
		    PCS_TEXT_MAXLEN_MAX, &lo, ""))
			q->max_length = (size_t)lo;
		parse_pattern(x, jp, jq, q);
		break;
	case Q_TEXTAREA:
		q->max_length = PCS_TEXTAREA_MAXLEN_DEFAULT;
		if (get_int(x, jp, jq, "max_length", false, 1,
		    PCS_TEXTAREA_MAXLEN_MAX, &lo, ""))
			q->max_length = (size_t)lo;
		break;
	case Q_EMAIL:
		q->max_length = PCS_EMAIL_MAXLEN;
		break;
	case Q_NUMBER: {
		bool hl = get_int(x, jp, jq, "min", true, -NUM_LIMIT, NUM_LIMIT,
		    &lo, "a number question needs \"min\" and \"max\"");
		bool hh = get_int(x, jp, jq, "max", true, -NUM_LIMIT, NUM_LIMIT,
		    &hi, "a number question needs \"min\" and \"max\"");

		if (hl)
			q->min = lo;
		if (hh)
			q->max = hi;
		if (hl && hh && lo > hi) {
			old = jp_key(jp, "min");
			problem(x, jp, "%lld is more than max (%lld); min may "
			    "not be above max", (long long)lo, (long long)hi);
			jp_pop(jp, old);
		}
		q->prefix = get_string(x, jp, jq, "prefix", false, AFFIX_MAX,
		    K_LINE, "");
		q->suffix = get_string(x, jp, jq, "suffix", false, AFFIX_MAX,
		    K_LINE, "");
		break;
	}
	case Q_DATE:
		q->has_date_min = get_date(x, jp, jq, "min", true,
		    &q->date_min_today, &q->date_min);
		q->has_date_max = get_date(x, jp, jq, "max", true,
		    &q->date_max_today, &q->date_max);
		if (q->has_date_min && q->has_date_max && !q->date_min_today &&
		    !q->date_max_today && q->date_min > q->date_max) {
			old = jp_key(jp, "min");
			problem(x, jp, "is after max; min may not be after max");
			jp_pop(jp, old);
		}
		break;
	case Q_CHOICE:
	case Q_SELECT:
	case Q_CHOICES: {
		const cJSON *jo = get(jq, "options"), *jf = get(jq, "options_from");

		if (q->type != Q_CHOICES)
			(void)get_bool(x, jp, jq, "other", &q->other);
		if (jo != NULL && jf != NULL) {
			old = jp_key(jp, "options_from");
			problem(x, jp, "a question takes either \"options\" or "
			    "\"options_from\", not both");
			jp_pop(jp, old);
		} else if (jo == NULL && jf == NULL)
			problem(x, jp, "needs its answers: add \"options\" (a "
			    "list) or \"options_from\" (%s)", "icbs, regions, "
			    "staff_roles, staff_groups or organisation_types");
		else if (jo != NULL) {
			old = jp_key(jp, "options");
			parse_options(x, jp, jo, q);
			jp_pop(jp, old);
		} else if (get_enum(x, jp, jq, "options_from", true, ref_names,
		    0, REF__MAX, &v, "")) {
			q->options_from = (enum ref_list)v;
			old = jp_key(jp, "options_from");
			options_from_ref(x, jp, q);
			jp_pop(jp, old);
		}
		/* forms.md Options: "other" is added last if absent */
		if (q->other && q->opts != NULL && q->nopts > 0 &&
		    question_option(q, STR_LIT("other")) == NULL) {
			if (opts_grow(x, q, q->nopts + 1)) {
				struct option *o = &q->opts[q->nopts];

				memset(o, 0, sizeof(*o));
				o->value = xstrdup(x, "other");
				o->label = xstrdup(x, "Other");
				if (o->value && o->label)
					q->nopts++;
				else
					option_release(o);
			}
		}
		if (q->type == Q_CHOICES) {
			bool hl = get_int(x, jp, jq, "min_selected", false, 0,
			    PCS_FORM_OPTIONS_MAX, &lo, "");
			bool hh = get_int(x, jp, jq, "max_selected", false, 1,
			    PCS_FORM_OPTIONS_MAX, &hi, "");

			if (hl)
				q->min_selected = (size_t)lo;
			if (hh)
				q->max_selected = (size_t)hi;
			if (hl && q->nopts > 0 && (size_t)lo > q->nopts) {
				old = jp_key(jp, "min_selected");
				problem(x, jp, "is %lld but there are only %zu "
				    "options", (long long)lo, q->nopts);
				jp_pop(jp, old);
			}
			if (hh && q->nopts > 0 && (size_t)hi > q->nopts) {
				old = jp_key(jp, "max_selected");
				problem(x, jp, "is %lld but there are only %zu "
				    "options", (long long)hi, q->nopts);
				jp_pop(jp, old);
			}
			if (hl && hh && lo > hi) {
				old = jp_key(jp, "min_selected");
				problem(x, jp, "is more than max_selected");
				jp_pop(jp, old);
			}
		}
		break;
	}
	case Q_SCALE: {
		const cJSON *js = get(jq, "statements"), *jo = get(jq, "options");

		old = jp_key(jp, "statements");
		if (js == NULL)
			problem(x, jp, "is missing; a scale needs statements, "
			    "e.g. [{\"id\": \"valued\", \"label\": \"I feel "
			    "valued\"}]");
		else
			parse_statements(x, jp, js, q);
		jp_pop(jp, old);
		old = jp_key(jp, "options");
		if (jo == NULL)
			problem(x, jp, "is missing; a scale needs its points as "
			    "options");
		else
			parse_options(x, jp, jo, q);
		jp_pop(jp, old);
		break;
	}
	case Q_CONSENT:
		/* http-api.md codebook: a consent has the one option "yes" */
		if ((q->opts = xcalloc(x, 1, sizeof(*q->opts))) != NULL) {
			q->opts[0].value = xstrdup(x, "yes");
			q->opts[0].label = xstrdup(x, "Yes");
			q->nopts = 1;
		}
		break;
	case Q_INFO:
	case Q__MAX:
		break;
	}

	/* dimension: forms.md Question and Dimensions */
	if (get_enum(x, jp, jq, "dimension", false, dim_names, 1, DIM__MAX, &v,
	    "")) {
		enum dim d = (enum dim)v;

		old = jp_key(jp, "dimension");
		if (q->type != Q_CHOICE && q->type != Q_SELECT)
			problem(x, jp, "a dimension must be a choice or select "
			    "question (one answer)");
		else if (q->store != STORE_CLEAR)
			problem(x, jp, "a dimension must be stored clear");
		else if (q->options_from != dim_list[d])
			problem(x, jp, "the %s dimension needs \"options_from\": "
			    "\"%s\"", dim_names[d], ref_names[dim_list[d]]);
		else if (q->other && ref_find(dim_list[d], "other", 5) == NULL)
			problem(x, jp, "\"other\": true would give answers that "
			    "are not %s codes, so this question cannot be the "
			    "%s dimension", ref_names[dim_list[d]],
			    dim_names[d]);
		else if (x->f->dim_q[d] >= 0) {
			const struct question *p = &x->f->qs[x->f->dim_q[d]];

			problem(x, jp, "the %s dimension is already declared by "
			    "question %s; each dimension may be declared once",
			    dim_names[d], qs(q1, p->id));
		} else {
			q->dim = d;
			x->f->dim_q[d] = (int)(q - x->f->qs);
		}
		jp_pop(jp, old);
	}
}

/* ------------------------------------------------------------------ */
/* Form and pages                                                      */

static const char *const top_keys[] = { "id", "version", "title",
    "audience", "status", "opens", "closes", "access", "one_per_person",
    "intro", "privacy_notice", "timestamp", "retention_days",
    "reference_date", "pages" };
static const char *const page_keys[] = { "id", "title", "intro", "show_if",
    "questions" };

static void
parse_page(struct ctx *x, struct jp *jp, const cJSON *jpg, struct page *pg,
    size_t pidx, size_t *nq, size_t qcap)
{
	char q1[QS_MAX];
	const cJSON *jqs, *e;
	size_t n, i = 0, old;

	pg->first_q = *nq;
	if (!want_object(x, jp, jpg, "each page"))
		return;
	check_keys(x, jp, jpg, page_keys, NELEM(page_keys), "a page");
	pg->id = get_string(x, jp, jpg, "id", true, 0, K_LINE,
	    "every page needs an id, e.g. \"about-you\"");
	if (pg->id != NULL) {
		old = jp_key(jp, "id");
		if (!id_form_ok(pg->id, true)) {
			problem(x, jp, "%s is not a valid page id; start with a "
			    "lower-case letter, then up to 63 lower-case "
			    "letters, digits or -", qs(q1, pg->id));
			free(pg->id);
			pg->id = NULL;
		} else
			for (size_t k = 0; k < pidx; k++)
				if (x->f->pages[k].id != NULL &&
				    strcmp(x->f->pages[k].id, pg->id) == 0) {
					problem(x, jp, "%s is already the id "
					    "of pages[%zu]; page ids must be "
					    "unique", qs(q1, pg->id), k);
					break;
				}
		jp_pop(jp, old);
	}
	pg->title = get_string(x, jp, jpg, "title", true, PCS_FORM_TITLE_MAX,
	    K_LINE, "every page needs a title");
	pg->intro = get_string(x, jp, jpg, "intro", false, 0, K_TEXT, "");
	x->pjson[pidx] = get(jpg, "show_if");
	jqs = get(jpg, "questions");
	old = jp_key(jp, "questions");
	if (jqs == NULL) {
		problem(x, jp, "is missing; every page needs a list of "
		    "questions");
		jp_pop(jp, old);
		return;
	}
	n = want_array(x, jp, jqs, 1, PCS_FORM_PAGE_QS_MAX, "questions");
	cJSON_ArrayForEach(e, jqs) {
		size_t o2;

		if (i >= n || *nq >= qcap)
			break;
		o2 = jp_idx(jp, i);
		x->qjson[*nq] = e;
		x->qpos[*nq] = i;
		parse_question(x, jp, e, &x->f->qs[*nq], pidx);
		(*nq)++;
		pg->nq++;
		i++;
		jp_pop(jp, o2);
	}
	jp_pop(jp, old);
}

/* ------------------------------------------------------------------ */
/* Conditions (forms.md: Conditions)                                   */

static const char *const cond_keys[] = { "question", "equals", "in",
    "includes", "answered", "at_least", "at_most", "all", "any", "not" };
/* indexed by enum cond_op */
static const char *const cond_op_names[COND__MAX] = {
	[COND_EQUALS] = "equals", [COND_IN] = "in",
	[COND_INCLUDES] = "includes", [COND_ANSWERED] = "answered",
	[COND_AT_LEAST] = "at_least", [COND_AT_MOST] = "at_most",
	[COND_ALL] = "all", [COND_ANY] = "any", [COND_NOT] = "not",
};

struct scope {
	size_t	page;		/* the page being conditioned (or its question's) */
	long	self;		/* the question conditioned, or -1 for a page */
	bool	same_page;	/* set when a test names an earlier question here */
};

static void
cond_release(struct cond *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; c->kids != NULL && i < c->nkids; i++)
		cond_release(&c->kids[i]);
	free(c->kids);
	free(c->vals);		/* one block: pointers, field, values */
	memset(c, 0, sizeof(*c));
}

/* c->vals and c->field in one allocation (form_free frees c->vals). */
static bool
leaf_store(struct ctx *x, struct cond *c, const char *field,
    const char *const *vals, size_t n)
{
	size_t ptrs = (n + 1) * sizeof(char *), fl = strlen(field) + 1;
	size_t tot = ptrs + fl;
	const char **pv;
	char *blk, *w;

	for (size_t i = 0; i < n; i++)
		tot += strlen(vals[i]) + 1;
	if ((blk = malloc(tot)) == NULL) {
		x->oom = true;
		return false;
	}
	pv = (const char **)(void *)blk;
	w = blk + ptrs;
	memcpy(w, field, fl);
	c->field = w;
	w += fl;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(vals[i]) + 1;

		memcpy(w, vals[i], l);
		pv[i] = w;
		w += l;
	}
	pv[n] = NULL;
	c->vals = pv;
	c->nvals = n;
	return true;
}

static int
qref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct qref *)a)->id, ((const struct qref *)b)->id);
}

static long
find_q(const struct ctx *x, const char *id)
{
	struct qref key = { id, 0 };
	const struct qref *r;

	if (x->ids == NULL)
		return -1;
	r = bsearch(&key, x->ids, x->nids, sizeof(*x->ids), qref_cmp);
	return r ? (long)r->qidx : -1;
}

static bool
takes_answer(enum q_type t)
{
	return t != Q_INFO && t != Q__MAX;
}

/* Suggestion among the answer fields a condition here may use. */
static const char *
suggest_field(struct ctx *x, char out[QS_MAX + 32], const char *got,
    const struct scope *sc)
{
	const struct form *f = x->f;
	size_t lim = sc->self >= 0 ? (size_t)sc->self : f->pages[sc->page].first_q;
	struct suggest s = { NULL, 0 };

	for (size_t k = 0; k < lim && k < f->nq; k++) {
		const struct question *q = &f->qs[k];

		if (!takes_answer(q->type) || q->id == NULL)
			continue;
		if (q->type == Q_SCALE)
			for (size_t i = 0; i < q->nstmts; i++)
				suggest_try(x, &s, got, q->stmts[i].field);
		else
			suggest_try(x, &s, got, q->id);
	}
	return dym(out, &s);
}

/*
 * Resolves the "question" of a test: a question id, or question__statement
 * for a scale.  Sets *qi and *stmt (-1 when not a statement).
 */
static bool
cond_target(struct ctx *x, const struct jp *jp, const char *name,
    struct scope *sc, long *qi, long *stmt)
{
	const struct form *f = x->f;
	const struct question *q;
	const char *sep = strstr(name, "__");
	char q1[QS_MAX], q2[QS_MAX], d[QS_MAX + 32];

	*stmt = -1;
	if (sep == NULL)
		*qi = find_q(x, name);
	else {
		char base[PCS_FORM_ID_MAX + 1];
		size_t bl = (size_t)(sep - name);

		*qi = -1;
		if (bl > 0 && bl <= PCS_FORM_ID_MAX) {
			memcpy(base, name, bl);
			base[bl] = '\0';
			*qi = find_q(x, base);
		}
		/*
		 * A question whose "type" was missing or wrong (already
		 * reported) is left as Q__MAX: nothing can be said about
		 * testing it, and q_type_names[] has no entry for it (the
		 * messages below indexed past the array: found by
		 * tests/fuzz/fuzz_form.c, crashes/form/cond-on-untyped-*).
		 */
		if (*qi >= 0 && f->qs[*qi].type == Q__MAX)
			return false;
		if (*qi >= 0 && f->qs[*qi].type != Q_SCALE) {
			problem(x, jp, "%s: only the statements of a scale are "
			    "named question__statement, and %s is a %s question",
			    qs(q1, name), qs(q2, f->qs[*qi].id),
			    q_type_names[f->qs[*qi].type]);
			return false;
		}
		if (*qi >= 0) {
			q = &f->qs[*qi];
			for (size_t i = 0; i < q->nstmts; i++)
				if (strcmp(q->stmts[i].id, sep + 2) == 0)
					*stmt = (long)i;
			if (*stmt < 0) {
				struct suggest s = { NULL, 0 };

				for (size_t i = 0; i < q->nstmts; i++)
					suggest_try(x, &s, name, q->stmts[i].field);
				problem(x, jp, "%s is not a statement of the scale "
				    "%s%s", qs(q1, name), qs(q2, q->id),
				    dym(d, &s));
				return false;
			}
		}
	}
	if (*qi < 0) {
		problem(x, jp, "%s is not a question on an earlier page%s",
		    qs(q1, name), suggest_field(x, d, name, sc));
		return false;
	}
	q = &f->qs[*qi];
	if (q->type == Q__MAX)
		return false;	/* its type is reported already: see above */
	if (q->type == Q_INFO) {
		problem(x, jp, "%s is an info item, not a question; it has no "
		    "answer to test", qs(q1, name));
		return false;
	}
	if (q->type == Q_SCALE && *stmt < 0) {
		problem(x, jp, "%s is a scale; name one of its statements, e.g. "
		    "%s", qs(q1, name), q->nstmts ? qs(q2, q->stmts[0].field) :
		    "\"question__statement\"");
		return false;
	}
	if (q->page < sc->page)
		return true;
	if (q->page == sc->page && sc->self >= 0 && *qi < sc->self) {
		sc->same_page = true;
		return true;
	}
	if (*qi == sc->self)
		problem(x, jp, "%s is this question itself; a question cannot "
		    "depend on its own answer", qs(q1, name));
	else if (q->page == sc->page && sc->self < 0)
		problem(x, jp, "%s is on this page; a page's show_if may use only "
		    "questions on earlier pages", qs(q1, name));
	else
		problem(x, jp, "%s is not a question on an earlier page (it is "
		    "asked later, on page %s); a condition may use only "
		    "questions asked before it", qs(q1, name),
		    qs(q2, f->pages[q->page].id));
	return false;
}

/* One equals/in value; its text (option value, decimal, date) or NULL. */
static const char *
cond_value(struct ctx *x, const struct jp *jp, const cJSON *v,
    const struct question *t, bool stmt, char num[32])
{
	char q1[QS_MAX], q2[QS_MAX], d[QS_MAX + 32];
	int64_t n, days;

	switch (t->type) {
	case Q_NUMBER:
		if (!check_int(x, jp, v, -NUM_LIMIT, NUM_LIMIT, &n))
			return NULL;
		if (n < t->min || n > t->max) {
			problem(x, jp, "%lld is outside the range of question %s "
			    "(%lld to %lld), so this test could never be true",
			    (long long)n, qs(q1, t->id), (long long)t->min,
			    (long long)t->max);
			return NULL;
		}
		snprintf(num, 32, "%lld", (long long)n);
		return num;
	case Q_DATE:
		if (!cJSON_IsString(v) || !date_parse(str_cstr(v->valuestring),
		    &days)) {
			problem(x, jp, "must be a date in double quotes, written "
			    "YYYY-MM-DD, e.g. \"2026-03-31\"");
			return NULL;
		}
		return v->valuestring;
	case Q_CONSENT:
		if (!cJSON_IsString(v) || strcmp(v->valuestring, "yes") != 0) {
			problem(x, jp, "a consent's only answer is \"yes\"");
			return NULL;
		}
		return v->valuestring;
	case Q_CHOICE:
	case Q_SELECT:
	case Q_CHOICES:
	case Q_SCALE: {
		struct suggest s = { NULL, 0 };

		if (!cJSON_IsString(v)) {
			problem(x, jp, "must be one of the option values of %s, "
			    "in double quotes", qs(q1, t->id));
			return NULL;
		}
		if (question_option(t, str_cstr(v->valuestring)) != NULL)
			return v->valuestring;
		for (size_t i = 0; i < t->nopts; i++)
			suggest_try(x, &s, v->valuestring, t->opts[i].value);
		problem(x, jp, "%s is not an option of %s%s%s",
		    qs(q1, v->valuestring), stmt ? "the scale " : "",
		    qs(q2, t->id), dym(d, &s));
		return NULL;
	}
	case Q_TEXT:
	case Q_TEXTAREA:
	case Q_EMAIL:
	case Q_INFO:
	case Q__MAX:
		break;
	}
	return NULL;
}

static bool cond_build(struct ctx *, struct jp *, const cJSON *, struct cond *,
    int, struct scope *);

static bool
cond_leaf(struct ctx *x, struct jp *jp, const cJSON *j, struct cond *c,
    struct scope *sc)
{
	const cJSON *jq = get(j, "question"), *v;
	const struct question *t;
	const char *vals[IN_MAX];
	char nums[IN_MAX][32], q1[QS_MAX];
	size_t nv = 0, nops = 0, old;
	long qi, stmt;
	int op = -1;
	bool ok = true;

	for (int k = COND_EQUALS; k <= COND_AT_MOST; k++)
		if (get(j, cond_op_names[k]) != NULL) {
			nops++;
			if (op < 0)
				op = k;
		}
	if (jq == NULL) {
		problem(x, jp, "a test needs \"question\": the id of the "
		    "question whose answer it tests");
		ok = false;
	}
	if (nops == 0) {
		problem(x, jp, "a test needs one of equals, in, includes, "
		    "answered, at_least or at_most");
		return false;
	}
	if (nops > 1) {
		problem(x, jp, "a test may use only one of equals, in, "
		    "includes, answered, at_least or at_most; combine tests "
		    "with \"all\" or \"any\"");
		return false;
	}
	if (!ok)
		return false;
	old = jp_key(jp, "question");
	if (!cJSON_IsString(jq) || jq->valuestring == NULL) {
		problem(x, jp, "must be a question id in double quotes");
		ok = false;
	} else
		ok = cond_target(x, jp, jq->valuestring, sc, &qi, &stmt);
	jp_pop(jp, old);
	if (!ok)
		return false;
	t = &x->f->qs[qi];
	c->op = (enum cond_op)op;
	c->qidx = (int)qi;
	c->qtype = (int)t->type;
	v = get(j, cond_op_names[op]);
	old = jp_key(jp, cond_op_names[op]);
	switch (c->op) {
	case COND_EQUALS:
	case COND_IN:
		if (t->type == Q_CHOICES) {
			problem(x, jp, "%s does not work with a choices (checkbox) "
			    "question such as %s; use \"includes\"",
			    cond_op_names[op], qs(q1, t->id));
			ok = false;
			break;
		}
		if (t->type == Q_TEXT || t->type == Q_TEXTAREA ||
		    t->type == Q_EMAIL) {
			problem(x, jp, "%s does not work with a %s question such "
			    "as %s; only \"answered\" can test typed answers",
			    cond_op_names[op], q_type_names[t->type],
			    qs(q1, t->id));
			ok = false;
			break;
		}
		if (c->op == COND_EQUALS) {
			if ((vals[0] = cond_value(x, jp, v, t, stmt >= 0,
			    nums[0])) == NULL)
				ok = false;
			nv = 1;
			break;
		} else {
			const cJSON *e;
			size_t n = want_array(x, jp, v, 1, IN_MAX, "values");

			if (n == 0) {
				ok = false;
				break;
			}
			cJSON_ArrayForEach(e, v) {
				size_t o2;

				if (nv >= n)
					break;
				o2 = jp_idx(jp, nv);
				if ((vals[nv] = cond_value(x, jp, e, t,
				    stmt >= 0, nums[nv])) == NULL)
					ok = false;
				nv++;
				jp_pop(jp, o2);
			}
		}
		break;
	case COND_INCLUDES:
		if (t->type != Q_CHOICES) {
			problem(x, jp, "includes works only with a choices "
			    "(checkbox) question%s",
			    t->type == Q_CHOICE || t->type == Q_SELECT ||
			    t->type == Q_SCALE || t->type == Q_CONSENT ||
			    t->type == Q_NUMBER || t->type == Q_DATE ?
			    "; use \"equals\" or \"in\"" : "");
			ok = false;
			break;
		}
		if ((vals[0] = cond_value(x, jp, v, t, false, nums[0])) == NULL)
			ok = false;
		nv = 1;
		break;
	case COND_ANSWERED:
		if (!cJSON_IsBool(v)) {
			problem(x, jp, "must be true or false (without quotes)");
			ok = false;
		} else
			c->flag = cJSON_IsTrue(v);
		break;
	case COND_AT_LEAST:
	case COND_AT_MOST:
		if (t->type != Q_NUMBER) {
			problem(x, jp, "%s works only with a number question; "
			    "%s is a %s question", cond_op_names[op],
			    qs(q1, t->id), q_type_names[t->type]);
			ok = false;
		} else if (!check_int(x, jp, v, -NUM_LIMIT, NUM_LIMIT, &c->num))
			ok = false;
		break;
	case COND_ALL:
	case COND_ANY:
	case COND_NOT:
	case COND__MAX:
		ok = false;
		break;
	}
	jp_pop(jp, old);
	if (!ok)
		return false;
	return leaf_store(x, c, stmt >= 0 ? t->stmts[stmt].field : t->id,
	    vals, nv);
}

static bool
cond_build(struct ctx *x, struct jp *jp, const cJSON *j, struct cond *c,
    int depth, struct scope *sc)
{
	const char *comb = NULL;
	size_t ncomb = 0, nleaf = 0, old;
	bool ok = true;

	if (!cJSON_IsObject(j)) {
		problem(x, jp, "a condition must be an object such as "
		    "{\"question\": \"role\", \"equals\": \"gp_partner\"}");
		return false;
	}
	if (depth > PCS_COND_DEPTH_MAX) {
		problem(x, jp, "conditions may be nested at most %d deep (a "
		    "test is one level; each all, any and not adds one)",
		    PCS_COND_DEPTH_MAX);
		return false;
	}
	check_keys(x, jp, j, cond_keys, NELEM(cond_keys), "a condition");
	for (int k = COND_ALL; k <= COND_NOT; k++)
		if (get(j, cond_op_names[k]) != NULL) {
			ncomb++;
			if (comb == NULL) {
				comb = cond_op_names[k];
				c->op = (enum cond_op)k;
			}
		}
	for (size_t k = 0; k < NELEM(cond_keys); k++)
		if (get(j, cond_keys[k]) != NULL)
			nleaf++;
	nleaf -= ncomb;
	if (ncomb == 0)
		return cond_leaf(x, jp, j, c, sc);
	if (ncomb > 1 || nleaf > 0) {
		problem(x, jp, "a condition is either one test ({\"question\": "
		    "...}) or one of all, any and not; put the other tests "
		    "inside it");
		return false;
	}
	old = jp_key(jp, comb);
	if (c->op == COND_NOT) {
		if ((c->kids = xcalloc(x, 1, sizeof(*c->kids))) != NULL) {
			c->nkids = 1;
			ok = cond_build(x, jp, get(j, "not"), &c->kids[0],
			    depth + 1, sc);
		} else
			ok = false;
	} else {
		const cJSON *arr = get(j, comb), *e;
		size_t n = want_array(x, jp, arr, 1, SIZE_MAX, "conditions"), i = 0;

		if (n == 0 || (c->kids = xcalloc(x, n, sizeof(*c->kids))) == NULL)
			ok = false;
		else {
			c->nkids = n;
			cJSON_ArrayForEach(e, arr) {
				size_t o2 = jp_idx(jp, i);

				if (!cond_build(x, jp, e, &c->kids[i], depth + 1,
				    sc))
					ok = false;
				jp_pop(jp, o2);
				i++;
			}
		}
	}
	jp_pop(jp, old);
	return ok;
}

/* pages[p].questions[i] of form->qs[k] */
static void
jp_question(const struct ctx *x, struct jp *jp, size_t k)
{
	jp->len = 0;
	jp->s[0] = '\0';
	jp_key(jp, "pages");
	jp_idx(jp, x->f->qs[k].page);
	jp_key(jp, "questions");
	jp_idx(jp, x->qpos[k]);
}

/* After every page is read: unique ids, conditions, one_per_person. */
static void
finish(struct ctx *x)
{
	struct form *f = x->f;
	struct jp jp = { .len = 0 };
	char q1[QS_MAX];
	size_t npseudo = 0;
	size_t old;

	/* question ids: unique in the form (forms.md Question) */
	if ((x->ids = xcalloc(x, f->nq, sizeof(*x->ids))) == NULL)
		return;
	for (size_t k = 0; k < f->nq; k++)
		if (f->qs[k].id != NULL)
			x->ids[x->nids++] = (struct qref){ f->qs[k].id, k };
	qsort(x->ids, x->nids, sizeof(*x->ids), qref_cmp);
	for (size_t i = 1; i < x->nids; i++) {
		const struct qref *a = &x->ids[i - 1], *b = &x->ids[i];
		size_t first = a->qidx < b->qidx ? a->qidx : b->qidx;
		size_t later = a->qidx < b->qidx ? b->qidx : a->qidx;

		if (strcmp(a->id, b->id) != 0)
			continue;
		jp_question(x, &jp, later);
		jp_key(&jp, "id");
		problem(x, &jp, "%s is already the id of pages[%zu].questions[%zu]; "
		    "question ids must be unique in the form", qs(q1, b->id),
		    f->qs[first].page, x->qpos[first]);
		/* keep the first for lookups */
		x->ids[i] = *a;
	}

	/* a page's show_if: earlier pages only */
	for (size_t p = 0; p < f->npages; p++) {
		struct scope sc = { p, -1, false };

		if (x->pjson[p] == NULL)
			continue;
		jp.len = 0;
		jp.s[0] = '\0';
		jp_key(&jp, "pages");
		jp_idx(&jp, p);
		jp_key(&jp, "show_if");
		if ((f->pages[p].show_if = xcalloc(x, 1, sizeof(struct cond))))
			(void)cond_build(x, &jp, x->pjson[p], f->pages[p].show_if,
			    1, &sc);
	}
	/* a question's show_if: earlier pages, or earlier on its page */
	for (size_t k = 0; k < f->nq; k++) {
		struct question *q = &f->qs[k];
		const cJSON *js = get(x->qjson[k], "show_if");
		struct scope sc = { q->page, (long)k, false };

		if (q->store == STORE_PSEUDONYM)
			npseudo++;
		if (js == NULL || !cJSON_IsObject(x->qjson[k]))
			continue;
		jp_question(x, &jp, k);
		jp_key(&jp, "show_if");
		if ((q->show_if = xcalloc(x, 1, sizeof(struct cond))) != NULL &&
		    cond_build(x, &jp, js, q->show_if, 1, &sc))
			q->same_page_cond = sc.same_page;
	}

	/* one_per_person (forms.md Top level) */
	f->pseudonym_q = -1;
	for (size_t k = 0; k < f->nq; k++)
		if (f->qs[k].store == STORE_PSEUDONYM) {
			f->pseudonym_q = (int)k;
			break;
		}
	if (!f->one_per_person)
		return;
	jp.len = 0;
	jp.s[0] = '\0';
	old = jp_key(&jp, "one_per_person");
	if (npseudo != 1) {
		problem(x, &jp, "needs exactly one question with \"store\": "
		    "\"pseudonym\" (this form has %zu)", npseudo);
		return;
	}
	jp_pop(&jp, old);
	{
		size_t k = (size_t)f->pseudonym_q;
		const struct question *q = &f->qs[k];

		jp_question(x, &jp, k);
		if (!q->required) {
			old = jp_key(&jp, "required");
			problem(x, &jp, "with one_per_person, the pseudonym "
			    "question must be required: add \"required\": true");
			jp_pop(&jp, old);
		}
		if (get(x->qjson[k], "show_if") != NULL) {
			old = jp_key(&jp, "show_if");
			problem(x, &jp, "with one_per_person, the pseudonym "
			    "question must always be asked: remove its show_if");
			jp_pop(&jp, old);
		}
		if (x->pjson[q->page] != NULL) {
			jp.len = 0;
			jp.s[0] = '\0';
			jp_key(&jp, "pages");
			jp_idx(&jp, q->page);
			jp_key(&jp, "show_if");
			problem(x, &jp, "with one_per_person, the page of the "
			    "pseudonym question %s must always be shown: remove "
			    "this show_if", qs(q1, q->id));
		}
	}
}

/* The id a file name asks for: basename without ".json", or NULL. */
static char *
file_id(const char *path)
{
	const char *b = strrchr(path, '/');
	size_t n;
	char *id;

	b = b ? b + 1 : path;
	n = strlen(b);
	if (n <= 5 || strcmp(b + n - 5, ".json") != 0)
		return NULL;
	if ((id = malloc(n - 4)) == NULL)
		return NULL;
	memcpy(id, b, n - 5);
	id[n - 5] = '\0';
	return id;
}

static void
parse_form(struct ctx *x, const cJSON *root, const char *want_id)
{
	struct form *f = x->f;
	struct jp jp = { .len = 0 };
	const cJSON *jpages, *e;
	char q1[QS_MAX], q2[QS_MAX];
	size_t np, qcap = 0, nq = 0, i, old;
	int64_t v;
	int ev;
	bool today;

	if (!cJSON_IsObject(root)) {
		problem(x, &jp, "a form must be one JSON object { ... }");
		return;
	}
	check_keys(x, &jp, root, top_keys, NELEM(top_keys), "a form");

	f->id = get_string(x, &jp, root, "id", true, 0, K_LINE,
	    "every form needs an id equal to its file name without .json");
	if (f->id != NULL) {
		old = jp_key(&jp, "id");
		if (!id_form_ok(f->id, false))
			problem(x, &jp, "%s is not a valid form id; use 1 to 64 "
			    "lower-case letters, digits and -, starting with a "
			    "letter or digit", qs(q1, f->id));
		else if (want_id == NULL)
			problem(x, &jp, "the file must be named %s.json",
			    f->id);
		else if (strcmp(f->id, want_id) != 0)
			problem(x, &jp, "%s does not match the file name; "
			    "rename the file to %s.json or set the id to %s",
			    qs(q1, f->id), f->id, qs(q2, want_id));
		jp_pop(&jp, old);
	}
	if (get_int(x, &jp, root, "version", true, 1, INT32_MAX, &v,
	    "every form needs a version, starting at 1"))
		f->version = (int)v;
	f->title = get_string(x, &jp, root, "title", true, PCS_FORM_TITLE_MAX,
	    K_LINE, "every form needs a title");
	if (get_enum(x, &jp, root, "audience", true, audience_names, 0,
	    AUD__MAX, &ev, "say who answers"))
		f->audience = (enum audience)ev;
	if (get_enum(x, &jp, root, "status", true, form_status_names, 0,
	    FS__MAX, &ev, "say whether the form is a draft, open or closed"))
		f->status = (enum form_status)ev;
	if (get_enum(x, &jp, root, "access", true, access_names, 0,
	    ACCESS__MAX, &ev, "say who may start the form"))
		f->access = (enum form_access)ev;
	f->has_opens = get_date(x, &jp, root, "opens", false, NULL, &f->opens);
	f->has_closes = get_date(x, &jp, root, "closes", false, NULL,
	    &f->closes);
	if (f->has_opens && f->has_closes && f->closes < f->opens) {
		old = jp_key(&jp, "closes");
		problem(x, &jp, "is before opens; a form may not close before "
		    "it opens");
		jp_pop(&jp, old);
	}
	(void)get_bool(x, &jp, root, "one_per_person", &f->one_per_person);
	f->intro = get_string(x, &jp, root, "intro", false, 0, K_TEXT, "");
	f->privacy_notice = get_string(x, &jp, root, "privacy_notice", true, 0,
	    K_TEXT, "every form needs a privacy notice for its start page");
	f->timestamp = TS_DAY;
	if (get_enum(x, &jp, root, "timestamp", false, ts_precision_names, 0,
	    TS__MAX, &ev, ""))
		f->timestamp = (enum ts_precision)ev;
	if (get_int(x, &jp, root, "retention_days", false, 1, RETENTION_MAX,
	    &v, ""))
		f->retention_days = (int)v;
	if (!get_date(x, &jp, root, "reference_date", false, &today,
	    &f->reference_date))
		f->reference_date = f->has_opens ? f->opens : date_today();

	jpages = get(root, "pages");
	old = jp_key(&jp, "pages");
	if (jpages == NULL) {
		problem(x, &jp, "is missing; a form needs a list of pages");
		return;
	}
	np = want_array(x, &jp, jpages, 1, PCS_FORM_PAGES_MAX, "pages");
	i = 0;
	cJSON_ArrayForEach(e, jpages) {
		const cJSON *jq = get(e, "questions");
		size_t n = cJSON_IsArray(jq) ? arr_len(jq) : 0;

		if (i++ >= np)
			break;
		qcap += n < PCS_FORM_PAGE_QS_MAX ? n : PCS_FORM_PAGE_QS_MAX;
	}
	if (qcap > PCS_FORM_QS_MAX)
		problem(x, &jp, "the pages hold %zu questions; the limit is %d "
		    "per form", qcap, PCS_FORM_QS_MAX);
	jp_pop(&jp, old);
	if (np == 0)
		return;
	f->pages = xcalloc(x, np, sizeof(*f->pages));
	f->qs = xcalloc(x, qcap, sizeof(*f->qs));
	x->qjson = xcalloc(x, qcap, sizeof(*x->qjson));
	x->qpos = xcalloc(x, qcap, sizeof(*x->qpos));
	x->pjson = xcalloc(x, np, sizeof(*x->pjson));
	if (x->oom)
		return;
	i = 0;
	cJSON_ArrayForEach(e, jpages) {
		size_t o1, o2;

		if (i >= np)
			break;
		o1 = jp_key(&jp, "pages");
		o2 = jp_idx(&jp, i);
		parse_page(x, &jp, e, &f->pages[i], i, &nq, qcap);
		f->npages = ++i;
		f->nq = nq;
		jp_pop(&jp, o2);
		jp_pop(&jp, o1);
	}
	finish(x);
}

/* ------------------------------------------------------------------ */
/* Public                                                              */

static void
ctx_init(struct ctx *x, const char *path, FILE *report)
{
	size_t i;

	memset(x, 0, sizeof(*x));
	/* the path is printed as given, but a control byte cannot forge lines */
	for (i = 0; path != NULL && path[i] && i < sizeof(x->path) - 1; i++)
		x->path[i] = (unsigned char)path[i] < 0x20 || path[i] == 0x7F ?
		    '?' : path[i];
	x->path[i] = '\0';
	x->report = report;
	x->budget = SUGGEST_BUDGET;
}

static void
ctx_release(struct ctx *x)
{
	free(x->ids);
	free(x->qjson);
	free(x->qpos);
	free(x->pjson);
}

/*
 * The option lists of every question, rendered once here, before the
 * supervisor forks, so every worker shares them (page_cache.h, issue 9).
 * A list that cannot be made now (memory, or over a page's size) is left
 * NULL: page.c then renders it per request, so the form still loads.
 */
static void
prerender(struct form *f)
{
	for (size_t k = 0; k < f->nq; k++)
		if (pc_build(&f->qs[k], &f->qs[k].pre) != PCS_OK)
			f->qs[k].pre = NULL;
}

void
form_free(struct form *f)
{
	if (f == NULL)
		return;
	for (size_t p = 0; p < f->npages; p++) {
		struct page *pg = &f->pages[p];

		free(pg->id);
		free(pg->title);
		free(pg->intro);
		cond_release(pg->show_if);
		free(pg->show_if);
	}
	free(f->pages);
	for (size_t k = 0; k < f->nq; k++) {
		struct question *q = &f->qs[k];

		free(q->id);
		free(q->label);
		free(q->hint);
		free(q->text);
		cond_release(q->show_if);
		free(q->show_if);
		if (q->pattern_src != NULL) {
			regfree(&q->pattern);
			free(q->pattern_src);
		}
		free(q->pattern_message);
		free(q->prefix);
		free(q->suffix);
		for (size_t i = 0; q->opts != NULL && i < q->nopts; i++)
			option_release(&q->opts[i]);
		free(q->opts);
		for (size_t i = 0; q->stmts != NULL && i < q->nstmts; i++) {
			free(q->stmts[i].id);
			free(q->stmts[i].label);
			free(q->stmts[i].field);
		}
		free(q->stmts);
		pc_free(q->pre);
	}
	free(f->qs);
	free(f->id);
	free(f->title);
	free(f->intro);
	free(f->privacy_notice);
	free(f);
}

enum pcs_err
form_load_mem(const char *path, const char *data, size_t len,
    struct form **out, FILE *report)
{
	struct ctx x;
	cJSON *root = NULL;
	const char *end = NULL;
	char *want_id = NULL;
	struct form *f = NULL;
	enum pcs_err err = PCS_EINPUT;

	*out = NULL;
	ctx_init(&x, path ? path : "(form)", report);
	if (data == NULL && len > 0)
		len = 0;
	if (len > PCS_FORM_FILE_MAX) {
		problem(&x, NULL, "the file is %zu bytes; the limit is 1 MiB "
		    "(%d bytes)", len, PCS_FORM_FILE_MAX);
		goto out;
	}
	if (!scan(&x, data ? data : "", len))
		goto out;
	root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
	if (root == NULL) {
		x.oom = true;
		goto out;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		x.oom = true;
		goto out;
	}
	f->pseudonym_q = -1;
	for (int d = 0; d < DIM__MAX; d++)
		f->dim_q[d] = -1;
	x.f = f;
	want_id = file_id(path ? path : "");
	parse_form(&x, root, want_id);
	if (x.nerr == 0 && !x.oom) {
		prerender(f);
		*out = f;
		f = NULL;
		err = PCS_OK;
	}
out:
	if (x.oom) {
		problem(&x, NULL, "out of memory while reading the form");
		err = PCS_ENOMEM;
	}
	form_free(f);
	free(want_id);
	cJSON_Delete(root);
	ctx_release(&x);
	return err;
}

enum pcs_err
form_load(const char *path, struct form **out, FILE *report)
{
	struct ctx x;
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int fd = -1;
	enum pcs_err err = PCS_EIO;

	*out = NULL;
	ctx_init(&x, path ? path : "(form)", report);
	if (path == NULL ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		problem(&x, NULL, "cannot open the file: %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		problem(&x, NULL, "is not a regular file");
		goto out;
	}
	if (st.st_size > PCS_FORM_FILE_MAX) {
		problem(&x, NULL, "the file is %lld bytes; the limit is 1 MiB "
		    "(%d bytes)", (long long)st.st_size, PCS_FORM_FILE_MAX);
		err = PCS_EINPUT;
		goto out;
	}
	if ((data = malloc(PCS_FORM_FILE_MAX + 1)) == NULL) {
		err = PCS_ENOMEM;
		problem(&x, NULL, "out of memory while reading the form");
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, data + len, PCS_FORM_FILE_MAX + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			problem(&x, NULL, "cannot read the file: %s",
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > PCS_FORM_FILE_MAX) {
			problem(&x, NULL, "the file is over the limit of 1 MiB "
			    "(%d bytes)", PCS_FORM_FILE_MAX);
			err = PCS_EINPUT;
			goto out;
		}
	}
	err = form_load_mem(path, data, len, out, report);
out:
	if (fd >= 0)
		close(fd);
	free(data);
	return err;
}

static int
form_ptr_cmp(const void *a, const void *b)
{
	const struct form *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t
formset_load(const char *dir, struct formset *fs, FILE *report)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t nn = 0, cap = 0, refused = 0;

	fs->v = NULL;
	fs->n = 0;
	if ((d = opendir(dir)) == NULL) {
		if (report)
			fprintf(report, "%s: cannot open the forms folder: %s\n",
			    dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char *s;

		if (de->d_name[0] == '.' || n <= 5 ||
		    strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		if (nn == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nv = realloc(names, ncap * sizeof(*nv));

			if (nv == NULL)
				break;
			names = nv;
			cap = ncap;
		}
		if ((s = strdup(de->d_name)) == NULL)
			break;
		names[nn++] = s;
	}
	closedir(d);
	if (nn > 0)
		qsort(names, nn, sizeof(*names), name_cmp);
	if (nn > PCS_FORMS_MAX) {
		if (report)
			fprintf(report, "%s: more than %d forms; only the first "
			    "%d (by file name) were loaded\n", dir,
			    PCS_FORMS_MAX, PCS_FORMS_MAX);
		refused += nn - PCS_FORMS_MAX;
	}
	if (nn > 0 && (fs->v = calloc(nn, sizeof(*fs->v))) == NULL)
		refused += nn;
	for (size_t i = 0; i < nn; i++) {
		size_t pl = strlen(dir) + 1 + strlen(names[i]) + 1;
		char *path = malloc(pl);
		struct form *f = NULL;

		if (fs->v != NULL && i < PCS_FORMS_MAX) {
			if (path == NULL)
				refused++;
			else {
				snprintf(path, pl, "%s/%s", dir, names[i]);
				if (form_load(path, &f, report) == PCS_OK)
					fs->v[fs->n++] = f;
				else
					refused++;
			}
		}
		free(path);
		free(names[i]);
	}
	free(names);
	if (fs->n > 1)
		qsort(fs->v, fs->n, sizeof(*fs->v), form_ptr_cmp);
	return refused;
}

void
formset_release(struct formset *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		form_free(fs->v[i]);
	free(fs->v);
	fs->v = NULL;
	fs->n = 0;
}

const struct form *
formset_find(const struct formset *fs, struct str id)
{
	size_t lo = 0, hi = fs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *s = fs->v[mid]->id;
		size_t sl = strlen(s), n = sl < id.len ? sl : id.len;
		int c = n ? memcmp(s, id.p, n) : 0;

		if (c == 0)
			c = sl < id.len ? -1 : sl > id.len;
		if (c == 0)
			return fs->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int
form_page_index(const struct form *f, struct str id)
{
	for (size_t i = 0; i < f->npages; i++)
		if (str_eq_cstr(id, f->pages[i].id))
			return (int)i;
	return -1;
}

int
form_question_index(const struct form *f, struct str id)
{
	for (size_t i = 0; i < f->nq; i++)
		if (f->qs[i].id != NULL && str_eq_cstr(id, f->qs[i].id))
			return (int)i;
	return -1;
}

const struct option *
question_option(const struct question *q, struct str value)
{
	for (size_t i = 0; q->opts != NULL && i < q->nopts; i++)
		if (q->opts[i].value != NULL && str_eq_cstr(value, q->opts[i].value))
			return &q->opts[i];
	return NULL;
}

bool
form_is_open(const struct form *f, int64_t today)
{
	return f->status == FS_OPEN && (!f->has_opens || today >= f->opens) &&
	    (!f->has_closes || today <= f->closes);
}
