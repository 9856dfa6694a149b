/* test_html.c: html_text() escaping and forms.md "text" (html_paras). */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "limits.h"

static const struct {
	const char	*in, *want;
} esc_cases[] = {
	{ "", "" },
	{ "plain text", "plain text" },
	{ "a & b", "a &amp; b" },
	{ "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;" },
	{ "\"", "&quot;" },				/* ends a "..." attribute */
	{ "'", "&#39;" },				/* ends a '...' attribute */
	{ "\" onmouseover=\"x", "&quot; onmouseover=&quot;x" },
	{ "' autofocus onfocus='x", "&#39; autofocus onfocus=&#39;x" },
	{ "\"><img src=x onerror=alert(1)>",
	  "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" },
	{ "&amp;", "&amp;amp;" },			/* no double decoding */
	{ "&#60;", "&amp;#60;" },
	{ "</textarea><script>", "&lt;/textarea&gt;&lt;script&gt;" },
	{ "javascript:alert(1)", "javascript:alert(1)" },	/* text, harmless */
	{ "caf\xc3\xa9 \xe2\x80\x93 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x80\x93 \xf0\x9f\x98\x80" },
	{ "\xe2\x80\xae<b>", "\xe2\x80\xae&lt;b&gt;" },	/* RTL override kept, < escaped */
	{ "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d" },
	{ "tab\tand\nnewline", "tab\tand\nnewline" },
	{ "`backtick` =equals", "`backtick` =equals" },
};

static void
test_html_text_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(esc_cases); i++) {
		struct buf b;

		buf_init(&b, 4096);
		html_text(&b, esc_cases[i].in, strlen(esc_cases[i].in));
		if (b.err != PCS_OK ||
		    strcmp(b.p ? b.p : "", esc_cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\" want \"%s\"", i,
			    b.p ? b.p : "", esc_cases[i].want);
		buf_release(&b);
	}
}

/* The escaping of one byte at a time, as html_text() did before issue 9. */
static void
ref_escape(struct buf *b, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		switch (p[i]) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addc(b, (char)p[i]); break;
		}
}

/*
 * The run-at-a-time html_text() writes the same bytes as the reference on
 * strings of mostly safe bytes with breakers at the start, the end, next
 * to each other and alone, at every length up to 64.
 */
static void
test_html_text_runs_match_reference(void **state)
{
	static const char mix[] = "ab&<>\"'\0\xc3\xa9 ";
	unsigned long seed = 1;

	(void)state;
	for (size_t len = 0; len <= 64; len++)
		for (int round = 0; round < 50; round++) {
			unsigned char in[64];
			struct buf got, want;

			for (size_t i = 0; i < len; i++) {
				seed = seed * 6364136223846793005UL + 1;
				in[i] = (unsigned char)mix[(seed >> 33) % (sizeof(mix) - 1)];
			}
			buf_init(&got, 4096);
			buf_init(&want, 4096);
			html_text(&got, (const char *)in, len);
			ref_escape(&want, in, len);
			assert_int_equal(got.len, want.len);
			assert_memory_equal(got.len ? got.p : "", want.len ? want.p : "",
			    got.len);
			buf_release(&got);
			buf_release(&want);
		}
}

/* Embedded NUL and every byte value: output never holds a raw breaker. */
static void
test_html_text_all_bytes(void **state)
{
	char in[256];
	struct buf b;

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	buf_init(&b, 4096);
	html_text(&b, in, sizeof(in));
	assert_int_equal(b.err, PCS_OK);
	for (size_t i = 0; i < b.len; i++) {
		char c = b.p[i];

		assert_true(c != '<' && c != '>' && c != '"' && c != '\'');
		if (c == '&')
			assert_true(strncmp(b.p + i, "&amp;", 5) == 0 ||
			    strncmp(b.p + i, "&lt;", 4) == 0 ||
			    strncmp(b.p + i, "&gt;", 4) == 0 ||
			    strncmp(b.p + i, "&quot;", 6) == 0 ||
			    strncmp(b.p + i, "&#39;", 5) == 0);
	}
	/* 256 bytes, 5 of them grow: & +4, < +3, > +3, " +5, ' +4 */
	assert_int_equal(b.len, 256 + 4 + 3 + 3 + 5 + 4);
	buf_release(&b);
}

static void
test_html_cstr_null_and_raw(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 64);
	html_cstr(&b, NULL);
	assert_int_equal(b.len, 0);
	html_raw(&b, "<p>");
	html_cstr(&b, "<&>");
	html_raw(&b, "</p>");
	assert_string_equal(b.p, "<p>&lt;&amp;&gt;</p>");
	buf_release(&b);
}

/* The buffer cap is sticky: escaping past it fails once, cleanly. */
static void
test_html_text_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	html_text(&b, "<<<", 3);	/* 12 bytes > 8 */
	assert_int_equal(b.err, PCS_ETOOBIG);
	html_text(&b, "a", 1);
	assert_int_equal(b.err, PCS_ETOOBIG);
	assert_true(b.len <= 8);
	buf_release(&b);
}

static const struct {
	const char	*in, *cls, *want;
} para_cases[] = {
	{ "", NULL, "" },
	{ "\n\n  \n", NULL, "" },
	{ "One.", NULL, "<p>One.</p>\n" },
	{ "One.", "nhsuk-body-l", "<p class=\"nhsuk-body-l\">One.</p>\n" },
	{ "One.\n\nTwo.", NULL, "<p>One.</p>\n<p>Two.</p>\n" },
	{ "One.\r\n\r\nTwo.", NULL, "<p>One.</p>\n<p>Two.</p>\n" },
	{ "One.\n \t\nTwo.\n\n\n\nThree.", NULL,
	  "<p>One.</p>\n<p>Two.</p>\n<p>Three.</p>\n" },
	{ "Line 1\nLine 2", NULL, "<p>Line 1<br>\nLine 2</p>\n" },
	{ "Line 1   \n   Line 2", NULL, "<p>Line 1<br>\nLine 2</p>\n" },
	{ "\n\n  Lead and trail  \n\n", NULL, "<p>Lead and trail</p>\n" },
	{ "<b>bold</b> & co", NULL, "<p>&lt;b&gt;bold&lt;/b&gt; &amp; co</p>\n" },
	/* links: https only */
	{ "See [the NHS](https://www.nhs.uk/) now.", NULL,
	  "<p>See <a href=\"https://www.nhs.uk/\">the NHS</a> now.</p>\n" },
	{ "[a](https://x.example/?a=1&b=2)", NULL,
	  "<p><a href=\"https://x.example/?a=1&amp;b=2\">a</a></p>\n" },
	{ "[<i>](https://x.example/)", NULL,
	  "<p><a href=\"https://x.example/\">&lt;i&gt;</a></p>\n" },
	{ "[x](javascript:alert(1))", NULL,
	  "<p>[x](javascript:alert(1))</p>\n" },
	{ "[x](JAVASCRIPT:alert(1))", NULL,
	  "<p>[x](JAVASCRIPT:alert(1))</p>\n" },
	{ "[x](http://insecure.example/)", NULL,
	  "<p>[x](http://insecure.example/)</p>\n" },
	{ "[x](data:text/html,<script>)", NULL,
	  "<p>[x](data:text/html,&lt;script&gt;)</p>\n" },
	{ "[x](//evil.example/)", NULL, "<p>[x](//evil.example/)</p>\n" },
	{ "[x]( https://a.example/)", NULL, "<p>[x]( https://a.example/)</p>\n" },
	{ "[x](https://a.example/\" onclick=\"y)", NULL,
	  "<p>[x](https://a.example/&quot; onclick=&quot;y)</p>\n" },
	{ "[x](https://a.example/ b)", NULL, "<p>[x](https://a.example/ b)</p>\n" },
	{ "[x](https://)", NULL, "<p>[x](https://)</p>\n" },
	{ "[](https://a.example/)", NULL, "<p>[](https://a.example/)</p>\n" },
	{ "[x](https://a.example/", NULL, "<p>[x](https://a.example/</p>\n" },
	{ "[x] (https://a.example/)", NULL, "<p>[x] (https://a.example/)</p>\n" },
	{ "[a\nb](https://a.example/)", NULL,
	  "<p>[a<br>\nb](https://a.example/)</p>\n" },
	{ "[[x](https://a.example/)", NULL,
	  "<p>[<a href=\"https://a.example/\">x</a></p>\n" },
	{ "[one](https://a.example/) and [two](https://b.example/)", NULL,
	  "<p><a href=\"https://a.example/\">one</a> and "
	  "<a href=\"https://b.example/\">two</a></p>\n" },
	{ "[x](https://a.example/)\n\n[y](https://b.example/)", NULL,
	  "<p><a href=\"https://a.example/\">x</a></p>\n"
	  "<p><a href=\"https://b.example/\">y</a></p>\n" },
	/* other markup is text */
	{ "*not* **bold** # heading", NULL, "<p>*not* **bold** # heading</p>\n" },
	{ "caf\xc3\xa9 \xe2\x80\xae'x'", NULL,
	  "<p>caf\xc3\xa9 \xe2\x80\xae&#39;x&#39;</p>\n" },
};

static void
test_html_paras_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(para_cases); i++) {
		struct buf b;

		buf_init(&b, 4096);
		html_paras(&b, para_cases[i].in, para_cases[i].cls);
		if (b.err != PCS_OK ||
		    strcmp(b.p ? b.p : "", para_cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\" want \"%s\"", i,
			    b.p ? b.p : "", para_cases[i].want);
		buf_release(&b);
	}
}

static void
test_html_paras_null(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 64);
	html_paras(&b, NULL, "x");
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

/* The class is ours, but escape it anyway. */
static void
test_html_paras_class_escaped(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 256);
	html_paras(&b, "x", "a\"b");
	assert_string_equal(b.p, "<p class=\"a&quot;b\">x</p>\n");
	buf_release(&b);
}

/* Never "<a href=" unless the address starts with https:// */
static void
test_html_paras_no_other_scheme(void **state)
{
	static const char *const schemes[] = {
		"javascript:", "JaVaScRiPt:", "vbscript:", "data:", "file:",
		"http:", "ftp:", "mailto:", " https:", "\thttps:", "https:/",
		"https:\\\\", "/", "#", "", "\xe2\x80\xaehttps://",
	};

	(void)state;
	for (size_t i = 0; i < NELEM(schemes); i++) {
		char in[128];
		struct buf b;

		snprintf(in, sizeof(in), "[x](%sexample.org/)", schemes[i]);
		buf_init(&b, 1024);
		html_paras(&b, in, NULL);
		assert_int_equal(b.err, PCS_OK);
		if (strstr(b.p, "<a ") != NULL)
			fail_msg("scheme %zu made a link: %s", i, b.p);
		buf_release(&b);
	}
}

/* Long input: linear, no overflow, cap respected. */
static void
test_html_paras_long(void **state)
{
	size_t n = 200000;
	char *in = malloc(n + 1);
	struct buf b;

	(void)state;
	assert_non_null(in);
	for (size_t i = 0; i < n; i++)
		in[i] = "[](\n<x"[i % 6];
	in[n] = '\0';
	buf_init(&b, PCS_RESP_BODY_MAX);
	html_paras(&b, in, NULL);
	assert_int_equal(b.err, PCS_OK);
	assert_null(strstr(b.p, "<x"));
	buf_release(&b);
	buf_init(&b, 100);
	html_paras(&b, in, NULL);
	assert_int_equal(b.err, PCS_ETOOBIG);
	buf_release(&b);
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_text_table),
		cmocka_unit_test(test_html_text_all_bytes),
		cmocka_unit_test(test_html_text_runs_match_reference),
		cmocka_unit_test(test_html_cstr_null_and_raw),
		cmocka_unit_test(test_html_text_cap),
		cmocka_unit_test(test_html_paras_table),
		cmocka_unit_test(test_html_paras_null),
		cmocka_unit_test(test_html_paras_class_escaped),
		cmocka_unit_test(test_html_paras_no_other_scheme),
		cmocka_unit_test(test_html_paras_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
