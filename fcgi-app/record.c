/*
 * record.c: builds the stored form of a response.  Plaintext of sealed and
 * pseudonym answers lives only in the request arena and the draft; the
 * copies made here for sealing are wiped (privacy.md).
 */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "record.h"

int64_t
record_day(enum ts_precision p, int64_t today)
{
	int y;
	unsigned m, d;

	switch (p) {
	case TS_WEEK:
		/* 1970-01-01 was a Thursday: Monday is 3 days before */
		return today - ((today + 3) % 7 + 7) % 7;
	case TS_MONTH:
		civil_from_days(today, &y, &m, &d);
		return days_from_civil(y, m, 1);
	case TS_DAY:
	case TS__MAX:
	default:
		return today;
	}
}

void
record_receipt(struct str token, char code[CRYPTO_CODE_TEXT + 1],
    uint8_t hash[CRYPTO_HASH_BYTES])
{
	char canon[CRYPTO_CODE_CHARS + 1];

	crypto_code_derive(CP_RECEIPT, token, code);
	if (!crypto_code_normalise(str_cstr(code), canon))
		canon[0] = '\0';	/* cannot happen: we made the code */
	crypto_keyed_hash(CP_RECEIPT, NULL, canon, strlen(canon), hash);
}

/* {"sealed": "<base64 of crypto_box_seal(value)>"} */
static enum pcs_err
add_sealed(struct arena *a, struct buf *out, struct str value)
{
	size_t blen = value.len + CRYPTO_SEAL_OVERHEAD;
	uint8_t *box = arena_alloc(a, blen);
	char *b64 = arena_alloc(a, crypto_base64_len(blen) + 1);

	if (box == NULL || b64 == NULL)
		return PCS_ENOMEM;
	if (crypto_seal(value.p, value.len, box) != PCS_OK)
		return PCS_ECRYPTO;
	crypto_base64(box, blen, b64);
	buf_adds(out, "{\"sealed\": \"");
	buf_adds(out, b64);
	buf_adds(out, "\"}");
	return PCS_OK;
}

static void
add_key(struct buf *out, bool *first, const char *name)
{
	if (!*first)
		buf_adds(out, ", ");
	*first = false;
	json_cstr(out, name);
	buf_adds(out, ": ");
}

/*
 * One answer value: as JSON text (a string, or a number when is_number),
 * or sealed when the form says "store": "sealed" (forms.md allows it on
 * every type that takes an answer; privacy.md: the server cannot read it
 * back).  A sealed value is the text the export would show in clear.
 */
static enum pcs_err
add_value(struct arena *a, struct buf *out, const struct question *q, struct str v,
    bool is_number)
{
	if (q->store == STORE_SEALED)
		return add_sealed(a, out, v);
	if (is_number)
		buf_addstr(out, v);
	else
		json_str(out, v.p, v.len);
	return PCS_OK;
}

static const struct str *
value_of(const struct fields *ans, const char *qid, const char *suffix, struct arena *a)
{
	char name[160];
	int n = suffix ? snprintf(name, sizeof(name), "%s__%s", qid, suffix) :
	    snprintf(name, sizeof(name), "%s", qid);

	(void)a;
	if (n < 0 || (size_t)n >= sizeof(name))
		return NULL;
	return fields_get(ans, (struct str){ name, (size_t)n });
}

static enum pcs_err
add_question(struct arena *a, const struct form *f, const struct question *q,
    const struct fields *ans, struct buf *out, bool *first, struct response_row *row)
{
	const struct str *v = value_of(ans, q->id, NULL, a);
	enum pcs_err err = PCS_OK;

	switch (q->type) {
	case Q_TEXT:
	case Q_TEXTAREA:
	case Q_EMAIL:
		if (v == NULL || v->len == 0)
			return PCS_OK;
		add_key(out, first, q->id);
		if (q->store == STORE_PSEUDONYM) {
			uint8_t *h = arena_alloc(a, CRYPTO_HASH_BYTES);
			char hex[2 * CRYPTO_HASH_BYTES + 1];

			if (h == NULL)
				return PCS_ENOMEM;
			crypto_pseudonym(f->id, *v, q->type == Q_EMAIL, h);
			crypto_hex(h, CRYPTO_HASH_BYTES, hex);
			buf_adds(out, "{\"pseudonym\": \"");
			buf_adds(out, hex);
			buf_adds(out, "\"}");
			if (f->one_per_person)
				row->pseudonym = h;
			return PCS_OK;
		}
		return add_sealed(a, out, *v);	/* text is never clear (forms.md) */
	case Q_NUMBER: {
		int64_t n;
		char num[24];

		if (v == NULL || v->len == 0)
			return PCS_OK;
		/*
		 * valid.c checked it, but never copy answer bytes into the JSON
		 * unquoted: a draft saved with errors held "1, \"x\": 2"
		 */
		if (!str_to_i64(*v, &n) || n < q->min || n > q->max)
			return PCS_EINPUT;
		snprintf(num, sizeof(num), "%lld", (long long)n);
		add_key(out, first, q->id);
		return add_value(a, out, q, str_cstr(num), true);
	}
	case Q_DATE: {
		const struct str *d = value_of(ans, q->id, "day", a);
		const struct str *m = value_of(ans, q->id, "month", a);
		const struct str *y = value_of(ans, q->id, "year", a);
		int64_t dd, mm, yy, day;
		char iso[11];
		int cy;
		unsigned cm, cd;

		if (!d && !m && !y)
			return PCS_OK;
		if (!d || !m || !y || !str_to_i64(*d, &dd) || !str_to_i64(*m, &mm) ||
		    !str_to_i64(*y, &yy) || yy < 1000 || yy > 9999 || mm < 1 || mm > 12 ||
		    dd < 1 || dd > 31)
			return PCS_EINPUT;
		/* 31 February would become 3 March: refuse it, as valid.c does */
		day = days_from_civil(yy, (unsigned)mm, (unsigned)dd);
		civil_from_days(day, &cy, &cm, &cd);
		if (cm != mm || cd != dd)
			return PCS_EINPUT;
		date_format(day, iso);
		add_key(out, first, q->id);
		return add_value(a, out, q, str_cstr(iso), false);
	}
	case Q_CHOICE:
	case Q_SELECT:
	case Q_CONSENT:
		if (v == NULL || v->len == 0)
			return PCS_OK;
		add_key(out, first, q->id);
		if ((err = add_value(a, out, q, *v, false)) != PCS_OK)
			return err;
		if (q->other && str_eq_cstr(*v, "other")) {
			const struct str *o = value_of(ans, q->id, "other", a);
			char name[160];

			if (o && o->len) {
				snprintf(name, sizeof(name), "%s__other", q->id);
				add_key(out, first, name);
				err = add_sealed(a, out, *o);	/* forms.md: stored sealed */
			}
		}
		if (q->dim != DIM_NONE) {
			const struct option *opt = question_option(q, *v);

			/*
			 * forms.md: region comes from the icb answer when there is
			 * one, else from a region question (likewise staff group)
			 */
			bool derived_only = q->dim == DIM_REGION || q->dim == DIM_STAFF_GROUP;

			/*
			 * "other" here is a code of the list itself: the checker
			 * allows "other": true on a dimension only when the list
			 * has one (staff_roles, organisation_types), so it counts
			 */
			if (opt && !(derived_only && row->dims[q->dim])) {
				row->dims[q->dim] = opt->value;
				if (q->dim == DIM_ICB && opt->parent)
					row->dims[DIM_REGION] = opt->parent;
				if (q->dim == DIM_ROLE && opt->parent)
					row->dims[DIM_STAFF_GROUP] = opt->parent;
			}
		}
		return err;
	case Q_CHOICES: {
		bool any = false;
		struct buf joined;

		if (q->store == STORE_SEALED) {
			/* sealed: the values joined with ";", as the export shows them */
			buf_init(&joined, PCS_RESP_BODY_MAX);
			for (size_t i = 0; i < ans->n; i++) {
				if (!str_eq_cstr(ans->v[i].name, q->id) || ans->v[i].value.len == 0)
					continue;
				if (any)
					buf_addc(&joined, ';');
				buf_addstr(&joined, ans->v[i].value);
				any = true;
			}
			if (any && (err = joined.err) == PCS_OK) {
				add_key(out, first, q->id);
				err = add_sealed(a, out, buf_str(&joined));
			}
			buf_release(&joined);
			return err;
		}
		for (size_t i = 0; i < ans->n; i++) {
			if (!str_eq_cstr(ans->v[i].name, q->id) || ans->v[i].value.len == 0)
				continue;
			if (!any)
				add_key(out, first, q->id), buf_addc(out, '[');
			else
				buf_adds(out, ", ");
			json_str(out, ans->v[i].value.p, ans->v[i].value.len);
			any = true;
		}
		if (any)
			buf_addc(out, ']');
		return PCS_OK;
	}
	case Q_SCALE:
		for (size_t s = 0; s < q->nstmts; s++) {
			const struct str *sv = fields_get(ans, str_cstr(q->stmts[s].field));

			if (sv == NULL || sv->len == 0)
				continue;
			add_key(out, first, q->stmts[s].field);
			if ((err = add_value(a, out, q, *sv, false)) != PCS_OK)
				return err;
		}
		return PCS_OK;
	case Q_INFO:
	case Q__MAX:
		break;
	}
	return PCS_OK;
}

enum pcs_err
record_build(struct arena *a, const struct form *f, const struct journey *j,
    struct str token, int64_t today, struct response_row *row)
{
	struct buf out;
	bool first = true;
	enum pcs_err err = PCS_OK;
	char receipt[CRYPTO_CODE_TEXT + 1];

	memset(row, 0, sizeof(*row));
	crypto_random(row->rid, sizeof(row->rid));
	row->form_id = f->id;
	row->form_version = f->version;
	row->submitted = record_day(f->timestamp, today);
	record_receipt(token, receipt, row->receipt_hash);
	buf_init(&out, PCS_RESP_BODY_MAX);
	buf_addc(&out, '{');
	for (size_t qi = 0; qi < f->nq && err == PCS_OK; qi++)
		if (j->qactive[qi])
			err = add_question(a, f, &f->qs[qi], &j->eff, &out, &first, row);
	buf_addc(&out, '}');
	if (err == PCS_OK && out.err != PCS_OK)
		err = out.err;
	if (err == PCS_OK)
		row->answers = arena_strdup_str(a, buf_str(&out));
	if (err == PCS_OK && row->answers.p == NULL)
		err = PCS_ENOMEM;
	buf_release(&out);
	return err;
}
