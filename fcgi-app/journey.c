/* journey.c: see journey.h.  Conditions name only earlier questions (forms.md), so one pass is exact. */
#include <string.h>

#include "journey.h"
#include "valid.h"

enum tri { TRI_FALSE, TRI_TRUE, TRI_UNKNOWN };

/*
 * c on the answers so far, with every test of a question on page p
 * unknown: the respondent may still change those answers on the page.
 * TRI_FALSE means no answer on page p can make c hold, e.g. an "all"
 * whose test of an earlier page is false.
 */
static enum tri
cond_partial(const struct form *f, const struct cond *c, size_t p,
    const struct fields *eff, unsigned depth)
{
	bool unknown = false;
	enum tri r;

	if (depth > PCS_COND_DEPTH_MAX)
		return TRI_UNKNOWN;
	switch (c->op) {
	case COND_ALL:
	case COND_ANY:
		for (size_t i = 0; i < c->nkids; i++) {
			r = cond_partial(f, &c->kids[i], p, eff, depth + 1);
			if (r == TRI_UNKNOWN)
				unknown = true;
			else if ((r == TRI_TRUE) == (c->op == COND_ANY))
				return r;	/* all: one false; any: one true */
		}
		return unknown ? TRI_UNKNOWN : c->op == COND_ALL ? TRI_TRUE : TRI_FALSE;
	case COND_NOT:
		if (c->nkids == 0)
			return TRI_UNKNOWN;
		r = cond_partial(f, &c->kids[0], p, eff, depth + 1);
		return r == TRI_UNKNOWN ? r : r == TRI_TRUE ? TRI_FALSE : TRI_TRUE;
	case COND_EQUALS:
	case COND_IN:
	case COND_INCLUDES:
	case COND_ANSWERED:
	case COND_AT_LEAST:
	case COND_AT_MOST:
	case COND__MAX:
	default:
		if (c->qidx >= 0 && (size_t)c->qidx < f->nq && f->qs[c->qidx].page == p)
			return TRI_UNKNOWN;
		return cond_eval(c, eff) ? TRI_TRUE : TRI_FALSE;
	}
}

enum pcs_err
journey_eval(struct arena *a, const struct form *f, const struct fields *answers,
    struct journey *j)
{
	memset(j, 0, sizeof(*j));
	j->pshown = arena_alloc(a, (f->npages + 1) * sizeof(bool));
	j->qshown = arena_alloc(a, (f->nq + 1) * sizeof(bool));
	j->qactive = arena_alloc(a, (f->nq + 1) * sizeof(bool));
	j->eff.v = arena_alloc(a, (answers->n + 1) * sizeof(struct field));
	if (!j->pshown || !j->qshown || !j->qactive || !j->eff.v)
		return PCS_ENOMEM;
	for (size_t p = 0; p < f->npages; p++) {
		const struct page *pg = &f->pages[p];

		j->pshown[p] = pg->show_if == NULL || cond_eval(pg->show_if, &j->eff);
		if (j->pshown[p])
			j->npages_shown++;
		for (size_t i = 0; i < pg->nq; i++) {
			size_t qi = pg->first_q + i;
			const struct question *q = &f->qs[qi];
			bool holds;

			if (!j->pshown[p])
				continue;
			holds = q->show_if == NULL || cond_eval(q->show_if, &j->eff);
			/*
			 * A same-page condition is shown (with its "answer only
			 * if" hint) while answers on this page could still make it
			 * hold; one already false by earlier pages is not
			 * (forms.md: a false condition is not shown).
			 */
			j->qshown[qi] = holds || (q->same_page_cond &&
			    cond_partial(f, q->show_if, p, &j->eff, 1) != TRI_FALSE);
			j->qactive[qi] = holds;
			if (!holds)
				continue;
			for (size_t k = 0; k < answers->n; k++)
				if (question_owns_field(q, answers->v[k].name))
					j->eff.v[j->eff.n++] = answers->v[k];
		}
	}
	return PCS_OK;
}

int
journey_next(const struct form *f, const struct journey *j, int p)
{
	for (size_t i = p < 0 ? 0 : (size_t)p + 1; i < f->npages; i++)
		if (j->pshown[i])
			return (int)i;
	return -1;
}

int
journey_prev(const struct form *f, const struct journey *j, int p)
{
	(void)f;
	for (int i = p - 1; i >= 0; i--)
		if (j->pshown[i])
			return i;
	return -1;
}

size_t
journey_page_no(const struct form *f, const struct journey *j, size_t p)
{
	size_t n = 0;

	for (size_t i = 0; i <= p && i < f->npages; i++)
		if (j->pshown[i])
			n++;
	return n;
}

bool
question_answered(const struct question *q, const struct fields *ans)
{
	switch (q->type) {
	case Q_SCALE:
		for (size_t s = 0; s < q->nstmts; s++) {
			const struct str *v = fields_get(ans, str_cstr(q->stmts[s].field));

			if (v == NULL || v->len == 0)
				return false;
		}
		return q->nstmts > 0;
	case Q_DATE: {
		static const char *const parts[3] = { "__day", "__month", "__year" };
		char name[128];

		for (int i = 0; i < 3; i++) {
			const struct str *v;
			size_t n = strlen(q->id);

			if (n + 8 > sizeof(name))
				return false;
			memcpy(name, q->id, n);
			memcpy(name + n, parts[i], strlen(parts[i]) + 1);
			v = fields_get(ans, str_cstr(name));
			if (v == NULL || v->len == 0)
				return false;
		}
		return true;
	}
	case Q_INFO:
		return true;
	case Q_TEXT:
	case Q_TEXTAREA:
	case Q_EMAIL:
	case Q_NUMBER:
	case Q_CHOICE:
	case Q_SELECT:
	case Q_CHOICES:
	case Q_CONSENT:
	case Q__MAX:
	default: {
		const struct str *v = fields_get(ans, str_cstr(q->id));

		return v && v->len;
	}
	}
}

int
journey_first_missing(const struct form *f, const struct journey *j)
{
	for (size_t qi = 0; qi < f->nq; qi++) {
		const struct question *q = &f->qs[qi];

		if (j->qactive[qi] && (q->required || q->type == Q_CONSENT) &&
		    !question_answered(q, &j->eff))
			return (int)q->page;
	}
	return -1;
}

int
journey_first_unanswered(const struct form *f, const struct journey *j)
{
	for (size_t p = 0; p < f->npages; p++) {
		const struct page *pg = &f->pages[p];
		bool asks = false, answered = false;

		if (!j->pshown[p])
			continue;
		for (size_t i = 0; i < pg->nq; i++) {
			const struct question *q = &f->qs[pg->first_q + i];

			if (q->type == Q_INFO || !j->qactive[pg->first_q + i])
				continue;
			asks = true;
			for (size_t k = 0; k < j->eff.n && !answered; k++)
				answered = question_owns_field(q, j->eff.v[k].name);
		}
		if (asks && !answered)
			return (int)p;
	}
	return -1;
}
