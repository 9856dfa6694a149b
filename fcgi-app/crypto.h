/*
 * crypto.h: every use of libsodium (crypto.c is its only includer), with our
 * own sizes so nothing else needs sodium.h.  privacy.md is the contract:
 * keyed hashes with per-purpose subkeys, sealed boxes to research.pub,
 * drafts under a key derived from the resume token, constant-time compares,
 * wiping.
 *
 * Keys are loaded once at start (crypto_load_keys) into read-only
 * sodium_malloc'd memory; there is no fallback when they are missing.
 */
#ifndef PCS_CRYPTO_H
#define PCS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "str.h"

#define CRYPTO_KEY_BYTES	32	/* pseudonym.key, research.pub/.sec */
#define CRYPTO_HASH_BYTES	32	/* keyed BLAKE2b-256 */
#define CRYPTO_SEAL_OVERHEAD	48	/* crypto_box_SEALBYTES */
#define CRYPTO_DRAFT_OVERHEAD	40	/* 24-byte nonce + 16-byte MAC */
#define CRYPTO_CODE_RAW		10	/* 80 random bits per human code */
#define CRYPTO_CODE_CHARS	16	/* Crockford base32 of the raw bytes */
#define CRYPTO_CODE_TEXT	19	/* "ABCD-EFGH-JKMN-PQRS" */
#define CRYPTO_TOKEN_RAW	32	/* API tokens and session ids */
#define CRYPTO_TOKEN_TEXT	43	/* base64url, no padding */

/* What a keyed hash is for: each has its own crypto_kdf subkey. */
enum crypto_purpose {
	CP_PSEUDONYM,		/* plus a per-form context */
	CP_INVITE,
	CP_RESUME,
	CP_RECEIPT,
	CP_API_TOKEN,
	CP_SESSION,
	CP_CSRF,
	CP_KEYCHECK,		/* the key's own fingerprint (0003_key_binding.sql) */
	CP__MAX
};

/* sodium_init(); false if libsodium cannot start. Call once, first. */
bool		 crypto_init(void) PCS_MUST;

/*
 * Loads pseudonym.key and research.pub from dir.  Refuses (PCS_ECRYPTO, msg
 * filled with the file and the fix) when research.sec is in dir, a key file
 * is missing, has the wrong length, or pseudonym.key is readable by group or
 * others.
 */
enum pcs_err	 crypto_load_keys(const char *dir, char *msg, size_t msglen) PCS_MUST;
/*
 * Writes pseudonym.key (0600), research.pub (0644), research.sec (0600) into
 * the existing directory dir, each opened O_CREAT|O_EXCL: when any of them
 * already exists nothing is written and msg names it (PCS_ECONFLICT); other
 * failures are PCS_EIO and remove what was written.
 */
enum pcs_err	 crypto_keygen(const char *dir, char *msg, size_t msglen) PCS_MUST;

void		 crypto_random(void *p, size_t n);

/* A new human code "XXXX-XXXX-XXXX-XXXX" (NUL-terminated). */
void		 crypto_code_new(char out[CRYPTO_CODE_TEXT + 1]);
/*
 * A code derived from a secret under purpose's subkey: the receipt code of a
 * draft is derived from its resume token, so a retried submit shows the same
 * receipt without the server keeping it in clear.
 */
void		 crypto_code_derive(enum crypto_purpose purpose, struct str secret,
		    char out[CRYPTO_CODE_TEXT + 1]);
/*
 * Normalises what a person typed (case, spaces, hyphens; O->0, I/L->1) into
 * the 16 canonical characters; false if it cannot be a code.
 */
bool		 crypto_code_normalise(struct str in,
		    char out[CRYPTO_CODE_CHARS + 1]) PCS_MUST;
/* A new random token, base64url (NUL-terminated). */
void		 crypto_token_new(char out[CRYPTO_TOKEN_TEXT + 1]);

/*
 * Keyed BLAKE2b-256 of msg under the subkey for purpose (and, for
 * CP_PSEUDONYM, the form id as context, hashed as context || 0x00 || msg;
 * a non-NULL context is mixed in the same way for any purpose).  Calling it
 * before crypto_load_keys(), or for CP_PSEUDONYM with a NULL context, is a
 * bug: it aborts rather than hash under no key.
 */
void		 crypto_keyed_hash(enum crypto_purpose purpose, const char *context,
		    const void *msg, size_t len, uint8_t out[CRYPTO_HASH_BYTES]);
/*
 * Fingerprints of the loaded keys, stored in pcs.key_binding so a server
 * started with other keys than the ones that wrote the data refuses
 * (adversarial.md T-37).  pseudonym: keyed hash under CP_KEYCHECK of a
 * fixed text (reveals nothing of the key); research: BLAKE2b-256 of
 * research.pub.  Aborts before crypto_load_keys(), like crypto_keyed_hash.
 */
void		 crypto_key_fingerprints(uint8_t pseudonym[CRYPTO_HASH_BYTES],
		    uint8_t research[CRYPTO_HASH_BYTES]);
/* Constant-time equality. */
bool		 crypto_equal(const void *a, const void *b, size_t n);
void		 crypto_wipe(void *p, size_t n);

/*
 * Normalises a pseudonym answer (privacy.md: trim, ASCII lower case,
 * collapse inner whitespace; e-mail trimmed and lower-cased whole) and
 * hashes it with CP_PSEUDONYM under form_id: out equals
 * crypto_keyed_hash(CP_PSEUDONYM, form_id, normalised).  The normalised
 * bytes only ever sit in a small internal buffer that is wiped; the caller
 * still wipes answer.
 */
void		 crypto_pseudonym(const char *form_id, struct str answer,
		    bool is_email, uint8_t out[CRYPTO_HASH_BYTES]);

/* crypto_box_seal(msg) to research.pub into out[len + CRYPTO_SEAL_OVERHEAD]. */
enum pcs_err	 crypto_seal(const void *msg, size_t len, uint8_t *out) PCS_MUST;
/*
 * Opens a sealed box of len bytes into out[len - CRYPTO_SEAL_OVERHEAD] with a
 * key pair (pcsurvey decrypt); false if it is shorter than the overhead, was
 * changed, or is for another key.
 */
bool		 crypto_unseal(const uint8_t pub[CRYPTO_KEY_BYTES],
		    const uint8_t sec[CRYPTO_KEY_BYTES], const uint8_t *box,
		    size_t len, uint8_t *out) PCS_MUST;

/*
 * Drafts: crypto_secretbox under a key derived from the resume token (which
 * the server never stores).  seal writes len + CRYPTO_DRAFT_OVERHEAD bytes;
 * open returns false on a wrong token or a tampered box.
 */
void		 crypto_draft_seal(struct str token, const void *plain, size_t len,
		    uint8_t *out);
bool		 crypto_draft_open(struct str token, const uint8_t *box, size_t len,
		    uint8_t *out) PCS_MUST;

/* Encoders: out must hold 2*len+1 / base64 length+1 bytes; NUL-terminated. */
void		 crypto_hex(const uint8_t *p, size_t len, char *out);
size_t		 crypto_base64_len(size_t len);
void		 crypto_base64(const uint8_t *p, size_t len, char *out);
/* Decodes standard base64; returns bytes written or -1. */
long		 crypto_base64_decode(struct str in, uint8_t *out, size_t max) PCS_MUST;

/*
 * research.pub from research.sec (crypto_scalarmult_base), for
 * pcsurvey decrypt, which is given only the secret key.
 */
void		 crypto_pub_from_sec(const uint8_t sec[CRYPTO_KEY_BYTES],
		    uint8_t pub[CRYPTO_KEY_BYTES]);
/*
 * Reads a research.sec into sec.  Refuses (msg names the file and the fix)
 * a missing or unreadable file (PCS_EIO), or one that is not a regular file,
 * not exactly CRYPTO_KEY_BYTES long, or readable by group or others
 * (PCS_ECRYPTO).  The caller wipes sec with crypto_wipe().
 */
enum pcs_err	 crypto_read_secret_key(const char *path,
		    uint8_t sec[CRYPTO_KEY_BYTES], char *msg, size_t msglen) PCS_MUST;
/* Frees the keys crypto_load_keys() loaded (wiping them); for tests/tools. */
void		 crypto_unload_keys(void);

#endif
