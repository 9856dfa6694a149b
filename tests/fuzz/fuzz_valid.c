/*
 * fuzz_valid.c: a posted page as the worker handles it: the urlencoded
 * body (http.c), then valid_page() (valid.c) and journey_eval() (journey.c)
 * on the forms of forms/ and tests/forms/ (http-api.md: Respondent rules;
 * adversarial.md T-10, T-11, T-13, T-14, T-16, T-40).
 *
 * Input: byte 0 picks the form (forms/ then tests/forms/, by name), byte 1
 * the page, the rest is the body.
 *
 * Properties:
 * - only PCS_OK or PCS_EINPUT (a repeated single-answer field: T-13);
 * - every kept field belongs to a question of this page that is shown
 *   (T-14 mass assignment: csrf, respondent_id, another page's question
 *   are never kept);
 * - a kept number is the canonical decimal of a value within min..max
 *   when its question has no error, so record.c can write it into the
 *   answers JSON as it is (T-16: "007" once made PostgreSQL refuse the row);
 * - a kept choice is one of the question's options; a kept value is valid
 *   UTF-8 without control bytes other than TAB/CR/LF;
 * - every error names a question of this page;
 * - the journey over the kept answers stays in range.
 */
#include <dirent.h>
#include <string.h>

#include "form.h"
#include "harness.h"
#include "http.h"
#include "journey.h"
#include "ref.h"
#include "valid.h"

#define MAX_FORMS	64

static struct arena A;
static struct form *forms[MAX_FORMS];
static size_t nforms;

/*
 * The committed inputs pick forms by index, so the order is fixed: these
 * four first (as when the harness was written), then every other form of
 * tests/forms/ and forms/ by name.
 */
static const char *const first[] = {
	"forms/staff-wellbeing.json", "forms/icb-provision.json",
	"forms/organisation-provision.json", "forms/patient-voice.json",
};

static void
load_one(const char *path)
{
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		if (strcmp(path, first[i]) == 0 && nforms >= sizeof(first) / sizeof(first[0]))
			return;		/* loaded already */
	if (nforms < MAX_FORMS && form_load(path, &forms[nforms], NULL) == PCS_OK)
		nforms++;
}

static void
load_dir(const char *dir)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		size_t l = strlen(names[i]->d_name);
		char path[1024];

		if (l > 5 && strcmp(names[i]->d_name + l - 5, ".json") == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			load_one(path);
		}
		free(names[i]);
	}
	free(names);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (ref_load() != PCS_OK)
		abort();
	arena_init(&A, 64u << 20);
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++)
		load_one(first[i]);
	if (nforms != sizeof(first) / sizeof(first[0])) {
		fprintf(stderr, "fuzz_valid: run from the repository root (the study forms did not load)\n");
		abort();
	}
	/* then the test forms (dates, patterns, e-mail, other...) and any new study form */
	load_dir("tests/forms");
	load_dir("forms");
	if (nforms == 0) {
		fprintf(stderr, "fuzz_valid: run from the repository root (no form in forms/)\n");
		abort();
	}
	return 0;
}

static bool
has_error(const struct valid_out *v, size_t qi)
{
	for (size_t k = 0; k < v->nerrs; k++)
		if (v->errs[k].qidx == qi)
			return true;
	return false;
}

static const struct question *
owner(const struct form *f, size_t p, struct str name)
{
	const struct page *pg = &f->pages[p];

	for (size_t i = 0; i < pg->nq; i++)
		if (question_owns_field(&f->qs[pg->first_q + i], name))
			return &f->qs[pg->first_q + i];
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct form *f;
	struct fields posted;
	struct journey j;
	struct valid_out v;
	size_t p;
	enum pcs_err e;

	if (size < 2)
		return 0;
	f = forms[data[0] % nforms];
	p = data[1] % f->npages;
	if (http_parse_urlencoded(&A, (struct str){ (const char *)data + 2, size - 2 },
	    &posted, NULL) != PCS_OK)
		goto out;
	/* the posted fields as the draft so far: conditions read them */
	if (journey_eval(&A, f, &posted, &j) != PCS_OK)
		goto out;
	e = valid_page(&A, f, p, &posted, &j.eff, j.qshown, 20000, &v);
	FUZZ_CHECK(e == PCS_OK || e == PCS_EINPUT, "error %d", (int)e);
	if (e != PCS_OK)
		goto out;
	for (size_t k = 0; k < v.nerrs; k++)
		FUZZ_CHECK(v.errs[k].qidx < f->nq && f->qs[v.errs[k].qidx].page == p,
		    "error for question %zu, not on page %zu", v.errs[k].qidx, p);
	for (size_t i = 0; i < v.clean.n; i++) {
		struct str n = v.clean.v[i].name, val = v.clean.v[i].value;
		const struct question *q = owner(f, p, n);
		size_t qi;

		FUZZ_CHECK(q != NULL, "kept field %.*s belongs to no question of page %zu",
		    (int)n.len, n.p, p);
		qi = (size_t)(q - f->qs);
		FUZZ_CHECK(j.qshown[qi], "kept an answer to hidden question %s", q->id);
		FUZZ_CHECK(utf8_valid(val.p, val.len) && !str_has_ctl(val.p, val.len),
		    "kept value of %s has bad bytes", q->id);
		if (q->type == Q_NUMBER && !has_error(&v, qi)) {
			int64_t x;
			char canon[32];

			FUZZ_CHECK(str_to_i64(val, &x) && x >= q->min && x <= q->max,
			    "number %s kept out of range", q->id);
			snprintf(canon, sizeof(canon), "%lld", (long long)x);
			FUZZ_CHECK(str_eq_cstr(val, canon), "number %s kept as \"%.*s\", not %s",
			    q->id, (int)val.len, val.p, canon);
		}
		/* a choice's own field, or a scale statement's (not an "other" text) */
		if (((q->type == Q_CHOICE || q->type == Q_SELECT || q->type == Q_CHOICES) &&
		    str_eq_cstr(n, q->id)) || (q->type == Q_SCALE && !str_eq_cstr(n, q->id)))
			FUZZ_CHECK(question_option(q, val) != NULL || has_error(&v, qi),
			    "%s kept a value not in its options", q->id);
	}
	{
		struct journey after;

		if (journey_eval(&A, f, &v.clean, &after) == PCS_OK) {
			int nx = journey_next(f, &after, (int)p);

			FUZZ_CHECK(nx == -1 || ((size_t)nx > p && (size_t)nx < f->npages), "next page %d", nx);
			(void)journey_first_missing(f, &after);
		}
	}
out:
	arena_reset(&A);
	return 0;
}
