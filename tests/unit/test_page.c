/*
 * test_page.c: page.c renders nhsuk-frontend markup that is well tied
 * together (labels to inputs, error links to ids, hints to
 * aria-describedby), re-fills and escapes what was typed, and keeps to
 * the page rules (lang, one h1, no inline script or style).  The form is
 * built by hand so the test needs neither form.c nor the reference lists.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "limits.h"
#include "page.h"

/*
 * Weak stand-ins so this test links before (or without) http.c and
 * form.c; the real ones win when libpcs.a provides them.
 */
__attribute__((weak)) const struct str *
fields_get(const struct fields *f, struct str name)
{
	for (size_t i = 0; f != NULL && i < f->n; i++)
		if (str_eq(f->v[i].name, name))
			return &f->v[i].value;
	return NULL;
}

__attribute__((weak)) size_t
fields_all(const struct fields *f, struct str name, struct str *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; f != NULL && i < f->n; i++)
		if (str_eq(f->v[i].name, name)) {
			if (n < max)
				out[n] = f->v[i].value;
			n++;
		}
	return n;
}

__attribute__((weak)) bool
form_is_open(const struct form *f, int64_t today)
{
	return f->status == FS_OPEN && (!f->has_opens || f->opens <= today) &&
	    (!f->has_closes || today <= f->closes);
}

/* ---- the fixture form ------------------------------------------------- */

enum {
	Q_ICB, Q_HOURS, Q_OFFERED, Q_PROVIDERS, Q_WELL, Q_STARTED, Q_ORG,
	Q_NOTES, Q_NOTE_INFO, Q_CONSENT_Q, Q_INTERVIEW, Q_EMAIL_Q, Q_HIDDEN,
	Q_NAME, NQ
};

/* struct form holds char *; the fixture is never written to. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"
#define S(s)	s

static struct option icb_opts[] = {
	{ .value = S("QE1"), .label = S("Healthier Lancashire & South Cumbria"),
	  .group = "North West" },
	{ .value = S("QHM"), .label = S("Cumbria and North East"),
	  .group = "North East and Yorkshire" },
	{ .value = S("QOP"), .label = S("Greater Manchester"),
	  .group = "North West" },
};
static struct option offered_opts[] = {
	{ .value = S("eap"), .label = S("Employee assistance programme") },
	{ .value = S("coaching"), .label = S("Coaching"),
	  .hint = S("One-to-one <sessions>") },
	{ .value = S("none"), .label = S("None of these"), .exclusive = true },
	{ .value = S("not_sure"), .label = S("I'm not sure"), .exclusive = true },
};
static struct option providers_opts[] = {
	{ .value = S("employer"), .label = S("My employer") },
	{ .value = S("pcn"), .label = S("My PCN") },
};
static struct option scale_opts[] = {
	{ .value = S("1"), .label = S("Strongly disagree") },
	{ .value = S("2"), .label = S("Disagree") },
	{ .value = S("3"), .label = S("Agree") },
};
static struct statement stmts[] = {
	{ .id = S("valued"), .label = S("I feel valued"), .field = S("wellbeing__valued") },
	{ .id = S("safe"), .label = S("I feel safe"), .field = S("wellbeing__safe") },
};
static struct option org_opts[] = {
	{ .value = S("pcn"), .label = S("Primary care network") },
	{ .value = S("other"), .label = S("Something else") },
};
static struct option yesno_opts[] = {
	{ .value = S("yes"), .label = S("Yes") },
	{ .value = S("no"), .label = S("No") },
};

static const char *v_none[] = { "none" };
static const char *v_yes[] = { "yes" };
static struct cond c_includes_none = { .op = COND_INCLUDES,
    .field = "offered", .qidx = Q_OFFERED, .qtype = Q_CHOICES,
    .vals = v_none, .nvals = 1 };
static struct cond c_not_none = { .op = COND_NOT, .kids = &c_includes_none,
    .nkids = 1 };
static struct cond c_interview_yes = { .op = COND_EQUALS,
    .field = "interview", .qidx = Q_INTERVIEW, .qtype = Q_CHOICE,
    .vals = v_yes, .nvals = 1 };
static struct cond c_on_page0 = { .op = COND_AT_LEAST, .field = "hours",
    .qidx = Q_HOURS, .qtype = Q_NUMBER, .num = 10 };

static struct question qs[NQ] = {
	[Q_ICB] = { .id = S("icb"), .type = Q_SELECT, .required = true,
	    .label = S("Which ICB do you work in?"), .opts = icb_opts,
	    .nopts = NELEM(icb_opts), .options_from = REF_ICBS },
	[Q_HOURS] = { .id = S("hours"), .type = Q_NUMBER, .required = true,
	    .label = S("How many hours a week do you work?"), .min = 0,
	    .max = 80, .suffix = S("hours"), .options_from = REF__MAX },
	[Q_OFFERED] = { .id = S("offered"), .type = Q_CHOICES,
	    .label = S("Which of these are offered to you?"),
	    .hint = S("Select all that apply."), .opts = offered_opts,
	    .nopts = NELEM(offered_opts), .options_from = REF__MAX },
	[Q_PROVIDERS] = { .id = S("providers"), .type = Q_CHOICES,
	    .label = S("Who provides it?"), .show_if = &c_not_none,
	    .same_page_cond = true, .opts = providers_opts,
	    .nopts = NELEM(providers_opts), .options_from = REF__MAX },
	[Q_WELL] = { .id = S("wellbeing"), .type = Q_SCALE, .required = true,
	    .label = S("How far do you agree?"), .opts = scale_opts,
	    .nopts = NELEM(scale_opts), .stmts = stmts, .nstmts = NELEM(stmts),
	    .options_from = REF__MAX },
	[Q_STARTED] = { .id = S("started"), .type = Q_DATE,
	    .label = S("When did you start?"), .hint = S("For example, 27 3 2024"),
	    .options_from = REF__MAX },
	[Q_ORG] = { .id = S("org"), .type = Q_CHOICE, .required = true,
	    .label = S("Where do you work?"), .opts = org_opts,
	    .nopts = NELEM(org_opts), .other = true, .options_from = REF__MAX },
	[Q_NOTES] = { .id = S("notes"), .type = Q_TEXTAREA, .max_length = 2000,
	    .label = S("Anything else?"),
	    .hint = S("See [our notes](https://example.org/a?b=1&c=2).\n\nNo names."),
	    .options_from = REF__MAX },
	[Q_NOTE_INFO] = { .id = S("note"), .type = Q_INFO,
	    .text = S("Please read <this>."), .options_from = REF__MAX },
	[Q_CONSENT_Q] = { .id = S("consent"), .type = Q_CONSENT, .required = true,
	    .label = S("I agree to take part."), .options_from = REF__MAX },
	[Q_INTERVIEW] = { .id = S("interview"), .type = Q_CHOICE,
	    .label = S("Would you be willing to talk to a researcher?"),
	    .opts = yesno_opts, .nopts = NELEM(yesno_opts),
	    .options_from = REF__MAX },
	[Q_EMAIL_Q] = { .id = S("contact_email"), .type = Q_EMAIL, .required = true,
	    .label = S("Your email address"), .show_if = &c_interview_yes,
	    .same_page_cond = true, .options_from = REF__MAX },
	[Q_HIDDEN] = { .id = S("hidden_q"), .type = Q_TEXT,
	    .label = S("Hidden by an earlier page"), .options_from = REF__MAX },
	[Q_NAME] = { .id = S("name"), .type = Q_TEXT, .label = S("Job title"),
	    .show_if = &c_on_page0, .options_from = REF__MAX },
};

static struct page pages[] = {
	{ .id = S("about-you"), .title = S("About you & your <work>"),
	  .intro = S("Tell us about your work."), .first_q = 0, .nq = Q_NAME },
	{ .id = S("more"), .title = S("More"), .first_q = Q_NAME, .nq = 1 },
};

static struct form form = {
	.id = S("staff-wellbeing"), .version = 1,
	.title = S("Wellbeing support for primary care staff"),
	.status = FS_OPEN, .access = ACCESS_OPEN, .pseudonym_q = -1,
	.intro = S("Intro paragraph.\n\nSecond [link](https://example.org/)."),
	.privacy_notice = S("We keep nothing <identifying>."),
	.pages = pages, .npages = NELEM(pages), .qs = qs, .nq = NQ,
	.has_closes = true,
};

static bool shown[NQ];

static void
fixture_setup(void)
{
	for (size_t i = 0; i < NQ; i++) {
		qs[i].page = i < Q_NAME ? 0 : 1;
		qs[i].dim = DIM_NONE;
		shown[i] = true;
	}
	shown[Q_HIDDEN] = false;
	form.closes = days_from_civil(2027, 3, 31);
}

#define F(n, v)	{ { (n), sizeof(n) - 1 }, { (v), sizeof(v) - 1 } }

static struct field posted[] = {
	F("icb", "QOP"),
	F("hours", "12\"><script>alert(1)</script>"),
	F("offered", "eap"),
	F("offered", "coaching"),
	F("wellbeing__safe", "3"),
	F("started__day", "31"),
	F("started__month", "3"),
	F("started__year", "2027"),
	F("org", "other"),
	F("org__other", "Federation 'A' & <B>"),
	F("notes", "\nLine one</textarea><script>x</script>"),
	F("consent", "yes"),
	F("interview", "yes"),
	F("contact_email", "a@example.org"),
	F("hidden_q", "SHOULD-NOT-APPEAR"),
};
static struct fields posted_fields = { posted, NELEM(posted) };

/* ---- markup checks ---------------------------------------------------- */

static size_t
count(const char *h, const char *needle)
{
	size_t n = 0, len = strlen(needle);

	for (const char *p = h; (p = strstr(p, needle)) != NULL; p += len)
		n++;
	return n;
}

/* Number of elements with id="id". */
static size_t
id_count(const char *h, const char *id, size_t len)
{
	char pat[300];

	if (len > 250)
		return 0;
	snprintf(pat, sizeof(pat), " id=\"%.*s\"", (int)len, id);
	return count(h, pat);
}

/*
 * For every attr="value" (or each space-separated token of it when words),
 * the id must exist exactly once.  prefix is skipped ("#" for hrefs).
 */
static void
refs_resolve(const char *h, const char *attr, bool words, const char *prefix)
{
	size_t alen = strlen(attr), plen = strlen(prefix);

	for (const char *p = h; (p = strstr(p, attr)) != NULL; p += alen) {
		const char *v = p + alen, *end;

		if (strncmp(v, prefix, plen) != 0)
			continue;
		v += plen;
		end = strchr(v, '"');
		assert_non_null(end);
		while (v < end) {
			const char *w = words ? memchr(v, ' ', (size_t)(end - v)) : NULL;
			size_t n = (size_t)((w ? w : end) - v);

			if (id_count(h, v, n) != 1)
				fail_msg("%s%.*s: %zu elements with that id", attr,
				    (int)n, v, id_count(h, v, n));
			v += n + (w != NULL);
		}
	}
}

/* Every id is unique. */
static void
ids_unique(const char *h)
{
	for (const char *p = h; (p = strstr(p, " id=\"")) != NULL; p += 5) {
		const char *v = p + 5, *end = strchr(v, '"');

		assert_non_null(end);
		if (id_count(h, v, (size_t)(end - v)) != 1)
			fail_msg("duplicate id %.*s", (int)(end - v), v);
	}
}

/* Page rules shared by every page. */
static void
page_rules(const char *h)
{
	if (getenv("PAGE_DUMP") != NULL)
		fprintf(stderr, "%s\n----\n", h);
	assert_non_null(strstr(h, "<!DOCTYPE html>\n<html lang=\"en-GB\">"));
	assert_non_null(strstr(h, "<meta charset=\"utf-8\">"));
	assert_int_equal(count(h, "<h1"), 1);
	assert_int_equal(count(h, "</h1>"), 1);
	{
		/* one document title; the NHS logo's SVG has its own <title> */
		const char *head = strstr(h, "</head>");
		const char *t = strstr(h, "<title>");

		assert_non_null(head);
		assert_true(t != NULL && t < head);
		assert_true(strstr(t + 1, "<title>") > head);
	}
	assert_non_null(strstr(h, " \xe2\x80\x93 NHS primary care survey</title>"));
	assert_non_null(strstr(h, "<a class=\"nhsuk-skip-link\" "
	    "data-module=\"nhsuk-skip-link\" href=\"#maincontent\">"));
	assert_int_equal(count(h, "<main "), 1);
	assert_int_equal(count(h, " id=\"maincontent\""), 1);
	assert_non_null(strstr(h, "<link rel=\"stylesheet\" "
	    "href=\"/assets/nhsuk-frontend.min.css\">"));
	assert_non_null(strstr(h, "<link rel=\"stylesheet\" "
	    "href=\"/assets/pcsurvey.css\">"));
	/*
	 * The only scripts are ours, by src: pcsurvey.js first (it adds
	 * nhsuk-frontend-supported to <body>), then the module starting
	 * nhsuk-frontend's own script.
	 */
	assert_int_equal(count(h, "<script"), 2);
	assert_int_equal(count(h, "<script src=\"/assets/pcsurvey.js\" defer>"
	    "</script>"), 1);
	assert_int_equal(count(h, "<script type=\"module\" "
	    "src=\"/assets/pcsurvey-nhsuk.js\"></script>"), 1);
	assert_true(strstr(h, "/assets/pcsurvey.js") <
	    strstr(h, "/assets/pcsurvey-nhsuk.js"));
	assert_null(strstr(h, " style="));
	assert_null(strstr(h, " onclick"));
	assert_null(strstr(h, " onerror"));
	assert_null(strstr(h, " onload"));
	assert_null(strstr(h, "javascript:"));
	assert_non_null(strstr(h, "href=\"/privacy\""));
	assert_non_null(strstr(h, "href=\"/accessibility\""));
	assert_non_null(strstr(h, "href=\"/withdraw\""));
	/* balanced elements */
	assert_int_equal(count(h, "<div"), count(h, "</div>"));
	assert_int_equal(count(h, "<form"), count(h, "</form>"));
	assert_int_equal(count(h, "<fieldset"), count(h, "</fieldset>"));
	assert_int_equal(count(h, "<label"), count(h, "</label>"));
	assert_int_equal(count(h, "<ul"), count(h, "</ul>"));
	assert_int_equal(count(h, "<p>") + count(h, "<p "), count(h, "</p>"));
	assert_int_equal(count(h, "<a "), count(h, "</a>"));
	ids_unique(h);
	refs_resolve(h, " for=\"", false, "");
	refs_resolve(h, " aria-describedby=\"", true, "");
	refs_resolve(h, " data-aria-controls=\"", false, "");
	refs_resolve(h, " href=\"", false, "#");
	/* every <form> posts, has novalidate and a csrf field */
	assert_int_equal(count(h, "<form"), count(h, "<form method=\"post\""));
	assert_int_equal(count(h, "<form"), count(h, " novalidate>"));
	assert_int_equal(count(h, "<form"), count(h, "name=\"csrf\""));
}

static char *
render_questions(const struct q_error *errs, size_t nerrs, bool preview,
    const struct fields *values)
{
	struct page_view v = {
		.form = &form, .page = 0, .page_no = 1, .page_count = 2,
		.values = values, .shown = shown, .errors = errs,
		.nerrors = nerrs, .csrf = "tok\"en", .action =
		    "/f/staff-wellbeing/p/about-you",
		.back_href = "/f/staff-wellbeing", .preview = preview,
	};
	struct buf b;
	char *out;

	buf_init(&b, PCS_RESP_BODY_MAX);
	page_questions(&b, &v);
	assert_int_equal(b.err, PCS_OK);
	out = strdup(b.p);
	buf_release(&b);
	return out;
}

/* ---- tests ------------------------------------------------------------ */

static void
test_page_questions_rules(void **state)
{
	char *h;

	(void)state;
	fixture_setup();
	h = render_questions(NULL, 0, false, NULL);
	page_rules(h);
	assert_non_null(strstr(h, "<title>About you &amp; your &lt;work&gt; "
	    "\xe2\x80\x93 Wellbeing support for primary care staff \xe2\x80\x93 "
	    "NHS primary care survey</title>"));
	assert_non_null(strstr(h, "<span class=\"nhsuk-caption-l\">Page 1 of 2"
	    "</span>\n<h1 class=\"nhsuk-heading-l\">About you &amp; your "
	    "&lt;work&gt;</h1>"));
	assert_non_null(strstr(h, "<a class=\"nhsuk-back-link\" "
	    "href=\"/f/staff-wellbeing\">Back</a>"));
	assert_non_null(strstr(h, "<form method=\"post\" "
	    "action=\"/f/staff-wellbeing/p/about-you\" novalidate>"));
	assert_non_null(strstr(h, "<input type=\"hidden\" name=\"csrf\" "
	    "value=\"tok&quot;en\">"));
	assert_non_null(strstr(h, "name=\"action\" value=\"continue\">Continue"));
	assert_non_null(strstr(h, "nhsuk-button--secondary\" data-module="
	    "\"nhsuk-button\" type=\"submit\" name=\"action\" value=\"save\">"
	    "Save and come back later"));
	assert_null(strstr(h, "nhsuk-error-summary"));
	assert_null(strstr(h, "Error:"));
	free(h);
}

static void
test_page_questions_fields(void **state)
{
	char *h;

	(void)state;
	fixture_setup();
	h = render_questions(NULL, 0, false, NULL);
	/* select: optgroups in first-seen order, neutral first option */
	assert_non_null(strstr(h, "<select class=\"nhsuk-select\" id=\"icb\" "
	    "name=\"icb\">\n<option value=\"\">Choose an ICB</option>\n"
	    "<optgroup label=\"North West\">\n<option value=\"QE1\">Healthier "
	    "Lancashire &amp; South Cumbria</option>\n<option value=\"QOP\">"
	    "Greater Manchester</option>\n</optgroup>\n<optgroup label=\"North "
	    "East and Yorkshire\">"));
	/* number: text + numeric keyboard, suffix wrapper, (optional) absent */
	assert_non_null(strstr(h, "<label class=\"nhsuk-label nhsuk-label--m\" "
	    "for=\"hours\">How many hours a week do you work?</label>"));
	assert_non_null(strstr(h, "<input class=\"nhsuk-input "
	    "nhsuk-input--width-2\" id=\"hours\" name=\"hours\" type=\"text\" "
	    "inputmode=\"numeric\""));
	/* the unit is part of the box's description, not said twice */
	assert_non_null(strstr(h, "<div class=\"nhsuk-input-wrapper__suffix\" "
	    "id=\"hours-suffix\" aria-hidden=\"true\">hours</div>"));
	assert_non_null(strstr(h, "inputmode=\"numeric\" spellcheck=\"false\" "
	    "aria-describedby=\"hours-suffix\">"));
	/* checkboxes: ids q, q-2..; divider before exclusive; hints on items */
	assert_non_null(strstr(h, "<legend class=\"nhsuk-fieldset__legend "
	    "nhsuk-fieldset__legend--m\">Which of these are offered to you? "
	    "(optional)</legend>"));
	assert_non_null(strstr(h, "id=\"offered\" name=\"offered\" "
	    "type=\"checkbox\" value=\"eap\""));
	assert_non_null(strstr(h, "id=\"offered-2\" name=\"offered\" "
	    "type=\"checkbox\" value=\"coaching\" aria-describedby="
	    "\"offered-2-item-hint\">"));
	assert_non_null(strstr(h, "One-to-one &lt;sessions&gt;"));
	assert_int_equal(count(h, "<div class=\"nhsuk-checkboxes__divider\">or"
	    "</div>\n<div class=\"nhsuk-checkboxes__item\">\n<input "
	    "class=\"nhsuk-checkboxes__input\" id=\"offered-3\""), 1);
	assert_int_equal(count(h, "data-behaviour=\"exclusive\""), 2);
	/* scale: one fieldset per statement named q__statement */
	assert_non_null(strstr(h, "id=\"wellbeing__valued\" "
	    "name=\"wellbeing__valued\" type=\"radio\" value=\"1\""));
	assert_non_null(strstr(h, "id=\"wellbeing__safe-3\" "
	    "name=\"wellbeing__safe\" type=\"radio\" value=\"3\""));
	assert_non_null(strstr(h, "nhsuk-fieldset__legend--s\">I feel safe"
	    "</legend>"));
	/* date: three numeric boxes */
	assert_non_null(strstr(h, "<div class=\"nhsuk-date-input\" "
	    "id=\"started\">"));
	assert_non_null(strstr(h, "id=\"started__day\" name=\"started__day\" "
	    "type=\"text\" inputmode=\"numeric\">"));
	assert_non_null(strstr(h, "id=\"started__month\" name=\"started__month\""));
	assert_non_null(strstr(h, "id=\"started__year\" name=\"started__year\""));
	assert_non_null(strstr(h, "role=\"group\" aria-describedby="
	    "\"started-hint\""));
	/* other: conditional reveal, visible without JS */
	assert_non_null(strstr(h, "id=\"org-2\" name=\"org\" type=\"radio\" "
	    "value=\"other\" data-aria-controls=\"conditional-org-2\">"));
	assert_non_null(strstr(h, "<div class=\"nhsuk-radios__conditional\" "
	    "id=\"conditional-org-2\" data-show-if="));
	assert_null(strstr(h, "conditional--hidden"));
	assert_non_null(strstr(h, "id=\"org__other\" name=\"org__other\""));
	/* textarea: character count, hint paragraphs with an escaped link */
	assert_non_null(strstr(h, "data-maxlength=\"2000\""));
	assert_non_null(strstr(h, "aria-describedby=\"notes-hint notes-info\""));
	assert_non_null(strstr(h, "<a href=\"https://example.org/a?b=1&amp;c=2\">"
	    "our notes</a>"));
	assert_non_null(strstr(h, "You can enter up to 2000 characters"));
	/* info: inset text, escaped */
	assert_non_null(strstr(h, "<div class=\"nhsuk-inset-text\">\n<span "
	    "class=\"nhsuk-u-visually-hidden\">Information: </span>\n"
	    "<p>Please read &lt;this&gt;.</p>"));
	/* consent: one checkbox value yes */
	assert_non_null(strstr(h, "id=\"consent\" name=\"consent\" "
	    "type=\"checkbox\" value=\"yes\">"));
	/* email */
	assert_non_null(strstr(h, "id=\"contact_email\" name=\"contact_email\" "
	    "type=\"email\" autocomplete=\"email\" spellcheck=\"false\""));
	/* hidden by an earlier page: not rendered at all */
	assert_null(strstr(h, "hidden_q"));
	assert_null(strstr(h, "Hidden by an earlier page"));
	free(h);
}

static void
test_page_questions_same_page_cond(void **state)
{
	char *h;

	(void)state;
	fixture_setup();
	h = render_questions(NULL, 0, false, NULL);
	assert_non_null(strstr(h, "<div class=\"pcs-show-if\" data-show-if=\""
	    "{&quot;op&quot;:&quot;not&quot;,&quot;kids&quot;:[{&quot;op&quot;:"
	    "&quot;includes&quot;,&quot;field&quot;:&quot;offered&quot;,"
	    "&quot;type&quot;:&quot;choices&quot;,&quot;vals&quot;:["
	    "&quot;none&quot;]}]}\">"));
	assert_non_null(strstr(h, "id=\"providers-if\">Answer this only if you "
	    "did not select \xe2\x80\x9cNone of these\xe2\x80\x9d for "
	    "\xe2\x80\x9cWhich of these are offered to you?\xe2\x80\x9d</div>"));
	assert_non_null(strstr(h, "Answer this only if you answered "
	    "\xe2\x80\x9cYes\xe2\x80\x9d to \xe2\x80\x9cWould you be willing to "
	    "talk to a researcher?\xe2\x80\x9d</div>"));
	assert_non_null(strstr(h, "aria-describedby=\"contact_email-if\""));
	/* shown without JavaScript: never hidden by the server */
	assert_null(strstr(h, " hidden"));
	free(h);
}

/*
 * Hints the page adds: a date's example when the author gave no hint, how
 * many boxes to tick; and a short text's box sized to its max_length.
 */
static void
test_page_questions_added_hints(void **state)
{
	struct page_view v = { .form = &form, .page = 1, .page_no = 2,
	    .page_count = 2, .csrf = "t", .action = "/f/x/p/more" };
	struct buf b;
	char *h;

	(void)state;
	fixture_setup();
	qs[Q_STARTED].hint = NULL;
	qs[Q_OFFERED].min_selected = 2;
	qs[Q_OFFERED].max_selected = 3;
	h = render_questions(NULL, 0, false, NULL);
	qs[Q_STARTED].hint = S("For example, 27 3 2024");
	qs[Q_OFFERED].min_selected = 0;
	qs[Q_OFFERED].max_selected = 0;
	page_rules(h);
	assert_non_null(strstr(h, "<div class=\"nhsuk-hint\" id=\"started-hint\">"
	    "\n<p>For example, 27 3 2007</p>\n</div>"));
	assert_non_null(strstr(h, "role=\"group\" aria-describedby=\"started-hint\">"));
	assert_non_null(strstr(h, "<p>Select all that apply.</p>\n<p>Select 2 or 3."
	    "</p>\n</div>"));
	free(h);

	qs[Q_NAME].max_length = 10;
	buf_init(&b, PCS_RESP_BODY_MAX);
	page_questions(&b, &v);
	qs[Q_NAME].max_length = 0;
	assert_int_equal(b.err, PCS_OK);
	assert_non_null(strstr(b.p, "<input class=\"nhsuk-input "
	    "nhsuk-input--width-10\" id=\"name\" name=\"name\" type=\"text\""));
	buf_release(&b);
}

/* A same-page leaf next to an earlier page's: that one is "unknown". */
static void
test_page_questions_cond_other_page(void **state)
{
	struct page_view v = { .form = &form, .page = 1, .page_no = 2,
	    .page_count = 2, .csrf = "t", .action = "/f/x/p/more" };
	struct buf b;

	(void)state;
	fixture_setup();
	qs[Q_NAME].same_page_cond = true;	/* as if mixed */
	buf_init(&b, PCS_RESP_BODY_MAX);
	page_questions(&b, &v);
	qs[Q_NAME].same_page_cond = false;
	assert_int_equal(b.err, PCS_OK);
	page_rules(b.p);
	assert_non_null(strstr(b.p, "data-show-if=\"{&quot;op&quot;:"
	    "&quot;unknown&quot;}\""));
	/* a sentence ending in a number gets its full stop */
	assert_non_null(strstr(b.p, "your answer to \xe2\x80\x9cHow many hours "
	    "a week do you work?\xe2\x80\x9d is 10 or more.</div>"));
	buf_release(&b);
}

static void
test_page_questions_refill_escaped(void **state)
{
	char *h;

	(void)state;
	fixture_setup();
	h = render_questions(NULL, 0, false, &posted_fields);
	page_rules(h);
	assert_non_null(strstr(h, "<option value=\"QOP\" selected>"));
	assert_int_equal(count(h, " selected"), 1);
	assert_non_null(strstr(h, "value=\"12&quot;&gt;&lt;script&gt;alert(1)"
	    "&lt;/script&gt;\""));
	assert_non_null(strstr(h, "value=\"eap\" checked"));
	assert_non_null(strstr(h, "value=\"coaching\" checked"));
	assert_null(strstr(h, "value=\"none\" checked"));
	assert_non_null(strstr(h, "name=\"wellbeing__safe\" type=\"radio\" "
	    "value=\"3\" checked"));
	assert_null(strstr(h, "name=\"wellbeing__valued\" type=\"radio\" "
	    "value=\"1\" checked"));
	assert_non_null(strstr(h, "name=\"started__day\" type=\"text\" "
	    "value=\"31\""));
	assert_non_null(strstr(h, "name=\"started__year\" type=\"text\" "
	    "value=\"2027\""));
	assert_non_null(strstr(h, "value=\"other\" checked"));
	assert_non_null(strstr(h, "value=\"Federation &#39;A&#39; &amp; "
	    "&lt;B&gt;\""));
	/* textarea: leading newline kept, closing tag escaped */
	assert_non_null(strstr(h, "rows=\"5\" aria-describedby=\"notes-hint "
	    "notes-info\">\n\nLine one&lt;/textarea&gt;&lt;script&gt;x&lt;/"
	    "script&gt;</textarea>"));
	assert_non_null(strstr(h, "value=\"yes\" checked>\n<label class="
	    "\"nhsuk-label nhsuk-checkboxes__label\" for=\"consent\">"));
	assert_non_null(strstr(h, "value=\"a@example.org\""));
	assert_null(strstr(h, "SHOULD-NOT-APPEAR"));
	free(h);
}

static const struct q_error errs[] = {
	{ Q_HOURS, -1, 0, "Enter a number of hours between 0 and 80" },
	{ Q_WELL, 1, 0, "Select how far you agree that you feel safe" },
	{ Q_STARTED, -1, 1, "Date must include a month" },
	{ Q_ORG, -1, 3, "Tell us where you work" },
	{ Q_CONSENT_Q, -1, 0, "Tick the box to say you agree" },
	{ Q_ICB, -1, 0, "Select your <ICB>" },
	{ Q_HIDDEN, -1, 0, "never shown" },
};

static void
test_page_questions_errors(void **state)
{
	char *h;

	(void)state;
	fixture_setup();
	h = render_questions(errs, NELEM(errs), false, &posted_fields);
	page_rules(h);	/* every href="#..." resolves to one id */
	assert_non_null(strstr(h, "<title>Error: About you"));
	assert_int_equal(count(h, "<div class=\"nhsuk-error-summary\" "
	    "data-module=\"nhsuk-error-summary\" role=\"alert\" tabindex=\"-1\">\n"
	    "<h2 class=\"nhsuk-error-summary__heading\">There is a problem</h2>"), 1);
	/* the summary comes before the h1, links in the order given */
	assert_true(strstr(h, "nhsuk-error-summary") < strstr(h, "<h1"));
	assert_non_null(strstr(h, "<li><a href=\"#hours\">Enter a number of "
	    "hours between 0 and 80</a></li>\n<li><a href=\"#wellbeing__safe\">"
	    "Select how far you agree that you feel safe</a></li>\n<li><a "
	    "href=\"#started__month\">Date must include a month</a></li>\n<li>"
	    "<a href=\"#org__other\">Tell us where you work</a></li>\n<li><a "
	    "href=\"#consent\">Tick the box to say you agree</a></li>\n<li><a "
	    "href=\"#icb\">Select your &lt;ICB&gt;</a></li>\n</ul>"));
	assert_null(strstr(h, "never shown"));
	/* inline messages tied by aria-describedby */
	assert_non_null(strstr(h, "<span class=\"nhsuk-error-message\" "
	    "id=\"hours-error\">\n<span class=\"nhsuk-u-visually-hidden\">"
	    "Error: </span>Enter a number of hours between 0 and 80\n</span>"));
	assert_non_null(strstr(h, "nhsuk-input--error\" id=\"hours\" "
	    "name=\"hours\" type=\"text\" inputmode=\"numeric\" "
	    "spellcheck=\"false\" value=\"12&quot;&gt;&lt;script&gt;alert(1)"
	    "&lt;/script&gt;\" aria-describedby=\"hours-suffix hours-error\">"));
	assert_non_null(strstr(h, "aria-describedby=\"wellbeing__safe-error\""));
	assert_non_null(strstr(h, "nhsuk-input--error nhsuk-input--width-2 "
	    "nhsuk-date-input__input\" id=\"started__month\""));
	assert_null(strstr(h, "nhsuk-input--error nhsuk-input--width-2 "
	    "nhsuk-date-input__input\" id=\"started__day\""));
	assert_non_null(strstr(h, "aria-describedby=\"started-hint "
	    "started-error\""));
	assert_non_null(strstr(h, "id=\"org__other\" name=\"org__other\" "
	    "type=\"text\" value=\"Federation &#39;A&#39; &amp; &lt;B&gt;\" "
	    "aria-describedby=\"org__other-error\""));
	assert_non_null(strstr(h, "<select class=\"nhsuk-select "
	    "nhsuk-select--error\" id=\"icb\" name=\"icb\" "
	    "aria-describedby=\"icb-error\">"));
	/* one group--error per question in error (6 shown), +1 scale row,
	 * +1 date part, +1 other text */
	assert_int_equal(count(h, "nhsuk-form-group--error"), 6 + 1 + 1 + 1);
	free(h);
}

static void
test_page_questions_preview_dbdown(void **state)
{
	struct page_view v = { .form = &form, .page = 0, .page_no = 1,
	    .page_count = 2, .shown = shown, .csrf = "t", .action = "/x",
	    .db_down = true, .preview = true };
	struct buf b;

	(void)state;
	fixture_setup();
	buf_init(&b, PCS_RESP_BODY_MAX);
	page_questions(&b, &v);
	assert_int_equal(b.err, PCS_OK);
	page_rules(b.p);
	assert_non_null(strstr(b.p, "We could not save your answers just now. "
	    "Select Continue to try again."));
	assert_null(strstr(b.p, "value=\"save\""));
	assert_null(strstr(b.p, "nhsuk-back-link"));
	buf_release(&b);
}

/* A capped buffer fails cleanly (sticky error, no overflow). */
static void
test_page_questions_cap(void **state)
{
	struct page_view v = { .form = &form, .page = 0, .page_no = 1,
	    .page_count = 2, .shown = shown, .csrf = "t", .action = "/x" };
	struct buf b;
	size_t full;

	(void)state;
	fixture_setup();
	buf_init(&b, PCS_RESP_BODY_MAX);
	page_questions(&b, &v);
	full = b.len;
	buf_release(&b);
	for (size_t max = 0; max < full; max += 97) {
		buf_init(&b, max);
		page_questions(&b, &v);
		assert_int_equal(b.err, PCS_ETOOBIG);
		assert_true(b.len <= max);
		buf_release(&b);
	}
	buf_init(&b, full);
	page_questions(&b, &v);
	assert_int_equal(b.err, PCS_OK);
	buf_release(&b);
}

static void
test_page_check(void **state)
{
	static struct field ans[] = {
		F("icb", "QE1"),
		F("hours", "12"),
		F("offered", "eap"),
		F("offered", "not_sure"),
		F("wellbeing__valued", "1"),
		F("started__day", "31"),
		F("started__month", "03"),
		F("started__year", "2027"),
		F("org", "other"),
		F("org__other", "<Fed>"),
		F("notes", "a\nb"),
		F("consent", "yes"),
		F("interview", "no"),
	};
	struct fields a = { ans, NELEM(ans) };
	bool page_shown[2] = { true, true };
	struct buf b;

	(void)state;
	fixture_setup();
	shown[Q_EMAIL_Q] = false;
	shown[Q_PROVIDERS] = false;
	buf_init(&b, PCS_RESP_BODY_MAX);
	page_check(&b, &form, &a, shown, page_shown, "c");
	assert_int_equal(b.err, PCS_OK);
	page_rules(b.p);
	assert_non_null(strstr(b.p, "<dl class=\"nhsuk-summary-list pcs-answers\">"));
	assert_non_null(strstr(b.p, "<dt class=\"nhsuk-summary-list__key\">"
	    "Which ICB do you work in?</dt>\n<dd class=\"nhsuk-summary-list__"
	    "value\">Healthier Lancashire &amp; South Cumbria</dd>"));
	assert_non_null(strstr(b.p, "<a class=\"nhsuk-link\" href=\"/f/"
	    "staff-wellbeing/p/about-you#icb\">Change<span class=\"nhsuk-u-"
	    "visually-hidden\"> Which ICB do you work in?</span></a>"));
	assert_non_null(strstr(b.p, "12 hours"));
	assert_non_null(strstr(b.p, "<ul class=\"nhsuk-list\">\n<li>Employee "
	    "assistance programme</li>\n<li>I&#39;m not sure</li>\n</ul>"));
	assert_non_null(strstr(b.p, ">I feel valued</dt>\n<dd class=\"nhsuk-"
	    "summary-list__value\">Strongly disagree</dd>"));
	assert_non_null(strstr(b.p, ">I feel safe</dt>\n<dd class=\"nhsuk-"
	    "summary-list__value\">Not answered</dd>"));
	assert_non_null(strstr(b.p, "#wellbeing__safe\">Change"));
	assert_non_null(strstr(b.p, ">31 March 2027</dd>"));
	assert_non_null(strstr(b.p, ">Something else: &lt;Fed&gt;</dd>"));
	assert_non_null(strstr(b.p, ">a<br>b</dd>"));
	assert_non_null(strstr(b.p, ">No</dd>"));
	assert_null(strstr(b.p, "Your email address"));
	assert_null(strstr(b.p, "Who provides it?"));
	assert_null(strstr(b.p, "Please read"));	/* info is not an answer */
	assert_non_null(strstr(b.p, "<form method=\"post\" action=\"/f/"
	    "staff-wellbeing/submit\" novalidate>"));
	assert_non_null(strstr(b.p, ">Submit</button>"));
	assert_int_equal(count(b.p, "<h2 class=\"nhsuk-heading-m\">"), 3);
	buf_release(&b);

	/* page 2 hidden: its heading is gone */
	page_shown[1] = false;
	buf_init(&b, PCS_RESP_BODY_MAX);
	page_check(&b, &form, &a, shown, page_shown, "c");
	assert_null(strstr(b.p, ">More</h2>"));
	buf_release(&b);
}

static void
test_page_done_saved(void **state)
{
	struct buf b;

	(void)state;
	fixture_setup();
	buf_init(&b, PCS_RESP_BODY_MAX);
	page_done(&b, &form, "ABCD-<EF>");
	page_rules(b.p);
	assert_non_null(strstr(b.p, "Your response has been recorded"));
	assert_non_null(strstr(b.p, "<strong id=\"receipt-code\" "
	    "class=\"pcs-code\">ABCD-&lt;EF&gt;</strong>"));
	assert_non_null(strstr(b.p, "<a href=\"/withdraw\">"));
	buf_release(&b);

	buf_init(&b, PCS_RESP_BODY_MAX);
	page_saved(&b, &form, "RES-1", days_from_civil(2027, 3, 31));
	page_rules(b.p);
	assert_non_null(strstr(b.p, "<strong id=\"resume-code\" "
	    "class=\"pcs-code\">RES-1</strong>"));
	assert_non_null(strstr(b.p, "31 March 2027"));
	assert_non_null(strstr(b.p, "href=\"/f/staff-wellbeing/resume\""));
	buf_release(&b);

	buf_init(&b, PCS_RESP_BODY_MAX);
	page_resume(&b, &form, "c", "Enter your resume code");
	page_rules(b.p);
	assert_non_null(strstr(b.p, "<a href=\"#code\">Enter your resume code"));
	assert_non_null(strstr(b.p, "action=\"/f/staff-wellbeing/resume\""));
	buf_release(&b);
}

static void
test_page_start(void **state)
{
	struct buf b;

	(void)state;
	fixture_setup();
	buf_init(&b, PCS_RESP_BODY_MAX);
	page_start(&b, &form, "c", false, NULL);
	page_rules(b.p);
	assert_non_null(strstr(b.p, "<h1 class=\"nhsuk-heading-l\">Wellbeing "
	    "support for primary care staff</h1>"));
	assert_non_null(strstr(b.p, "<p>Second <a href=\"https://example.org/\">"
	    "link</a>.</p>"));
	assert_non_null(strstr(b.p, "We keep nothing &lt;identifying&gt;."));
	assert_non_null(strstr(b.p, "action=\"/f/staff-wellbeing/start\""));
	assert_non_null(strstr(b.p, ">Start now</button>"));
	assert_null(strstr(b.p, "name=\"code\""));
	buf_release(&b);

	form.access = ACCESS_INVITE;
	buf_init(&b, PCS_RESP_BODY_MAX);
	page_start(&b, &form, "c", false, "Enter your invitation code");
	page_rules(b.p);
	assert_non_null(strstr(b.p, "for=\"code\">Invitation code</label>"));
	assert_non_null(strstr(b.p, "id=\"code\" name=\"code\""));
	assert_non_null(strstr(b.p, "<a href=\"#code\">Enter your invitation "
	    "code</a>"));
	buf_release(&b);

	buf_init(&b, PCS_RESP_BODY_MAX);
	page_start(&b, &form, "c", true, NULL);
	form.access = ACCESS_OPEN;
	page_rules(b.p);	/* no form: no csrf needed */
	assert_non_null(strstr(b.p, "This survey is closed"));
	assert_null(strstr(b.p, "Start now"));
	buf_release(&b);
}

static void
test_page_index(void **state)
{
	static struct form closed_form = { .id = S("old"), .title = S("Old"),
	    .status = FS_CLOSED, .pseudonym_q = -1 };
	struct form *v[2] = { &form, &closed_form };
	struct formset fs = { v, 2 };
	struct buf b;

	(void)state;
	fixture_setup();
	buf_init(&b, PCS_RESP_BODY_MAX);
	page_index(&b, &fs, days_from_civil(2026, 11, 23));
	page_rules(b.p);
	assert_non_null(strstr(b.p, "<a href=\"/f/staff-wellbeing\">Wellbeing "
	    "support for primary care staff</a>"));
	assert_non_null(strstr(b.p, "Closes 31 March 2027"));
	assert_null(strstr(b.p, "/f/old"));
	buf_release(&b);

	buf_init(&b, PCS_RESP_BODY_MAX);
	page_index(&b, &fs, days_from_civil(2027, 4, 1));
	page_rules(b.p);
	assert_non_null(strstr(b.p, "There are no surveys open at the moment."));
	buf_release(&b);
}

static void
test_page_withdraw(void **state)
{
	static const struct {
		int		 outcome;
		const char	*want;
		bool		 form;
	} cases[] = {
		{ 0, "Withdraw your answers", true },
		{ 1, "Your response has been withdrawn", false },
		{ 2, "We could not find a response with that code", true },
		{ 3, "Enter the receipt code", true },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct buf b;

		buf_init(&b, PCS_RESP_BODY_MAX);
		page_withdraw(&b, "c", cases[i].outcome);
		page_rules(b.p);
		if (strstr(b.p, cases[i].want) == NULL)
			fail_msg("outcome %d: no \"%s\"", cases[i].outcome,
			    cases[i].want);
		assert_int_equal(strstr(b.p, "action=\"/withdraw\"") != NULL,
		    cases[i].form);
		assert_int_equal(strstr(b.p, "nhsuk-error-summary") != NULL,
		    cases[i].outcome >= 2);
		buf_release(&b);
	}
}

static void
test_page_error(void **state)
{
	static const int statuses[] = { 400, 403, 404, 405, 410, 413, 415,
	    429, 500, 503, 418 };
	struct buf b;

	(void)state;
	for (size_t i = 0; i < NELEM(statuses); i++) {
		buf_init(&b, PCS_RESP_BODY_MAX);
		page_error(&b, statuses[i], NULL, NULL, "ref-1");
		page_rules(b.p);
		assert_int_equal(strstr(b.p, "Reference: ") != NULL,
		    statuses[i] == 500);
		buf_release(&b);
	}
	buf_init(&b, PCS_RESP_BODY_MAX);
	page_error(&b, 500, NULL, NULL, "R-<1>");
	assert_non_null(strstr(b.p, "Reference: <strong class=\"pcs-code\">"
	    "R-&lt;1&gt;</strong>"));
	assert_non_null(strstr(b.p, "Sorry, there is a problem with the service"));
	buf_release(&b);
	buf_init(&b, PCS_RESP_BODY_MAX);
	page_error(&b, 400, "Bad <field>", "The field \"x\" was sent twice.", NULL);
	page_rules(b.p);
	assert_non_null(strstr(b.p, "<h1 class=\"nhsuk-heading-l\">Bad "
	    "&lt;field&gt;</h1>"));
	assert_non_null(strstr(b.p, "The field &quot;x&quot; was sent twice."));
	buf_release(&b);
}

static void
test_page_static(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, PCS_RESP_BODY_MAX);
	page_privacy(&b);
	page_rules(b.p);
	assert_non_null(strstr(b.p, "<title>Privacy notice \xe2\x80\x93 NHS "));
	buf_release(&b);
	buf_init(&b, PCS_RESP_BODY_MAX);
	page_accessibility(&b);
	page_rules(b.p);
	assert_non_null(strstr(b.p, "WCAG"));
	assert_non_null(strstr(b.p, "2.2"));
	buf_release(&b);
}

static void
test_page_date_long(void **state)
{
	static const struct {
		int y;
		unsigned m, d;
		const char *want;
	} cases[] = {
		{ 2027, 3, 31, "31 March 2027" },
		{ 2026, 1, 1, "1 January 2026" },
		{ 2024, 2, 29, "29 February 2024" },
		{ 1999, 12, 31, "31 December 1999" },
	};
	char out[20];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		page_date_long(days_from_civil(cases[i].y, cases[i].m,
		    cases[i].d), out, sizeof(out));
		assert_string_equal(out, cases[i].want);
	}
	page_date_long(0, out, 4);	/* truncates, terminates */
	assert_string_equal(out, "1 J");
}

/* ---- the real forms in forms/ --------------------------------------- */

/*
 * Every page of every form in forms/ (as form.c loads them) renders to
 * markup that keeps the page rules, with and without an error on every
 * question.  PCS_FORMS_DIR overrides the directory (default "forms",
 * from the repository root as make runs the tests).
 */
static void
test_page_real_forms(void **state)
{
	static const char *const names[] = { "staff-wellbeing",
	    "organisation-provision", "icb-provision", "patient-voice" };
	const char *dir = getenv("PCS_FORMS_DIR") ? getenv("PCS_FORMS_DIR") :
	    "forms";
	size_t loaded = 0;

	(void)state;
	assert_int_equal(ref_load(), PCS_OK);
	for (size_t n = 0; n < NELEM(names); n++) {
		char path[512];
		struct form *f = NULL;
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s.json", dir, names[n]);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		fclose(fp);
		if (form_load(path, &f, stderr) != PCS_OK)
			fail_msg("%s does not load", path);
		loaded++;
		for (size_t p = 0; p < f->npages; p++) {
			const struct page *pg = &f->pages[p];
			struct q_error *e = calloc(pg->nq + 1, sizeof(*e));
			size_t ne = 0;

			assert_non_null(e);
			for (size_t i = 0; i < pg->nq; i++)
				if (f->qs[pg->first_q + i].type != Q_INFO)
					e[ne++] = (struct q_error){ pg->first_q + i,
					    -1, 0, "Answer this question" };
			for (int with_err = 0; with_err < 2; with_err++) {
				struct page_view v = { .form = f, .page = p,
				    .page_no = p + 1, .page_count = f->npages,
				    .errors = e, .nerrors = with_err ? ne : 0,
				    .csrf = "c", .action = "/f/x/p/y",
				    .back_href = p ? "/f/x/p/z" : NULL };
				struct buf b;

				buf_init(&b, PCS_RESP_BODY_MAX);
				page_questions(&b, &v);
				assert_int_equal(b.err, PCS_OK);
				page_rules(b.p);
				assert_int_equal(count(b.p, "<li><a href=\"#"),
				    with_err ? ne : 0);
				buf_release(&b);
			}
			free(e);
		}
		{
			struct buf b;

			buf_init(&b, PCS_RESP_BODY_MAX);
			page_check(&b, f, NULL, NULL, NULL, "c");
			assert_int_equal(b.err, PCS_OK);
			page_rules(b.p);
			buf_release(&b);
			buf_init(&b, PCS_RESP_BODY_MAX);
			page_start(&b, f, "c", false, NULL);
			page_rules(b.p);
			buf_release(&b);
		}
		form_free(f);
	}
	if (loaded == 0)
		skip();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_questions_rules),
		cmocka_unit_test(test_page_questions_fields),
		cmocka_unit_test(test_page_questions_added_hints),
		cmocka_unit_test(test_page_questions_same_page_cond),
		cmocka_unit_test(test_page_questions_cond_other_page),
		cmocka_unit_test(test_page_questions_refill_escaped),
		cmocka_unit_test(test_page_questions_errors),
		cmocka_unit_test(test_page_questions_preview_dbdown),
		cmocka_unit_test(test_page_questions_cap),
		cmocka_unit_test(test_page_check),
		cmocka_unit_test(test_page_done_saved),
		cmocka_unit_test(test_page_start),
		cmocka_unit_test(test_page_index),
		cmocka_unit_test(test_page_withdraw),
		cmocka_unit_test(test_page_error),
		cmocka_unit_test(test_page_static),
		cmocka_unit_test(test_page_date_long),
		cmocka_unit_test(test_page_real_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
