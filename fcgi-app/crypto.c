/*
 * crypto.c: the only includer of <sodium.h> (privacy.md is the contract).
 * Owns the loaded keys (read-only sodium_malloc memory), the per-purpose
 * keyed hashes, sealed boxes to research.pub, draft secretboxes, human codes,
 * tokens and the encoders.  Trusts its callers' lengths; trusts no key file:
 * each is checked for type, length and mode before a byte is used, and there
 * is no fallback when one is wrong.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto.h"
#include "limits.h"

_Static_assert(CRYPTO_KEY_BYTES == crypto_kdf_KEYBYTES, "pseudonym.key size");
_Static_assert(CRYPTO_KEY_BYTES == crypto_box_PUBLICKEYBYTES, "research.pub size");
_Static_assert(CRYPTO_KEY_BYTES == crypto_box_SECRETKEYBYTES, "research.sec size");
_Static_assert(CRYPTO_KEY_BYTES == crypto_generichash_KEYBYTES, "subkey size");
_Static_assert(CRYPTO_HASH_BYTES >= crypto_generichash_BYTES_MIN &&
    CRYPTO_HASH_BYTES <= crypto_generichash_BYTES_MAX, "hash size");
_Static_assert(CRYPTO_SEAL_OVERHEAD == crypto_box_SEALBYTES, "seal overhead");
_Static_assert(CRYPTO_DRAFT_OVERHEAD ==
    crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES, "draft overhead");
_Static_assert(CRYPTO_KEY_BYTES == crypto_secretbox_KEYBYTES, "draft key size");
_Static_assert(CRYPTO_CODE_RAW * 8 == CRYPTO_CODE_CHARS * 5, "code bits");
_Static_assert(CRYPTO_TOKEN_TEXT + 1 ==
    sodium_base64_ENCODED_LEN(CRYPTO_TOKEN_RAW,
    sodium_base64_VARIANT_URLSAFE_NO_PADDING), "token text");

#define KDF_CONTEXT	"pcsurvey"	/* crypto_kdf_CONTEXTBYTES, no NUL */
_Static_assert(sizeof(KDF_CONTEXT) - 1 == crypto_kdf_CONTEXTBYTES, "kdf context");

/*
 * The domain prefix hashed before a resume token to make its draft key.  It
 * keeps the draft key apart from every other use of the token; it is not a
 * secret.  The server stores only keyed_hash(CP_RESUME, token), under the
 * server's subkey, so neither the database nor this prefix gives the key.
 */
#define DRAFT_DOMAIN	"pcsurvey draft key v1"

/*
 * crypto_kdf subkey ids.  These are part of the stored data: every keyed
 * hash in the database was made under one of them, so an id never changes
 * and is never reused, whatever order enum crypto_purpose takes.
 */
static const uint64_t subkey_ids[] = {
	[CP_PSEUDONYM] = 1,
	[CP_INVITE] = 2,
	[CP_RESUME] = 3,
	[CP_RECEIPT] = 4,
	[CP_API_TOKEN] = 5,
	[CP_SESSION] = 6,
	[CP_CSRF] = 7,
	[CP_KEYCHECK] = 8,
};
_Static_assert(sizeof(subkey_ids) / sizeof(subkey_ids[0]) == CP__MAX, "subkey_ids[]");

/* Loaded once by crypto_load_keys(); read-only afterwards. */
struct keys {
	uint8_t		 pub[CRYPTO_KEY_BYTES];		/* research.pub */
	uint8_t		 sub[CP__MAX][CRYPTO_KEY_BYTES];	/* from pseudonym.key */
};

static struct keys	*keys;
static bool		 inited;

static const char	 crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static enum pcs_err	 failf(char *, size_t, enum pcs_err, const char *, ...)
			    __attribute__((format(printf, 4, 5)));

/* Fills msg (if any) and returns e, so callers can `return failf(...)`. */
static enum pcs_err
failf(char *msg, size_t msglen, enum pcs_err e, const char *fmt, ...)
{
	va_list ap;

	if (msg != NULL && msglen > 0) {
		va_start(ap, fmt);
		vsnprintf(msg, msglen, fmt, ap);
		va_end(ap);
	}
	return e;
}

static void __attribute__((noreturn))
crypto_bug(const char *what)
{
	fprintf(stderr, "pcsurvey: crypto: %s\n", what);
	abort();
}

bool
crypto_init(void)
{
	if (inited)
		return true;
	if (sodium_init() < 0)
		return false;
	inited = true;
	return true;
}

void
crypto_random(void *p, size_t n)
{
	randombytes_buf(p, n);
}

bool
crypto_equal(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0;
}

void
crypto_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}

/* dir + "/" + name into out[PCS_PATH_MAX]; false if too long. */
static bool
join_path(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PCS_PATH_MAX, "%s/%s", dir, name);

	return n > 0 && (size_t)n < PCS_PATH_MAX;
}

/*
 * Reads exactly CRYPTO_KEY_BYTES from the key file path into out.  private
 * files must have no group or other permission bits.  Messages name path
 * and the fix.
 */
static enum pcs_err
read_key_file(const char *path, bool private, uint8_t out[CRYPTO_KEY_BYTES],
    char *msg, size_t msglen)
{
	struct stat st;
	enum pcs_err err = PCS_OK;
	size_t got = 0;
	ssize_t n;
	uint8_t extra;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC)) == -1)
		return failf(msg, msglen, PCS_EIO, "%s: cannot open (%s): "
		    "run pcsurvey keygen --out DIR, or point to the directory "
		    "that holds the key", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		err = failf(msg, msglen, PCS_EIO, "%s: cannot stat (%s)",
		    path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = failf(msg, msglen, PCS_ECRYPTO, "%s is not a regular file: "
		    "put the key file written by pcsurvey keygen there", path);
		goto out;
	}
	if (private && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		err = failf(msg, msglen, PCS_ECRYPTO, "%s is accessible by group "
		    "or others (mode %04o): only its owner may read it; run "
		    "chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_size != CRYPTO_KEY_BYTES) {
		err = failf(msg, msglen, PCS_ECRYPTO, "%s is %lld bytes, not %d: "
		    "it is not a key written by pcsurvey keygen; restore the "
		    "right file", path, (long long)st.st_size, CRYPTO_KEY_BYTES);
		goto out;
	}
	while (got < CRYPTO_KEY_BYTES) {
		n = read(fd, out + got, CRYPTO_KEY_BYTES - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	/* The file may have changed since fstat: insist on exactly 32 bytes. */
	while ((n = read(fd, &extra, 1)) == -1 && errno == EINTR)
		;
	if (got != CRYPTO_KEY_BYTES || n != 0) {
		sodium_memzero(out, CRYPTO_KEY_BYTES);
		err = failf(msg, msglen, PCS_ECRYPTO, "%s: could not read exactly "
		    "%d bytes: restore the key file written by pcsurvey keygen",
		    path, CRYPTO_KEY_BYTES);
	}
out:
	close(fd);
	return err;
}

void
crypto_unload_keys(void)
{
	if (keys != NULL)
		sodium_free(keys);	/* makes it writable and wipes it */
	keys = NULL;
}

enum pcs_err
crypto_load_keys(const char *dir, char *msg, size_t msglen)
{
	char path[PCS_PATH_MAX];
	uint8_t master[CRYPTO_KEY_BYTES];
	struct keys *k = NULL;
	struct stat st;
	enum pcs_err err;

	crypto_unload_keys();	/* no fallback: a failed load leaves none */
	if (!inited)
		return failf(msg, msglen, PCS_EINTERNAL,
		    "crypto_load_keys before crypto_init");
	if (!join_path(path, dir, "research.sec"))
		return failf(msg, msglen, PCS_ECRYPTO, "key directory %s: path "
		    "too long", dir);
	/* privacy.md: the server must never hold the research secret key. */
	if (lstat(path, &st) == 0)
		return failf(msg, msglen, PCS_ECRYPTO, "research.sec is in the "
		    "key directory (%s): the server must not hold the research "
		    "secret key; move it to the data custodian and delete it "
		    "from the server", path);

	if ((k = sodium_malloc(sizeof(*k))) == NULL)
		return failf(msg, msglen, PCS_ENOMEM, "out of memory for keys");
	if (!join_path(path, dir, "research.pub")) {
		err = failf(msg, msglen, PCS_ECRYPTO, "key directory %s: path "
		    "too long", dir);
		goto fail;
	}
	if ((err = read_key_file(path, false, k->pub, msg, msglen)) != PCS_OK)
		goto fail;
	if (!join_path(path, dir, "pseudonym.key")) {
		err = failf(msg, msglen, PCS_ECRYPTO, "key directory %s: path "
		    "too long", dir);
		goto fail;
	}
	if ((err = read_key_file(path, true, master, msg, msglen)) != PCS_OK)
		goto fail;
	/* Derive every subkey now; the master key is not kept. */
	for (size_t i = 0; i < CP__MAX; i++)
		if (crypto_kdf_derive_from_key(k->sub[i], CRYPTO_KEY_BYTES,
		    subkey_ids[i], KDF_CONTEXT, master) != 0) {
			err = failf(msg, msglen, PCS_ECRYPTO,
			    "%s: subkey derivation failed", path);
			goto fail;
		}
	sodium_memzero(master, sizeof(master));
	if (sodium_mprotect_readonly(k) != 0) {
		err = failf(msg, msglen, PCS_ECRYPTO, "cannot make the key "
		    "memory read-only (%s)", strerror(errno));
		goto fail;
	}
	keys = k;
	return PCS_OK;
fail:
	sodium_memzero(master, sizeof(master));
	sodium_free(k);
	return err;
}

static const struct keyfile {
	const char	*name;
	mode_t		 mode;
} keyfiles[] = {
	{ "pseudonym.key", 0600 },
	{ "research.pub", 0644 },
	{ "research.sec", 0600 },
};
#define NKEYFILES	(sizeof(keyfiles) / sizeof(keyfiles[0]))

static bool
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

enum pcs_err
crypto_keygen(const char *dir, char *msg, size_t msglen)
{
	char path[NKEYFILES][PCS_PATH_MAX];
	uint8_t key[NKEYFILES][CRYPTO_KEY_BYTES];
	int fd[NKEYFILES] = { -1, -1, -1 };
	bool made[NKEYFILES] = { false, false, false };
	enum pcs_err err = PCS_OK;
	struct stat st;
	size_t i;

	if (!inited)
		return failf(msg, msglen, PCS_EINTERNAL,
		    "crypto_keygen before crypto_init");
	for (i = 0; i < NKEYFILES; i++) {
		if (!join_path(path[i], dir, keyfiles[i].name))
			return failf(msg, msglen, PCS_EIO, "%s: path too long",
			    dir);
		/* Check all three first, so a refusal writes nothing. */
		if (lstat(path[i], &st) == 0)
			return failf(msg, msglen, PCS_ECONFLICT, "%s already "
			    "exists: keygen never overwrites a key; choose "
			    "another directory or move the old keys away",
			    path[i]);
	}
	for (i = 0; i < NKEYFILES; i++) {
		fd[i] = open(path[i], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, keyfiles[i].mode);
		if (fd[i] == -1) {
			err = failf(msg, msglen, errno == EEXIST ?
			    PCS_ECONFLICT : PCS_EIO, "%s: cannot create (%s)%s",
			    path[i], strerror(errno), errno == EEXIST ?
			    ": keygen never overwrites a key" : "");
			goto out;
		}
		made[i] = true;
		/* Exact modes whatever the umask (privacy.md: Keys). */
		if (fchmod(fd[i], keyfiles[i].mode) == -1) {
			err = failf(msg, msglen, PCS_EIO, "%s: chmod: %s",
			    path[i], strerror(errno));
			goto out;
		}
	}
	crypto_random(key[0], CRYPTO_KEY_BYTES);
	if (crypto_box_keypair(key[1], key[2]) != 0) {
		err = failf(msg, msglen, PCS_ECRYPTO, "crypto_box_keypair failed");
		goto out;
	}
	for (i = 0; i < NKEYFILES; i++)
		if (!write_all(fd[i], key[i], CRYPTO_KEY_BYTES) ||
		    fsync(fd[i]) == -1) {
			err = failf(msg, msglen, PCS_EIO, "%s: write: %s",
			    path[i], strerror(errno));
			goto out;
		}
out:
	sodium_memzero(key, sizeof(key));
	for (i = 0; i < NKEYFILES; i++) {
		if (fd[i] != -1 && close(fd[i]) == -1 && err == PCS_OK)
			err = failf(msg, msglen, PCS_EIO, "%s: close: %s",
			    path[i], strerror(errno));
	}
	if (err != PCS_OK)
		for (i = 0; i < NKEYFILES; i++)
			if (made[i])
				unlink(path[i]);
	return err;
}

/* Crockford base32 of CRYPTO_CODE_RAW bytes, grouped "XXXX-XXXX-XXXX-XXXX". */
static void
code_encode(const uint8_t raw[CRYPTO_CODE_RAW], char out[CRYPTO_CODE_TEXT + 1])
{
	unsigned acc = 0, bits = 0;
	size_t i, n = 0, o = 0;

	for (i = 0; i < CRYPTO_CODE_RAW; i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			if (n > 0 && n % 4 == 0)
				out[o++] = '-';
			out[o++] = crockford[(acc >> bits) & 31];
			n++;
		}
		acc &= (1u << bits) - 1;
	}
	out[o] = '\0';
	sodium_memzero(&acc, sizeof(acc));
}

void
crypto_code_new(char out[CRYPTO_CODE_TEXT + 1])
{
	uint8_t raw[CRYPTO_CODE_RAW];

	crypto_random(raw, sizeof(raw));
	code_encode(raw, out);
	sodium_memzero(raw, sizeof(raw));
}

void
crypto_code_derive(enum crypto_purpose purpose, struct str secret,
    char out[CRYPTO_CODE_TEXT + 1])
{
	uint8_t h[CRYPTO_HASH_BYTES];

	crypto_keyed_hash(purpose, "derive", secret.p, secret.len, h);
	code_encode(h, out);
	sodium_memzero(h, sizeof(h));
}

bool
crypto_code_normalise(struct str in, char out[CRYPTO_CODE_CHARS + 1])
{
	size_t i, n = 0;

	for (i = 0; i < in.len; i++) {
		char c = in.p[i];

		if (c == ' ' || c == '-' || c == '\t')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c == 'O')
			c = '0';
		else if (c == 'I' || c == 'L')
			c = '1';
		/* Crockford: U is not in the alphabet; nor is anything else. */
		if (c == '\0' || strchr(crockford, c) == NULL || n == CRYPTO_CODE_CHARS)
			goto bad;
		out[n++] = c;
	}
	if (n != CRYPTO_CODE_CHARS)
		goto bad;
	out[n] = '\0';
	return true;
bad:
	sodium_memzero(out, CRYPTO_CODE_CHARS + 1);
	return false;
}

void
crypto_token_new(char out[CRYPTO_TOKEN_TEXT + 1])
{
	uint8_t raw[CRYPTO_TOKEN_RAW];

	crypto_random(raw, sizeof(raw));
	sodium_bin2base64(out, CRYPTO_TOKEN_TEXT + 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

/*
 * Starts the keyed hash for purpose.  A context (the form id for
 * CP_PSEUDONYM) goes first, followed by one 0x00: a C string holds no NUL,
 * so (context, msg) pairs map to distinct inputs ("ab"+"c" != "a"+"bc").
 * The per-form context makes the same person's pseudonyms in two forms
 * different, so exports of two forms cannot be joined on them.
 */
static void
keyed_start(crypto_generichash_state *st, enum crypto_purpose purpose,
    const char *context)
{
	static const uint8_t zero = 0;

	if (keys == NULL)
		crypto_bug("keyed hash before crypto_load_keys");
	if ((unsigned)purpose >= CP__MAX)
		crypto_bug("keyed hash: bad purpose");
	if (purpose == CP_PSEUDONYM && context == NULL)
		crypto_bug("pseudonym hash without a form id");
	crypto_generichash_init(st, keys->sub[purpose], CRYPTO_KEY_BYTES,
	    CRYPTO_HASH_BYTES);
	if (context != NULL) {
		crypto_generichash_update(st, (const uint8_t *)context,
		    strlen(context));
		crypto_generichash_update(st, &zero, 1);
	}
}

void
crypto_keyed_hash(enum crypto_purpose purpose, const char *context,
    const void *msg, size_t len, uint8_t out[CRYPTO_HASH_BYTES])
{
	crypto_generichash_state st;

	keyed_start(&st, purpose, context);
	if (len > 0)
		crypto_generichash_update(&st, msg, len);
	crypto_generichash_final(&st, out, CRYPTO_HASH_BYTES);
	sodium_memzero(&st, sizeof(st));
}

#define KEYCHECK_TEXT	"pcsurvey key binding v1"

void
crypto_key_fingerprints(uint8_t pseudonym[CRYPTO_HASH_BYTES],
    uint8_t research[CRYPTO_HASH_BYTES])
{
	if (keys == NULL)
		crypto_bug("key fingerprints before crypto_load_keys");
	crypto_keyed_hash(CP_KEYCHECK, NULL, KEYCHECK_TEXT, sizeof(KEYCHECK_TEXT) - 1,
	    pseudonym);
	crypto_generichash(research, CRYPTO_HASH_BYTES, keys->pub, sizeof(keys->pub),
	    NULL, 0);
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

static unsigned char
ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

void
crypto_pseudonym(const char *form_id, struct str answer, bool is_email,
    uint8_t out[CRYPTO_HASH_BYTES])
{
	crypto_generichash_state st;
	unsigned char chunk[256];	/* normalised bytes; wiped below */
	const unsigned char *p = (const unsigned char *)answer.p;
	size_t b = 0, e = answer.len, n = 0;
	bool gap = false;

	/* privacy.md: trim ... */
	while (b < e && is_space(p[b]))
		b++;
	while (e > b && is_space(p[e - 1]))
		e--;
	keyed_start(&st, CP_PSEUDONYM, form_id);
	for (size_t i = b; i < e; i++) {
		unsigned char c = p[i];

		/* ... collapse inner whitespace (not in an e-mail) ... */
		if (!is_email && is_space(c)) {
			gap = true;
			continue;
		}
		if (n + 2 > sizeof(chunk)) {
			crypto_generichash_update(&st, chunk, n);
			n = 0;
		}
		if (gap)
			chunk[n++] = ' ';
		gap = false;
		/* ... ASCII lower case (e-mail: the whole address). */
		chunk[n++] = ascii_lower(c);
	}
	if (n > 0)
		crypto_generichash_update(&st, chunk, n);
	crypto_generichash_final(&st, out, CRYPTO_HASH_BYTES);
	sodium_memzero(chunk, sizeof(chunk));
	sodium_memzero(&st, sizeof(st));
}

enum pcs_err
crypto_seal(const void *msg, size_t len, uint8_t *out)
{
	if (keys == NULL)
		return PCS_ECRYPTO;	/* no fallback: never store in clear */
	if (crypto_box_seal(out, msg, len, keys->pub) != 0)
		return PCS_ECRYPTO;
	return PCS_OK;
}

bool
crypto_unseal(const uint8_t pub[CRYPTO_KEY_BYTES],
    const uint8_t sec[CRYPTO_KEY_BYTES], const uint8_t *box, size_t len,
    uint8_t *out)
{
	if (len < CRYPTO_SEAL_OVERHEAD)
		return false;
	return crypto_box_seal_open(out, box, len, pub, sec) == 0;
}

void
crypto_pub_from_sec(const uint8_t sec[CRYPTO_KEY_BYTES],
    uint8_t pub[CRYPTO_KEY_BYTES])
{
	/* Only fails for a low-order result, which then opens nothing. */
	if (crypto_scalarmult_base(pub, sec) != 0)
		memset(pub, 0, CRYPTO_KEY_BYTES);
}

enum pcs_err
crypto_read_secret_key(const char *path, uint8_t sec[CRYPTO_KEY_BYTES],
    char *msg, size_t msglen)
{
	return read_key_file(path, true, sec, msg, msglen);
}

/* The draft key: BLAKE2b-256(DRAFT_DOMAIN || 0x00 || token). */
static void
draft_key(struct str token, uint8_t key[crypto_secretbox_KEYBYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, crypto_secretbox_KEYBYTES);
	crypto_generichash_update(&st, (const uint8_t *)DRAFT_DOMAIN,
	    sizeof(DRAFT_DOMAIN));	/* with its NUL, as a separator */
	if (token.len > 0)
		crypto_generichash_update(&st, (const uint8_t *)token.p,
		    token.len);
	crypto_generichash_final(&st, key, crypto_secretbox_KEYBYTES);
	sodium_memzero(&st, sizeof(st));
}

void
crypto_draft_seal(struct str token, const void *plain, size_t len,
    uint8_t *out)
{
	uint8_t key[crypto_secretbox_KEYBYTES];

	draft_key(token, key);
	randombytes_buf(out, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, plain, len,
	    out, key);
	sodium_memzero(key, sizeof(key));
}

bool
crypto_draft_open(struct str token, const uint8_t *box, size_t len,
    uint8_t *out)
{
	uint8_t key[crypto_secretbox_KEYBYTES];
	int rc;

	if (len < CRYPTO_DRAFT_OVERHEAD)
		return false;
	draft_key(token, key);
	rc = crypto_secretbox_open_easy(out, box + crypto_secretbox_NONCEBYTES,
	    len - crypto_secretbox_NONCEBYTES, box, key);
	sodium_memzero(key, sizeof(key));
	return rc == 0;
}

void
crypto_hex(const uint8_t *p, size_t len, char *out)
{
	sodium_bin2hex(out, 2 * len + 1, p, len);
}

size_t
crypto_base64_len(size_t len)
{
	return sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL) - 1;
}

void
crypto_base64(const uint8_t *p, size_t len, char *out)
{
	sodium_bin2base64(out, crypto_base64_len(len) + 1, p, len,
	    sodium_base64_VARIANT_ORIGINAL);
}

long
crypto_base64_decode(struct str in, uint8_t *out, size_t max)
{
	const char *end = NULL;
	size_t n = 0;

	if (in.len == 0)
		return 0;
	/*
	 * libsodium 1.0.18's sodium_base642bin() takes bytes 0x80-0xFF as
	 * digits (a signed-char slip found by fuzz_csv): check the alphabet
	 * here, so a damaged cell never "looks sealed" to decrypt.
	 */
	for (size_t i = 0; i < in.len; i++) {
		unsigned char ch = (unsigned char)in.p[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/' || ch == '='))
			return -1;
	}
	if (sodium_base642bin(out, max, in.p, in.len, NULL, &n, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	/* base642bin stops quietly at the first bad byte: reject the rest. */
	if (end != in.p + in.len)
		return -1;
	return (long)n;
}
