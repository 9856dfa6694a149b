/* journey.c: see journey.h.  Conditions name only earlier questions (forms.md), so one pass is exact. */
#include <string.h>

#include "journey.h"
#include "valid.h"

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
			j->qshown[qi] = holds || q->same_page_cond;
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
