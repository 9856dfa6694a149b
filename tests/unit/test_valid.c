/*
 * test_valid.c: page validation, journey and record rules on the real
 * staff-wellbeing form (forms.md: Types, Conditions; http-api.md:
 * Respondent rules; privacy.md: timestamps).
 */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "form.h"
#include "http.h"
#include "journey.h"
#include "record.h"
#include "ref.h"
#include "valid.h"

static struct form *sw;
static struct arena A;

static int
setup(void **state)
{
	(void)state;
	if (ref_load() != PCS_OK)
		return -1;
	arena_init(&A, 64 << 20);
	return form_load("forms/staff-wellbeing.json", &sw, stderr) == PCS_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	form_free(sw);
	arena_release(&A);
	return 0;
}

static struct fields
parse(const char *s)
{
	struct fields f;

	assert_int_equal(http_parse_urlencoded(&A, str_cstr(s), &f, NULL), PCS_OK);
	return f;
}

static bool *
all_shown(const struct form *f)
{
	bool *b = arena_alloc(&A, f->nq);

	memset(b, 1, f->nq);
	return b;
}

static int
page_of(const char *id)
{
	return form_page_index(sw, str_cstr(id));
}

static const struct {
	const char	*page;
	const char	*body;
	size_t		 nerrs;
	const char	*msg;		/* fragment of the first message */
	enum pcs_err	 err;
} cases[] = {
	{ "before-you-start", "consent=yes", 0, NULL, PCS_OK },
	{ "before-you-start", "", 1, "Select the box", PCS_OK },
	{ "before-you-start", "consent=no", 1, "Select the box", PCS_OK },
	{ "about-your-work", "role=gp_partner&icb=QE1&hours_per_week=30", 0, NULL, PCS_OK },
	{ "about-your-work", "role=gp_partner&icb=QE1&hours_per_week=abc", 1,
	    "Enter a number of hours between 0 and 80", PCS_OK },	/* http-api.md's own example */
	{ "about-your-work", "role=gp_partner&icb=QE1&hours_per_week=81", 1, "between 0 and 80", PCS_OK },
	{ "about-your-work", "role=gp_partner&icb=QE1&hours_per_week=-1", 1, "between 0 and 80", PCS_OK },
	{ "about-your-work", "role=gp_partner&icb=QE1&hours_per_week=3.0", 1, "between", PCS_OK },	/* T-16 */
	{ "about-your-work", "role=gp_partner&icb=QE1&hours_per_week=0x3", 1, "between", PCS_OK },
	{ "about-your-work", "role=gp_partner&icb=QE1&hours_per_week=1e309", 1, "between", PCS_OK },
	{ "about-your-work", "role=gp_partner&icb=QE1&hours_per_week=99999999999999999999999999999999", 1,
	    "between", PCS_OK },
	{ "about-your-work", "icb=QE1", 1, "Select an answer", PCS_OK },	/* required role */
	{ "about-your-work", "role=nope&icb=QE1", 1, "from the list", PCS_OK },
	{ "about-your-work", "role=other&icb=QE1", 1, "Other", PCS_OK },	/* other needs its text */
	{ "about-your-work", "role=other&role__other=Practice+manager&icb=QE1", 0, NULL, PCS_OK },
	{ "about-your-work", "role=gp_partner&role=gp_salaried&icb=QE1", 0, NULL, PCS_EINPUT },	/* T-13 */
	{ "about-your-work", "role=gp_partner&icb=QE1&respondent_id=7&is_test=false", 0, NULL, PCS_OK },	/* T-14 ignored */
	{ "support", "offered=eap&offered=none", 1, "on its own", PCS_OK },	/* exclusive */
	{ "support", "offered=eap&offered=eap", 0, NULL, PCS_EINPUT },
	{ "support", "offered=eap&access__know_what=6", 1, "scale", PCS_OK },	/* T-16: Likert 6 */
	{ "support", "offered=eap&access__know_what=0", 1, "scale", PCS_OK },
	{ "support", "offered=eap&access__know_what=4&access__know_what=5", 0, NULL, PCS_EINPUT },
	{ "your-ideas", "interview=yes", 1, "Enter an email address", PCS_OK },	/* same-page condition holds */
	{ "your-ideas", "interview=yes&contact_email=not-an-email", 1, "correct format", PCS_OK },
	{ "your-ideas", "interview=no&contact_email=not-an-email", 0, NULL, PCS_OK },	/* hidden: discarded */
};

static void
test_valid_table(void **state)
{
	bool *shown = all_shown(sw);
	struct fields none = { NULL, 0 };

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct valid_out v;
		struct fields body = parse(cases[i].body);
		int p = page_of(cases[i].page);
		enum pcs_err e;

		assert_true(p >= 0);
		e = valid_page(&A, sw, (size_t)p, &body, &none, shown, 20000, &v);
		if (e != cases[i].err)
			fail_msg("case %zu: got %s", i, pcs_strerror(e));
		if (e != PCS_OK)
			continue;
		if (v.nerrs != cases[i].nerrs)
			fail_msg("case %zu (%s): %zu errors, first: %s", i, cases[i].body, v.nerrs,
			    v.nerrs ? v.errs[0].msg : "-");
		if (cases[i].msg && strstr(v.errs[0].msg, cases[i].msg) == NULL)
			fail_msg("case %zu: message \"%s\"", i, v.errs[0].msg);
	}
}

/* forms.md: an answer for a hidden question is discarded, never stored. */
static void
test_hidden_answer_discarded(void **state)
{
	struct valid_out v;
	struct fields none = { NULL, 0 };
	struct fields body = parse("interview=no&contact_email=a%40b.org&helped_most=x");

	(void)state;
	assert_int_equal(valid_page(&A, sw, (size_t)page_of("your-ideas"), &body, &none,
	    all_shown(sw), 20000, &v), PCS_OK);
	assert_int_equal(v.nerrs, 0);
	assert_null(fields_get(&v.clean, STR_LIT("contact_email")));
	assert_non_null(fields_get(&v.clean, STR_LIT("helped_most")));
}

/* forms.md: Page n of m counts only pages whose show_if holds so far. */
static void
test_journey_conditional_page(void **state)
{
	struct journey j;
	struct fields yes = parse("consent=yes&arrs_funded=yes");
	struct fields no = parse("consent=yes&arrs_funded=no");
	int arrs = page_of("arrs-role");

	(void)state;
	assert_int_equal(journey_eval(&A, sw, &yes, &j), PCS_OK);
	assert_true(j.pshown[arrs]);
	assert_int_equal(j.npages_shown, 6);
	assert_int_equal(journey_next(sw, &j, arrs - 1), arrs);
	assert_int_equal(journey_eval(&A, sw, &no, &j), PCS_OK);
	assert_false(j.pshown[arrs]);
	assert_int_equal(j.npages_shown, 5);
	assert_int_equal(journey_next(sw, &j, arrs - 1), arrs + 1);
	assert_int_equal(journey_prev(sw, &j, arrs + 1), arrs - 1);
}

/* A changed earlier answer drops the answers it now hides. */
static void
test_journey_drops_stale_answers(void **state)
{
	struct journey j;
	struct fields a = parse("consent=yes&arrs_funded=no&arrs_practices=3&role=gp_partner");

	(void)state;
	assert_int_equal(journey_eval(&A, sw, &a, &j), PCS_OK);
	assert_null(fields_get(&j.eff, STR_LIT("arrs_practices")));
	assert_non_null(fields_get(&j.eff, STR_LIT("role")));
}

static void
test_journey_first_missing(void **state)
{
	struct journey j;
	struct fields a = parse("consent=yes&icb=QE1");

	(void)state;
	assert_int_equal(journey_eval(&A, sw, &a, &j), PCS_OK);
	assert_int_equal(journey_first_missing(sw, &j), page_of("about-your-work"));	/* role */
	a = parse("role=gp_partner&icb=QE1");
	assert_int_equal(journey_eval(&A, sw, &a, &j), PCS_OK);
	assert_int_equal(journey_first_missing(sw, &j), page_of("before-you-start"));	/* consent */
}

/* privacy.md: the stored day is truncated to the form's precision. */
static void
test_record_day(void **state)
{
	int64_t wed = days_from_civil(2026, 11, 25);

	(void)state;
	assert_int_equal(record_day(TS_DAY, wed), wed);
	assert_int_equal(record_day(TS_WEEK, wed), days_from_civil(2026, 11, 23));	/* Monday */
	assert_int_equal(record_day(TS_WEEK, days_from_civil(2026, 11, 23)), days_from_civil(2026, 11, 23));
	assert_int_equal(record_day(TS_WEEK, days_from_civil(2026, 11, 29)), days_from_civil(2026, 11, 23));
	assert_int_equal(record_day(TS_MONTH, wed), days_from_civil(2026, 11, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_table),
		cmocka_unit_test(test_hidden_answer_discarded),
		cmocka_unit_test(test_journey_conditional_page),
		cmocka_unit_test(test_journey_drops_stale_answers),
		cmocka_unit_test(test_journey_first_missing),
		cmocka_unit_test(test_record_day),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
