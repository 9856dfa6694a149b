/*
 * fuzz_form.c: form_load_mem() (form.c): the raw pre-scan of a form file
 * (size, UTF-8, the JSON grammar without recursion, depth <=
 * PCS_FORM_JSON_DEPTH, duplicate keys, NUL and lone-surrogate escapes)
 * that runs before cJSON sees a byte, then cJSON, then the checker of every
 * forms.md rule with its did-you-mean messages (adversarial.md T-12, T-15,
 * T-16, T-19 importers, T-40).  The file is named fuzz.json, so a seed
 * whose "id" is "fuzz" can load completely.
 *
 * Properties:
 * - PCS_OK gives a form, anything else gives none and at least one report
 *   line; PCS_ENOMEM only with the "out of memory" line;
 * - every report line starts with "fuzz.json: " and holds no control byte:
 *   whatever the file says, it cannot forge or colour a line on an
 *   operator's terminal (log injection);
 * - at most REPORT_MAX (500) problem lines plus the summary;
 * - a form that loads respects the forms.md limits, and the journey over
 *   no answers and the validation of each page with nothing posted run
 *   clean on it.
 */
#include <string.h>

#include "form.h"
#include "harness.h"
#include "journey.h"
#include "ref.h"
#include "valid.h"

static struct arena A;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (ref_load() != PCS_OK)
		abort();
	arena_init(&A, 64u << 20);
	return 0;
}

static void
check_report(const char *text, size_t len, enum pcs_err e)
{
	size_t lines = 0;
	const char *p = text, *end = text + len;

	FUZZ_CHECK(e == PCS_OK ? len == 0 : len > 0, "error %d with %zu bytes of report", (int)e, len);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		FUZZ_CHECK(nl != NULL, "a report line without its newline");
		FUZZ_CHECK((size_t)(nl - p) >= 11 && memcmp(p, "fuzz.json: ", 11) == 0,
		    "a report line that does not start with the file name: %.*s", (int)(nl - p), p);
		for (const char *q = p; q < nl; q++)
			FUZZ_CHECK((unsigned char)*q >= 0x20 && *q != 0x7F,
			    "control byte 0x%02x in a report line", (unsigned char)*q);
		lines++;
		p = nl + 1;
	}
	FUZZ_CHECK(lines <= 502, "%zu report lines", lines);
	if (e == PCS_ENOMEM)
		FUZZ_CHECK(strstr(text, "out of memory") != NULL, "ENOMEM without saying so");
}

static void
exercise(const struct form *f)
{
	struct journey j;
	struct fields none = { NULL, 0 };
	bool *shown;

	FUZZ_CHECK(f->npages >= 1 && f->npages <= PCS_FORM_PAGES_MAX, "%zu pages", f->npages);
	FUZZ_CHECK(f->nq <= PCS_FORM_QS_MAX, "%zu questions", f->nq);
	FUZZ_CHECK(strcmp(f->id, "fuzz") == 0, "id %s loaded from fuzz.json", f->id);
	for (size_t i = 0; i < f->nq; i++) {
		const struct question *q = &f->qs[i];

		FUZZ_CHECK(q->id != NULL && strstr(q->id, "__") == NULL, "question id %zu", i);
		FUZZ_CHECK(q->page < f->npages, "question %zu on page %zu", i, q->page);
		if (q->type == Q_NUMBER)
			FUZZ_CHECK(q->min <= q->max, "number %s: min %lld > max %lld", q->id,
			    (long long)q->min, (long long)q->max);
	}
	if (journey_eval(&A, f, &none, &j) != PCS_OK)
		return;
	(void)journey_next(f, &j, -1);
	(void)journey_first_missing(f, &j);
	shown = arena_alloc(&A, f->nq + 1);
	if (shown == NULL)
		return;
	memset(shown, 1, f->nq + 1);
	for (size_t p = 0; p < f->npages; p++) {
		struct valid_out v;

		FUZZ_CHECK(valid_page(&A, f, p, &none, &none, shown, 20000, &v) == PCS_OK,
		    "valid_page of page %zu with nothing posted", p);
		for (size_t k = 0; k < v.nerrs; k++)
			FUZZ_CHECK(v.errs[k].qidx < f->nq && f->qs[v.errs[k].qidx].page == p,
			    "an error for a question of another page");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = NULL;
	size_t len = 0;
	FILE *report = open_memstream(&text, &len);
	struct form *f = NULL;
	enum pcs_err e;

	if (report == NULL)
		return 0;
	e = form_load_mem("fuzz.json", (const char *)data, size, &f, report);
	fclose(report);
	FUZZ_CHECK(e == PCS_OK ? f != NULL : f == NULL, "error %d and form %p", (int)e, (void *)f);
	check_report(text ? text : "", len, e);
	if (f != NULL)
		exercise(f);
	form_free(f);
	free(text);
	arena_reset(&A);
	return 0;
}
