/*
 * cond.c: evaluation of show_if trees (cond.h, forms.md: Conditions).  The
 * tree is our own, built and checked by form.c (depth <= PCS_COND_DEPTH_MAX,
 * operators fit their question's type); the answers are not trusted: they
 * are whatever fields the request or draft holds, read with explicit
 * lengths and strict numbers (str_to_i64, date_parse).
 *
 * cond.c reads enum q_type from form.h for its question kinds only; it uses
 * nothing else of a form.
 */
#include <string.h>

#include "cond.h"
#include "form.h"

static bool
name_is(struct str name, const char *field, size_t flen, const char *suffix)
{
	size_t slen = strlen(suffix);

	return name.len == flen + slen && memcmp(name.p, field, flen) == 0 &&
	    memcmp(name.p + flen, suffix, slen) == 0;
}

/* The first non-empty value of field+suffix, or false. */
static bool
first_value(const struct fields *ans, const char *field, const char *suffix,
    struct str *out)
{
	size_t flen;

	if (ans == NULL || field == NULL)
		return false;
	flen = strlen(field);
	for (size_t i = 0; i < ans->n; i++)
		if (name_is(ans->v[i].name, field, flen, suffix) &&
		    ans->v[i].value.len > 0) {
			*out = ans->v[i].value;
			return true;
		}
	return false;
}

/* True when some value of field equals v (choices: that box ticked). */
static bool
has_value(const struct fields *ans, const char *field, const char *v)
{
	size_t flen;

	if (ans == NULL || field == NULL || v == NULL)
		return false;
	flen = strlen(field);
	for (size_t i = 0; i < ans->n; i++)
		if (name_is(ans->v[i].name, field, flen, "") &&
		    str_eq_cstr(ans->v[i].value, v))
			return true;
	return false;
}

static struct str
trim(struct str s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

/* A date question's three boxes as days since the epoch. */
static bool
date_answer(const struct fields *ans, const char *field, int64_t *days)
{
	struct str d, m, y;
	int64_t dd, mm, yy;

	if (!first_value(ans, field, "__day", &d) ||
	    !first_value(ans, field, "__month", &m) ||
	    !first_value(ans, field, "__year", &y))
		return false;
	d = trim(d);
	m = trim(m);
	y = trim(y);
	if (d.len > 2 || m.len > 2 || y.len != 4 ||
	    !str_to_i64(d, &dd) || !str_to_i64(m, &mm) ||
	    !str_to_i64(y, &yy) || dd < 1 || dd > 31 || mm < 1 || mm > 12 ||
	    yy < 1)
		return false;
	{
		/* "YYYY-MM-DD", then the strict calendar check */
		char s[11] = { (char)('0' + yy / 1000), (char)('0' + yy / 100 % 10),
		    (char)('0' + yy / 10 % 10), (char)('0' + yy % 10), '-',
		    (char)('0' + mm / 10), (char)('0' + mm % 10), '-',
		    (char)('0' + dd / 10), (char)('0' + dd % 10), '\0' };

		return date_parse((struct str){ s, 10 }, days);
	}
}

static bool
number_answer(const struct fields *ans, const char *field, int64_t *v)
{
	struct str s;

	return first_value(ans, field, "", &s) && str_to_i64(trim(s), v);
}

/* One vals[i] against the answer, by the question's type. */
static bool
value_matches(const struct cond *c, const struct fields *ans, const char *val)
{
	struct str s;
	int64_t a, b;

	switch ((enum q_type)c->qtype) {
	case Q_NUMBER:
		return val != NULL && number_answer(ans, c->field, &a) &&
		    str_to_i64(str_cstr(val), &b) && a == b;
	case Q_DATE:
		return val != NULL && date_answer(ans, c->field, &a) &&
		    date_parse(str_cstr(val), &b) && a == b;
	case Q_CHOICES:
		return has_value(ans, c->field, val);
	case Q_TEXT:
	case Q_TEXTAREA:
	case Q_EMAIL:
	case Q_CHOICE:
	case Q_SELECT:
	case Q_SCALE:
	case Q_CONSENT:
		return val != NULL && first_value(ans, c->field, "", &s) &&
		    str_eq_cstr(s, val);
	case Q_INFO:
	case Q__MAX:
		break;
	}
	return false;
}

static bool
answered(const struct cond *c, const struct fields *ans)
{
	struct str s;

	if (c->qtype == Q_DATE)
		return first_value(ans, c->field, "__day", &s) ||
		    first_value(ans, c->field, "__month", &s) ||
		    first_value(ans, c->field, "__year", &s);
	return first_value(ans, c->field, "", &s);
}

bool
cond_eval(const struct cond *c, const struct fields *ans)
{
	int64_t v;

	if (c == NULL)
		return true;
	switch (c->op) {
	case COND_EQUALS:
		return c->nvals > 0 && c->vals != NULL && value_matches(c, ans, c->vals[0]);
	case COND_IN:
		for (size_t i = 0; c->vals != NULL && i < c->nvals; i++)
			if (value_matches(c, ans, c->vals[i]))
				return true;
		return false;
	case COND_INCLUDES:
		return c->nvals > 0 && c->vals != NULL && has_value(ans, c->field, c->vals[0]);
	case COND_ANSWERED:
		return answered(c, ans) == c->flag;
	case COND_AT_LEAST:
		return number_answer(ans, c->field, &v) && v >= c->num;
	case COND_AT_MOST:
		return number_answer(ans, c->field, &v) && v <= c->num;
	case COND_ALL:
		for (size_t i = 0; c->kids != NULL && i < c->nkids; i++)
			if (!cond_eval(&c->kids[i], ans))
				return false;
		return true;
	case COND_ANY:
		for (size_t i = 0; c->kids != NULL && i < c->nkids; i++)
			if (cond_eval(&c->kids[i], ans))
				return true;
		return false;
	case COND_NOT:
		return c->nkids > 0 && c->kids != NULL && !cond_eval(&c->kids[0], ans);
	case COND__MAX:
		break;
	}
	return false;
}
