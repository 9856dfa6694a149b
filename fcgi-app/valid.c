/*
 * valid.c: server-side validation of one page (http-api.md: "Validation
 * happens on the server, always").  Input is decoded, UTF-8-checked fields
 * from http.c; output is normalised fields or messages.  A repeated
 * single-answer field is a malformed request (T-13), never first- or
 * last-wins.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "valid.h"

struct vstate {
	struct arena		*a;
	const struct form	*f;
	const struct fields	*posted;
	const struct fields	*before;
	struct valid_out	*out;
	size_t			 cap_clean, cap_errs;
	int64_t			 today;
};

static const char *
msgf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A message in the arena, never truncated: it quotes labels of up to 500
 * (options: 2000) code points, i.e. up to 8000 bytes, and a fixed buffer
 * cut them in the middle of a UTF-8 sequence.  NULL (no message) when out
 * of memory.
 */
static const char *
msgf(struct arena *a, const char *fmt, ...)
{
	va_list ap, ap2;
	char *out;
	int n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	out = n < 0 ? NULL : arena_alloc(a, (size_t)n + 1);
	if (out != NULL)
		vsnprintf(out, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return out;
}

static enum pcs_err
add_clean(struct vstate *v, struct str name, struct str value)
{
	struct fields *c = &v->out->clean;

	if (c->n == v->cap_clean)
		return PCS_ENOMEM;	/* sized up front: cannot happen */
	c->v[c->n].name = name;
	c->v[c->n].value = value;
	c->n++;
	return PCS_OK;
}

static void
add_err(struct vstate *v, size_t qidx, int stmt, int part, const char *msg)
{
	struct valid_out *o = v->out;

	/* out of memory for the message: still an error, never a silent pass */
	if (o->nerrs < v->cap_errs)
		o->errs[o->nerrs++] = (struct q_error){ qidx, stmt, part,
		    msg ? msg : "Check your answer to this question" };
}

static struct str
trim(struct str s)
{
	while (s.len && (s.p[0] == ' ' || s.p[0] == '\t' || s.p[0] == '\r' || s.p[0] == '\n')) {
		s.p++;
		s.len--;
	}
	while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t' ||
	    s.p[s.len - 1] == '\r' || s.p[s.len - 1] == '\n'))
		s.len--;
	return s;
}

static struct str
name_of(struct arena *a, const char *qid, const char *suffix)
{
	char tmp[256];
	int n = snprintf(tmp, sizeof(tmp), "%s__%s", qid, suffix);

	return (struct str){ arena_strndup(a, tmp, (size_t)n), (size_t)n };
}

/*
 * The one value of a single-answer field: PCS_OK with *out (STR_NULL when
 * absent), or PCS_EINPUT when it is repeated.
 */
static enum pcs_err
single(struct vstate *v, struct str name, struct str *out)
{
	const struct str *got;

	if (fields_count(v->posted, name) > 1) {
		v->out->bad_field = name;
		return PCS_EINPUT;
	}
	got = fields_get(v->posted, name);
	*out = got ? *got : STR_NULL;
	return PCS_OK;
}

static const char *
label_or(const struct question *q)
{
	return q->label ? q->label : q->id;
}

/* Replaces CRLF and lone CR by LF: one spelling of a line break is stored. */
static struct str
normalise_newlines(struct arena *a, struct str s)
{
	char *o = arena_alloc(a, s.len + 1);
	size_t n = 0;

	if (o == NULL)
		return s;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '\r') {
			o[n++] = '\n';
			if (i + 1 < s.len && s.p[i + 1] == '\n')
				i++;
		} else
			o[n++] = s.p[i];
	}
	o[n] = '\0';
	return (struct str){ o, n };
}

static bool
email_ok(struct str s)
{
	long at = -1;
	size_t dots_after = 0;

	if (s.len < 3 || s.len > PCS_EMAIL_MAXLEN)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c <= ' ' || c == '<' || c == '>' || c == ',' || c == ';' || c == '"')
			return false;
		if (c == '@') {
			if (at >= 0)
				return false;
			at = (long)i;
		} else if (c == '.' && at >= 0)
			dots_after++;
	}
	return at > 0 && (size_t)at < s.len - 1 && dots_after > 0 &&
	    s.p[s.len - 1] != '.' && s.p[at + 1] != '.';
}

static enum pcs_err
check_text(struct vstate *v, size_t qi, const struct question *q)
{
	struct str val, t;
	enum pcs_err err;
	size_t n;

	if ((err = single(v, str_cstr(q->id), &val)) != PCS_OK)
		return err;
	t = trim(val);
	if (t.len == 0) {
		if (q->required)
			add_err(v, qi, -1, 0, q->type == Q_EMAIL ?
			    "Enter an email address" :
			    msgf(v->a, "Enter your answer to \"%s\"", label_or(q)));
		return PCS_OK;
	}
	if (q->type == Q_TEXTAREA)
		t = normalise_newlines(v->a, t);
	else if (memchr(t.p, '\n', t.len) || memchr(t.p, '\r', t.len)) {
		add_err(v, qi, -1, 0, "Your answer must be on one line");
		return add_clean(v, str_cstr(q->id), t);	/* kept so it is shown again */
	}
	n = utf8_count(t.p, t.len);
	if (q->type == Q_EMAIL) {
		if (!email_ok(t))
			add_err(v, qi, -1, 0, "Enter an email address in the correct format, "
			    "like name@example.com");
	} else if (q->max_length && n > q->max_length) {
		add_err(v, qi, -1, 0, msgf(v->a, "Your answer must be %zu characters or fewer "
		    "(it has %zu)", q->max_length, n));
	} else if (q->pattern_src) {
		char *z = arena_strndup(v->a, t.p, t.len);

		if (z == NULL)
			return PCS_ENOMEM;
		if (regexec(&q->pattern, z, 0, NULL, 0) != 0)
			add_err(v, qi, -1, 0, q->pattern_message ? q->pattern_message :
			    "Enter your answer in the format shown in the hint");
	}
	return add_clean(v, str_cstr(q->id), t);
}

static enum pcs_err
check_number(struct vstate *v, size_t qi, const struct question *q)
{
	struct str val, t;
	enum pcs_err err;
	const char *canon;
	int64_t n;

	if ((err = single(v, str_cstr(q->id), &val)) != PCS_OK)
		return err;
	t = trim(val);
	if (t.len == 0) {
		if (q->required)
			add_err(v, qi, -1, 0, q->suffix ?
			    msgf(v->a, "Enter a number of %s", q->suffix) :
			    msgf(v->a, "Enter a number for \"%s\"", label_or(q)));
		return PCS_OK;
	}
	if (!str_to_i64(t, &n) || n < q->min || n > q->max) {
		/* http-api.md's example: "Enter a number of hours between 0 and 80" */
		if (q->suffix)
			add_err(v, qi, -1, 0, msgf(v->a, "Enter a number of %s between %lld and %lld",
			    q->suffix, (long long)q->min, (long long)q->max));
		else
			add_err(v, qi, -1, 0, msgf(v->a, "Enter a whole number between %lld and %lld",
			    (long long)q->min, (long long)q->max));
		return add_clean(v, str_cstr(q->id), t);	/* shown again as typed */
	}
	/*
	 * Store the canonical spelling: record.c writes the number into the
	 * answers JSON as is, and "007" or "-0" typed here is not a JSON
	 * number (PostgreSQL refused the row: submit failed with 503 forever).
	 */
	if ((canon = msgf(v->a, "%lld", (long long)n)) == NULL)
		return PCS_ENOMEM;
	return add_clean(v, str_cstr(q->id), str_cstr(canon));
}

static enum pcs_err
check_date(struct vstate *v, size_t qi, const struct question *q)
{
	static const char *const parts[3] = { "day", "month", "year" };
	struct str val[3];
	int64_t num[3], day;
	int missing = 0, first_missing = -1, bad = -1;
	enum pcs_err err;
	char lo[40], hi[40];
	int yy;
	unsigned mm, dd;

	for (int i = 0; i < 3; i++) {
		if ((err = single(v, name_of(v->a, q->id, parts[i]), &val[i])) != PCS_OK)
			return err;
		val[i] = trim(val[i]);
		if (val[i].len == 0) {
			missing++;
			if (first_missing < 0)
				first_missing = i;
		} else if (!str_to_i64(val[i], &num[i]) && bad < 0)
			bad = i;
		if (val[i].len)
			if ((err = add_clean(v, name_of(v->a, q->id, parts[i]), val[i])) != PCS_OK)
				return err;
	}
	if (missing == 3) {
		if (q->required)
			add_err(v, qi, -1, 0, msgf(v->a, "Enter a date for \"%s\"", label_or(q)));
		return PCS_OK;
	}
	if (missing) {
		add_err(v, qi, -1, first_missing, msgf(v->a, "The date must include a %s",
		    parts[first_missing]));
		return PCS_OK;
	}
	if (bad >= 0 || num[2] < 1000 || num[2] > 9999 || num[1] < 1 || num[1] > 12 ||
	    num[0] < 1 || num[0] > 31) {
		add_err(v, qi, -1, bad >= 0 ? bad : 0, "The date must be a real date, "
		    "for example 27 3 2007");
		return PCS_OK;
	}
	day = days_from_civil(num[2], (unsigned)num[1], (unsigned)num[0]);
	civil_from_days(day, &yy, &mm, &dd);
	if (mm != num[1] || dd != num[0]) {
		add_err(v, qi, -1, 0, "The date must be a real date, for example 27 3 2007");
		return PCS_OK;
	}
	if (q->has_date_min) {
		int64_t m = q->date_min_today ? v->today : q->date_min;

		if (day < m) {
			page_date_long(m, lo, sizeof(lo));
			add_err(v, qi, -1, 0, q->date_min_today ? "The date must be today or in the future" :
			    msgf(v->a, "The date must be on or after %s", lo));
		}
	}
	if (q->has_date_max) {
		int64_t m = q->date_max_today ? v->today : q->date_max;

		if (day > m) {
			page_date_long(m, hi, sizeof(hi));
			add_err(v, qi, -1, 0, q->date_max_today ? "The date must be today or in the past" :
			    msgf(v->a, "The date must be on or before %s", hi));
		}
	}
	return PCS_OK;
}

static enum pcs_err
check_choice(struct vstate *v, size_t qi, const struct question *q)
{
	struct str val, other;
	enum pcs_err err;

	if ((err = single(v, str_cstr(q->id), &val)) != PCS_OK)
		return err;
	if (q->other && (err = single(v, name_of(v->a, q->id, "other"), &other)) != PCS_OK)
		return err;
	if (val.len == 0) {
		if (q->required)
			add_err(v, qi, -1, 0, msgf(v->a, "Select an answer for \"%s\"", label_or(q)));
		return PCS_OK;
	}
	if (question_option(q, val) == NULL) {
		add_err(v, qi, -1, 0, "Select an answer from the list");
		return PCS_OK;
	}
	if ((err = add_clean(v, str_cstr(q->id), val)) != PCS_OK)
		return err;
	if (q->other && str_eq_cstr(val, "other")) {
		other = trim(other);
		if (other.len == 0)
			add_err(v, qi, -1, 3, "Enter your answer in the \"Other\" box");
		else if (utf8_count(other.p, other.len) > PCS_TEXT_MAXLEN_DEFAULT)
			add_err(v, qi, -1, 3, msgf(v->a, "Your \"Other\" answer must be %d "
			    "characters or fewer", PCS_TEXT_MAXLEN_DEFAULT));
		if (other.len)
			return add_clean(v, name_of(v->a, q->id, "other"), other);
	}
	return PCS_OK;
}

static enum pcs_err
check_choices(struct vstate *v, size_t qi, const struct question *q)
{
	struct str vals[PCS_FORM_OPTIONS_MAX];
	size_t n = fields_all(v->posted, str_cstr(q->id), vals, PCS_FORM_OPTIONS_MAX);
	size_t kept = 0;
	const struct option *exclusive = NULL;
	bool unknown = false;
	enum pcs_err err;

	/*
	 * More boxes than the question has, or than vals[] holds (fields_all
	 * counts past its max): the loop below reads vals[0..n).
	 */
	if (n > q->nopts || n > PCS_FORM_OPTIONS_MAX) {
		v->out->bad_field = str_cstr(q->id);
		return PCS_EINPUT;
	}
	for (size_t i = 0; i < n; i++) {
		const struct option *o;
		bool dup = false;

		if (vals[i].len == 0)
			continue;
		if ((o = question_option(q, vals[i])) == NULL) {
			unknown = true;
			continue;
		}
		for (size_t k = 0; k < i; k++)
			dup |= str_eq(vals[k], vals[i]);
		if (dup) {		/* the same box twice: a malformed request */
			v->out->bad_field = str_cstr(q->id);
			return PCS_EINPUT;
		}
		if (o->exclusive)
			exclusive = o;
		if ((err = add_clean(v, str_cstr(q->id), vals[i])) != PCS_OK)
			return err;
		kept++;
	}
	if (unknown)
		add_err(v, qi, -1, 0, "Select answers from the list");
	else if (kept == 0) {
		/*
		 * min_selected limits an answer; only "required" makes one
		 * necessary (as journey_first_missing() judges at submit)
		 */
		if (q->required)
			add_err(v, qi, -1, 0, msgf(v->a, "Select at least one answer for \"%s\"",
			    label_or(q)));
	} else if (exclusive && kept > 1)
		/* name the form's own exclusive option, not a guess at its label */
		add_err(v, qi, -1, 0, msgf(v->a, "Select \"%s\" on its own, or select other "
		    "answers without it", exclusive->label));
	else if (exclusive)
		;	/* "None of these" alone answers the question, whatever min_selected says */
	else if (q->min_selected && kept < q->min_selected)
		add_err(v, qi, -1, 0, msgf(v->a, "Select at least %zu answers", q->min_selected));
	else if (q->max_selected && kept > q->max_selected)
		add_err(v, qi, -1, 0, msgf(v->a, "Select no more than %zu answers", q->max_selected));
	return PCS_OK;
}

static enum pcs_err
check_scale(struct vstate *v, size_t qi, const struct question *q)
{
	enum pcs_err err;

	for (size_t s = 0; s < q->nstmts; s++) {
		struct str name = str_cstr(q->stmts[s].field), val;

		if ((err = single(v, name, &val)) != PCS_OK)
			return err;
		if (val.len == 0) {
			if (q->required)
				add_err(v, qi, (int)s, 0, msgf(v->a, "Select an answer for \"%s\"",
				    q->stmts[s].label));
			continue;
		}
		if (question_option(q, val) == NULL) {
			add_err(v, qi, (int)s, 0, "Select an answer from the scale");
			continue;
		}
		if ((err = add_clean(v, name, val)) != PCS_OK)
			return err;
	}
	return PCS_OK;
}

static enum pcs_err
check_consent(struct vstate *v, size_t qi, const struct question *q)
{
	struct str val;
	enum pcs_err err;

	if ((err = single(v, str_cstr(q->id), &val)) != PCS_OK)
		return err;
	if (!str_eq_cstr(val, "yes")) {
		add_err(v, qi, -1, 0, "Select the box to confirm you agree, or close this page "
		    "if you do not want to take part");
		return PCS_OK;
	}
	return add_clean(v, str_cstr(q->id), val);
}

/* Same-page condition: evaluated on the other pages' answers plus this page's so far. */
static bool
same_page_shown(struct vstate *v, const struct question *q)
{
	struct fields both;
	size_t n = v->before->n + v->out->clean.n;
	bool r;

	both.v = arena_alloc(v->a, (n ? n : 1) * sizeof(*both.v));
	if (both.v == NULL)
		return true;
	if (v->before->n)
		memcpy(both.v, v->before->v, v->before->n * sizeof(*both.v));
	if (v->out->clean.n)
		memcpy(both.v + v->before->n, v->out->clean.v, v->out->clean.n * sizeof(*both.v));
	both.n = n;
	r = cond_eval(q->show_if, &both);
	return r;
}

enum pcs_err
valid_page(struct arena *a, const struct form *f, size_t p, const struct fields *posted,
    const struct fields *before, const bool *shown, int64_t today, struct valid_out *out)
{
	const struct page *pg = &f->pages[p];
	struct vstate v = { .a = a, .f = f, .posted = posted, .before = before, .out = out,
	    .today = today };
	enum pcs_err err = PCS_OK;

	memset(out, 0, sizeof(*out));
	v.cap_clean = posted->n + 4 * pg->nq;
	v.cap_errs = 0;
	for (size_t i = 0; i < pg->nq; i++)
		v.cap_errs += 1 + f->qs[pg->first_q + i].nstmts;
	out->clean.v = arena_alloc(a, (v.cap_clean ? v.cap_clean : 1) * sizeof(struct field));
	out->errs = arena_alloc(a, (v.cap_errs ? v.cap_errs : 1) * sizeof(struct q_error));
	if (out->clean.v == NULL || out->errs == NULL)
		return PCS_ENOMEM;
	for (size_t i = 0; i < pg->nq && err == PCS_OK; i++) {
		size_t qi = pg->first_q + i;
		const struct question *q = &f->qs[qi];

		if (!shown[qi])
			continue;	/* forms.md: hidden answers are discarded */
		if (q->show_if && q->same_page_cond && !same_page_shown(&v, q))
			continue;
		switch (q->type) {
		case Q_TEXT:
		case Q_TEXTAREA:
		case Q_EMAIL:
			err = check_text(&v, qi, q);
			break;
		case Q_NUMBER:
			err = check_number(&v, qi, q);
			break;
		case Q_DATE:
			err = check_date(&v, qi, q);
			break;
		case Q_CHOICE:
		case Q_SELECT:
			err = check_choice(&v, qi, q);
			break;
		case Q_CHOICES:
			err = check_choices(&v, qi, q);
			break;
		case Q_SCALE:
			err = check_scale(&v, qi, q);
			break;
		case Q_CONSENT:
			err = check_consent(&v, qi, q);
			break;
		case Q_INFO:
		case Q__MAX:
			break;
		}
	}
	return err;
}

bool
question_owns_field(const struct question *q, struct str name)
{
	size_t idlen = strlen(q->id);

	if (name.len < idlen || memcmp(name.p, q->id, idlen) != 0)
		return false;
	if (name.len == idlen)
		return true;
	/* "q__suffix": ids never contain "__" (forms.md), so this is q's own */
	return name.len > idlen + 2 && name.p[idlen] == '_' && name.p[idlen + 1] == '_';
}
