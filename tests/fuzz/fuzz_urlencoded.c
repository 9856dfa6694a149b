/*
 * fuzz_urlencoded.c: http_parse_urlencoded() (http.c), the parser of every
 * POST body and query string (adversarial.md T-10, T-11, T-13, T-15, T-40).
 *
 * Properties beyond "no crash, no sanitizer report":
 * - only PCS_OK, PCS_EINPUT, PCS_ETOOBIG come back (the arena is large);
 * - on PCS_OK: at most PCS_MAX_PAIRS fields, every name non-empty, within
 *   PCS_MAX_FIELD_NAME bytes and free of TAB/CR/LF, every value within its
 *   byte cap, both valid UTF-8 without NUL or other control bytes, and
 *   NUL-terminated (handlers may pass them to C string functions);
 * - a repeat is kept as a repeat (T-13: never first- or last-wins here):
 *   encoding the fields again and parsing that gives the same list, in the
 *   same order, with the same counts per name.
 */
#include <string.h>

#include "harness.h"
#include "http.h"

static struct arena A;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	arena_init(&A, 64u << 20);
	return 0;
}

static void
encode(struct buf *b, struct str s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')
			buf_addc(b, (char)c);
		else if (c == ' ')
			buf_addc(b, '+');
		else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			buf_add(b, e, 3);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = { (const char *)data, size }, bad = STR_NULL;
	struct fields f, g;
	struct buf b;
	enum pcs_err e;

	e = http_parse_urlencoded(&A, in, &f, &bad);
	FUZZ_CHECK(e == PCS_OK || e == PCS_EINPUT || e == PCS_ETOOBIG,
	    "error %d", (int)e);
	if (e != PCS_OK) {
		arena_reset(&A);
		return 0;
	}
	FUZZ_CHECK(f.n <= PCS_MAX_PAIRS, "%zu pairs", f.n);
	for (size_t i = 0; i < f.n; i++) {
		struct str n = f.v[i].name, v = f.v[i].value;

		FUZZ_CHECK(n.len > 0 && n.len <= PCS_MAX_FIELD_NAME, "name length %zu", n.len);
		FUZZ_CHECK(v.len <= (size_t)PCS_MAX_FIELD_VALUE * 4, "value length %zu", v.len);
		FUZZ_CHECK(utf8_valid(n.p, n.len) && utf8_valid(v.p, v.len), "field %zu not UTF-8", i);
		FUZZ_CHECK(!str_has_ctl(n.p, n.len) && !str_has_ctl(v.p, v.len),
		    "field %zu has a control byte", i);
		FUZZ_CHECK(!memchr(n.p, '\t', n.len) && !memchr(n.p, '\r', n.len) &&
		    !memchr(n.p, '\n', n.len), "name %zu has TAB/CR/LF", i);
		FUZZ_CHECK(n.p[n.len] == '\0' && v.p[v.len] == '\0', "field %zu not NUL-terminated", i);
		if (f.n <= 64) {	/* quadratic: keep the run fast */
			FUZZ_CHECK(fields_count(&f, n) >= 1, "fields_count lost field %zu", i);
			FUZZ_CHECK(fields_get(&f, n) != NULL, "fields_get lost field %zu", i);
		}
	}

	/* Round trip: what we encode (as h_respond.c's drafts do) parses back the same. */
	buf_init(&b, 16u << 20);
	for (size_t i = 0; i < f.n; i++) {
		if (i)
			buf_addc(&b, '&');
		encode(&b, f.v[i].name);
		buf_addc(&b, '=');
		encode(&b, f.v[i].value);
	}
	FUZZ_CHECK(b.err == PCS_OK, "re-encoding failed");
	e = http_parse_urlencoded(&A, buf_str(&b), &g, NULL);
	FUZZ_CHECK(e == PCS_OK, "re-encoded fields do not parse (%d)", (int)e);
	FUZZ_CHECK(g.n == f.n, "%zu fields became %zu", f.n, g.n);
	for (size_t i = 0; i < f.n; i++) {
		FUZZ_CHECK(str_eq(f.v[i].name, g.v[i].name), "name %zu changed", i);
		FUZZ_CHECK(str_eq(f.v[i].value, g.v[i].value), "value %zu changed", i);
		if (f.n <= 64)
			FUZZ_CHECK(fields_count(&f, f.v[i].name) == fields_count(&g, f.v[i].name),
			    "count of name %zu changed", i);
	}
	buf_release(&b);
	arena_reset(&A);
	return 0;
}
