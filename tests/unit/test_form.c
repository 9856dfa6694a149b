/*
 * test_form.c: form.h (forms.md).  (1) the four real forms load with no
 * problem; (2) every file in forms-bad/ is refused with the expected JSON
 * path and message; (3) facts of the built model; (4) each limit of
 * forms.md "Limits the checker enforces" at the limit and one past it,
 * generated in memory; (5) formsets; (6) inputs the fuzzer found.
 * Run from the repository root (or set PCS_TOP to it).
 */
#include "unit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "form.h"
#include "limits.h"

static const char *
top(void)
{
	const char *t = getenv("PCS_TOP");

	return t && *t ? t : ".";
}

/* Loads path (relative to the top); *report gets what was reported. */
static enum pcs_err
load(const char *rel, struct form **f, char **report)
{
	char path[1024];
	size_t n = 0;
	FILE *m = open_memstream(report, &n);
	enum pcs_err e;

	assert_non_null(m);
	snprintf(path, sizeof(path), "%s/%s", top(), rel);
	e = form_load(path, f, m);
	fclose(m);
	return e;
}

static enum pcs_err
load_mem(const char *path, const char *data, size_t len, struct form **f,
    char **report)
{
	size_t n = 0;
	FILE *m = open_memstream(report, &n);
	enum pcs_err e;

	assert_non_null(m);
	e = form_load_mem(path, data, len, f, m);
	fclose(m);
	return e;
}

static int
setup(void **state)
{
	(void)state;
	return ref_load() == PCS_OK ? 0 : -1;
}

/* ---- (1) the real forms ---- */

static const char *const real_forms[] = {
	"forms/icb-provision.json", "forms/organisation-provision.json",
	"forms/patient-voice.json", "forms/staff-wellbeing.json",
};

static void
test_form_real_forms_load(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(real_forms); i++) {
		struct form *f = NULL;
		char *rep = NULL;
		enum pcs_err e = load(real_forms[i], &f, &rep);

		if (e != PCS_OK || f == NULL || rep[0] != '\0')
			fail_msg("%s: %s\n%s", real_forms[i], pcs_strerror(e), rep);
		form_free(f);
		free(rep);
	}
}

/* ---- (2) forms-bad/: one file per checker rule (see its README) ---- */

static const struct {
	const char	*file;
	const char	*want;		/* "<json path>: <message fragment>" */
} bad[] = {
	{ "empty.json", "(file): the file is empty" },	/* Limits */
	{ "bad-utf8.json", "not valid UTF-8" },	/* Limits: valid UTF-8 */
	{ "bom.json", "byte order mark" },	/* Limits: valid UTF-8 */
	{ "missing-comma.json", "version: line 4, column 2: expected , or } after this value" },	/* Limits */
	{ "trailing-comma.json", "pages[0].questions[1]: line" },	/* Limits */
	{ "single-quotes.json", "double quotes" },	/* Limits */
	{ "leading-zero.json", "\"01\" is not a number JSON accepts" },	/* Limits */
	{ "raw-newline.json", "title: line 4" },	/* Limits */
	{ "trailing-text.json", "more after the end" },	/* Limits */
	{ "truncated.json", "ends" },	/* Limits */
	{ "too-deep.json", "nested more than 32 levels" },	/* Limits: JSON nesting <= 32 */
	{ "nul-escape.json", "title: line 4, column 16: \\u0000" },	/* adversarial.md T-11 */
	{ "lone-surrogate.json", "title: line 4" },	/* adversarial.md T-10 */
	{ "bad-escape.json", "not a valid escape" },	/* Limits */
	{ "duplicate-key.json", "pages[0].questions[1].label: the key \"label\" is given more than once" },	/* Limits: no duplicate keys at any level */
	{ "duplicate-key-top.json", "version: the key \"version\" is given more than once in the same object (lines 3 and 4)" },	/* Limits */
	{ "not-object.json", "(top level): a form must be one JSON object" },	/* Top level */
	{ "unknown-top-key.json", "titel: unknown key \"titel\" (did you mean \"title\"?)" },	/* Limits: no unknown keys */
	{ "missing-privacy.json", "privacy_notice: is missing" },	/* Top level */
	{ "id-mismatch.json", "id: \"another-form\" does not match the file name" },	/* Top level: id */
	{ "bad-form-id.json", "id: \"Bad_Form\" is not a valid form id" },	/* Top level: id */
	{ "bad-version.json", "version: must be a whole number from 1" },	/* Top level: version */
	{ "version-string.json", "version: must be a whole number (without quotes)" },	/* Top level: version */
	{ "bad-audience.json", "audience: \"staf\" is not allowed here (did you mean \"staff\"?)" },	/* Top level: audience */
	{ "bad-status.json", "status: \"live\" is not allowed here; use draft, open or closed" },	/* Top level: status */
	{ "bad-access.json", "access: \"public\" is not allowed" },	/* Top level: access */
	{ "bad-timestamp.json", "timestamp: \"hour\" is not allowed" },	/* Top level: timestamp */
	{ "bad-opens.json", "opens: \"2026-02-30\" is not a date" },	/* Top level: opens */
	{ "closes-before-opens.json", "closes: is before opens" },	/* Top level: closes */
	{ "bad-reference-date.json", "reference_date: \"today\" is not a date" },	/* Top level: reference_date */
	{ "bad-retention.json", "retention_days: must be a whole number from 1" },	/* Top level: retention_days */
	{ "bad-one-per-person.json", "one_per_person: must be true or false" },	/* Top level: one_per_person */
	{ "title-too-long.json", "title: is 201 characters long; the limit is 200" },	/* Question: lengths */
	{ "empty-title.json", "title: is empty" },	/* Top level: title */
	{ "title-newline.json", "title: must be one line" },	/* Top level: title */
	{ "http-link.json", "privacy_notice: the link \"[our policy](http://example.org/p)\" must point to an address starting with https://" },	/* "text" values */
	{ "mailto-link.json", "intro: the link" },	/* "text" values */
	{ "no-pages.json", "pages: is empty" },	/* Top level: pages 1..50 */
	{ "pages-not-array.json", "pages: must be a list" },	/* Top level: pages */
	{ "bad-page-id.json", "pages[0].id: \"1st\" is not a valid page id" },	/* Page: id */
	{ "duplicate-page-id.json", "pages[1].id: \"p1\" is already the id of pages[0]" },	/* Page: id */
	{ "unknown-page-key.json", "pages[0].question: unknown key \"question\" (did you mean \"questions\"?)" },	/* Page */
	{ "page-no-questions.json", "pages[0].questions: is empty" },	/* Page: questions 1..100 */
	{ "page-title-too-long.json", "pages[0].title: is 201 characters long" },	/* Question: lengths */
	{ "bad-question-id.json", "pages[0].questions[0].id: \"Role\" is not a valid question id" },	/* Question: id */
	{ "double-underscore-id.json", "pages[0].questions[0].id: \"my__role\" is not a valid question id" },	/* Question: no __ */
	{ "reserved-id.json", "pages[0].questions[1].id: \"csrf\" is used by the survey pages" },	/* http-api.md: csrf field */
	{ "duplicate-question-id.json", "pages[1].questions[3].id: \"hours\" is already the id of pages[0].questions[1]" },	/* Question: id unique */
	{ "bad-type.json", "pages[0].questions[1].type: \"numbr\" is not allowed here (did you mean \"number\"?)" },	/* Types */
	{ "missing-type.json", "pages[0].questions[1].type: is missing" },	/* Question: type */
	{ "unknown-question-key.json", "pages[0].questions[1].lable: unknown key \"lable\" (did you mean \"label\"?)" },	/* Limits: no unknown keys */
	{ "key-for-other-type.json", "pages[0].questions[1].max_length: \"max_length\" does not apply to a number question" },	/* Types: extra keys */
	{ "missing-label.json", "pages[0].questions[1].label: is missing" },	/* Question: label */
	{ "label-too-long.json", "pages[0].questions[1].label: is 501 characters long; the limit is 500" },	/* Question: lengths */
	{ "hint-too-long.json", "pages[0].questions[1].hint: is 2001 characters long; the limit is 2000" },	/* Question: lengths */
	{ "bad-required.json", "pages[0].questions[1].required: must be true or false" },	/* Question: required */
	{ "info-with-label.json", "pages[2].questions[1].label: \"label\" does not apply to an info question" },	/* Types: info */
	{ "info-no-text.json", "pages[2].questions[1].text: is missing" },	/* Types: info */
	{ "consent-not-required.json", "pages[0].questions[2].required: a consent is always required" },	/* Types: consent */
	{ "bad-store.json", "pages[0].questions[1].store: \"secret\" is not allowed" },	/* Question: store */
	{ "clear-text.json", "pages[2].questions[0].store: a text answer is typed freely" },	/* Types: text may not be clear */
	{ "clear-textarea.json", "pages[1].questions[3].store: a textarea answer" },	/* Types: textarea may not be clear */
	{ "pseudonym-textarea.json", "pages[1].questions[3].store: \"pseudonym\" is allowed on text and email questions only" },	/* Types: pseudonym text/email only */
	{ "text-maxlen-over.json", "pages[2].questions[0].max_length: must be a whole number from 1 to 2000" },	/* Types: text */
	{ "textarea-maxlen-over.json", "pages[1].questions[3].max_length: must be a whole number from 1 to 20000" },	/* Types: textarea */
	{ "bad-pattern.json", "pages[2].questions[0].pattern: is not a valid POSIX extended regular expression" },	/* Types: text pattern */
	{ "pattern-too-complex.json", "pages[2].questions[0].pattern: is too complex" },	/* Types: text pattern (T-40 resource exhaustion) */
	{ "pattern-double-repeat.json", "pages[2].questions[0].pattern: has two repetition marks in a row" },	/* Types: text pattern */
	{ "pattern-backref.json", "pages[2].questions[0].pattern: uses a back-reference" },	/* Types: text pattern */
	{ "pattern-message-alone.json", "pages[2].questions[0].pattern_message: is only used with \"pattern\"" },	/* Types: text */
	{ "number-no-min.json", "pages[0].questions[1].min: is missing" },	/* Types: number min and max required */
	{ "number-min-over-max.json", "pages[0].questions[1].min: 100 is more than max (80)" },	/* Types: number */
	{ "number-fraction.json", "pages[0].questions[1].max: must be a whole number, without a fraction" },	/* Types: number (whole number) */
	{ "date-bad-min.json", "pages[1].questions[2].min: \"tomorrow\" is not a date" },	/* Types: date */
	{ "date-min-after-max.json", "pages[1].questions[2].min: is after max" },	/* Types: date */
	{ "options-and-from.json", "pages[0].questions[0].options_from: a question takes either \"options\" or \"options_from\"" },	/* Options */
	{ "no-options.json", "pages[0].questions[0]: needs its answers" },	/* Options */
	{ "empty-options.json", "pages[1].questions[1].options: is empty" },	/* Options 1..200 */
	{ "bad-option-value.json", "pages[1].questions[1].options[0].value: \"E-A-P\" is not a valid option value" },	/* Options: value */
	{ "option-value-number.json", "pages[1].questions[0].options[0].value: must be text in double quotes" },	/* Options: value */
	{ "duplicate-option-value.json", "pages[1].questions[1].options[1].value: \"eap\" is already the value of options[0]" },	/* Options: unique */
	{ "option-no-label.json", "pages[1].questions[1].options[0].label: is missing" },	/* Options */
	{ "option-label-too-long.json", "pages[1].questions[1].options[0].label: is 2001 characters long; the limit is 2000" },	/* Question: lengths */
	{ "unknown-option-key.json", "pages[1].questions[1].options[0].exclusve: unknown key \"exclusve\" (did you mean \"exclusive\"?)" },	/* Options */
	{ "other-value-without-flag.json", "pages[2].questions[1].options[1].value: \"other\" is kept for the free-text \"Other\" answer" },	/* Options: other */
	{ "exclusive-on-choice.json", "pages[2].questions[1].options[0].exclusive: only an option of a choices (checkbox) question can be exclusive" },	/* Types: choices */
	{ "unknown-options-from.json", "pages[0].questions[0].options_from: \"staff_role\" is not allowed here (did you mean \"staff_roles\"?)" },	/* Limits: every options_from known */
	{ "other-on-choices.json", "pages[1].questions[1].other: \"other\" does not apply to a choices question" },	/* Options: other on choice/select */
	{ "min-selected-over.json", "pages[1].questions[1].min_selected: is 3 but there are only 2 options" },	/* Types: choices */
	{ "no-valid-ref-entries.json", "pages[0].questions[0].options_from: no entry of icbs is valid on the reference date 2020-01-01" },	/* Top level: reference_date */
	{ "scale-no-statements.json", "pages[1].questions[0].statements: is missing" },	/* Types: scale */
	{ "scale-dup-statement.json", "pages[1].questions[0].statements[1].id: \"know\" is already the id of statements[0]" },	/* Types: scale */
	{ "bad-statement-id.json", "pages[1].questions[0].statements[0].id: \"i__know\" is not a valid statement id" },	/* Question: no __ */
	{ "scale-options-from.json", "pages[1].questions[0].options_from: \"options_from\" does not apply to a scale question" },	/* Types: scale */
	{ "dimension-wrong-list.json", "pages[0].questions[0].dimension: the icb dimension needs \"options_from\": \"icbs\"" },	/* Question: dimension */
	{ "dimension-on-choices.json", "pages[1].questions[1].dimension: a dimension must be a choice or select question" },	/* Question: dimension single answer */
	{ "dimension-sealed.json", "pages[0].questions[0].dimension: a dimension must be stored clear" },	/* Question: dimension clear */
	{ "dimension-twice.json", "pages[2].questions[1].dimension: the role dimension is already declared by question \"role\"" },	/* Options: Dimensions at most once */
	{ "dimension-other-icb.json", "pages[2].questions[1].dimension: \"other\": true would give answers that are not icbs codes" },	/* Question: dimension (reference codes only) */
	{ "bad-dimension.json", "pages[0].questions[0].dimension: \"roles\" is not allowed here (did you mean \"role\"?)" },	/* Question: dimension */
	{ "one-per-person-none.json", "one_per_person: needs exactly one question with \"store\": \"pseudonym\" (this form has 0)" },	/* Top level: one_per_person */
	{ "one-per-person-two.json", "one_per_person: needs exactly one question with \"store\": \"pseudonym\" (this form has 2)" },	/* Top level: one_per_person */
	{ "one-per-person-optional.json", "pages[2].questions[1].required: with one_per_person, the pseudonym question must be required" },	/* Top level: one_per_person */
	{ "one-per-person-show-if.json", "pages[2].questions[1].show_if: with one_per_person, the pseudonym question must always be asked" },	/* Top level: one_per_person */
	{ "one-per-person-page-show-if.json", "pages[2].show_if: with one_per_person, the page of the pseudonym question \"email\" must always be shown" },	/* Top level: one_per_person */
	{ "cond-typo.json", "pages[2].questions[0].show_if.question: \"rol\" is not a question on an earlier page (did you mean \"role\"?)" },	/* Conditions; forms.md intro example */
	{ "cond-later.json", "pages[1].questions[0].show_if.question: \"more\" is not a question on an earlier page (it is asked later, on page \"p3\")" },	/* Conditions: earlier page */
	{ "cond-later-same-page.json", "pages[0].questions[1].show_if.question: \"agree\" is not a question on an earlier page" },	/* Conditions: earlier question on the same page */
	{ "cond-self.json", "pages[0].questions[1].show_if.question: \"hours\" is this question itself" },	/* Conditions */
	{ "cond-page-same-page.json", "pages[1].show_if.question: \"when\" is on this page; a page's show_if may use only questions on earlier pages" },	/* Conditions: a page's show_if earlier pages only */
	{ "cond-bad-value.json", "pages[2].questions[0].show_if.equals: \"gp_partnr\" is not an option of \"role\" (did you mean \"gp_partner\"?)" },	/* Conditions: VALUE one of the option values */
	{ "cond-in-bad-value.json", "pages[2].questions[0].show_if.in[1]: \"nurse\" is not an option of \"role\"" },	/* Conditions */
	{ "cond-in-empty.json", "pages[2].questions[0].show_if.in: is empty" },	/* Conditions */
	{ "cond-includes-choice.json", "pages[2].questions[0].show_if.includes: includes works only with a choices (checkbox) question" },	/* Conditions: includes choices only */
	{ "cond-equals-choices.json", "pages[2].questions[0].show_if.equals: equals does not work with a choices (checkbox) question such as \"offered\"; use \"includes\"" },	/* Conditions: equals applies to ... */
	{ "cond-equals-text.json", "pages[2].questions[0].show_if.equals: equals does not work with a textarea question" },	/* Conditions: equals applies to ... */
	{ "cond-at-least-choice.json", "pages[2].questions[0].show_if.at_least: at_least works only with a number question" },	/* Conditions: at_least number only */
	{ "cond-number-string.json", "pages[2].questions[0].show_if.equals: must be a whole number (without quotes)" },	/* Conditions: number (a JSON number) */
	{ "cond-number-range.json", "pages[2].questions[0].show_if.equals: 81 is outside the range of question \"hours\" (0 to 80)" },	/* Conditions */
	{ "cond-date-format.json", "pages[2].questions[0].show_if.equals: must be a date in double quotes, written YYYY-MM-DD" },	/* Conditions: date ("YYYY-MM-DD") */
	{ "cond-consent-value.json", "pages[2].questions[0].show_if.equals: a consent's only answer is \"yes\"" },	/* Conditions: consent ("yes") */
	{ "cond-scale-whole.json", "pages[2].questions[0].show_if.question: \"access\" is a scale; name one of its statements, e.g. \"access__know\"" },	/* Conditions: question__statement */
	{ "cond-scale-statement.json", "pages[2].questions[0].show_if.question: \"access__knw\" is not a statement of the scale \"access\" (did you mean \"access__know\"?)" },	/* Conditions: question__statement */
	{ "cond-scale-value.json", "pages[2].questions[0].show_if.equals: \"3\" is not an option of the scale \"access\"" },	/* Conditions */
	{ "cond-not-scale-part.json", "pages[2].questions[0].show_if.question: \"hours__x\": only the statements of a scale are named question__statement" },	/* Conditions */
	{ "cond-info.json", "pages[2].questions[0].show_if.question: \"about\" is an info item, not a question" },	/* Conditions: answered any type taking answers */
	{ "cond-answered-string.json", "pages[2].questions[0].show_if.answered: must be true or false" },	/* Conditions: answered true|false */
	{ "cond-two-ops.json", "pages[2].questions[0].show_if: a test may use only one of" },	/* Conditions */
	{ "cond-no-op.json", "pages[2].questions[0].show_if: a test needs one of equals" },	/* Conditions */
	{ "cond-no-question.json", "pages[2].questions[0].show_if: a test needs \"question\"" },	/* Conditions */
	{ "cond-mixed.json", "pages[2].questions[0].show_if: a condition is either one test" },	/* Conditions */
	{ "cond-empty-all.json", "pages[2].questions[0].show_if.all: is empty" },	/* Conditions */
	{ "cond-unknown-key.json", "pages[2].questions[0].show_if.equal: unknown key \"equal\" (did you mean \"equals\"?)" },	/* Conditions; Limits: no unknown keys */
	{ "cond-string.json", "pages[2].questions[0].show_if: a condition must be an object" },	/* Conditions: never a string to parse */
	{ "cond-too-deep.json", "pages[2].questions[0].show_if.not.not.not.not.not.not.not.not: conditions may be nested at most 8 deep" },	/* Conditions: depth at most 8 */
	{ "cond-deep-typo.json", "pages[2].questions[0].show_if.all[1].not.any[1].question: \"ofered\" is not a question on an earlier page (did you mean \"offered\"?)" },	/* Conditions */
};

static void
test_form_bad_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(bad); i++) {
		char rel[256], prefix[300];
		struct form *f = (struct form *)1;
		char *rep = NULL;
		enum pcs_err e;

		snprintf(rel, sizeof(rel), "tests/unit/forms-bad/%s", bad[i].file);
		e = load(rel, &f, &rep);
		/* every line is "<file as given>: <json path>: <message>" */
		snprintf(prefix, sizeof(prefix), "%s/%s: ", top(), rel);
		if (e != PCS_EINPUT || f != NULL || strstr(rep, bad[i].want) == NULL ||
		    strncmp(rep, prefix, strlen(prefix)) != 0)
			fail_msg("%s: %s; want [%s] in:\n%s", bad[i].file,
			    pcs_strerror(e), bad[i].want, rep);
		for (const char *l = rep; *l; l = strchr(l, '\n') + 1) {
			if (strncmp(l, prefix, strlen(prefix)) != 0 ||
			    strchr(l, '\n') == NULL)
				fail_msg("%s: malformed line: %s", bad[i].file, l);
		}
		free(rep);
	}
}

/* Every fixture is in the table above and in the README. */
static void
test_form_bad_table_complete(void **state)
{
	char dir[1024], readme[1100], *text = NULL;
	size_t cap = 0, nfiles = 0;
	DIR *d;
	struct dirent *de;
	FILE *r;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/unit/forms-bad", top());
	snprintf(readme, sizeof(readme), "%s/README", dir);
	assert_non_null(r = fopen(readme, "r"));
	assert_true(getdelim(&text, &cap, '\0', r) > 0);
	fclose(r);
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name), i;
		char line[300];

		if (n <= 5 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		nfiles++;
		for (i = 0; i < NELEM(bad); i++)
			if (strcmp(bad[i].file, de->d_name) == 0)
				break;
		if (i == NELEM(bad))
			fail_msg("%s has no row in bad[]", de->d_name);
		snprintf(line, sizeof(line), "\n%s: ", de->d_name);
		if (strstr(text, line) == NULL)
			fail_msg("%s is not in forms-bad/README", de->d_name);
	}
	closedir(d);
	free(text);
	assert_int_equal(nfiles, NELEM(bad));
}

/* forms.md's own example, exactly */
static void
test_form_message_example(void **state)
{
	struct form *f = NULL;
	char *rep = NULL, want[512];

	(void)state;
	assert_int_equal(load("tests/unit/forms-bad/cond-typo.json", &f, &rep),
	    PCS_EINPUT);
	snprintf(want, sizeof(want), "%s/tests/unit/forms-bad/cond-typo.json: "
	    "pages[2].questions[0].show_if.question: \"rol\" is not a question "
	    "on an earlier page (did you mean \"role\"?)\n", top());
	assert_string_equal(rep, want);
	free(rep);
}

/* Every problem is reported, not just the first. */
static void
test_form_reports_all(void **state)
{
	static const char src[] = "{\"id\": \"x\", \"version\": 0, \"title\": \"\","
	    " \"audience\": \"staf\", \"status\": \"open\", \"access\": \"open\","
	    " \"privacy_notice\": \"P\", \"colour\": 1, \"pages\": [{\"id\": \"p\","
	    " \"title\": \"P\", \"questions\": [{\"id\": \"a\", \"type\": \"number\","
	    " \"label\": \"A\"}, {\"id\": \"b\", \"type\": \"text\", \"label\": \"B\","
	    " \"show_if\": {\"question\": \"c\", \"answered\": true}}]}]}";
	static const char *const want[] = {
		"dir/x.json: version: must be a whole number from 1",
		"dir/x.json: title: is empty",
		"dir/x.json: audience: \"staf\" is not allowed here (did you mean \"staff\"?)",
		"dir/x.json: colour: unknown key \"colour\"",
		"dir/x.json: pages[0].questions[0].min: is missing",
		"dir/x.json: pages[0].questions[0].max: is missing",
		"dir/x.json: pages[0].questions[1].show_if.question: \"c\" is not a question on an earlier page",
	};
	struct form *f = NULL;
	char *rep = NULL;
	size_t lines = 0;

	(void)state;
	assert_int_equal(load_mem("dir/x.json", src, sizeof(src) - 1, &f, &rep),
	    PCS_EINPUT);
	assert_null(f);
	for (size_t i = 0; i < NELEM(want); i++)
		if (strstr(rep, want[i]) == NULL)
			fail_msg("want [%s] in:\n%s", want[i], rep);
	for (const char *p = rep; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, NELEM(want));
	free(rep);
}

/* ---- (3) the model ---- */

static const struct question *
q_by_id(const struct form *f, const char *id)
{
	int i = form_question_index(f, str_cstr(id));

	assert_true(i >= 0);
	return &f->qs[i];
}

static void
test_form_model_staff_wellbeing(void **state)
{
	struct form *f = NULL;
	char *rep = NULL;
	const struct question *q;
	int64_t d;

	(void)state;
	assert_int_equal(load("forms/staff-wellbeing.json", &f, &rep), PCS_OK);
	free(rep);
	assert_string_equal(f->id, "staff-wellbeing");
	assert_int_equal(f->version, 1);
	assert_int_equal(f->npages, 6);
	assert_int_equal(f->nq, 20);
	assert_int_equal(f->audience, AUD_STAFF);
	assert_int_equal(f->status, FS_OPEN);
	assert_int_equal(f->access, ACCESS_OPEN);
	assert_int_equal(f->timestamp, TS_DAY);		/* default */
	assert_false(f->one_per_person);
	assert_int_equal(f->pseudonym_q, -1);
	assert_true(date_parse(STR_LIT("2026-03-31"), &d));
	assert_int_equal(f->reference_date, d);
	assert_non_null(f->privacy_notice);
	for (size_t p = 0, k = 0; p < f->npages; p++) {	/* pages tile qs[] */
		assert_int_equal(f->pages[p].first_q, k);
		for (size_t j = 0; j < f->pages[p].nq; j++)
			assert_int_equal(f->qs[k + j].page, p);
		k += f->pages[p].nq;
	}

	/* icb: 42 ICBs valid on 2026-03-31, grouped by region name */
	q = q_by_id(f, "icb");
	assert_int_equal(q->type, Q_SELECT);
	assert_int_equal(q->options_from, REF_ICBS);
	assert_int_equal(q->nopts, 42);
	assert_int_equal(q->dim, DIM_ICB);
	assert_int_equal(f->dim_q[DIM_ICB], q - f->qs);
	for (size_t i = 0; i < q->nopts; i++) {
		const struct ref_entry *r = ref_find(REF_REGIONS,
		    q->opts[i].parent, strlen(q->opts[i].parent));

		assert_non_null(q->opts[i].group);
		assert_non_null(r);
		assert_string_equal(q->opts[i].group, r->label);
		if (i > 0) {
			int c = strcmp(q->opts[i - 1].group, q->opts[i].group);

			assert_true(c < 0 || (c == 0 && strcmp(q->opts[i - 1].label,
			    q->opts[i].label) < 0));
		}
	}
	assert_string_equal(q->opts[0].group, "East of England");
	assert_non_null(question_option(q, STR_LIT("QE1")));
	assert_null(question_option(q, STR_LIT("S1Y5D")));	/* from 2026-04-01 */
	assert_string_equal(question_option(q, STR_LIT("QE1"))->label,
	    "Lancashire and South Cumbria");

	/* role: staff_roles with "other" last; parent is the staff group */
	q = q_by_id(f, "role");
	assert_true(q->other);
	assert_int_equal(q->dim, DIM_ROLE);
	assert_string_equal(q->opts[q->nopts - 1].value, "other");
	assert_string_equal(question_option(q, STR_LIT("gp_partner"))->parent, "gp");
	/* work_setting: own options, "other" appended with label "Other" */
	q = q_by_id(f, "work_setting");
	assert_int_equal(q->nopts, 8);
	assert_string_equal(q->opts[7].value, "other");
	assert_string_equal(q->opts[7].label, "Other");
	assert_int_equal(q->options_from, REF__MAX);

	/* stores by type */
	assert_int_equal(q_by_id(f, "contact_email")->store, STORE_SEALED);
	assert_int_equal(q_by_id(f, "contact_email")->max_length, PCS_EMAIL_MAXLEN);
	assert_int_equal(q_by_id(f, "helped_most")->store, STORE_SEALED);
	assert_int_equal(q_by_id(f, "helped_most")->max_length, 2000);
	assert_int_equal(q_by_id(f, "role")->store, STORE_CLEAR);
	assert_int_equal(q_by_id(f, "hours_per_week")->store, STORE_CLEAR);
	assert_int_equal(q_by_id(f, "hours_per_week")->min, 0);
	assert_int_equal(q_by_id(f, "hours_per_week")->max, 80);
	assert_string_equal(q_by_id(f, "hours_per_week")->suffix, "hours");

	/* consent: required, one option "yes" */
	q = q_by_id(f, "consent");
	assert_true(q->required);
	assert_int_equal(q->nopts, 1);
	assert_string_equal(q->opts[0].value, "yes");

	/* scale statements are fields "question__statement" */
	q = q_by_id(f, "access");
	assert_int_equal(q->nstmts, 4);
	assert_string_equal(q->stmts[0].field, "access__know_what");
	assert_int_equal(q->nopts, 5);

	/* conditions compiled */
	q = q_by_id(f, "providers");
	assert_non_null(q->show_if);
	assert_int_equal(q->show_if->op, COND_NOT);
	assert_int_equal(q->show_if->kids[0].op, COND_INCLUDES);
	assert_string_equal(q->show_if->kids[0].field, "offered");
	assert_string_equal(q->show_if->kids[0].vals[0], "none");
	assert_int_equal(q->show_if->kids[0].qidx, form_question_index(f,
	    STR_LIT("offered")));
	assert_true(q->same_page_cond);
	q = q_by_id(f, "leave_reasons");
	assert_int_equal(q->show_if->op, COND_IN);
	assert_int_equal(q->show_if->nvals, 2);
	assert_string_equal(q->show_if->vals[1], "maybe");
	assert_int_equal(q->show_if->qtype, Q_CHOICE);
	{
		const struct page *pg = &f->pages[form_page_index(f,
		    STR_LIT("arrs-role"))];

		assert_non_null(pg->show_if);
		assert_int_equal(pg->show_if->op, COND_EQUALS);
		assert_string_equal(pg->show_if->field, "arrs_funded");
		assert_null(f->pages[0].show_if);
	}
	{
		/* a compiled condition evaluates against answers */
		const struct question *ce = q_by_id(f, "contact_email");
		struct field yes = { STR_LIT("interview"), STR_LIT("yes") };
		struct field no = { STR_LIT("interview"), STR_LIT("no") };
		struct fields a1 = { &yes, 1 }, a2 = { &no, 1 };

		assert_true(ce->same_page_cond);
		assert_true(cond_eval(ce->show_if, &a1));
		assert_false(cond_eval(ce->show_if, &a2));
	}
	assert_int_equal(form_page_index(f, STR_LIT("nope")), -1);
	assert_int_equal(form_question_index(f, STR_LIT("rol")), -1);
	assert_true(form_is_open(f, d));
	form_free(f);
}

static void
test_form_model_other_forms(void **state)
{
	struct form *f = NULL;
	char *rep = NULL;

	(void)state;
	assert_int_equal(load("forms/organisation-provision.json", &f, &rep),
	    PCS_OK);
	free(rep);
	assert_int_equal(f->dim_q[DIM_ORG_TYPE], 0);
	assert_int_equal(f->qs[f->dim_q[DIM_REGION]].nopts, 7);
	assert_int_equal(f->qs[f->dim_q[DIM_ICB]].nopts, 42);
	assert_int_equal(f->dim_q[DIM_ROLE], -1);
	assert_string_equal(f->qs[0].opts[f->qs[0].nopts - 1].value, "other");
	/* area page: conditions on an earlier page are not same-page */
	assert_false(q_by_id(f, "region")->same_page_cond);
	assert_non_null(f->pages[1].show_if);
	assert_int_equal(f->pages[1].show_if->nvals, 3);
	form_free(f);

	assert_int_equal(load("forms/icb-provision.json", &f, &rep), PCS_OK);
	free(rep);
	assert_int_equal(f->access, ACCESS_INVITE);
	assert_int_equal(f->timestamp, TS_MONTH);
	assert_int_equal(f->audience, AUD_ORGANISATION);
	assert_int_equal(q_by_id(f, "staff_groups_covered")->nopts, 8);
	assert_int_equal(q_by_id(f, "spend_2025_26")->max, 50000000);
	assert_string_equal(q_by_id(f, "spend_2025_26")->prefix, "\xC2\xA3");
	assert_int_equal(q_by_id(f, "documents")->max_length, 10000);
	assert_int_equal(q_by_id(f, "lead_job_title")->max_length, 200);
	form_free(f);

	assert_int_equal(load("forms/patient-voice.json", &f, &rep), PCS_OK);
	free(rep);
	/* choices may have an option called "other" (no free text there) */
	assert_non_null(question_option(q_by_id(f, "involvement"),
	    STR_LIT("other")));
	assert_false(q_by_id(f, "icb")->required);
	form_free(f);
}

/* Builds a form in b from parts (valid unless a part breaks it). */
static void
gen(struct buf *b, const char *top_extra, size_t npages, size_t nq,
    size_t nopts, size_t nstmts, const char *q0_extra)
{
	buf_init(b, 64 << 20);
	buf_printf(b, "{\"id\": \"gen\", \"version\": 1, \"title\": \"T\", "
	    "\"audience\": \"public\", \"status\": \"open\", \"access\": "
	    "\"open\", \"privacy_notice\": \"P\"%s, \"pages\": [", top_extra);
	for (size_t p = 0; p < npages; p++) {
		buf_printf(b, "%s{\"id\": \"p%zu\", \"title\": \"P\", "
		    "\"questions\": [", p ? "," : "", p);
		for (size_t k = 0; k < nq; k++) {
			size_t no = p == 0 && k == 0 ? nopts : 1;

			buf_printf(b, "%s{\"id\": \"q%zu_%zu\", \"type\": "
			    "\"%s\", \"label\": \"L\"", k ? "," : "", p, k,
			    p == 0 && k == 0 && nstmts ? "scale" : "choice");
			if (p == 0 && k == 0) {
				buf_adds(b, q0_extra);
				if (nstmts) {
					buf_adds(b, ", \"statements\": [");
					for (size_t s = 0; s < nstmts; s++)
						buf_printf(b, "%s{\"id\": \"s%zu\", "
						    "\"label\": \"S\"}", s ? "," : "",
						    s);
					buf_adds(b, "]");
				}
			}
			if (no) {
				buf_adds(b, ", \"options\": [");
				for (size_t o = 0; o < no; o++)
					buf_printf(b, "%s{\"value\": \"v%zu\", "
					    "\"label\": \"V\"}", o ? "," : "", o);
				buf_adds(b, "]");
			}
			buf_adds(b, "}");
		}
		buf_adds(b, "]}");
	}
	buf_adds(b, "]}");
	assert_int_equal(b->err, PCS_OK);
}

/* ---- (4) limits: at the limit, and one past it ---- */

static const struct {
	size_t		 pages, qs, opts, stmts;
	const char	*top_extra, *q0_extra;
	const char	*want;		/* NULL: loads */
} limits[] = {
	{ 1, 1, 1, 0, "", "", NULL },
	{ 50, 1, 1, 0, "", "", NULL },				/* pages 1..50 */
	{ 51, 1, 1, 0, "", "", "pages: has 51 pages; the limit is 50" },
	{ 1, 100, 1, 0, "", "", NULL },				/* questions 1..100 */
	{ 1, 101, 1, 0, "", "", "pages[0].questions: has 101 questions; the limit is 100" },
	{ 10, 100, 1, 0, "", "", NULL },			/* <= 1000 per form */
	{ 11, 91, 1, 0, "", "", "pages: the pages hold 1001 questions; the limit is 1000" },
	{ 1, 1, 200, 0, "", "", NULL },				/* options 1..200 */
	{ 1, 1, 201, 0, "", "", "pages[0].questions[0].options: has 201 options; the limit is 200" },
	{ 1, 1, 5, 30, "", "", NULL },				/* statements 1..30 */
	{ 1, 1, 5, 31, "", "", "pages[0].questions[0].statements: has 31 statements; the limit is 30" },
	{ 1, 1, 1, 0, "", ", \"hint\": \"" "0123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789" "\"", NULL },
	{ 1, 1, 2, 0, "", ", \"other\": true", NULL },
	{ 1, 1, 1, 0, ", \"opens\": \"2026-01-01\", \"closes\": \"2026-01-01\"", "", NULL },
	{ 1, 1, 1, 0, ", \"retention_days\": 36500, \"timestamp\": \"week\"", "", NULL },
};

static void
test_form_limits_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(limits); i++) {
		struct buf b;
		struct form *f = NULL;
		char *rep = NULL;
		enum pcs_err e;

		gen(&b, limits[i].top_extra, limits[i].pages, limits[i].qs,
		    limits[i].opts, limits[i].stmts, limits[i].q0_extra);
		e = load_mem("forms/gen.json", b.p, b.len, &f, &rep);
		if (limits[i].want == NULL ? e != PCS_OK || rep[0] != '\0' :
		    e != PCS_EINPUT || strstr(rep, limits[i].want) == NULL)
			fail_msg("case %zu: %s\n%s", i, pcs_strerror(e), rep);
		form_free(f);
		free(rep);
		buf_release(&b);
	}
}

/* lengths in code points: at the limit and one past */
static void
test_form_length_limits(void **state)
{
	static const struct {
		const char	*key;		/* top-level key replacing "title": "T" */
		size_t		 n, max;
	} cases[] = {
		{ "title", 200, PCS_FORM_TITLE_MAX },
		{ "title", 201, PCS_FORM_TITLE_MAX },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct buf b, t;
		struct form *f = NULL;
		char *rep = NULL, *at;
		enum pcs_err e;

		gen(&b, "", 1, 1, 1, 0, "");
		buf_init(&t, 1 << 20);
		at = strstr(b.p, "\"title\": \"T\"");
		assert_non_null(at);
		buf_add(&t, b.p, (size_t)(at - b.p));
		buf_adds(&t, "\"title\": \"");
		for (size_t k = 0; k < cases[i].n; k++)
			buf_adds(&t, "\xC3\xA9");	/* 2 bytes, 1 code point */
		buf_adds(&t, at + 11);
		e = load_mem("forms/gen.json", t.p, t.len, &f, &rep);
		if (cases[i].n <= cases[i].max ? e != PCS_OK :
		    e != PCS_EINPUT || strstr(rep, "the limit is 200") == NULL)
			fail_msg("case %zu: %s %s", i, pcs_strerror(e), rep);
		form_free(f);
		free(rep);
		buf_release(&b);
		buf_release(&t);
	}
}

/* other: true on a list without "other" adds it last (forms.md Options) */
static void
test_form_other_appended_to_ref(void **state)
{
	static const char src[] = "{\"id\": \"gen\", \"version\": 1, \"title\": \"T\","
	    " \"audience\": \"public\", \"status\": \"open\", \"access\": \"open\","
	    " \"privacy_notice\": \"P\", \"opens\": \"2026-04-02\", \"pages\": [{\"id\": \"p\","
	    " \"title\": \"P\", \"questions\": [{\"id\": \"a\", \"type\": \"select\","
	    " \"label\": \"A\", \"options_from\": \"icbs\", \"other\": true},"
	    " {\"id\": \"b\", \"type\": \"text\", \"label\": \"B\","
	    " \"pattern\": \"[A-Z]{2}[0-9]\", \"store\": \"pseudonym\"}]}]}";
	struct form *f = NULL;
	char *rep = NULL;
	int64_t d;

	(void)state;
	assert_int_equal(load_mem("x/gen.json", src, sizeof(src) - 1, &f, &rep),
	    PCS_OK);
	free(rep);
	/* reference_date defaults to opens: the 36 ICBs after 1 April 2026 */
	assert_true(date_parse(STR_LIT("2026-04-02"), &d));
	assert_int_equal(f->reference_date, d);
	assert_int_equal(f->qs[0].nopts, 37);
	assert_string_equal(f->qs[0].opts[36].value, "other");
	assert_string_equal(f->qs[0].opts[36].label, "Other");
	assert_non_null(question_option(&f->qs[0], STR_LIT("S1Y5D")));
	assert_null(question_option(&f->qs[0], STR_LIT("QMM")));
	/* pattern: POSIX ERE, whole answer */
	assert_non_null(f->qs[1].pattern_src);
	assert_int_equal(regexec(&f->qs[1].pattern, "AB1", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(&f->qs[1].pattern, "AB12", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(&f->qs[1].pattern, "xAB1", 0, NULL, 0), 0);
	assert_int_equal(f->qs[1].store, STORE_PSEUDONYM);
	assert_int_equal(f->pseudonym_q, 1);
	/* opens in the future: not open yet */
	assert_false(form_is_open(f, d - 1));
	assert_true(form_is_open(f, d));
	form_free(f);
}

static void
test_form_file_size_limit(void **state)
{
	char *big = malloc(PCS_FORM_FILE_MAX + 1), path[] = "/tmp/pcs-test-XXXXXX";
	struct form *f = NULL;
	char *rep = NULL, fpath[64];
	FILE *out;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', PCS_FORM_FILE_MAX + 1);
	big[0] = '{';
	big[PCS_FORM_FILE_MAX] = '}';
	assert_int_equal(load_mem("forms/gen.json", big, PCS_FORM_FILE_MAX + 1,
	    &f, &rep), PCS_EINPUT);
	assert_non_null(strstr(rep, "forms/gen.json: (file): the file is 1048577 bytes"));
	free(rep);
	/* at the limit it is read (and then checked) */
	big[PCS_FORM_FILE_MAX - 1] = '}';
	assert_int_equal(load_mem("forms/gen.json", big, PCS_FORM_FILE_MAX, &f,
	    &rep), PCS_EINPUT);
	assert_null(strstr(rep, "1 MiB"));
	assert_non_null(strstr(rep, "id: is missing"));
	free(rep);
	/* from a file */
	assert_non_null(mkdtemp(path));
	snprintf(fpath, sizeof(fpath), "%s/big.json", path);
	assert_non_null(out = fopen(fpath, "w"));
	assert_int_equal(fwrite(big, 1, PCS_FORM_FILE_MAX + 1, out),
	    PCS_FORM_FILE_MAX + 1);
	fclose(out);
	{
		size_t n = 0;
		FILE *m = open_memstream(&rep, &n);

		assert_int_equal(form_load(fpath, &f, m), PCS_EINPUT);
		fclose(m);
	}
	assert_non_null(strstr(rep, "the file is 1048577 bytes"));
	free(rep);
	unlink(fpath);
	rmdir(path);
	free(big);
}

/* JSON nesting <= 32, checked before cJSON, without recursion (T-12) */
static void
test_form_json_depth(void **state)
{
	static const size_t depths[] = { 32, 33, 1001, 100000 };

	(void)state;
	for (size_t i = 0; i < NELEM(depths); i++) {
		struct buf b;
		struct form *f = NULL;
		char *rep = NULL;

		/* the top object is level 1; "x" holds depths[i] - 1 arrays */
		buf_init(&b, 1 << 20);
		buf_adds(&b, "{\"x\": ");
		for (size_t k = 1; k < depths[i]; k++)
			buf_addc(&b, '[');
		for (size_t k = 1; k < depths[i]; k++)
			buf_addc(&b, ']');
		buf_adds(&b, "}");
		assert_int_equal(load_mem("forms/gen.json", b.p, b.len, &f, &rep),
		    PCS_EINPUT);
		if ((strstr(rep, "nested more than 32 levels") != NULL) !=
		    (depths[i] > 32))
			fail_msg("depth %zu: %s", depths[i], rep);
		free(rep);
		buf_release(&b);
	}
}

/* ---- (5) formsets ---- */

static void
test_formset_load(void **state)
{
	struct formset fs;
	char dir[1024], *rep = NULL;
	size_t n = 0, refused;
	FILE *m;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/forms", top());
	m = open_memstream(&rep, &n);
	assert_int_equal(formset_load(dir, &fs, m), 0);
	fclose(m);
	assert_string_equal(rep, "");
	free(rep);
	assert_int_equal(fs.n, 4);
	assert_string_equal(fs.v[0]->id, "icb-provision");
	assert_string_equal(fs.v[1]->id, "organisation-provision");
	assert_string_equal(fs.v[2]->id, "patient-voice");
	assert_string_equal(fs.v[3]->id, "staff-wellbeing");
	assert_ptr_equal(formset_find(&fs, STR_LIT("patient-voice")), fs.v[2]);
	assert_ptr_equal(formset_find(&fs, STR_LIT("staff-wellbeing")), fs.v[3]);
	assert_null(formset_find(&fs, STR_LIT("patient")));
	assert_null(formset_find(&fs, STR_LIT("zzz")));
	assert_null(formset_find(&fs, STR_NULL));
	formset_release(&fs);
	assert_int_equal(fs.n, 0);

	/* refused forms are reported and left out; the others stay */
	snprintf(dir, sizeof(dir), "%s/tests/unit/forms-bad", top());
	m = open_memstream(&rep, &n);
	refused = formset_load(dir, &fs, m);
	fclose(m);
	assert_int_equal(refused, NELEM(bad));
	assert_int_equal(fs.n, 0);
	assert_non_null(strstr(rep, "cond-typo.json: pages[2]"));
	free(rep);
	formset_release(&fs);

	m = open_memstream(&rep, &n);
	assert_int_equal(formset_load("/nonexistent-pcs", &fs, m), 1);
	fclose(m);
	assert_non_null(strstr(rep, "cannot open"));
	free(rep);
	formset_release(&fs);
}

static void
test_form_file_errors(void **state)
{
	struct form *f = (struct form *)1;
	char *rep = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&rep, &n);

	(void)state;
	assert_int_equal(form_load("/nonexistent-pcs/x.json", &f, m), PCS_EIO);
	assert_null(f);
	assert_int_equal(form_load("/tmp", &f, m), PCS_EIO);
	fclose(m);
	assert_non_null(strstr(rep, "/nonexistent-pcs/x.json: (file): cannot open"));
	assert_non_null(strstr(rep, "/tmp: (file): is not a regular file"));
	free(rep);
	/* no report stream: still refused, nothing printed */
	assert_int_equal(form_load_mem("x.json", "{}", 2, &f, NULL), PCS_EINPUT);
	form_free(NULL);
}

/* ---- (6) inputs the fuzzer found (style guide: fuzzcheck) ---- */

static const char *const replay[] = {
	"{\"\": 1, \"\": 2}",		/* empty keys: NULL key buffer */
	"{}", "{\"a\": {}}",		/* empty objects: NULL key array */
	"{\"\": {\"\": []}, \"pattern\": \"(\"}",
	"{\"pages\": [{\"questions\": [{\"show_if\": {\"all\": [{\"not\": {}}]}}]}]}",
	"{\"id\": \"gen\", \"pages\": [{\"id\": \"p\", \"questions\": [{\"id\": \"a\","
	    " \"type\": \"scale\", \"statements\": [{}], \"options\": [{}]},"
	    " {\"id\": \"b\", \"type\": \"info\", \"text\": \"[x](y)\","
	    " \"show_if\": {\"question\": \"a__\", \"equals\": 1}}]}]}",
	"[]", "\"x\"", "0", "null", "{", "}", "{\"a\":}", "{\"a\" 1}", "\xEF\xBB",
	"{\"a\": \"\\ud83d\\ude00\", \"\\u00e9\": 1e999}",
	"{\"version\": 1e999, \"retention_days\": -0.0}",
};

static void
test_form_replay(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(replay); i++) {
		struct form *f = NULL;
		char *rep = NULL;

		assert_int_equal(load_mem("forms/gen.json", replay[i],
		    strlen(replay[i]), &f, &rep), PCS_EINPUT);
		assert_null(f);
		assert_true(rep[0] != '\0');
		free(rep);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_real_forms_load),
		cmocka_unit_test(test_form_bad_table),
		cmocka_unit_test(test_form_bad_table_complete),
		cmocka_unit_test(test_form_message_example),
		cmocka_unit_test(test_form_reports_all),
		cmocka_unit_test(test_form_model_staff_wellbeing),
		cmocka_unit_test(test_form_model_other_forms),
		cmocka_unit_test(test_form_limits_table),
		cmocka_unit_test(test_form_length_limits),
		cmocka_unit_test(test_form_other_appended_to_ref),
		cmocka_unit_test(test_form_file_size_limit),
		cmocka_unit_test(test_form_json_depth),
		cmocka_unit_test(test_formset_load),
		cmocka_unit_test(test_form_file_errors),
		cmocka_unit_test(test_form_replay),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
