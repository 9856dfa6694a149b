/*
 * page_research.c: the /research pages (page_research.h) in nhsuk-frontend
 * 10 markup, as page.c writes it.  Trusts nothing it renders: names, codes,
 * titles and labels go through html_text() (html.h); literal markup of our
 * own through html_raw(); numbers through buf_printf().  The map's paths
 * are our own compiled-in data (icbmap.h, checked by its generator).
 *
 * Shading is a class (pcs-shade-1..5, darker for more), never a style
 * attribute (CSP style-src 'self'), and never the only carrier of a
 * figure: each table cell shows its number, each map area has a <title>
 * with the ICB's name and figure, and the table repeats the map.
 */
#include <stdio.h>
#include <string.h>

#include "html.h"
#include "icbmap.h"
#include "page.h"
#include "page_research.h"

#define SITE_NAME	"NHS primary care survey"
#define R(b, lit)	html_raw((b), (lit))
#define T(b, s)		html_cstr((b), (s))
#define SHADES		5
#define HIDDEN_KEY	"* hidden to protect privacy"

/* ---- frame ------------------------------------------------------------- */

/* The sign-out button (a POST with the session's CSRF token). */
static void
signout(struct buf *b, const char *csrf)
{
	R(b, "<form method=\"post\" action=\"/research/logout\" class=\"pcs-signout\">\n"
	    "<input type=\"hidden\" name=\"csrf\" value=\"");
	T(b, csrf);
	R(b, "\">\n<a class=\"pcs-research-nav__link\" href=\"/research\">Surveys</a>\n"
	    "<button class=\"nhsuk-button nhsuk-button--secondary nhsuk-button--small "
	    "pcs-signout__button\" data-module=\"nhsuk-button\" type=\"submit\">Sign out"
	    "</button>\n</form>\n");
}

/*
 * As page.c's frame, with the research stylesheet and a full-width column
 * (the coverage table needs it); page_end() closes it.
 */
static void
begin(struct buf *b, const char *title, const char *csrf)
{
	R(b, "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<title>");
	T(b, title);
	R(b, " \xe2\x80\x93 Research \xe2\x80\x93 " SITE_NAME "</title>\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1, "
	    "viewport-fit=cover\">\n<meta name=\"theme-color\" content=\"#005eb8\">\n"
	    "<link rel=\"icon\" href=\"/assets/images/favicon.ico\" sizes=\"48x48\">\n"
	    "<link rel=\"stylesheet\" href=\"/assets/nhsuk-frontend.min.css\">\n"
	    "<link rel=\"stylesheet\" href=\"/assets/pcsurvey.css\">\n"
	    "<link rel=\"stylesheet\" href=\"/assets/pcsurvey-research.css\">\n"
	    /* our own files only (CSP script-src 'self'): nhsuk's error summary focus, buttons */
	    "<script src=\"/assets/pcsurvey.js\" defer></script>\n"
	    "<script type=\"module\" src=\"/assets/pcsurvey-nhsuk.js\"></script>\n"
	    "</head>\n<body>\n<a class=\"nhsuk-skip-link\" data-module=\"nhsuk-skip-link\" "
	    "href=\"#maincontent\">Skip to main content</a>\n<header class=\"nhsuk-header\" "
	    "data-module=\"nhsuk-header\" role=\"banner\">\n"
	    "<div class=\"nhsuk-header__container nhsuk-width-container\">\n"
	    "<div class=\"nhsuk-header__service\">\n<a class=\"nhsuk-header__service-logo\" "
	    "href=\"/research\" aria-label=\"" SITE_NAME " research pages\">\n"
	    "<span class=\"nhsuk-header__service-name\">" SITE_NAME ": research</span>\n"
	    "</a>\n</div>\n</div>\n</header>\n<div class=\"nhsuk-width-container\">\n"
	    "<main class=\"nhsuk-main-wrapper\" id=\"maincontent\">\n");
	if (csrf != NULL)
		signout(b, csrf);
	R(b, "<div class=\"nhsuk-grid-row\">\n<div class=\"nhsuk-grid-column-full\">\n");
}

/* ---- login and home ---------------------------------------------------- */

void
page_research_login(struct buf *b, const char *csrf, const char *error)
{
	begin(b, error ? "Error: Sign in" : "Sign in", NULL);
	if (error != NULL) {
		R(b, "<div class=\"nhsuk-error-summary\" data-module=\"nhsuk-error-summary\" "
		    "role=\"alert\" tabindex=\"-1\">\n<h2 class=\"nhsuk-error-summary__heading\">"
		    "There is a problem</h2>\n<div class=\"nhsuk-error-summary__body\">\n"
		    "<ul class=\"nhsuk-list nhsuk-error-summary__list\">\n<li><a href=\"#token\">");
		T(b, error);
		R(b, "</a></li>\n</ul>\n</div>\n</div>\n");
	}
	html_h1(b, "Sign in to the research pages");
	R(b, "<p>These pages show the survey results under the disclosure rules and let "
	    "you preview surveys. Sign in with your API token.</p>\n"
	    "<form method=\"post\" action=\"/research/login\" novalidate>\n");
	html_csrf_field(b, csrf);
	R(b, error ? "<div class=\"nhsuk-form-group nhsuk-form-group--error\">\n" :
	    "<div class=\"nhsuk-form-group\">\n");
	R(b, "<label class=\"nhsuk-label nhsuk-label--m\" for=\"token\">API token</label>\n"
	    "<div class=\"nhsuk-hint\" id=\"token-hint\">The token from pcsurvey token create. "
	    "You stay signed in for 8 hours.</div>\n");
	if (error != NULL) {
		R(b, "<span class=\"nhsuk-error-message\" id=\"token-error\">\n<span "
		    "class=\"nhsuk-u-visually-hidden\">Error: </span>");
		T(b, error);
		R(b, "\n</span>\n");
	}
	R(b, error ? "<input class=\"nhsuk-input nhsuk-input--error pcs-code\" " :
	    "<input class=\"nhsuk-input pcs-code\" ");
	R(b, "id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" "
	    "spellcheck=\"false\" aria-describedby=\"token-hint");
	R(b, error ? " token-error\">\n" : "\">\n");
	R(b, "</div>\n<button class=\"nhsuk-button\" data-module=\"nhsuk-button\" "
	    "type=\"submit\">Sign in</button>\n</form>\n");
	page_end(b);
}

void
page_research_home(struct buf *b, const struct formset *fs, const char *csrf)
{
	begin(b, "Surveys", csrf);
	html_h1(b, "Surveys");
	R(b, "<ul class=\"nhsuk-list nhsuk-list--border\">\n");
	for (size_t i = 0; fs != NULL && i < fs->n; i++) {
		const struct form *f = fs->v[i];

		R(b, "<li>\n<h2 class=\"nhsuk-heading-s nhsuk-u-margin-bottom-1\">");
		T(b, f->title);
		R(b, "</h2>\n<p class=\"nhsuk-body-s nhsuk-u-margin-bottom-1\"><span "
		    "class=\"pcs-code\">");
		T(b, f->id);
		R(b, "</span>, status: ");
		T(b, form_status_names[f->status]);
		R(b, "</p>\n<p class=\"nhsuk-body-s nhsuk-u-margin-bottom-0\">");
		if (f->dim_q[DIM_ICB] >= 0) {
			R(b, "<a href=\"/research/coverage?form=");
			T(b, f->id);
			R(b, "\">Coverage by ICB<span class=\"nhsuk-u-visually-hidden\"> for ");
			T(b, f->title);
			R(b, "</span></a> | ");
		}
		R(b, "<a href=\"/research/preview/");
		T(b, f->id);
		R(b, "\">Preview<span class=\"nhsuk-u-visually-hidden\"> ");
		T(b, f->title);
		R(b, "</span></a></p>\n</li>\n");
	}
	R(b, "</ul>\n");
	page_end(b);
}

/* ---- coverage ---------------------------------------------------------- */

/* 1..SHADES for v in 1..max (darker for more); 0 for 0; -1 suppressed. */
static int
shade(long v, long max)
{
	if (v < 0)
		return -1;
	if (v == 0 || max <= 0)
		return 0;
	return (int)((v * SHADES + max - 1) / max);
}

static void
shade_class(struct buf *b, long v, long max)
{
	int s = shade(v, max);

	if (s < 0)
		R(b, "pcs-shade-hidden");
	else
		buf_printf(b, "pcs-shade-%d", s);
}

static void
figure(struct buf *b, long v)
{
	if (v < 0)
		R(b, "*");
	else
		buf_printf(b, "%ld", v);
}

static long
map_value(const struct research_coverage_view *v, const struct fig_cov_icb *r)
{
	return v->group >= 0 ? r->counts[v->group] : r->total;
}

static long
map_max(const struct research_coverage_view *v)
{
	long max = 0;

	for (size_t i = 0; i < v->cv->nicbs; i++)
		if (map_value(v, &v->cv->icbs[i]) > max)
			max = map_value(v, &v->cv->icbs[i]);
	return max;
}

/* The coverage row of the ICB with this ONS code, or NULL. */
static const struct fig_cov_icb *
row_of(const struct fig_coverage *cv, const char *ons)
{
	for (size_t i = 0; i < cv->nicbs; i++)
		if (cv->icbs[i].icb->ons_code && strcmp(cv->icbs[i].icb->ons_code, ons) == 0)
			return &cv->icbs[i];
	return NULL;
}

/* One ICB: shaded by its published figure, outlined when it has none. */
static void
map_icb(struct buf *b, const struct research_coverage_view *v, const struct icbmap_area *a,
    long max)
{
	const struct fig_cov_icb *r = row_of(v->cv, a->code);
	long val = r ? map_value(v, r) : 0;

	R(b, "<path class=\"pcs-map__icb ");
	if (r == NULL)
		R(b, "pcs-map__outside");
	else if (val == 0)
		R(b, "pcs-map__none");		/* http-api.md: no response, outlined */
	else
		shade_class(b, val, max);
	R(b, "\" d=\"");
	T(b, a->path);
	R(b, "\"><title>");
	T(b, r ? r->icb->full_name : a->name);
	if (r == NULL)
		R(b, ": not in this survey's list of ICBs");
	else if (val < 0)
		R(b, ": * (hidden to protect privacy)");
	else
		buf_printf(b, ": %ld response%s", val, val == 1 ? "" : "s");
	R(b, "</title></path>\n");
}

/* The map key: what each shade covers. */
static void
map_key(struct buf *b, long max)
{
	R(b, "<ul class=\"pcs-key\">\n<li><span class=\"pcs-swatch pcs-map__none\"></span>"
	    "No responses (outlined)</li>\n<li><span class=\"pcs-swatch pcs-shade-hidden\">"
	    "</span>* hidden to protect privacy</li>\n");
	for (int s = 1; s <= SHADES && max > 0; s++) {
		long lo = (max * (s - 1)) / SHADES + 1, hi = (max * s) / SHADES;

		if (hi < lo)
			continue;
		buf_printf(b, "<li><span class=\"pcs-swatch pcs-shade-%d\"></span>%ld to %ld"
		    "</li>\n", s, lo, hi);
	}
	R(b, "</ul>\n");
}

/* ICBs of the survey that the 2023 map cannot show (created later). */
static void
map_missing(struct buf *b, const struct fig_coverage *cv)
{
	size_t n = 0;

	for (size_t i = 0; i < cv->nicbs; i++) {
		bool drawn = false;

		for (size_t k = 0; k < icbmap_nicbs && !drawn; k++)
			drawn = cv->icbs[i].icb->ons_code &&
			    strcmp(cv->icbs[i].icb->ons_code, icbmap_icbs[k].code) == 0;
		if (drawn)
			continue;
		R(b, n++ ? ", " : "<p class=\"nhsuk-body-s\">Not on the map (no boundary "
		    "yet): ");
		T(b, cv->icbs[i].icb->full_name);
	}
	if (n)
		R(b, ". They are in the table.</p>\n");
}

static void
coverage_map(struct buf *b, const struct research_coverage_view *v)
{
	long max = map_max(v);

	R(b, "<figure class=\"pcs-map\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "class=\"pcs-map__svg\" viewBox=\"");
	T(b, icbmap_viewbox);
	R(b, "\" role=\"img\" aria-labelledby=\"pcs-map-title\" focusable=\"false\">\n"
	    "<title id=\"pcs-map-title\">Map of England's integrated care boards, each "
	    "shaded by its published number of responses");
	if (v->group >= 0) {
		R(b, " from ");
		T(b, v->cv->groups[v->group]->label);
	}
	R(b, "</title>\n");
	for (size_t k = 0; k < icbmap_nicbs; k++)
		map_icb(b, v, &icbmap_icbs[k], max);
	for (size_t k = 0; k < icbmap_nregions; k++) {
		R(b, "<path class=\"pcs-map__region\" d=\"");
		T(b, icbmap_regions[k].path);
		R(b, "\"/>\n");
	}
	R(b, "</svg>\n<figcaption>\n");
	map_key(b, max);
	map_missing(b, v->cv);
	R(b, "<p class=\"pcs-attribution\">");
	T(b, icbmap_attribution);
	R(b, "</p>\n</figcaption>\n</figure>\n");
}

/* The plain GET filter: one staff group on the map, or all. */
static void
coverage_filter(struct buf *b, const struct research_coverage_view *v)
{
	if (v->cv->ngroups == 0)
		return;
	R(b, "<form method=\"get\" action=\"/research/coverage\" class=\"pcs-filter\">\n"
	    "<input type=\"hidden\" name=\"form\" value=\"");
	T(b, v->form->id);
	R(b, "\">\n<div class=\"nhsuk-form-group\">\n<label class=\"nhsuk-label\" "
	    "for=\"staff_group\">Show on the map</label>\n<select class=\"nhsuk-select\" "
	    "id=\"staff_group\" name=\"staff_group\">\n<option value=\"\"");
	R(b, v->group < 0 ? " selected" : "");
	R(b, ">All staff groups</option>\n");
	for (size_t g = 0; g < v->cv->ngroups; g++) {
		R(b, "<option value=\"");
		T(b, v->cv->groups[g]->code);
		R(b, (int)g == v->group ? "\" selected>" : "\">");
		T(b, v->cv->groups[g]->label);
		R(b, "</option>\n");
	}
	R(b, "</select>\n</div>\n<button class=\"nhsuk-button nhsuk-button--secondary\" "
	    "data-module=\"nhsuk-button\" type=\"submit\">Show</button>\n</form>\n");
}

static long
cells_max(const struct fig_coverage *cv)
{
	long max = 0;

	for (size_t i = 0; i < cv->nicbs; i++)
		for (size_t g = 0; g < cv->ngroups; g++)
			if (cv->icbs[i].counts[g] > max)
				max = cv->icbs[i].counts[g];
	return max;
}

/* A figure cell: shaded (a class) and written. */
static void
cell(struct buf *b, long v, long max)
{
	R(b, "<td class=\"nhsuk-table__cell pcs-cell ");
	shade_class(b, v, max);
	R(b, "\">");
	figure(b, v);
	R(b, "</td>");
}

static void
table_head(struct buf *b, const struct fig_coverage *cv)
{
	R(b, "<thead class=\"nhsuk-table__head\">\n<tr class=\"nhsuk-table__row\">"
	    "<th scope=\"col\" class=\"nhsuk-table__header\">ICB</th>");
	for (size_t g = 0; g < cv->ngroups; g++) {
		R(b, "<th scope=\"col\" class=\"nhsuk-table__header pcs-num\">");
		T(b, cv->groups[g]->label);
		R(b, "</th>");
	}
	R(b, "<th scope=\"col\" class=\"nhsuk-table__header pcs-num\">Total</th></tr>\n"
	    "</thead>\n");
}

static void
table_row(struct buf *b, const struct fig_coverage *cv, const struct fig_cov_icb *r, long max)
{
	R(b, "<tr class=\"nhsuk-table__row\"><th scope=\"row\" class=\"nhsuk-table__header "
	    "pcs-icb\">");
	T(b, r->icb->label);
	R(b, "</th>");
	for (size_t g = 0; g < cv->ngroups; g++)
		cell(b, r->counts[g], max);
	R(b, "<td class=\"nhsuk-table__cell pcs-cell pcs-total\">");
	figure(b, r->total);
	R(b, "</td></tr>\n");
}

static void
coverage_table(struct buf *b, const struct fig_coverage *cv)
{
	const struct ref_entry *region = NULL;
	long max = cells_max(cv);

	R(b, "<div class=\"pcs-table-wrap\" role=\"region\" aria-labelledby=\"pcs-table-caption\" "
	    "tabindex=\"0\">\n<table class=\"nhsuk-table pcs-coverage\">\n"
	    "<caption class=\"nhsuk-table__caption\" id=\"pcs-table-caption\">Published "
	    "responses by ICB and staff group</caption>\n");
	table_head(b, cv);
	for (size_t i = 0; i < cv->nicbs; i++) {
		const struct fig_cov_icb *r = &cv->icbs[i];

		if (i == 0 || r->region != region) {	/* grouped by region name */
			region = r->region;
			R(b, i ? "</tbody>\n" : "");
			buf_printf(b, "<tbody class=\"nhsuk-table__body\">\n<tr class=\"nhsuk-table__row "
			    "pcs-region\"><th scope=\"colgroup\" colspan=\"%zu\" "
			    "class=\"nhsuk-table__header\">", cv->ngroups + 2);
			T(b, region ? region->label : "Region not known");
			R(b, "</th></tr>\n");
		}
		table_row(b, cv, r, max);
	}
	R(b, cv->nicbs ? "</tbody>\n" : "");
	R(b, "<tfoot>\n<tr class=\"nhsuk-table__row pcs-totals\"><th scope=\"row\" "
	    "class=\"nhsuk-table__header\">All ICBs</th>");
	for (size_t g = 0; g < cv->ngroups; g++) {
		R(b, "<td class=\"nhsuk-table__cell pcs-cell pcs-total\">");
		figure(b, cv->group_totals[g]);
		R(b, "</td>");
	}
	R(b, "<td class=\"nhsuk-table__cell pcs-cell pcs-total\">");
	figure(b, cv->total);
	R(b, "</td></tr>\n</tfoot>\n</table>\n</div>\n<p class=\"pcs-hidden-key\">"
	    HIDDEN_KEY "</p>\n");
}

/* A title of its own per page: "Coverage by ICB[, group]: form title". */
static void
title_coverage(struct buf *b, const struct research_coverage_view *v)
{
	struct buf t;

	buf_init(&t, 1024);
	buf_adds(&t, "Coverage by ICB");
	if (v->group >= 0) {
		buf_adds(&t, ", ");
		buf_adds(&t, v->cv->groups[v->group]->label);
	}
	buf_adds(&t, ": ");
	buf_adds(&t, v->form->title);
	begin(b, t.err == PCS_OK ? t.p : "Coverage by ICB", v->csrf);
	buf_release(&t);
}

void
page_research_coverage(struct buf *b, const struct research_coverage_view *v)
{
	char day[32];

	page_date_long(v->data_as_of, day, sizeof(day));
	title_coverage(b, v);
	R(b, "<span class=\"nhsuk-caption-l\">Coverage by ICB</span>\n");
	html_h1(b, v->form->title);
	R(b, "<p>Published responses up to and including ");
	T(b, day);
	buf_printf(b, ". Counts from 1 to %d are hidden (shown as *), some others are hidden "
	    "so that hidden counts cannot be worked out, and every other count is rounded to "
	    "the nearest %d. Totals are rounded from the true counts, so they may not add "
	    "up.</p>\n", v->suppress_max, v->round_to);
	coverage_filter(b, v);
	R(b, "<h2 class=\"nhsuk-heading-m\">Map</h2>\n");
	coverage_map(b, v);
	R(b, "<h2 class=\"nhsuk-heading-m\">Table</h2>\n");
	coverage_table(b, v->cv);
	page_end(b);
}

/* ---- preview ----------------------------------------------------------- */

void
page_research_preview_index(struct buf *b, const struct form *f, const char *csrf)
{
	struct buf t;

	buf_init(&t, 1024);
	buf_adds(&t, "Preview: ");
	buf_adds(&t, f->title);
	begin(b, t.err == PCS_OK ? t.p : "Preview", csrf);
	buf_release(&t);
	R(b, "<span class=\"nhsuk-caption-l\">Preview</span>\n");
	html_h1(b, f->title);
	R(b, "<div class=\"nhsuk-inset-text\">\n<span class=\"nhsuk-u-visually-hidden\">"
	    "Information: </span>\n<p>This is a preview (status: ");
	T(b, form_status_names[f->status]);
	R(b, "). Nothing you enter is saved. Every page is shown in order, whatever the "
	    "answers to earlier pages.</p>\n</div>\n<h2 class=\"nhsuk-heading-m\">Pages</h2>\n"
	    "<ol class=\"nhsuk-list nhsuk-list--number\">\n");
	for (size_t p = 0; p < f->npages; p++) {
		R(b, "<li><a href=\"/research/preview/");
		T(b, f->id);
		R(b, "/p/");
		T(b, f->pages[p].id);
		R(b, "\">");
		T(b, f->pages[p].title);
		R(b, "</a></li>\n");
	}
	R(b, "</ol>\n");
	if (f->npages > 0) {
		R(b, "<a class=\"nhsuk-button\" data-module=\"nhsuk-button\" role=\"button\" "
		    "draggable=\"false\" href=\"/research/preview/");
		T(b, f->id);
		R(b, "/p/");
		T(b, f->pages[0].id);
		R(b, "\">Start the preview</a>\n");
	}
	page_end(b);
}
