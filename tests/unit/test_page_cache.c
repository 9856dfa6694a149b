/*
 * test_page_cache.c: the option lists pre-rendered at form load (issue 9):
 * escaping of everything taken from the form, " selected"/" checked" put
 * after exactly the chosen options' value, the "other" text box filled in
 * where the list leaves its hole, and a page rendered from pre-rendered
 * lists identical to one whose lists are made per request.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "limits.h"
#include "page.h"
#include "page_cache.h"

/* struct form holds char *; the fixture is never written to. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

/* Option values and labels holding every character html_text() escapes. */
static struct option nasty_opts[] = {
	{ .value = "a&b", .label = "Fish & <chips>" },
	{ .value = "q\"uote", .label = "It's \"ok\"", .group = "G<1>" },
	{ .value = "plain", .label = "Plain", .group = "G<1>" },
	{ .value = "x'y>z", .label = "Last", .hint = "Hint <b> & 'more'" },
};
static struct option yn_opts[] = {
	{ .value = "yes", .label = "Yes" },
	{ .value = "no", .label = "No" },
	{ .value = "none", .label = "None of these", .exclusive = true },
};
static struct statement stmts[] = {
	{ .id = "s1", .label = "First <one>", .field = "sc__s1" },
	{ .id = "s2", .label = "Second", .field = "sc__s2" },
};

static struct question q_select = { .id = "sel", .type = Q_SELECT,
    .label = "Pick", .opts = nasty_opts, .nopts = NELEM(nasty_opts),
    .options_from = REF__MAX, .other = true };

/* What the fill callbacks are asked for. */
struct probe {
	const char	*want;		/* the chosen value, or NULL */
};

static size_t others_filled;	/* holes other_box() filled */

static bool
chosen_eq(const void *arg, const char *value, size_t vlen)
{
	const struct probe *p = arg;

	return p->want != NULL && strlen(p->want) == vlen &&
	    memcmp(p->want, value, vlen) == 0;
}

static bool
chosen_all(const void *arg, const char *value, size_t vlen)
{
	(void)arg;
	(void)value;
	(void)vlen;
	return true;
}

static void
other_box(const void *arg, struct buf *b)
{
	(void)arg;
	others_filled++;
	buf_adds(b, "[OTHER]");
}

/* pc_build(q) spliced with chosen; the text in *out (free it). */
static char *
spliced(const struct question *q, bool (*chosen)(const void *, const char *, size_t),
    struct probe *p)
{
	struct q_pre *pre;
	struct buf b;
	char *s;

	others_filled = 0;
	assert_int_equal(pc_build(q, &pre), PCS_OK);
	assert_non_null(pre);
	buf_init(&b, PCS_RESP_BODY_MAX);
	pc_splice(&b, &pre->opts, &(struct pc_fill){ chosen, other_box, p });
	assert_int_equal(b.err, PCS_OK);
	s = strdup(b.p);
	buf_release(&b);
	pc_free(pre);
	return s;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void
test_select_escaped_and_selected(void **state)
{
	struct probe p = { .want = "q\"uote" };
	char *s = spliced(&q_select, chosen_eq, &p);

	(void)state;
	assert_string_equal(s,
	    "<option value=\"\">Choose an option</option>\n"
	    "<option value=\"a&amp;b\">Fish &amp; &lt;chips&gt;</option>\n"
	    "<option value=\"x&#39;y&gt;z\">Last</option>\n"	/* ungrouped: one run */
	    "<optgroup label=\"G&lt;1&gt;\">\n"
	    "<option value=\"q&quot;uote\" selected>It&#39;s &quot;ok&quot;</option>\n"
	    "<option value=\"plain\">Plain</option>\n"
	    "</optgroup>\n"
	    "<option value=\"other\">Other</option>\n");
	assert_int_equal(others_filled, 0);		/* a select's box is after </select> */
	free(s);
}

static void
test_select_nothing_chosen(void **state)
{
	struct probe p = { .want = NULL };
	char *s = spliced(&q_select, chosen_eq, &p);

	(void)state;
	assert_int_equal(count(s, " selected"), 0);
	assert_int_equal(count(s, "<option "), 6);
	free(s);
}

static void
test_select_unknown_answer(void **state)
{
	struct probe p = { .want = "\"><script>" };	/* not an option */
	char *s = spliced(&q_select, chosen_eq, &p);

	(void)state;
	assert_int_equal(count(s, " selected"), 0);
	assert_null(strstr(s, "<script>"));
	free(s);
}

static void
test_radios_other_hole(void **state)
{
	struct question q = q_select;
	struct probe p = { .want = "other" };
	char *s;

	(void)state;
	q.type = Q_CHOICE;
	q.id = "ch";
	s = spliced(&q, chosen_eq, &p);
	assert_int_equal(others_filled, 1);
	assert_int_equal(count(s, " checked"), 1);
	/* ids: ch, ch-2, ...; the added "other" is the 5th item */
	assert_non_null(strstr(s, "id=\"ch\" name=\"ch\" type=\"radio\" value=\"a&amp;b\">"));
	assert_non_null(strstr(s, "id=\"ch-4\" name=\"ch\" type=\"radio\" "
	    "value=\"x&#39;y&gt;z\" aria-describedby=\"ch-4-item-hint\">"));
	assert_non_null(strstr(s, "Hint &lt;b&gt; &amp; &#39;more&#39;"));
	assert_non_null(strstr(s, "id=\"ch-5\" name=\"ch\" type=\"radio\" value=\"other\" "
	    "checked data-aria-controls=\"conditional-ch-5\">"));
	assert_non_null(strstr(s, "&quot;vals&quot;:[&quot;other&quot;]}\">\n[OTHER]</div>\n"));
	assert_null(strstr(s, "optgroup"));
	free(s);
}

static void
test_checkboxes_several_and_exclusive(void **state)
{
	struct question q = { .id = "cb", .type = Q_CHOICES, .label = "Which",
	    .opts = yn_opts, .nopts = NELEM(yn_opts), .options_from = REF__MAX };
	static const char box_div[] =
	    "<div class=\"nhsuk-checkboxes\" data-module=\"nhsuk-checkboxes\">\n";
	struct probe p = { 0 };
	char *s;

	(void)state;
	s = spliced(&q, chosen_all, &p);
	assert_int_equal(count(s, " checked"), 3);
	assert_int_equal(others_filled, 0);
	assert_non_null(strstr(s, "<div class=\"nhsuk-checkboxes__divider\">or</div>\n"));
	assert_non_null(strstr(s, "value=\"none\" checked data-behaviour=\"exclusive\">"));
	assert_true(strncmp(s, box_div, strlen(box_div)) == 0);
	free(s);
}

static void
test_scale_per_statement(void **state)
{
	struct question q = { .id = "sc", .type = Q_SCALE, .label = "Agree?",
	    .opts = yn_opts, .nopts = 2, .stmts = stmts, .nstmts = NELEM(stmts),
	    .options_from = REF__MAX };
	struct q_pre *pre;
	struct buf b;
	struct probe p = { .want = "no" };

	(void)state;
	assert_int_equal(pc_build(&q, &pre), PCS_OK);
	assert_int_equal(pre->nstmts, 2);
	buf_init(&b, PCS_RESP_BODY_MAX);
	pc_splice(&b, &pre->stmts[1], &(struct pc_fill){ chosen_eq, NULL, &p });
	assert_string_equal(b.p,
	    "<div class=\"nhsuk-radios\">\n"
	    "<div class=\"nhsuk-radios__item\">\n<input class=\"nhsuk-radios__input\" "
	    "id=\"sc__s2\" name=\"sc__s2\" type=\"radio\" value=\"yes\">\n"
	    "<label class=\"nhsuk-label nhsuk-radios__label\" for=\"sc__s2\">Yes</label>\n"
	    "</div>\n"
	    "<div class=\"nhsuk-radios__item\">\n<input class=\"nhsuk-radios__input\" "
	    "id=\"sc__s2-2\" name=\"sc__s2\" type=\"radio\" value=\"no\" checked>\n"
	    "<label class=\"nhsuk-label nhsuk-radios__label\" for=\"sc__s2-2\">No</label>\n"
	    "</div>\n</div>\n");
	buf_release(&b);
	pc_free(pre);
}

static void
test_consent_and_plain_types(void **state)
{
	struct question c = { .id = "ok", .type = Q_CONSENT, .label = "I agree <now>",
	    .required = true, .options_from = REF__MAX };
	struct question t = { .id = "t", .type = Q_TEXT, .label = "Text",
	    .options_from = REF__MAX };
	struct probe p = { .want = "yes" };
	static struct q_pre sentinel;
	struct q_pre *pre = &sentinel;
	char *s = spliced(&c, chosen_eq, &p);

	(void)state;
	assert_non_null(strstr(s, "id=\"ok\" name=\"ok\" type=\"checkbox\" value=\"yes\" checked>"));
	assert_non_null(strstr(s, ">I agree &lt;now&gt;</label>"));
	free(s);
	assert_int_equal(pc_build(&t, &pre), PCS_OK);
	assert_null(pre);			/* nothing to pre-render */
	pc_free(NULL);
}

/* ---- a whole page: pre-rendered lists or per-request ones, same bytes -- */

static struct option other_opts[] = {
	{ .value = "pcn", .label = "PCN & co" },
	{ .value = "other", .label = "Something else" },
};
static struct question page_qs[] = {
	{ .id = "sel", .type = Q_SELECT, .label = "Pick", .opts = nasty_opts,
	  .nopts = NELEM(nasty_opts), .options_from = REF__MAX, .other = true },
	{ .id = "ch", .type = Q_CHOICE, .label = "Which", .opts = other_opts,
	  .nopts = NELEM(other_opts), .options_from = REF__MAX, .other = true },
	{ .id = "cb", .type = Q_CHOICES, .label = "Several", .opts = yn_opts,
	  .nopts = NELEM(yn_opts), .options_from = REF__MAX, .other = true },
	{ .id = "sc", .type = Q_SCALE, .label = "Agree?", .opts = yn_opts,
	  .nopts = 2, .stmts = stmts, .nstmts = NELEM(stmts),
	  .options_from = REF__MAX },
	{ .id = "ok", .type = Q_CONSENT, .label = "I agree", .required = true,
	  .options_from = REF__MAX },
};
static struct page pages[] = {
	{ .id = "p", .title = "Page", .first_q = 0, .nq = NELEM(page_qs) },
};
static struct form page_form = { .id = "f", .title = "Form", .pages = pages,
    .npages = 1, .qs = page_qs, .nq = NELEM(page_qs), .pseudonym_q = -1 };

#define F(n, v)	{ { (n), sizeof(n) - 1 }, { (v), sizeof(v) - 1 } }
static struct field answers[] = {
	F("sel", "a&b"), F("sel__other", "<typed> & 'quoted'"),
	F("ch", "other"), F("ch__other", "\"mine\""),
	F("cb", "yes"), F("cb", "none"), F("cb", "other"), F("cb__other", "x"),
	F("sc__s1", "no"), F("sc__s2", "yes"), F("ok", "yes"),
};
static const struct q_error errors[] = {
	{ 1, -1, 3, "Tell us which" }, { 3, 1, 0, "Choose one" },
	{ 4, -1, 0, "Agree to go on" },
};

static char *
render(bool with_errors)
{
	struct fields vals = { answers, NELEM(answers) };
	struct page_view v = { .form = &page_form, .values = &vals,
	    .errors = errors, .nerrors = with_errors ? NELEM(errors) : 0,
	    .csrf = "c", .action = "/f/f/p/p" };
	struct buf b;
	char *s;

	buf_init(&b, PCS_RESP_BODY_MAX);
	page_questions(&b, &v);
	assert_int_equal(b.err, PCS_OK);
	s = strdup(b.p);
	buf_release(&b);
	return s;
}

static void
test_page_same_bytes(void **state)
{
	(void)state;
	for (int e = 0; e < 2; e++) {
		char *per_request, *cached;

		for (size_t i = 0; i < NELEM(page_qs); i++)
			page_qs[i].pre = NULL;
		per_request = render(e);
		for (size_t i = 0; i < NELEM(page_qs); i++)
			assert_int_equal(pc_build(&page_qs[i], &page_qs[i].pre), PCS_OK);
		cached = render(e);
		for (size_t i = 0; i < NELEM(page_qs); i++) {
			pc_free(page_qs[i].pre);
			page_qs[i].pre = NULL;
		}
		assert_string_equal(cached, per_request);
		/* the answers are in: one select, radio, 3 boxes, 2 scale, consent */
		assert_int_equal(count(cached, " selected"), 1);
		assert_int_equal(count(cached, " checked"), 7);
		assert_non_null(strstr(cached, "value=\"&lt;typed&gt; &amp; &#39;quoted&#39;\""));
		assert_non_null(strstr(cached, "value=\"&quot;mine&quot;\""));
		free(per_request);
		free(cached);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select_escaped_and_selected),
		cmocka_unit_test(test_select_nothing_chosen),
		cmocka_unit_test(test_select_unknown_answer),
		cmocka_unit_test(test_radios_other_hole),
		cmocka_unit_test(test_checkboxes_several_and_exclusive),
		cmocka_unit_test(test_scale_per_statement),
		cmocka_unit_test(test_consent_and_plain_types),
		cmocka_unit_test(test_page_same_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
