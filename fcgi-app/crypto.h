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
	CP__MAX
};

/* sodium_init(); false if libsodium cannot start. Call once, first. */
bool		 crypto_init(void);

/*
 * Loads pseudonym.key and research.pub from dir.  Refuses (PCS_ECRYPTO, msg
 * filled with the file and the fix) when research.sec is in dir, a key file
 * is missing, has the wrong length, or pseudonym.key is readable by group or
 * others.
 */
enum pcs_err	 crypto_load_keys(const char *dir, char *msg, size_t msglen) PCS_MUST;
/* Writes pseudonym.key (0600), research.pub (0644), research.sec (0600). */
enum pcs_err	 crypto_keygen(const char *dir, char *msg, size_t msglen) PCS_MUST;

void		 crypto_random(void *p, size_t n);

/* A new human code "XXXX-XXXX-XXXX-XXXX" (NUL-terminated). */
void		 crypto_code_new(char out[CRYPTO_CODE_TEXT + 1]);
/*
 * Normalises what a person typed (case, spaces, hyphens; O->0, I/L->1) into
 * the 16 canonical characters; false if it cannot be a code.
 */
bool		 crypto_code_normalise(struct str in, char out[CRYPTO_CODE_CHARS + 1]);
/* A new random token, base64url (NUL-terminated). */
void		 crypto_token_new(char out[CRYPTO_TOKEN_TEXT + 1]);

/*
 * Keyed BLAKE2b-256 of msg under the subkey for purpose (and, for
 * CP_PSEUDONYM, the form id as context).
 */
void		 crypto_keyed_hash(enum crypto_purpose purpose, const char *context,
		    const void *msg, size_t len, uint8_t out[CRYPTO_HASH_BYTES]);
/* Constant-time equality. */
bool		 crypto_equal(const void *a, const void *b, size_t n);
void		 crypto_wipe(void *p, size_t n);

/*
 * Normalises a pseudonym answer (privacy.md: trim, ASCII lower case,
 * collapse inner whitespace; e-mail lower-cased whole) into out (malloc'd;
 * the caller wipes and frees it).  Then hashes it with CP_PSEUDONYM.
 */
void		 crypto_pseudonym(const char *form_id, struct str answer,
		    bool is_email, uint8_t out[CRYPTO_HASH_BYTES]);

/* crypto_box_seal(msg) to research.pub into out[len + CRYPTO_SEAL_OVERHEAD]. */
enum pcs_err	 crypto_seal(const void *msg, size_t len, uint8_t *out) PCS_MUST;
/* Opens a sealed box with a key pair (pcsurvey decrypt); false if it fails. */
bool		 crypto_unseal(const uint8_t pub[CRYPTO_KEY_BYTES],
		    const uint8_t sec[CRYPTO_KEY_BYTES], const uint8_t *box,
		    size_t len, uint8_t *out);

/*
 * Drafts: crypto_secretbox under a key derived from the resume token (which
 * the server never stores).  seal writes len + CRYPTO_DRAFT_OVERHEAD bytes;
 * open returns false on a wrong token or a tampered box.
 */
void		 crypto_draft_seal(struct str token, const void *plain, size_t len,
		    uint8_t *out);
bool		 crypto_draft_open(struct str token, const uint8_t *box, size_t len,
		    uint8_t *out);

/* Encoders: out must hold 2*len+1 / base64 length+1 bytes; NUL-terminated. */
void		 crypto_hex(const uint8_t *p, size_t len, char *out);
size_t		 crypto_base64_len(size_t len);
void		 crypto_base64(const uint8_t *p, size_t len, char *out);
/* Decodes standard base64; returns bytes written or -1. */
long		 crypto_base64_decode(struct str in, uint8_t *out, size_t max);

#endif
