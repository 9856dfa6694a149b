/*
 * test_cond.c: cond_eval() (cond.h, forms.md: Conditions), table-driven.
 * Conditions are built by hand as form.c would compile them; answers are
 * fields named as in http-api.md (q, q__day/__month/__year, q__statement,
 * repeated names for checkboxes).
 */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "cond.h"
#include "form.h"

static const char *v_gp[] = { "gp_partner" };
static const char *v_gp_nurse[] = { "gp_partner", "practice_nurse" };
static const char *v_none[] = { "none" };
static const char *v_yes[] = { "yes" };
static const char *v_40[] = { "40" };
static const char *v_n5[] = { "-5" };
static const char *v_date[] = { "2026-03-31" };
static const char *v_dates[] = { "2026-01-01", "2026-03-31" };
static const char *v_5[] = { "5" };
static const char *v_45[] = { "4", "5" };

#define LEAF(o, f, t, v) { .op = (o), .field = (f), .qtype = (t), \
	.vals = (v), .nvals = NELEM(v) }

/* forms.md: equals/in on choice, select, consent, number, date, scale */
static const struct cond eq_role = LEAF(COND_EQUALS, "role", Q_SELECT, v_gp);
static const struct cond in_role = LEAF(COND_IN, "role", Q_SELECT, v_gp_nurse);
static const struct cond eq_consent = LEAF(COND_EQUALS, "agree", Q_CONSENT, v_yes);
static const struct cond eq_hours = LEAF(COND_EQUALS, "hours", Q_NUMBER, v_40);
static const struct cond eq_neg = LEAF(COND_EQUALS, "hours", Q_NUMBER, v_n5);
static const struct cond eq_date = LEAF(COND_EQUALS, "when", Q_DATE, v_date);
static const struct cond in_date = LEAF(COND_IN, "when", Q_DATE, v_dates);
static const struct cond eq_stmt = LEAF(COND_EQUALS, "access__know", Q_SCALE, v_5);
static const struct cond in_stmt = LEAF(COND_IN, "access__know", Q_SCALE, v_45);
/* includes: choices only */
static const struct cond inc_none = LEAF(COND_INCLUDES, "offered", Q_CHOICES, v_none);
/* answered: any type */
static const struct cond ans_offered = { .op = COND_ANSWERED, .field = "offered",
	.qtype = Q_CHOICES, .flag = true };
static const struct cond unans_role = { .op = COND_ANSWERED, .field = "role",
	.qtype = Q_SELECT, .flag = false };
static const struct cond ans_date = { .op = COND_ANSWERED, .field = "when",
	.qtype = Q_DATE, .flag = true };
static const struct cond ans_text = { .op = COND_ANSWERED, .field = "note",
	.qtype = Q_TEXTAREA, .flag = true };
/* at_least / at_most: number only */
static const struct cond least_40 = { .op = COND_AT_LEAST, .field = "hours",
	.qtype = Q_NUMBER, .num = 40 };
static const struct cond most_0 = { .op = COND_AT_MOST, .field = "hours",
	.qtype = Q_NUMBER, .num = 0 };

/* forms.md example: all[answered offered, not includes none] */
static struct cond ex_not[] = { LEAF(COND_INCLUDES, "offered", Q_CHOICES, v_none) };
static struct cond ex_kids[] = {
	{ .op = COND_ANSWERED, .field = "offered", .qtype = Q_CHOICES, .flag = true },
	{ .op = COND_NOT, .kids = ex_not, .nkids = 1 },
};
static const struct cond example = { .op = COND_ALL, .kids = ex_kids, .nkids = 2 };

static struct cond any_kids[] = {
	LEAF(COND_EQUALS, "role", Q_SELECT, v_gp),
	{ .op = COND_AT_LEAST, .field = "hours", .qtype = Q_NUMBER, .num = 40 },
};
static const struct cond any_c = { .op = COND_ANY, .kids = any_kids, .nkids = 2 };
static const struct cond all_empty = { .op = COND_ALL };
static const struct cond any_empty = { .op = COND_ANY };

/* depth 8: not(not(...(equals)...)) with 7 nots */
static struct cond chain[8];

static const struct {
	const struct cond	*c;
	const char		*ans;	/* "a=1&b=2", no decoding */
	bool			 want;
} cases[] = {
	{ NULL, "", true },				/* no show_if: shown */
	{ &eq_role, "role=gp_partner", true },
	{ &eq_role, "role=practice_nurse", false },
	{ &eq_role, "", false },			/* unanswered */
	{ &eq_role, "role=", false },
	{ &eq_role, "role=gp_partner_x", false },
	{ &eq_role, "rolex=gp_partner", false },	/* names match exactly */
	{ &eq_role, "ROLE=gp_partner", false },		/* T-13: case variants differ */
	{ &eq_role, "role__other=gp_partner", false },
	{ &in_role, "role=practice_nurse", true },
	{ &in_role, "role=gp_partner", true },
	{ &in_role, "role=dentist", false },
	{ &eq_consent, "agree=yes", true },
	{ &eq_consent, "agree=no", false },
	{ &eq_hours, "hours=40", true },
	{ &eq_hours, "hours=040", true },		/* numbers compare as numbers */
	{ &eq_hours, "hours=41", false },
	{ &eq_hours, "hours=40.0", false },		/* T-16 */
	{ &eq_hours, "hours=4e1", false },
	{ &eq_hours, "hours=+40", false },
	{ &eq_neg, "hours=-5", true },
	{ &least_40, "hours=40", true },
	{ &least_40, "hours=80", true },
	{ &least_40, "hours=39", false },
	{ &least_40, "hours=3abc", false },		/* T-16 */
	{ &least_40, "hours=0x30", false },		/* T-16 */
	{ &least_40, "hours=99999999999999999999", false },	/* T-16 overflow */
	{ &least_40, "", false },
	{ &most_0, "hours=0", true },
	{ &most_0, "hours=-1", true },
	{ &most_0, "hours=1", false },
	{ &most_0, "hours=", false },
	{ &eq_date, "when__day=31&when__month=3&when__year=2026", true },
	{ &eq_date, "when__day=31&when__month=03&when__year=2026", true },
	{ &eq_date, "when__year=2026&when__month=3&when__day=31", true },
	{ &eq_date, "when__day=30&when__month=3&when__year=2026", false },
	{ &eq_date, "when__day=31&when__month=3", false },	/* no year */
	{ &eq_date, "when__day=31&when__month=3&when__year=26", false },
	{ &eq_date, "when=2026-03-31", false },		/* read from the three boxes */
	{ &in_date, "when__day=1&when__month=1&when__year=2026", true },
	{ &in_date, "when__day=29&when__month=2&when__year=2026", false },	/* no such day */
	{ &in_date, "when__day=x&when__month=1&when__year=2026", false },
	{ &eq_stmt, "access__know=5", true },		/* question__statement */
	{ &eq_stmt, "access__know=4", false },
	{ &eq_stmt, "access=5", false },
	{ &in_stmt, "access__know=4", true },
	{ &inc_none, "offered=eap&offered=none", true },	/* that box ticked */
	{ &inc_none, "offered=none", true },
	{ &inc_none, "offered=eap", false },
	{ &inc_none, "", false },
	{ &ans_offered, "offered=eap", true },
	{ &ans_offered, "offered=", false },		/* empty is not an answer */
	{ &ans_offered, "", false },
	{ &unans_role, "", true },			/* answered: false */
	{ &unans_role, "role=gp_partner", false },
	{ &unans_role, "role__other=x", true },		/* the main field decides */
	{ &ans_date, "when__month=3", true },		/* any of the three boxes */
	{ &ans_date, "when__day=&when__month=&when__year=", false },
	{ &ans_date, "when=x", false },
	{ &ans_text, "note=some text", true },
	{ &example, "offered=eap", true },		/* forms.md example */
	{ &example, "offered=eap&offered=none", false },
	{ &example, "offered=none", false },
	{ &example, "", false },
	{ &any_c, "role=gp_partner&hours=10", true },
	{ &any_c, "role=dentist&hours=45", true },
	{ &any_c, "role=dentist&hours=10", false },
	{ &all_empty, "", true },
	{ &any_empty, "", false },
	{ &chain[7], "role=gp_partner", false },	/* depth 8, 7 nots: odd */
	{ &chain[6], "role=gp_partner", true },		/* 6 nots: even */
	{ &chain[6], "", false },
};

static void
parse_answers(const char *s, struct fields *f)
{
	char *dup = strdup(s), *p = dup, *tok;
	size_t n = 0;

	assert_non_null(dup);
	f->v = calloc(64, sizeof(*f->v));
	assert_non_null(f->v);
	while ((tok = strsep(&p, "&")) != NULL) {
		char *eq = strchr(tok, '=');

		if (*tok == '\0')
			continue;
		assert_non_null(eq);
		assert_true(n < 64);
		f->v[n].name = (struct str){ s + (tok - dup), (size_t)(eq - tok) };
		f->v[n].value = (struct str){ s + (eq + 1 - dup), strlen(eq + 1) };
		n++;
	}
	f->n = n;
	free(dup);
}

static void
test_cond_eval_table(void **state)
{
	(void)state;
	chain[0] = (struct cond)LEAF(COND_EQUALS, "role", Q_SELECT, v_gp);
	for (size_t i = 1; i < NELEM(chain); i++)
		chain[i] = (struct cond){ .op = COND_NOT, .kids = &chain[i - 1],
		    .nkids = 1 };
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct fields f;

		parse_answers(cases[i].ans, &f);
		if (cond_eval(cases[i].c, &f) != cases[i].want)
			fail_msg("case %zu (%s): want %d", i, cases[i].ans,
			    cases[i].want);
		free(f.v);
	}
}

/* NULL answers and malformed trees never crash: nothing matches */
static void
test_cond_eval_defensive(void **state)
{
	static const struct cond no_vals = { .op = COND_EQUALS, .field = "q",
		.qtype = Q_CHOICE };
	static const struct cond no_field = { .op = COND_ANSWERED,
		.qtype = Q_CHOICE, .flag = true };
	static const struct cond no_kid = { .op = COND_NOT };
	static const struct cond bad_op = { .op = COND__MAX };

	(void)state;
	assert_false(cond_eval(&eq_role, NULL));
	assert_true(cond_eval(&unans_role, NULL));
	assert_false(cond_eval(&no_vals, NULL));
	assert_false(cond_eval(&no_field, NULL));
	assert_false(cond_eval(&no_kid, NULL));
	assert_false(cond_eval(&bad_op, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cond_eval_table),
		cmocka_unit_test(test_cond_eval_defensive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
