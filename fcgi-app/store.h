/*
 * store.h: everything that touches PostgreSQL (store.c is the only includer
 * of libpq-fe.h).  One connection per worker, statements prepared on every
 * (re)connect, schema-qualified SQL with out-of-line parameters only.  A
 * lost connection gives PCS_EDBDOWN and is retried on the next call.
 */
#ifndef PCS_STORE_H
#define PCS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "err.h"
#include "form.h"
#include "str.h"

#define STORE_HASH_BYTES	32
#define STORE_RID_BYTES		16

struct store;

/* Makes a handle; connects lazily.  NULL only when out of memory. */
struct store	*store_new(const char *conninfo);
void		 store_free(struct store *st);

/*
 * Key binding (0003_key_binding.sql; adversarial.md T-37): fingerprints of
 * the keys this process holds (crypto_key_fingerprints).  After
 * store_set_keys() every new connection checks them against the ones bound
 * in the database (binding them when a file has none) before any other
 * use; for a key never accepted the connection is dropped, calls fail with
 * PCS_EDBDOWN and store_keys_refused() turns true for good: the process
 * must stop.
 */
struct store_keys {
	uint8_t		 pseudonym[STORE_HASH_BYTES];
	uint8_t		 research[STORE_HASH_BYTES];
};
void		 store_set_keys(struct store *st, const struct store_keys *k);
bool		 store_keys_refused(const struct store *st);
/*
 * The start-up check: PCS_OK (bound now or before), PCS_ECRYPTO (*which:
 * the key file never accepted), PCS_EDBDOWN.  rebind accepts the keys
 * besides the ones bound before (a deliberate rotation, docs/privacy.md 7).
 */
enum pcs_err	 store_keys_check(struct store *st, const struct store_keys *k, bool rebind,
		    const char **which) PCS_MUST;

/*
 * A worker's limits (serve): replies waited for at most PCS_DB_REPLY_MS
 * (then the connection is dropped: PCS_EDBDOWN), and lock_timeout
 * PCS_DB_LOCK_TIMEOUT on each connection (a lock not granted in time, or a
 * statement cancelled, is PCS_EDBDOWN too: 503, try again).  The
 * command-line tools keep no limit (an export may sort for long).
 */
void		 store_set_worker_limits(struct store *st);
/*
 * After each request: a transaction some path left open (or failed) is
 * rolled back and logged, so the next request starts clean.
 */
void		 store_request_end(struct store *st);

/* Highest applied migration, or PCS_EDBDOWN. */
enum pcs_err	 store_schema_version(struct store *st, int *version) PCS_MUST;
/* Number of migrations compiled into this binary. */
int		 store_expected_version(void);

enum pcs_err	 store_draft_insert(struct store *st, const uint8_t id[STORE_HASH_BYTES],
		    const char *form_id, int64_t expires, const uint8_t *box, size_t len) PCS_MUST;
/*
 * Reads the draft id of form_id not expired on today.  *box points into the
 * arena.  PCS_ENOTFOUND when there is none.
 */
enum pcs_err	 store_draft_get(struct store *st, struct arena *a,
		    const uint8_t id[STORE_HASH_BYTES], const char *form_id, int64_t today,
		    uint8_t **box, size_t *len) PCS_MUST;
enum pcs_err	 store_draft_update(struct store *st, const uint8_t id[STORE_HASH_BYTES],
		    int64_t expires, const uint8_t *box, size_t len) PCS_MUST;

struct response_row {
	uint8_t		 rid[STORE_RID_BYTES];
	const char	*form_id;
	int		 form_version;
	int64_t		 submitted;		/* day, already truncated to the form's precision */
	uint8_t		 receipt_hash[STORE_HASH_BYTES];
	const uint8_t	*pseudonym;		/* STORE_HASH_BYTES or NULL */
	const char	*dims[DIM__MAX];	/* codes or NULL; [DIM_NONE] unused */
	struct str	 answers;		/* JSON object */
	const uint8_t	*invite_hash;		/* STORE_HASH_BYTES or NULL */
	const uint8_t	*draft_id;		/* draft to delete, or NULL */
};

enum store_submit_result {
	SUBMIT_STORED,		/* committed */
	SUBMIT_ALREADY,		/* this receipt was stored before: idempotent */
	SUBMIT_DUPLICATE_PERSON,/* one_per_person: pseudonym already used */
	SUBMIT_INVITE_USED,	/* the invitation was used by another response */
};

/*
 * In one transaction: marks the invitation used, inserts the response and
 * deletes the draft; commits before returning PCS_OK (http-api.md: a
 * submission is acknowledged only after its transaction committed).
 */
enum pcs_err	 store_submit(struct store *st, const struct response_row *r,
		    enum store_submit_result *out) PCS_MUST;
/* Whether a response with this receipt hash exists. */
enum pcs_err	 store_response_exists(struct store *st,
		    const uint8_t receipt[STORE_HASH_BYTES], bool *exists) PCS_MUST;
/* Deletes the response with this receipt hash (privacy.md: Withdrawal). */
enum pcs_err	 store_withdraw(struct store *st, const uint8_t receipt[STORE_HASH_BYTES],
		    bool *deleted) PCS_MUST;

/*
 * Streams the responses of form_id by day then random id (never in
 * submission order), one callback per row with
 * the answer cells for keys (present[i] false: no answer).  A callback error
 * cancels the query and is returned.
 */
typedef enum pcs_err (*store_export_fn)(void *arg, struct str rid_hex, struct str version,
    struct str submitted, const struct str *cells, const bool *present, size_t n);
enum pcs_err	 store_export(struct store *st, const char *form_id, const char *const *keys,
		    size_t nkeys, store_export_fn fn, void *arg) PCS_MUST;

/* The form of an unused invitation with this code hash; *found false if none. */
enum pcs_err	 store_invite_find(struct store *st, const uint8_t code_hash[STORE_HASH_BYTES],
		    char *form_id, size_t form_id_len, bool *found) PCS_MUST;
/* `pcsurvey invite create`: stores n code hashes in one transaction. */
enum pcs_err	 store_invite_create(const char *conninfo, const char *form_id,
		    const char *label, int64_t issued, const uint8_t (*hashes)[STORE_HASH_BYTES],
		    size_t n, char *msg, size_t msglen) PCS_MUST;
/* `pcsurvey invite status`: CSV rows label,issued,used (no header) to out. */
enum pcs_err	 store_invite_status(const char *conninfo, const char *form_id, FILE *out,
		    char *msg, size_t msglen) PCS_MUST;

/*
 * `pcsurvey purge`: deletes drafts expired before today and responses older
 * than their form's retention_days; counts what it deleted.
 */
enum pcs_err	 store_purge(const char *conninfo, int64_t today, const struct formset *fs,
		    long *drafts, long *responses, char *msg, size_t msglen) PCS_MUST;

/*
 * `pcsurvey migrate`: applies the compiled-in migrations not yet recorded in
 * pcs.schema_migrations, each in its own transaction, then loads the
 * reference lists.  Messages go to msg.
 */
enum pcs_err	 store_migrate(const char *conninfo, int *applied, char *msg, size_t msglen) PCS_MUST;

/* ---- researchers (store_research.c; http-api.md: Researcher API) ------- */

/* A valid API token (not revoked), as the store knows it: never the token. */
struct store_token {
	int		 id;
	bool		 export_scope;		/* scope "export" (includes aggregate) */
	uint8_t		 hash[STORE_HASH_BYTES];/* the stored keyed hash, to compare in constant time */
};

/* `token create`: stores the keyed hash; *id is the new token's id. */
enum pcs_err	 store_token_create(struct store *st, const char *name, bool export_scope,
		    const uint8_t hash[STORE_HASH_BYTES], int64_t today, int *id) PCS_MUST;
/* `token list`: fn once per token in id order; NULL dates are "". */
typedef void	(*store_token_row_fn)(void *arg, const char *id, const char *name,
		    const char *scope, const char *created, const char *last_used,
		    const char *revoked);
enum pcs_err	 store_token_list(struct store *st, store_token_row_fn fn, void *arg) PCS_MUST;
/* `token revoke`: revokes and ends its sessions; *done false if no valid token has id. */
enum pcs_err	 store_token_revoke(struct store *st, int id, int64_t today, bool *done) PCS_MUST;
/* The valid token whose keyed hash is hash; *found false if none. */
enum pcs_err	 store_token_find(struct store *st, const uint8_t hash[STORE_HASH_BYTES],
		    struct store_token *t, bool *found) PCS_MUST;
/* last_used = today (written at most once a day per token). */
enum pcs_err	 store_token_touch(struct store *st, int id, int64_t today) PCS_MUST;

/* A research session (id stored as its keyed hash) ending seconds from now. */
enum pcs_err	 store_session_create(struct store *st, const uint8_t hash[STORE_HASH_BYTES],
		    int token_id, int seconds) PCS_MUST;
/* The unexpired session with hash, of a valid token; *found false if none. */
enum pcs_err	 store_session_find(struct store *st, const uint8_t hash[STORE_HASH_BYTES],
		    struct store_token *t, bool *found) PCS_MUST;
enum pcs_err	 store_session_delete(struct store *st, const uint8_t hash[STORE_HASH_BYTES]) PCS_MUST;
/* Deletes expired sessions. */
enum pcs_err	 store_session_purge(struct store *st) PCS_MUST;

/* One row of pcs.access_audit; token_id 0: none.  Strings may be NULL but via and what. */
struct store_audit {
	int64_t		 day;
	int		 token_id;
	const char	*via;		/* "api", "session", "login" */
	const char	*what;		/* "counts", "coverage", ... */
	const char	*form_id;
	const char	*detail;	/* validated parameters only, never a raw query value */
	int		 status;
};
enum pcs_err	 store_audit(struct store *st, const struct store_audit *a) PCS_MUST;

/*
 * True counts (privacy.md: Disclosure control; disclose.h does the rest).
 * Every query reads the responses of form_id submitted before the day
 * before (days since the epoch).
 *
 * store_counts_marker(): a cheap sign that those rows changed (figures.c
 * recomputes on change; 0006_change_marker.sql): n, the deletions from
 * pcs.response so far; max_id, the highest id of a counted row; sum_id,
 * always 0 (its place in pcs.published's key is kept).
 */
struct store_marker {
	int64_t		 n, max_id, sum_id;
};
enum pcs_err	 store_counts_marker(struct store *st, const char *form_id, int64_t before,
		    struct store_marker *m) PCS_MUST;

/* One response: dimension columns (icb, region, role, staff_group, org_type) and answers. */
#define STORE_DIMS	5
struct store_count_row {
	struct str	 dim[STORE_DIMS];	/* as stored; has[i] false: NULL */
	bool		 has[STORE_DIMS];
	struct str	 answers;		/* the answers jsonb as JSON text */
};
/* Called once per row; an error stops the query and is returned.  Views die after the call. */
typedef enum pcs_err (*store_count_fn)(void *arg, const struct store_count_row *r);
/*
 * Streams those rows one at a time (memory bounded by one row, perf.md
 * B3); the caller aggregates.  Unexpected values are passed on as stored:
 * the caller counts only what matches its own lists (T-16).
 */
enum pcs_err	 store_counts_rows(struct store *st, const char *form_id, int64_t before,
		    store_count_fn fn, void *arg) PCS_MUST;
/*
 * One snapshot for several reads (the true counts of one lattice):
 * BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY.  store_read_end() always
 * ends it (nothing was written, so it rolls back).
 */
enum pcs_err	 store_read_begin(struct store *st) PCS_MUST;
void		 store_read_end(struct store *st);
/*
 * The published lattice shared by the workers (pcs.published, 0004; what it
 * holds: figures.c and the migration).  A key names one lattice: the form,
 * data_as_of, the marker of the rows counted and figures.c's shape
 * fingerprint.
 */
struct store_pub_key {
	const char		*form_id;
	int64_t			 data_as_of;
	struct store_marker	 marker;
	uint64_t		 shape;
};
/* The stored blob of k (malloc'd, the caller frees); PCS_ENOTFOUND when none. */
enum pcs_err	 store_published_get(struct store *st, const struct store_pub_key *k,
		    uint8_t **blob, size_t *len) PCS_MUST;
/*
 * One builder per form at a time: BEGIN ISOLATION LEVEL REPEATABLE READ
 * and pg_try_advisory_xact_lock(lock).  *got true: the transaction stays
 * open (end it with store_published_commit() or _rollback()); false: it was rolled back and
 * another worker is building.
 */
enum pcs_err	 store_published_begin(struct store *st, int64_t lock, bool *got) PCS_MUST;
/* Waits until whoever holds lock is done (a transaction of its own). */
enum pcs_err	 store_published_wait(struct store *st, int64_t lock) PCS_MUST;
/*
 * Inside store_published_begin(): stores blob under k (replacing a damaged
 * one) and deletes the form's older lattices.
 */
enum pcs_err	 store_published_put(struct store *st, const struct store_pub_key *k,
		    const uint8_t *blob, size_t len) PCS_MUST;
/* Ends the transaction of store_published_begin(): commits, or rolls back. */
enum pcs_err	 store_published_commit(struct store *st) PCS_MUST;
void		 store_published_rollback(struct store *st);

/* totals[i]: number of responses of form_ids[i] submitted before before[i]. */
enum pcs_err	 store_form_totals(struct store *st, const char *const *form_ids,
		    const int64_t *before, size_t n, int64_t *totals) PCS_MUST;

#endif
