/*
 * fuzz_str.c: the strict scalars of str.c that every number, date and text
 * answer passes through (adversarial.md T-10, T-11, T-16, T-40):
 * str_to_i64(), date_parse(), utf8_valid(), utf8_count(), str_has_ctl(),
 * and the calendar helpers behind date_parse()/date_format().
 *
 * Each is checked against an independent reference written here:
 * - str_to_i64 accepts exactly -?[0-9]{1,18} (no "+", blanks, "0x", ".",
 *   exponent or overflow: T-16) and agrees with strtoll;
 * - date_parse accepts exactly YYYY-MM-DD naming a real day from year 1,
 *   and date_format gives the same ten bytes back;
 * - utf8_valid agrees with a decoder that rejects overlongs, surrogates,
 *   code points past U+10FFFF and truncated sequences (RFC 3629), and
 *   utf8_count with the number of code points it decoded;
 * - str_has_ctl flags exactly C0 controls other than TAB/CR/LF, and DEL.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "str.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* RFC 3629 decoder, written apart from str.c's table: -1 invalid, else code points. */
static long
ref_utf8(const uint8_t *p, size_t n)
{
	long count = 0;
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len;

		if (p[i] < 0x80) {
			i++;
			count++;
			continue;
		}
		if ((p[i] & 0xE0) == 0xC0) {
			len = 2;
			cp = p[i] & 0x1F;
		} else if ((p[i] & 0xF0) == 0xE0) {
			len = 3;
			cp = p[i] & 0x0F;
		} else if ((p[i] & 0xF8) == 0xF0) {
			len = 4;
			cp = p[i] & 0x07;
		} else
			return -1;
		if (n - i < len)
			return -1;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return -1;
			cp = cp << 6 | (p[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000))
			return -1;		/* overlong */
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return -1;
		i += len;
		count++;
	}
	return count;
}

static bool
ref_i64(const char *p, size_t n, long long *v)
{
	char tmp[32];
	char *end;
	size_t i = 0;

	if (n > 0 && p[0] == '-')
		i = 1;
	if (n - i < 1 || n - i > 18)
		return false;
	for (size_t k = i; k < n; k++)
		if (p[k] < '0' || p[k] > '9')
			return false;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	errno = 0;
	*v = strtoll(tmp, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool
leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool
ref_date(const char *p, size_t n)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	long y, m, d;

	if (n != 10 || p[4] != '-' || p[7] != '-')
		return false;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (p[i] < '0' || p[i] > '9'))
			return false;
	y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
	m = (p[5] - '0') * 10 + (p[6] - '0');
	d = (p[8] - '0') * 10 + (p[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return false;
	return d <= mdays[m - 1] + (m == 2 && leap(y));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str s = { (const char *)data, size };
	long long want;
	int64_t got = 0, days = 0;
	bool ok, rok;
	long cps;

	/* str_to_i64 */
	rok = size < 32 && ref_i64(s.p, size, &want);
	ok = str_to_i64(s, &got);
	FUZZ_CHECK(ok == rok, "str_to_i64 said %d, the reference %d", ok, rok);
	if (ok)
		FUZZ_CHECK(got == want, "str_to_i64 gave %lld, strtoll %lld", (long long)got, want);

	/* date_parse and date_format */
	ok = date_parse(s, &days);
	rok = ref_date(s.p, size);
	FUZZ_CHECK(ok == rok, "date_parse said %d, the reference %d", ok, rok);
	if (ok) {
		char out[11];

		date_format(days, out);
		FUZZ_CHECK(memcmp(out, s.p, 10) == 0, "date_format gave %s", out);
	}

	/* UTF-8 */
	cps = ref_utf8(data, size);
	ok = utf8_valid(s.p, size);
	FUZZ_CHECK(ok == (cps >= 0), "utf8_valid said %d, the reference %ld", ok, cps);
	if (ok)
		FUZZ_CHECK(utf8_count(s.p, size) == (size_t)cps, "utf8_count %zu, the reference %ld",
		    utf8_count(s.p, size), cps);

	/* control characters (http-api.md: only TAB, CR, LF allowed) */
	rok = false;
	for (size_t i = 0; i < size; i++)
		if ((data[i] < 0x20 && data[i] != '\t' && data[i] != '\r' && data[i] != '\n') ||
		    data[i] == 0x7F)
			rok = true;
	FUZZ_CHECK(str_has_ctl(s.p, size) == rok, "str_has_ctl disagrees");

	/* the calendar: civil_from_days and days_from_civil invert each other */
	if (size >= 4) {
		int32_t z32;
		int64_t z;
		int y;
		unsigned m, d;

		memcpy(&z32, data, sizeof(z32));
		z = z32 % 4000000;	/* about +-11,000 years */
		civil_from_days(z, &y, &m, &d);
		FUZZ_CHECK(m >= 1 && m <= 12 && d >= 1 && d <= 31, "civil_from_days %d-%u-%u", y, m, d);
		FUZZ_CHECK(days_from_civil(y, m, d) == z, "days_from_civil(civil_from_days(%lld))",
		    (long long)z);
	}
	return 0;
}
