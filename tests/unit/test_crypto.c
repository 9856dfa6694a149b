/*
 * test_crypto.c: crypto.c against privacy.md (keys, keyed hashes, sealed
 * boxes, drafts, codes, encoders) and the keygen/decrypt subcommands of
 * cli.md, end to end on temporary files; also log.c's one-line promise
 * (cli.md: logs), the other half of "never in a log in clear".
 */
#include "unit.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "crypto.h"
#include "csv.h"
#include "log.h"

static char	 base[64];		/* mkdtemp root, removed at the end */
static char	 keydir[100];		/* the fixture's server key directory */
static char	 secpath[120];		/* the fixture's research.sec, moved out */
static uint8_t	 fix_sec[CRYPTO_KEY_BYTES];
static uint8_t	 fix_pub[CRYPTO_KEY_BYTES];
static char	 msg[1024];

static void
path_in(char *out, size_t n, const char *dir, const char *name)
{
	int w = snprintf(out, n, "%s/%s", dir, name);

	assert_true(w > 0 && (size_t)w < n);
}

static void
write_file(const char *path, const void *p, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* Reads a whole small file into a malloc'd NUL-terminated string. */
static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return p;
}

/* An argv of strdup'd strings (the literals are const under -Wwrite-strings). */
struct args {
	char	*v[8];
	int	 c;
};

static struct args
args_make(const char *first, ...)
{
	struct args a = { .c = 0 };
	const char *s = first;
	va_list ap;

	va_start(ap, first);
	for (; s != NULL && a.c < 7; s = va_arg(ap, const char *)) {
		a.v[a.c] = strdup(s);
		assert_non_null(a.v[a.c]);
		a.c++;
	}
	va_end(ap);
	a.v[a.c] = NULL;
	return a;
}

static void
args_free(struct args *a)
{
	for (int i = 0; i < a->c; i++)
		free(a->v[i]);
	a->c = 0;
}

static int
run_cmd(int (*fn)(int, char **), struct args a)
{
	int rc = fn(a.c, a.v);

	args_free(&a);
	return rc;
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/*
 * A fresh key set in base/name as the server would hold it: research.sec
 * moved to base/name.sec.
 */
static void
make_keydir(const char *name, char *dir, size_t dirlen)
{
	char sec[256], moved[256];

	path_in(dir, dirlen, base, name);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(crypto_keygen(dir, msg, sizeof(msg)), PCS_OK);
	path_in(sec, sizeof(sec), dir, "research.sec");
	snprintf(moved, sizeof(moved), "%s.sec", dir);
	assert_int_equal(rename(sec, moved), 0);
}

/* rm -r of our own temporary tree (no symlinks are followed). */
static int
rm_tree(const char *path)
{
	struct stat st;
	struct dirent *e;
	char sub[512];
	DIR *d;
	int rc = 0;

	if (lstat(path, &st) == -1)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		if ((d = opendir(path)) == NULL)
			return -1;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			rc |= rm_tree(sub);
		}
		closedir(d);
	}
	return remove(path) | rc;
}

static int
group_setup(void **state)
{
	(void)state;
	if (!crypto_init())
		return -1;
	strcpy(base, "/tmp/pcs-crypto-XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	make_keydir("fixture", keydir, sizeof(keydir));
	snprintf(secpath, sizeof(secpath), "%s.sec", keydir);
	if (crypto_read_secret_key(secpath, fix_sec, msg, sizeof(msg)) != PCS_OK)
		return -1;
	crypto_pub_from_sec(fix_sec, fix_pub);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	crypto_unload_keys();
	crypto_wipe(fix_sec, sizeof(fix_sec));
	return rm_tree(base);
}

/* Every test starts with the fixture's keys loaded. */
static int
load_fixture(void **state)
{
	(void)state;
	return crypto_load_keys(keydir, msg, sizeof(msg)) == PCS_OK ? 0 : -1;
}

/* privacy.md Keys: files, sizes and modes; then the server loads them. */
static void
test_keygen_then_load(void **state)
{
	static const struct { const char *name; mode_t mode; } want[] = {
		{ "pseudonym.key", 0600 },
		{ "research.pub", 0644 },
		{ "research.sec", 0600 },
	};
	char dir[128], p[256];
	struct stat st;
	mode_t old = umask(077);	/* exact modes whatever the umask */

	(void)state;
	path_in(dir, sizeof(dir), base, "fresh");
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(crypto_keygen(dir, msg, sizeof(msg)), PCS_OK);
	umask(old);
	for (size_t i = 0; i < NELEM(want); i++) {
		path_in(p, sizeof(p), dir, want[i].name);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_size, CRYPTO_KEY_BYTES);
		assert_int_equal(st.st_mode & 07777, want[i].mode);
	}
	/* research.pub is the public half of research.sec. */
	{
		uint8_t sec[CRYPTO_KEY_BYTES], pub[CRYPTO_KEY_BYTES];
		char *file;
		size_t n;

		path_in(p, sizeof(p), dir, "research.sec");
		assert_int_equal(crypto_read_secret_key(p, sec, msg,
		    sizeof(msg)), PCS_OK);
		crypto_pub_from_sec(sec, pub);
		path_in(p, sizeof(p), dir, "research.pub");
		file = read_file(p, &n);
		assert_non_null(file);
		assert_int_equal(n, CRYPTO_KEY_BYTES);
		assert_memory_equal(file, pub, CRYPTO_KEY_BYTES);
		free(file);
		crypto_wipe(sec, sizeof(sec));
	}
	path_in(p, sizeof(p), dir, "research.sec");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(crypto_load_keys(dir, msg, sizeof(msg)), PCS_OK);
}

static void
expect_load_refused(const char *dir, const char *needle1, const char *needle2)
{
	uint8_t box[1 + CRYPTO_SEAL_OVERHEAD];

	msg[0] = '\0';
	assert_int_not_equal(crypto_load_keys(dir, msg, sizeof(msg)), PCS_OK);
	if (strstr(msg, needle1) == NULL ||
	    (needle2 != NULL && strstr(msg, needle2) == NULL))
		fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", msg, needle1,
		    needle2 ? needle2 : "");
	/* No fallback: a failed load leaves no keys at all. */
	assert_int_equal(crypto_seal("x", 1, box), PCS_ECRYPTO);
}

/* privacy.md: the server refuses to start with research.sec beside it. */
static void
test_load_refuses_research_sec(void **state)
{
	char dir[128], p[256];

	(void)state;
	make_keydir("with-sec", dir, sizeof(dir));
	path_in(p, sizeof(p), dir, "research.sec");
	write_file(p, fix_sec, CRYPTO_KEY_BYTES, 0600);
	expect_load_refused(dir, "research.sec is in the key directory",
	    "data custodian");
}

/* privacy.md: pseudonym.key readable by anyone but its owner. */
static void
test_load_refuses_group_readable(void **state)
{
	char dir[128], p[256];

	(void)state;
	make_keydir("mode", dir, sizeof(dir));
	path_in(p, sizeof(p), dir, "pseudonym.key");
	assert_int_equal(chmod(p, 0640), 0);
	snprintf(msg, sizeof(msg), "chmod 600 %s", p);
	{
		char want[300];

		strcpy(want, msg);
		expect_load_refused(dir, "pseudonym.key", want);
	}
	/* research.pub may be world-readable. */
	assert_int_equal(chmod(p, 0600), 0);
	path_in(p, sizeof(p), dir, "research.pub");
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(crypto_load_keys(dir, msg, sizeof(msg)), PCS_OK);
}

static void
test_load_refuses_wrong_length(void **state)
{
	uint8_t junk[CRYPTO_KEY_BYTES + 1] = { 0 };
	char dir[128], p[256];

	(void)state;
	make_keydir("short", dir, sizeof(dir));
	path_in(p, sizeof(p), dir, "pseudonym.key");
	write_file(p, junk, CRYPTO_KEY_BYTES - 1, 0600);
	expect_load_refused(dir, "pseudonym.key", "31 bytes");

	make_keydir("long", dir, sizeof(dir));
	path_in(p, sizeof(p), dir, "research.pub");
	write_file(p, junk, CRYPTO_KEY_BYTES + 1, 0644);
	expect_load_refused(dir, "research.pub", "33 bytes");
}

static void
test_load_refuses_missing(void **state)
{
	char dir[128], p[256];

	(void)state;
	make_keydir("nokey", dir, sizeof(dir));
	path_in(p, sizeof(p), dir, "pseudonym.key");
	assert_int_equal(unlink(p), 0);
	expect_load_refused(dir, "pseudonym.key", "pcsurvey keygen");

	make_keydir("nopub", dir, sizeof(dir));
	path_in(p, sizeof(p), dir, "research.pub");
	assert_int_equal(unlink(p), 0);
	expect_load_refused(dir, "research.pub", NULL);

	path_in(dir, sizeof(dir), base, "no-such-dir");
	expect_load_refused(dir, "research.pub", NULL);
}

/* cli.md: keygen refuses to overwrite, writing nothing. */
static void
test_keygen_refuses_overwrite(void **state)
{
	char dir[128], p[256];
	char *file;
	size_t n;

	(void)state;
	path_in(dir, sizeof(dir), base, "overwrite");
	assert_int_equal(mkdir(dir, 0700), 0);
	path_in(p, sizeof(p), dir, "research.sec");
	write_file(p, "old", 3, 0600);
	assert_int_equal(crypto_keygen(dir, msg, sizeof(msg)), PCS_ECONFLICT);
	assert_non_null(strstr(msg, p));
	path_in(p, sizeof(p), dir, "pseudonym.key");
	assert_false(exists(p));
	path_in(p, sizeof(p), dir, "research.pub");
	assert_false(exists(p));
	assert_int_equal(run_cmd(cmd_keygen, args_make("keygen", "--out", dir,
	    NULL)), 1);
	path_in(p, sizeof(p), dir, "research.sec");
	file = read_file(p, &n);
	assert_non_null(file);
	assert_int_equal(n, 3);
	free(file);
}

/* cli.md: keygen --out DIR creates DIR 0700; a second run refuses. */
static void
test_cmd_keygen_creates_dir(void **state)
{
	char dir[128], p[256];
	struct stat st;
	FILE *saved;

	(void)state;
	path_in(dir, sizeof(dir), base, "cmd-new");
	/* Keep the test's stdout clean. */
	fflush(stdout);
	saved = stdout;
	stdout = fopen("/dev/null", "w");
	assert_non_null(stdout);
	assert_int_equal(run_cmd(cmd_keygen, args_make("keygen", "--out", dir,
	    NULL)), 0);
	fclose(stdout);
	stdout = saved;
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	path_in(p, sizeof(p), dir, "research.sec");
	assert_true(exists(p));
	assert_int_equal(run_cmd(cmd_keygen, args_make("keygen", "--out", dir,
	    NULL)), 1);
	assert_int_equal(run_cmd(cmd_keygen, args_make("keygen", NULL)), 2);
	assert_int_equal(run_cmd(cmd_keygen, args_make("keygen", "--out",
	    NULL)), 2);
	assert_int_equal(run_cmd(cmd_keygen, args_make("keygen", "--out", dir,
	    "extra", NULL)), 2);
}

/* privacy.md: one subkey per purpose, a context per form; stable. */
static void
test_keyed_hash_purposes(void **state)
{
	uint8_t h[CP__MAX][CRYPTO_HASH_BYTES], a[CRYPTO_HASH_BYTES],
	    b[CRYPTO_HASH_BYTES];

	(void)state;
	for (int p = 0; p < CP__MAX; p++)
		crypto_keyed_hash((enum crypto_purpose)p,
		    p == CP_PSEUDONYM ? "form-a" : NULL, "same", 4, h[p]);
	for (int p = 0; p < CP__MAX; p++)
		for (int q = p + 1; q < CP__MAX; q++)
			assert_memory_not_equal(h[p], h[q], CRYPTO_HASH_BYTES);
	/* Stable across calls and across a reload of the same keys. */
	crypto_keyed_hash(CP_INVITE, NULL, "same", 4, a);
	assert_memory_equal(a, h[CP_INVITE], CRYPTO_HASH_BYTES);
	assert_int_equal(crypto_load_keys(keydir, msg, sizeof(msg)), PCS_OK);
	crypto_keyed_hash(CP_INVITE, NULL, "same", 4, b);
	assert_memory_equal(a, b, CRYPTO_HASH_BYTES);
	/* Per-form context. */
	crypto_keyed_hash(CP_PSEUDONYM, "form-a", "same", 4, a);
	assert_memory_equal(a, h[CP_PSEUDONYM], CRYPTO_HASH_BYTES);
	crypto_keyed_hash(CP_PSEUDONYM, "form-b", "same", 4, b);
	assert_memory_not_equal(a, b, CRYPTO_HASH_BYTES);
	/* The 0x00 separator: ("ab", "c") is not ("a", "bc"). */
	crypto_keyed_hash(CP_PSEUDONYM, "ab", "c", 1, a);
	crypto_keyed_hash(CP_PSEUDONYM, "a", "bc", 2, b);
	assert_memory_not_equal(a, b, CRYPTO_HASH_BYTES);
	/* Different messages differ; another key set gives other hashes. */
	crypto_keyed_hash(CP_RECEIPT, NULL, "samf", 4, a);
	assert_memory_not_equal(a, h[CP_RECEIPT], CRYPTO_HASH_BYTES);
	{
		char other[128];

		make_keydir("other", other, sizeof(other));
		assert_int_equal(crypto_load_keys(other, msg, sizeof(msg)),
		    PCS_OK);
		crypto_keyed_hash(CP_INVITE, NULL, "same", 4, a);
		assert_memory_not_equal(a, h[CP_INVITE], CRYPTO_HASH_BYTES);
	}
}

/* privacy.md: normalisation before hashing. */
static void
test_pseudonym_normalisation(void **state)
{
	static const struct {
		const char	*in;
		const char	*norm;
		bool		 email;
	} cases[] = {
		{ "  Alice   Smith ", "alice smith", false },
		{ "alice smith", "alice smith", false },
		{ "\tALICE\r\n\tSMITH\n", "alice smith", false },
		{ "A@B.COM", "a@b.com", true },
		{ " Jo.Bloggs@NHS.Net ", "jo.bloggs@nhs.net", true },
		{ "Zoë  ÉCLAIR", "zoë Éclair", false },	/* ASCII only */
		{ "   ", "", false },
		{ "", "", false },
	};
	uint8_t got[CRYPTO_HASH_BYTES], want[CRYPTO_HASH_BYTES];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		crypto_pseudonym("f1", str_cstr(cases[i].in), cases[i].email, got);
		crypto_keyed_hash(CP_PSEUDONYM, "f1", cases[i].norm,
		    strlen(cases[i].norm), want);
		if (memcmp(got, want, sizeof(got)) != 0)
			fail_msg("case %zu: \"%s\" is not \"%s\"", i,
			    cases[i].in, cases[i].norm);
	}
	/* Distinct people stay distinct; forms are unlinkable. */
	crypto_pseudonym("f1", STR_LIT("alice smith"), false, got);
	crypto_pseudonym("f1", STR_LIT("alicesmith"), false, want);
	assert_memory_not_equal(got, want, sizeof(got));
	crypto_pseudonym("f2", STR_LIT("alice smith"), false, want);
	assert_memory_not_equal(got, want, sizeof(got));
	/* Longer than the internal chunk: same as hashing it whole. */
	{
		static char in[2000], norm[2000];
		size_t n = 0;

		for (size_t i = 0; i < 600; i++) {
			in[3 * i] = 'A' + (char)(i % 26);
			in[3 * i + 1] = ' ';
			in[3 * i + 2] = ' ';
			if (i > 0)
				norm[n++] = ' ';
			norm[n++] = 'a' + (char)(i % 26);
		}
		crypto_pseudonym("f1", (struct str){ in, 1800 }, false, got);
		crypto_keyed_hash(CP_PSEUDONYM, "f1", norm, n, want);
		assert_memory_equal(got, want, sizeof(got));
	}
}

/* privacy.md sealed: round trip with the generated research.sec. */
static void
test_seal_roundtrip(void **state)
{
	static const char text[] = "Free text: Alice, 07700 900123";
	uint8_t box[sizeof(text) + CRYPTO_SEAL_OVERHEAD], box2[sizeof(box)];
	uint8_t out[sizeof(text)];

	(void)state;
	assert_int_equal(crypto_seal(text, sizeof(text), box), PCS_OK);
	assert_true(crypto_unseal(fix_pub, fix_sec, box, sizeof(box), out));
	assert_memory_equal(out, text, sizeof(text));
	/* A fresh ephemeral key per value. */
	assert_int_equal(crypto_seal(text, sizeof(text), box2), PCS_OK);
	assert_memory_not_equal(box, box2, sizeof(box));
	/* Empty message still seals and opens (48 bytes). */
	assert_int_equal(crypto_seal("", 0, box2), PCS_OK);
	assert_true(crypto_unseal(fix_pub, fix_sec, box2,
	    CRYPTO_SEAL_OVERHEAD, out));
}

static void
test_seal_tampered_fails(void **state)
{
	uint8_t box[5 + CRYPTO_SEAL_OVERHEAD], out[5];

	(void)state;
	assert_int_equal(crypto_seal("hello", 5, box), PCS_OK);
	for (size_t i = 0; i < sizeof(box); i += 7) {
		box[i] ^= 1;
		assert_false(crypto_unseal(fix_pub, fix_sec, box, sizeof(box),
		    out));
		box[i] ^= 1;
	}
	assert_false(crypto_unseal(fix_pub, fix_sec, box, sizeof(box) - 1, out));
	assert_false(crypto_unseal(fix_pub, fix_sec, box,
	    CRYPTO_SEAL_OVERHEAD - 1, out));
	assert_true(crypto_unseal(fix_pub, fix_sec, box, sizeof(box), out));
}

static void
test_seal_wrong_key_fails(void **state)
{
	uint8_t box[5 + CRYPTO_SEAL_OVERHEAD], out[5];
	uint8_t sec[CRYPTO_KEY_BYTES], pub[CRYPTO_KEY_BYTES];

	(void)state;
	assert_int_equal(crypto_seal("hello", 5, box), PCS_OK);
	crypto_random(sec, sizeof(sec));
	crypto_pub_from_sec(sec, pub);
	assert_false(crypto_unseal(pub, sec, box, sizeof(box), out));
	/* The right secret with a wrong public key fails too. */
	assert_false(crypto_unseal(pub, fix_sec, box, sizeof(box), out));
}

/* privacy.md drafts: only the token holder can open a draft. */
static void
test_draft_roundtrip(void **state)
{
	static const char plain[] = "{\"q1\":\"yes\",\"name\":\"Alice\"}";
	uint8_t box[sizeof(plain) + CRYPTO_DRAFT_OVERHEAD], out[sizeof(plain)];
	char tok[CRYPTO_TOKEN_TEXT + 1], other[CRYPTO_TOKEN_TEXT + 1];

	(void)state;
	crypto_token_new(tok);
	crypto_token_new(other);
	crypto_draft_seal(str_cstr(tok), plain, sizeof(plain), box);
	assert_true(crypto_draft_open(str_cstr(tok), box, sizeof(box), out));
	assert_memory_equal(out, plain, sizeof(plain));
	/* Wrong token. */
	assert_false(crypto_draft_open(str_cstr(other), box, sizeof(box), out));
	assert_false(crypto_draft_open(STR_NULL, box, sizeof(box), out));
	/* Tampered nonce, body or tag; truncated. */
	for (size_t i = 0; i < sizeof(box); i += 5) {
		box[i] ^= 0x80;
		assert_false(crypto_draft_open(str_cstr(tok), box, sizeof(box),
		    out));
		box[i] ^= 0x80;
	}
	assert_false(crypto_draft_open(str_cstr(tok), box, sizeof(box) - 1, out));
	assert_false(crypto_draft_open(str_cstr(tok), box,
	    CRYPTO_DRAFT_OVERHEAD - 1, out));
	assert_true(crypto_draft_open(str_cstr(tok), box, sizeof(box), out));
	/* An empty draft. */
	crypto_draft_seal(str_cstr(tok), "", 0, box);
	assert_true(crypto_draft_open(str_cstr(tok), box, CRYPTO_DRAFT_OVERHEAD,
	    out));
}

static void
test_code_roundtrip(void **state)
{
	static const struct { const char *in, *want; } cases[] = {	/* NULL: reject */
		{ "ABCD-EFGH-JKMN-PQRS", "ABCDEFGHJKMNPQRS" },
		{ "abcd-efgh-jkmn-pqrs", "ABCDEFGHJKMNPQRS" },
		{ " abcd efgh  jkmn pqrs ", "ABCDEFGHJKMNPQRS" },
		{ "oOiI-lL01-2345-6789", "00111101" "23456789" },
		{ "0123456789ABCDEF", "0123456789ABCDEF" },
		{ "TVWX-YZ00-0000-0000", "TVWXYZ0000000000" },
		{ "ABCD-EFGH-JKMN-PQRU", NULL },		/* U is not Crockford */
		{ "ABCD-EFGH-JKMN-PQR", NULL },			/* 15 */
		{ "ABCD-EFGH-JKMN-PQRST", NULL },		/* 17 */
		{ "ABCD-EFGH-JKMN-PQR*", NULL },
		{ "ABCD_EFGH_JKMN_PQRS", NULL },
		{ "", NULL },
		{ "----", NULL },
	};
	char code[CRYPTO_CODE_TEXT + 1], norm[CRYPTO_CODE_CHARS + 1];
	char code2[CRYPTO_CODE_TEXT + 1], lower[CRYPTO_CODE_TEXT + 1];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		bool ok = crypto_code_normalise(str_cstr(cases[i].in), norm);

		if (cases[i].want == NULL ? ok :
		    !ok || strcmp(norm, cases[i].want) != 0)
			fail_msg("case %zu: \"%s\"", i, cases[i].in);
	}
	/* Embedded NUL is rejected. */
	assert_false(crypto_code_normalise((struct str){ "ABCD\0EFGHJKMNPQRS",
	    17 }, norm));
	for (int k = 0; k < 50; k++) {
		crypto_code_new(code);
		assert_int_equal(strlen(code), CRYPTO_CODE_TEXT);
		for (size_t i = 0; i < CRYPTO_CODE_TEXT; i++) {
			if (i % 5 == 4)
				assert_int_equal(code[i], '-');
			else
				assert_non_null(strchr(
				    "0123456789ABCDEFGHJKMNPQRSTVWXYZ", code[i]));
		}
		assert_true(crypto_code_normalise(str_cstr(code), norm));
		for (size_t i = 0, j = 0; i < CRYPTO_CODE_TEXT; i++)
			if (code[i] != '-')
				assert_int_equal(norm[j++], code[i]);
		for (size_t i = 0; i <= CRYPTO_CODE_TEXT; i++)
			lower[i] = (char)(code[i] >= 'A' && code[i] <= 'Z' ?
			    code[i] - 'A' + 'a' : code[i]);
		assert_true(crypto_code_normalise(str_cstr(lower), code2));
		assert_string_equal(code2, norm);
	}
	crypto_code_new(code2);
	assert_string_not_equal(code, code2);
}

static void
test_token_new(void **state)
{
	char a[CRYPTO_TOKEN_TEXT + 1], b[CRYPTO_TOKEN_TEXT + 1];

	(void)state;
	crypto_token_new(a);
	crypto_token_new(b);
	assert_int_equal(strlen(a), CRYPTO_TOKEN_TEXT);
	assert_string_not_equal(a, b);
	for (size_t i = 0; i < CRYPTO_TOKEN_TEXT; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
}

static void
test_base64_hex(void **state)
{
	static const struct { const char *in; long want; } bad[] = {
		{ "QUJD=", -1 },		/* bad padding */
		{ "QUJ", -1 },			/* no padding */
		{ "QUJD!", -1 },		/* trailing garbage */
		{ "QUJD QUJD", -1 },
		{ "QUJ=", -1 },			/* non-zero trailing bits (canonical "QUI=") */
		{ "QUI=", 2 },
		{ "QUJ-", -1 },			/* url-safe alphabet */
		{ "QUJ\xc1", -1 },		/* a high byte (libsodium 1.0.18 took it as a digit) */
		{ "\xff\xff\xff\xff", -1 },
		{ "QUJD", 3 },
		{ "", 0 },
	};
	uint8_t raw[256], back[256];
	char text[400], hex[2 * sizeof(raw) + 1];
	long n;

	(void)state;
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)i;
	for (size_t len = 0; len <= sizeof(raw); len += (len < 8 ? 1 : 37)) {
		crypto_base64(raw, len, text);
		assert_int_equal(strlen(text), crypto_base64_len(len));
		assert_int_equal(crypto_base64_len(len), (len + 2) / 3 * 4);
		n = crypto_base64_decode(str_cstr(text), back, sizeof(back));
		assert_int_equal(n, (long)len);
		assert_memory_equal(back, raw, len);
	}
	crypto_base64((const uint8_t *)"AB\xff", 3, text);
	assert_string_equal(text, "QUL/");
	for (size_t i = 0; i < NELEM(bad); i++) {
		n = crypto_base64_decode(str_cstr(bad[i].in), back, sizeof(back));
		if (n != bad[i].want)
			fail_msg("case %zu \"%s\": %ld", i, bad[i].in, n);
	}
	/* Too small an output buffer. */
	assert_int_equal(crypto_base64_decode(STR_LIT("QUJD"), back, 2), -1);
	crypto_hex((const uint8_t *)"\x00\x9f\xff", 3, hex);
	assert_string_equal(hex, "009fff");
	crypto_hex(raw, sizeof(raw), hex);
	assert_int_equal(strlen(hex), 2 * sizeof(raw));
	assert_memory_equal(hex + 2 * 0xab, "ab", 2);
	assert_true(crypto_equal(raw, raw, sizeof(raw)));
	assert_false(crypto_equal(raw, back + 1, 4));
}

static void
test_read_secret_key_refusals(void **state)
{
	uint8_t sec[CRYPTO_KEY_BYTES];
	char p[256];

	(void)state;
	path_in(p, sizeof(p), base, "loose.sec");
	write_file(p, fix_sec, CRYPTO_KEY_BYTES, 0644);
	assert_int_equal(crypto_read_secret_key(p, sec, msg, sizeof(msg)),
	    PCS_ECRYPTO);
	assert_non_null(strstr(msg, "chmod 600"));
	assert_non_null(strstr(msg, p));
	path_in(p, sizeof(p), base, "short.sec");
	write_file(p, fix_sec, CRYPTO_KEY_BYTES - 1, 0600);
	assert_int_equal(crypto_read_secret_key(p, sec, msg, sizeof(msg)),
	    PCS_ECRYPTO);
	assert_non_null(strstr(msg, p));
	path_in(p, sizeof(p), base, "none.sec");
	assert_int_equal(crypto_read_secret_key(p, sec, msg, sizeof(msg)),
	    PCS_EIO);
	assert_int_equal(crypto_read_secret_key(base, sec, msg, sizeof(msg)),
	    PCS_ECRYPTO);	/* a directory */
}

/* Appends the base64 sealed box of s to b. */
static void
add_sealed(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	uint8_t *box = malloc(n + CRYPTO_SEAL_OVERHEAD);
	char *text = malloc(crypto_base64_len(n + CRYPTO_SEAL_OVERHEAD) + 1);

	assert_non_null(box);
	assert_non_null(text);
	assert_int_equal(crypto_seal(s, n, box), PCS_OK);
	crypto_base64(box, n + CRYPTO_SEAL_OVERHEAD, text);
	buf_adds(b, text);
	free(box);
	free(text);
}

static int
run_decrypt(const char *key, const char *in, const char *out)
{
	return run_cmd(cmd_decrypt, args_make("decrypt", "--secret-key", key,
	    in, "--out", out, NULL));
}

/*
 * cli.md decrypt, end to end: sealed cells opened, others untouched, the
 * formula prefix on opened text, quoting, header passed through.
 */
static void
test_decrypt_end_to_end(void **state)
{
	static const char *want[][5] = {
		{ "response_id", "form_version", "q_name", "q_other", "q_pn" },
		{ "r1", "1", "Alice Smith", "'=SUM(A1:A9)", "ab12" },
		{ "r2", "1", "has, comma \"and quote\"", "line\r\nbreak", "" },
		{ "r3", "-2", "", "", "'-1" },
	};
	char in[256], out[256], other[256];
	struct csv_reader *rd = malloc(sizeof(*rd));
	struct csv_row *row = malloc(sizeof(*row));
	struct buf b;
	size_t len, r = 0;
	char *got;
	int rc;

	(void)state;
	assert_non_null(rd);
	assert_non_null(row);
	buf_init(&b, 1 << 20);
	buf_adds(&b, "response_id,form_version,q_name,q_other,q_pn\r\n");
	buf_adds(&b, "r1,1,");
	add_sealed(&b, "Alice Smith");
	buf_addc(&b, ',');
	add_sealed(&b, "=SUM(A1:A9)");
	buf_adds(&b, ",ab12\r\n");
	buf_adds(&b, "r2,1,");
	add_sealed(&b, "has, comma \"and quote\"");
	buf_addc(&b, ',');
	add_sealed(&b, "line\r\nbreak");
	buf_adds(&b, ",\r\n");
	/*
	 * A clear "-2" and an exporter-prefixed "'-1" pass through as is (in
	 * clear columns: a sealed column holds only sealed or empty cells).
	 */
	buf_adds(&b, "r3,-2,,,'-1\r\n");
	assert_int_equal(b.err, PCS_OK);
	path_in(in, sizeof(in), base, "export.csv");
	path_in(out, sizeof(out), base, "plain.csv");
	write_file(in, b.p, b.len, 0600);

	assert_int_equal(run_decrypt(secpath, in, out), 0);
	got = read_file(out, &len);
	assert_non_null(got);
	{
		struct stat st;

		assert_int_equal(stat(out, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	csv_reader_init_mem(rd, got, len);
	while ((rc = csv_read_row(rd, row)) == 1) {
		assert_true(r < NELEM(want));
		assert_int_equal(row->n, 5);
		for (size_t c = 0; c < 5; c++)
			if (!str_eq_cstr(row->cells[c], want[r][c]))
				fail_msg("row %zu col %zu: \"%.*s\" != \"%s\"",
				    r, c, (int)row->cells[c].len,
				    row->cells[c].p, want[r][c]);
		r++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(r, NELEM(want));
	csv_reader_release(rd);
	free(got);

	/* Same from stdin ("-"). */
	{
		FILE *saved = stdin;
		char *again;

		path_in(other, sizeof(other), base, "plain2.csv");
		stdin = fopen(in, "rb");
		assert_non_null(stdin);
		assert_int_equal(run_cmd(cmd_decrypt, args_make("decrypt",
		    "--secret-key", secpath, "--out", other, NULL)), 0);
		fclose(stdin);
		stdin = saved;
		got = read_file(out, &len);
		again = read_file(other, NULL);
		assert_string_equal(got, again);
		free(got);
		free(again);
	}

	/* Wrong key: exit 1 and no output file at all. */
	{
		uint8_t sec[CRYPTO_KEY_BYTES];

		crypto_random(sec, sizeof(sec));
		path_in(other, sizeof(other), base, "wrong.sec");
		write_file(other, sec, sizeof(sec), 0600);
		path_in(out, sizeof(out), base, "wrong-out.csv");
		assert_int_equal(run_decrypt(other, in, out), 1);
		assert_false(exists(out));
	}

	/* A changed sealed cell: exit 1. */
	{
		char *p = strstr(b.p, "r2,1,") + 10;

		*p = *p == 'A' ? 'B' : 'A';
		write_file(in, b.p, b.len, 0600);
		path_in(out, sizeof(out), base, "tampered-out.csv");
		assert_int_equal(run_decrypt(secpath, in, out), 1);
		assert_false(exists(out));
	}

	/* A loose key file: exit 1 (message names chmod 600). */
	{
		char *key = read_file(secpath, NULL);

		path_in(other, sizeof(other), base, "loose2.sec");
		write_file(other, key, CRYPTO_KEY_BYTES, 0640);
		free(key);
		assert_int_equal(run_decrypt(other, in, out), 1);
	}

	/* Usage errors: exit 2. */
	{
		assert_int_equal(run_cmd(cmd_decrypt, args_make("decrypt",
		    NULL)), 2);
		assert_int_equal(run_cmd(cmd_decrypt, args_make("decrypt",
		    "--secret-key", NULL)), 2);
		assert_int_equal(run_cmd(cmd_decrypt, args_make("decrypt",
		    "--secret-key", secpath, "a", "b", NULL)), 2);
		assert_int_equal(run_cmd(cmd_decrypt, args_make("decrypt",
		    "--bogus", NULL)), 2);
	}
	buf_release(&b);
	free(row);
	free(rd);
}

/*
 * privacy.md: BLAKE2b-256 keyed with a crypto_kdf subkey of pseudonym.key,
 * one subkey per purpose (context "pcsurvey", ids 1..7), the form id as
 * context for pseudonyms.  Known answers for pseudonym.key = 00 01 .. 1f,
 * computed independently with Python's hashlib.blake2b (the subkey is
 * blake2b(key=master, salt=LE64(id), person="pcsurvey")): the ids are part
 * of the stored data, so a change here would orphan every stored hash.
 */
static void
test_keyed_hash_known_answers(void **state)
{
	static const struct {
		enum crypto_purpose	 purpose;
		const char		*context, *msg, *hex;
	} kat[] = {
		{ CP_PSEUDONYM, "staff-wellbeing", "abc",
		  "07a688238d64e89d377ae7147d8451b0a62c16ee595bebea2cf0daa6a907bf01" },
		{ CP_INVITE, NULL, "abc",
		  "57242a9062a46d29b1050cebc37a08f6c8a287074b89641390d9debe3a156233" },
		{ CP_RESUME, NULL, "abc",
		  "b6a2a707f7ea185f30de94f9cd1dbec9675c978552076f91bec31a971bf2b0fe" },
		{ CP_RECEIPT, NULL, "abc",
		  "ed8f6fa22043bff7f789f0e3b17f606903d07f2f2684f6004cf783fb71e3088d" },
		{ CP_API_TOKEN, NULL, "abc",
		  "ae70d3f7f593c543c609cce7fe8d694489d27047bce2b70eae05d7cd4ee5b958" },
		{ CP_SESSION, NULL, "abc",
		  "faef92f9ca2a4fbeabf86a7381e4b92147909908c3fb10f500745b75ea5b6fec" },
		{ CP_CSRF, NULL, "abc",
		  "44dcfeba5cbb78a81c9313e10faec445a473241bd650db1f16e08a782cf7abb4" },
		{ CP_KEYCHECK, NULL, "abc",
		  "142a4ea48ba0d1a28453328feec4531844d1d8268c95261e3e20cee4ded293e7" },
	};
	/* Never the unkeyed hash, nor the hash keyed with the master key. */
	static const char unkeyed[] =
	    "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319";
	static const char master_keyed[] =
	    "d63a32d3e44738d7907f964316c241adaba0abfeabc32349677578a15a203f7f";
	uint8_t master[CRYPTO_KEY_BYTES], h[CRYPTO_HASH_BYTES];
	char dir[128], p[256], hex[2 * CRYPTO_HASH_BYTES + 1];

	(void)state;
	_Static_assert(NELEM(kat) == CP__MAX, "one known answer per purpose");
	make_keydir("kat", dir, sizeof(dir));
	for (size_t i = 0; i < sizeof(master); i++)
		master[i] = (uint8_t)i;
	path_in(p, sizeof(p), dir, "pseudonym.key");
	write_file(p, master, sizeof(master), 0600);
	assert_int_equal(crypto_load_keys(dir, msg, sizeof(msg)), PCS_OK);
	for (size_t i = 0; i < NELEM(kat); i++) {
		crypto_keyed_hash(kat[i].purpose, kat[i].context, kat[i].msg,
		    strlen(kat[i].msg), h);
		crypto_hex(h, sizeof(h), hex);
		if (strcmp(hex, kat[i].hex) != 0)
			fail_msg("purpose %d: %s, want %s", (int)kat[i].purpose,
			    hex, kat[i].hex);
		assert_string_not_equal(hex, unkeyed);
		assert_string_not_equal(hex, master_keyed);
	}
	/* 0003_key_binding.sql: the fingerprint is a MAC of a fixed text, never the key */
	{
		uint8_t fp[CRYPTO_HASH_BYTES], pub[CRYPTO_HASH_BYTES];

		crypto_key_fingerprints(fp, pub);
		crypto_keyed_hash(CP_KEYCHECK, NULL, "pcsurvey key binding v1", 23, h);
		assert_memory_equal(fp, h, sizeof(h));
		assert_memory_not_equal(fp, master, sizeof(fp));
		assert_memory_not_equal(fp, pub, sizeof(fp));
	}
	/* The pseudonym of a normalised e-mail, as the database keeps it. */
	crypto_pseudonym("test-form", STR_LIT("  Jo.Bloggs@NHS.Net "), true, h);
	crypto_hex(h, sizeof(h), hex);
	assert_string_equal(hex,
	    "d2ea5be0aa9dcb5acdb950eb4f617185b188ea18f009e12bc16763a8e9872e30");
}

/*
 * http-api.md: the exporter prefixes a cell starting with '+' with "'";
 * base64 may start with '+' (1 box in 64), and decrypt must still open it.
 */
static void
test_decrypt_box_starting_with_plus(void **state)
{
	static const char text[] = "=HYPERLINK(\"x\") and a marker";
	uint8_t box[sizeof(text) - 1 + CRYPTO_SEAL_OVERHEAD];
	char b64[256], in[256], out[256], *got;
	struct buf b;
	int tries = 0;

	(void)state;
	do {
		assert_int_equal(crypto_seal(text, sizeof(text) - 1, box),
		    PCS_OK);
		crypto_base64(box, sizeof(box), b64);
		assert_true(++tries < 10000);
	} while (b64[0] != '+');
	buf_init(&b, 4096);
	buf_adds(&b, "response_id,q\r\nr1,");
	csv_write_cell(&b, str_cstr(b64));	/* as the exporter writes it */
	buf_adds(&b, "\r\n");
	assert_int_equal(b.err, PCS_OK);
	{
		size_t at = strlen("response_id,q\r\nr1,");

		/* the exporter wrote "'+..." (quoted, as it quotes a prefix) */
		assert_true(b.len > at + 2);
		assert_memory_equal(b.p + at, "\"'+", 3);
	}
	path_in(in, sizeof(in), base, "plus.csv");
	path_in(out, sizeof(out), base, "plus-out.csv");
	write_file(in, b.p, b.len, 0600);
	assert_int_equal(run_decrypt(secpath, in, out), 0);
	got = read_file(out, NULL);
	assert_non_null(got);
	/* The opened text keeps the formula rule: "'" before "=". */
	assert_string_equal(got, "response_id,q\r\nr1,\"'=HYPERLINK(\"\"x\"\") "
	    "and a marker\"\r\n");
	free(got);
	buf_release(&b);
}

/* Writes header + rows of cells (sealed when the text starts with '!'). */
static void
write_export(const char *path, const char *rows[][3], size_t nrows,
    void (*damage)(struct buf *, size_t start, size_t row, size_t col))
{
	struct buf b;

	buf_init(&b, 1 << 16);
	buf_adds(&b, "response_id,q_text,q_code\r\n");
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; c < 3; c++) {
			size_t start;

			if (c > 0)
				buf_addc(&b, ',');
			start = b.len;
			if (rows[r][c][0] == '!')
				add_sealed(&b, rows[r][c] + 1);
			else
				buf_adds(&b, rows[r][c]);
			if (damage != NULL && b.len > start)
				damage(&b, start, r, c);
		}
		buf_adds(&b, "\r\n");
	}
	assert_int_equal(b.err, PCS_OK);
	write_file(path, b.p, b.len, 0600);
	buf_release(&b);
}

static const char *two_rows[][3] = {
	{ "r1", "!first answer with a marker", "gp_partner" },
	{ "r2", "!second answer with a marker", "nurse" },
};

/* Damage the sealed cell of row 1 (the second data row) in various ways. */
static int damage_kind;

static void
damage_row1(struct buf *b, size_t start, size_t row, size_t col)
{
	if (row != 1 || col != 1)
		return;
	switch (damage_kind) {
	case 0:		/* one base64 character changed: the MAC fails */
		b->p[b->len - 10] = b->p[b->len - 10] == 'A' ? 'B' : 'A';
		break;
	case 1:		/* cut short by 3 characters: not base64 */
		b->len -= 3;
		break;
	case 2:		/* cut short by 4: base64, but not this box */
		b->len -= 4;
		break;
	case 3:		/* a spreadsheet's stray character */
		b->p[b->len - 20] = '!';
		break;
	case 4:		/* replaced by short text */
		b->len = start;
		buf_adds(b, "hello");
		break;
	default:
		break;
	}
}

/* The same damage on row 0, before any good cell of that column. */
static void
damage_row0(struct buf *b, size_t start, size_t row, size_t col)
{
	if (row == 0)
		damage_row1(b, start, 1, col);
}

/*
 * privacy.md, T-37: a changed sealed cell never passes through: decrypt
 * exits 1 naming the row and column and writes no output file.
 */
static void
test_decrypt_damaged_cells_refused(void **state)
{
	static const char *const why[] = {
		"does not open", "looks like a sealed answer",
		"does not open", "not a sealed answer", "not a sealed answer",
	};
	char in[256], out[256], errpath[256], *err;
	int saved, fd;

	(void)state;
	path_in(in, sizeof(in), base, "damaged.csv");
	path_in(out, sizeof(out), base, "damaged-out.csv");
	path_in(errpath, sizeof(errpath), base, "damaged.err");
	/* Undamaged: exit 0 (the control). */
	write_export(in, two_rows, NELEM(two_rows), NULL);
	assert_int_equal(run_decrypt(secpath, in, out), 0);
	assert_int_equal(unlink(out), 0);
	for (damage_kind = 0; damage_kind < (int)NELEM(why); damage_kind++) {
		for (int first = 0; first <= 1; first++) {
			write_export(in, two_rows, NELEM(two_rows),
			    first ? damage_row0 : damage_row1);
			fflush(stderr);
			saved = dup(STDERR_FILENO);
			fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			assert_true(saved >= 0 && fd >= 0);
			dup2(fd, STDERR_FILENO);
			close(fd);
			if (run_decrypt(secpath, in, out) != 1)
				fail_msg("damage %d (row %d) was not refused",
				    damage_kind, first ? 0 : 1);
			fflush(stderr);
			dup2(saved, STDERR_FILENO);
			close(saved);
			assert_false(exists(out));
			err = read_file(errpath, NULL);
			assert_non_null(err);
			if (strstr(err, why[damage_kind]) == NULL ||
			    strstr(err, "q_text") == NULL)
				fail_msg("damage %d: message \"%s\"", damage_kind,
				    err);
			/* No answer text reaches the message. */
			assert_null(strstr(err, "marker"));
			free(err);
		}
	}
}

/* cli.md logs: one line per event, whatever a value holds (V7.3.1). */
static void
test_log_one_line_per_event(void **state)
{
	char path[256], *got, *nl;
	int saved, fd;

	(void)state;
	path_in(path, sizeof(path), base, "log.out");
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	log_set_level(LOG_INFO);
	log_event(LOG_INFO, "unit_test", "form=%s n=%d",
	    "a\r\n2026-01-01T00:00:00Z error forged pid=1\x1b[31m\x7f", 3);
	log_event(LOG_DEBUG, "below_level", NULL);
	dup2(saved, STDERR_FILENO);
	close(saved);
	got = read_file(path, NULL);
	assert_non_null(got);
	nl = strchr(got, '\n');
	assert_non_null(nl);
	assert_int_equal(nl[1], '\0');		/* exactly one line */
	assert_non_null(strstr(got, " info unit_test pid="));
	assert_non_null(strstr(got, "form=a\\x0d\\x0a2026-01-01T00:00:00Z "
	    "error forged pid=1\\x1b[31m\\x7f n=3\n"));
	assert_null(strchr(got, '\x1b'));
	assert_null(strchr(got, '\r'));
	free(got);
}

/* Seal before keys are loaded: refused, never stored in clear. */
static void
test_seal_without_keys(void **state)
{
	uint8_t box[1 + CRYPTO_SEAL_OVERHEAD];

	(void)state;
	crypto_unload_keys();
	assert_int_equal(crypto_seal("x", 1, box), PCS_ECRYPTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup(f, load_fixture)
		T(test_keygen_then_load),
		T(test_load_refuses_research_sec),
		T(test_load_refuses_group_readable),
		T(test_load_refuses_wrong_length),
		T(test_load_refuses_missing),
		T(test_keygen_refuses_overwrite),
		T(test_cmd_keygen_creates_dir),
		T(test_keyed_hash_purposes),
		T(test_pseudonym_normalisation),
		T(test_seal_roundtrip),
		T(test_seal_tampered_fails),
		T(test_seal_wrong_key_fails),
		T(test_draft_roundtrip),
		T(test_code_roundtrip),
		T(test_token_new),
		T(test_base64_hex),
		T(test_read_secret_key_refusals),
		T(test_decrypt_end_to_end),
		T(test_keyed_hash_known_answers),
		T(test_decrypt_box_starting_with_plus),
		T(test_decrypt_damaged_cells_refused),
		T(test_log_one_line_per_event),
		T(test_seal_without_keys),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
