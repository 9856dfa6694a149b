/*
 * fuzz_cookies.c: http_parse_cookies() (http.c) on a Cookie header, then
 * crypto_code_normalise() (crypto.c) on every value, as h_respond.c does
 * with pcs_draft (a resume code) and the resume, withdraw and invitation
 * forms do with what a person typed (adversarial.md T-24, T-26, T-40).
 *
 * Properties: at most PCS_MAX_COOKIES pairs; every name non-empty; names
 * and values are views inside the header (no copy, no read past it),
 * without ';' and without surrounding blanks; a code that normalises is
 * exactly CRYPTO_CODE_CHARS characters of Crockford base32, and
 * normalising it again gives itself.
 */
#include <string.h>

#include "crypto.h"
#include "harness.h"
#include "http.h"

static struct arena A;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	arena_init(&A, 16u << 20);
	if (!crypto_init())
		abort();
	return 0;
}

static bool
inside(struct str s, const uint8_t *p, size_t n)
{
	return s.len == 0 || ((const uint8_t *)s.p >= p &&
	    (const uint8_t *)s.p + s.len <= p + n);
}

static void
check_code(struct str v)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	char out[CRYPTO_CODE_CHARS + 1], again[CRYPTO_CODE_CHARS + 1];

	if (!crypto_code_normalise(v, out))
		return;
	FUZZ_CHECK(strlen(out) == CRYPTO_CODE_CHARS, "code of %zu chars", strlen(out));
	for (size_t i = 0; i < CRYPTO_CODE_CHARS; i++)
		FUZZ_CHECK(strchr(alphabet, out[i]) != NULL, "code char 0x%02x",
		    (unsigned char)out[i]);
	FUZZ_CHECK(crypto_code_normalise(str_cstr(out), again) && strcmp(out, again) == 0,
	    "normalising is not idempotent");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = { (const char *)data, size };
	struct fields f;
	enum pcs_err e;

	check_code(in);		/* a code typed into a form field, as is */
	e = http_parse_cookies(&A, in, &f);
	FUZZ_CHECK(e == PCS_OK, "error %d", (int)e);
	FUZZ_CHECK(f.n <= PCS_MAX_COOKIES, "%zu cookies", f.n);
	for (size_t i = 0; i < f.n; i++) {
		struct str n = f.v[i].name, v = f.v[i].value;

		FUZZ_CHECK(n.len > 0, "empty name %zu", i);
		FUZZ_CHECK(inside(n, data, size) && inside(v, data, size), "cookie %zu outside the header", i);
		FUZZ_CHECK(!memchr(n.p, ';', n.len) && (v.len == 0 || !memchr(v.p, ';', v.len)),
		    "cookie %zu spans a ';'", i);
		FUZZ_CHECK(n.p[0] != ' ' && n.p[0] != '\t', "name %zu starts with a blank", i);
		check_code(v);
	}
	arena_reset(&A);
	return 0;
}
