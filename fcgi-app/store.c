/*
 * store.c: the only includer of libpq-fe.h.  All SQL of the server is in
 * the stmts[] table below, prepared on each new connection (T-32); values
 * travel out of line.  PQerrorMessage() is never logged (its DETAIL can
 * quote a value): only the SQLSTATE and the statement name.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "limits.h"
#include "log.h"
#include "ref.h"
#include "refdata.h"
#include "store.h"
#include "store_int.h"

enum stmt {
	STMT_SCHEMA_VERSION,
	STMT_DRAFT_INSERT,
	STMT_DRAFT_GET,
	STMT_DRAFT_UPDATE,
	STMT_DRAFT_DELETE,
	STMT_INVITE_USE,
	STMT_RESPONSE_INSERT,
	STMT_RESPONSE_EXISTS,
	STMT_WITHDRAW,
	STMT_INVITE_FIND,
	STMT_SUBMIT,
	STMT_KEY_BIND,
	STMT_KEY_REBIND,
	STMT__MAX
};

static const struct store_stmt stmts[] = {
	[STMT_SCHEMA_VERSION] = { "schema_version",
	    "SELECT coalesce(max(version), 0) FROM pcs.schema_migrations", 0 },
	[STMT_DRAFT_INSERT] = { "draft_insert",
	    "INSERT INTO pcs.draft (id_hash, form_id, expires, box) "
	    "VALUES ($1, $2, $3::date, $4)", 4 },
	[STMT_DRAFT_GET] = { "draft_get",
	    "SELECT box FROM pcs.draft WHERE id_hash = $1 AND form_id = $2 "
	    "AND expires >= $3::date", 3 },
	[STMT_DRAFT_UPDATE] = { "draft_update",
	    "UPDATE pcs.draft SET box = $2, expires = $3::date WHERE id_hash = $1", 3 },
	[STMT_DRAFT_DELETE] = { "draft_delete",
	    "DELETE FROM pcs.draft WHERE id_hash = $1", 1 },
	[STMT_INVITE_USE] = { "invite_use",
	    "UPDATE pcs.invitation SET used = true WHERE code_hash = $1 AND NOT used", 1 },
	[STMT_RESPONSE_INSERT] = { "response_insert",
	    "INSERT INTO pcs.response (rid, form_id, form_version, submitted, "
	    "receipt_hash, pseudonym, icb, region, role, staff_group, org_type, answers) "
	    "VALUES ($1, $2, $3::integer, $4::date, $5, $6, $7, $8, $9, $10, $11, $12::jsonb) "
	    "ON CONFLICT (receipt_hash) DO NOTHING", 12 },
	[STMT_RESPONSE_EXISTS] = { "response_exists",
	    "SELECT 1 FROM pcs.response WHERE receipt_hash = $1", 1 },
	[STMT_WITHDRAW] = { "withdraw",
	    "DELETE FROM pcs.response WHERE receipt_hash = $1", 1 },
	[STMT_INVITE_FIND] = { "invite_find",
	    "SELECT form_id FROM pcs.invitation WHERE code_hash = $1 AND NOT used", 1 },
	/*
	 * A submission without an invitation in one statement, so one round
	 * trip and one implicit transaction instead of BEGIN, INSERT, DELETE,
	 * COMMIT (perf.md B2: 5 statements per submit became 2, with the
	 * draft read).  The draft goes only if the row went in: a repeated
	 * submit (receipt already stored) changes nothing, as before.
	 */
	[STMT_SUBMIT] = { "submit",
	    "WITH ins AS (INSERT INTO pcs.response (rid, form_id, form_version, submitted, "
	    "receipt_hash, pseudonym, icb, region, role, staff_group, org_type, answers) "
	    "VALUES ($1, $2, $3::integer, $4::date, $5, $6, $7, $8, $9, $10, $11, $12::jsonb) "
	    "ON CONFLICT (receipt_hash) DO NOTHING RETURNING 1), "
	    "del AS (DELETE FROM pcs.draft WHERE id_hash = $13 AND EXISTS (SELECT 1 FROM ins)) "
	    "SELECT count(*) FROM ins", 13 },
	/*
	 * 0003_key_binding.sql: true when this key is accepted (it is bound,
	 * or the file had no binding and now has this one).
	 */
	[STMT_KEY_BIND] = { "key_bind",
	    "WITH ins AS (INSERT INTO pcs.key_binding (name, fingerprint, bound) "
	    "SELECT $1, $2, current_date WHERE NOT EXISTS "
	    "(SELECT 1 FROM pcs.key_binding WHERE name = $1) "
	    "ON CONFLICT DO NOTHING RETURNING 1) "
	    "SELECT EXISTS (SELECT 1 FROM ins) OR EXISTS "
	    "(SELECT 1 FROM pcs.key_binding WHERE name = $1 AND fingerprint = $2)", 2 },
	/* --accept-new-keys: accept this key too */
	[STMT_KEY_REBIND] = { "key_rebind",
	    "WITH ins AS (INSERT INTO pcs.key_binding (name, fingerprint, bound) "
	    "VALUES ($1, $2, current_date) ON CONFLICT DO NOTHING RETURNING 1) "
	    "SELECT true", 2 },
};
_Static_assert(sizeof(stmts) / sizeof(stmts[0]) == STMT__MAX, "stmts[]");

struct store *
store_new(const char *conninfo)
{
	struct store *st = calloc(1, sizeof(*st));

	if (st == NULL || (st->conninfo = strdup(conninfo)) == NULL) {
		free(st);
		return NULL;
	}
	return st;
}

void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	if (st->conn)
		PQfinish(st->conn);
	free(st->conninfo);
	free(st);
}

int
store_expected_version(void)
{
	int n = 0;

	while (migration_files[n].name)
		n++;
	return n;
}

/*
 * libpq prints server notices (e.g. "terminating connection due to
 * immediate shutdown") to stderr by default: that would break the one-line
 * `ts level event key=value` log, and a notice may quote a value.  Log the
 * event only.
 */
static void
notice_to_log(void *arg, const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	(void)arg;
	log_event(LOG_WARN, "db_notice", "sqlstate=%s", state ? state : "none");
}

PGconn *
store_connect(const char *conninfo)
{
	/*
	 * Over TCP (libpq ignores these on a unix socket), a peer that vanishes
	 * is noticed in about 20 s, not the kernel's 2 h 11 min (T-34); they
	 * come before dbname so the configured conninfo can override them.
	 */
	const char *keys[] = { "keepalives_idle", "keepalives_interval", "keepalives_count",
	    "tcp_user_timeout", "dbname", "connect_timeout", "application_name", NULL };
	const char *vals[] = { "10", "3", "3", "20000", conninfo, "3", "pcsurvey", NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	PGresult *res;

	if (c == NULL)
		return NULL;
	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeReceiver(c, notice_to_log, NULL);
	/* style: an empty search_path, so every name must be schema-qualified */
	res = PQexecParams(c, "SELECT pg_catalog.set_config('search_path', '', false), "
	    "pg_catalog.set_config('client_min_messages', 'warning', false)",
	    0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		PQclear(res);
		PQfinish(c);
		return NULL;
	}
	PQclear(res);
	return c;
}

static bool
prepare_all(PGconn *conn, const struct store_stmt *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		PGresult *res = PQprepare(conn, t[i].name, t[i].sql, t[i].nparams, NULL);
		ExecStatusType s = PQresultStatus(res);

		PQclear(res);
		if (s != PGRES_COMMAND_OK) {
			log_event(LOG_ERROR, "db_prepare_failed", "stmt=%s", t[i].name);
			return false;
		}
	}
	return true;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
store_await(struct store *st, const char *what)
{
	long long deadline;

	if (st->reply_ms <= 0 || st->conn == NULL)
		return true;
	deadline = mono_ms() + st->reply_ms;
	while (PQisBusy(st->conn)) {
		struct pollfd p = { .fd = PQsocket(st->conn), .events = POLLIN };
		long long left = deadline - mono_ms();
		int n = left > 0 ? poll(&p, 1, (int)left) : 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			/* the server ends the backend when it sees the socket close */
			log_event(LOG_WARN, "db_timeout", "stmt=%s ms=%d", what, st->reply_ms);
			PQfinish(st->conn);
			st->conn = NULL;
			return false;
		}
		if (n < 0 || !PQconsumeInput(st->conn))
			return true;	/* PQgetResult() reports the broken link */
	}
	return true;
}

/* The last result of a query already sent, each wait bounded; NULL when dropped. */
static PGresult *
collect(struct store *st, const char *what)
{
	PGresult *res = NULL, *r;

	for (;;) {
		if (!store_await(st, what)) {
			PQclear(res);
			return NULL;
		}
		if ((r = PQgetResult(st->conn)) == NULL)
			return res;
		PQclear(res);
		res = r;
	}
}

/* PQexecPrepared with the reply wait bounded (store_await); NULL when dropped. */
PGresult *
store_exec_prepared(struct store *st, const char *name, int n, const char *const *vals,
    const int *lens, const int *fmts, int resfmt)
{
	if (st->reply_ms <= 0)
		return PQexecPrepared(st->conn, name, n, vals, lens, fmts, resfmt);
	if (!PQsendQueryPrepared(st->conn, name, n, vals, lens, fmts, resfmt))
		return NULL;
	return collect(st, name);
}

static const struct {
	const char	*name;		/* for the log */
	const char	*sql;
} fixed[] = {
	[SF_BEGIN] = { "begin", "BEGIN" },
	[SF_BEGIN_SNAPSHOT] = { "begin_snapshot", "BEGIN ISOLATION LEVEL REPEATABLE READ" },
	[SF_BEGIN_SNAPSHOT_RO] = { "begin_snapshot_ro",
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" },
	[SF_COMMIT] = { "commit", "COMMIT" },
	[SF_ROLLBACK] = { "rollback", "ROLLBACK" },
	[SF_LOCK_TIMEOUT] = { "lock_timeout",
	    "SELECT pg_catalog.set_config('lock_timeout', '" PCS_DB_LOCK_TIMEOUT "', false)" },
	[SF_WAIT_FOR_BUILDER] = { "wait_for_builder",
	    "SET LOCAL lock_timeout = '" PCS_DB_BUILD_WAIT "'" },
};
_Static_assert(sizeof(fixed) / sizeof(fixed[0]) == SF__MAX, "fixed[]");

PGresult *
store_conn_exec_fixed(PGconn *c, enum store_fixed f)
{
	return PQexecParams(c, fixed[f].sql, 0, NULL, NULL, NULL, NULL, 0);
}

PGresult *
store_exec_fixed(struct store *st, enum store_fixed f)
{
	if (st->reply_ms <= 0)
		return store_conn_exec_fixed(st->conn, f);
	if (!PQsendQueryParams(st->conn, fixed[f].sql, 0, NULL, NULL, NULL, NULL, 0))
		return NULL;
	return collect(st, fixed[f].name);
}

void
store_rollback(struct store *st)
{
	if (st->conn != NULL)
		PQclear(store_exec_fixed(st, SF_ROLLBACK));
}

enum pcs_err
store_run_fixed(struct store *st, enum store_fixed f)
{
	PGresult *res = store_exec_fixed(st, f);
	ExecStatusType rs = PQresultStatus(res);
	enum pcs_err err = PCS_OK;

	if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK)
		err = store_fail(st, res, fixed[f].name);
	PQclear(res);
	return err;
}

void
store_set_worker_limits(struct store *st)
{
	st->reply_ms = PCS_DB_REPLY_MS;
}

/*
 * Binds or checks the two fingerprints on st->conn: PCS_OK, PCS_ECRYPTO
 * (*which names the key file not accepted) or a store_fail() error.
 */
static enum pcs_err
keys_compare(struct store *st, bool rebind, const char **which)
{
	static const char *const names[] = { "pseudonym.key", "research.pub" };
	const uint8_t *fps[] = { st->keys.pseudonym, st->keys.research };
	const struct store_stmt *s = &stmts[rebind ? STMT_KEY_REBIND : STMT_KEY_BIND];

	for (size_t i = 0; i < 2; i++) {
		const char *vals[2] = { names[i], (const char *)fps[i] };
		int lens[2] = { 0, STORE_HASH_BYTES }, fmts[2] = { 0, 1 };
		PGresult *res = store_exec_prepared(st, s->name, 2, vals, lens, fmts, 0);
		bool same;

		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			enum pcs_err err = store_fail(st, res, s->name);

			PQclear(res);
			return err;
		}
		same = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		if (!same) {
			*which = names[i];
			return PCS_ECRYPTO;
		}
	}
	return PCS_OK;
}

/*
 * A worker's new connection: its keys must be the bound ones (T-37: the
 * database may have come up only after the supervisor's start-up check).
 * A difference is final: the worker refuses to go on (store_keys_refused).
 */
static enum pcs_err
keys_on_connect(struct store *st)
{
	const char *which = NULL;
	enum pcs_err err = keys_compare(st, false, &which);

	if (err == PCS_ECRYPTO) {
		log_event(LOG_ERROR, "key_mismatch", "file=%s", which);
		st->keys_refused = true;
	}
	if (err != PCS_OK && st->conn) {
		PQfinish(st->conn);
		st->conn = NULL;
	}
	return err;
}

/* A worker's connection: lock_timeout (T-36), so a held lock is a fast 503. */
static bool
worker_settings(struct store *st)
{
	return st->reply_ms <= 0 || store_run_fixed(st, SF_LOCK_TIMEOUT) == PCS_OK;
}

/* Connects and prepares every statement (ours and store_research.c's) if needed. */
enum pcs_err
store_ensure(struct store *st)
{
	if (st->keys_refused)
		return PCS_EDBDOWN;
	if (st->conn && PQstatus(st->conn) == CONNECTION_OK)
		return PCS_OK;
	if (st->conn) {
		PQfinish(st->conn);
		st->conn = NULL;
	}
	if ((st->conn = store_connect(st->conninfo)) == NULL) {
		log_event(LOG_WARN, "db_connect_failed", NULL);
		return PCS_EDBDOWN;
	}
	if (!worker_settings(st) || !prepare_all(st->conn, stmts, STMT__MAX) ||
	    !prepare_all(st->conn, research_stmts, research_nstmts)) {
		PQfinish(st->conn);
		st->conn = NULL;
		return PCS_EDBDOWN;
	}
	if (st->has_keys && keys_on_connect(st) != PCS_OK)
		return PCS_EDBDOWN;
	log_event(LOG_INFO, "db_connected", NULL);
	return PCS_OK;
}

void
store_request_end(struct store *st)
{
	PGTransactionStatusType ts;

	if (st->conn == NULL)
		return;
	ts = PQtransactionStatus(st->conn);
	if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
		/* a path that forgot its ROLLBACK must not poison the next request */
		log_event(LOG_WARN, "db_tx_left_open", "state=%s",
		    ts == PQTRANS_INERROR ? "failed" : "open");
		store_rollback(st);
	}
}

void
store_set_keys(struct store *st, const struct store_keys *k)
{
	st->keys = *k;
	st->has_keys = true;
}

bool
store_keys_refused(const struct store *st)
{
	return st->keys_refused;
}

enum pcs_err
store_keys_check(struct store *st, const struct store_keys *k, bool rebind,
    const char **which)
{
	enum pcs_err err;

	st->keys = *k;
	st->has_keys = false;		/* store_ensure must not compare before a rebind */
	if ((err = store_ensure(st)) == PCS_OK)
		err = keys_compare(st, rebind, which);
	st->has_keys = true;
	return err;
}

/* Classifies a failed result: lost connection, unique violation, or a bug. */
enum pcs_err
store_fail(struct store *st, PGresult *res, const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *cons = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;

	/*
	 * No SQLSTATE means libpq itself failed (a killed backend often looks
	 * like this while PQstatus still says OK): drop the connection.
	 */
	if (st->conn == NULL || PQstatus(st->conn) != CONNECTION_OK || state == NULL ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0) {
		log_event(LOG_WARN, "db_down", "stmt=%s sqlstate=%s", what,
		    state ? state : "none");
		if (st->conn)
			PQfinish(st->conn);
		st->conn = NULL;
		return PCS_EDBDOWN;
	}
	if (strcmp(state, "23505") == 0)
		return PCS_ECONFLICT;
	/* lock_timeout (55P03) or a cancelled statement (57014): busy, try again */
	if (strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0) {
		log_event(LOG_WARN, "db_busy", "stmt=%s sqlstate=%s", what, state);
		return PCS_EDBDOWN;
	}
	log_event(LOG_ERROR, "db_error", "stmt=%s sqlstate=%s constraint=%s",
	    what, state, cons ? cons : "none");
	return PCS_EINTERNAL;
}

enum pcs_err
store_run(struct store *st, const struct store_stmt *s, const char *const *vals,
    const int *lens, const int *fmts, PGresult **out)
{
	PGresult *res;
	ExecStatusType rs;
	enum pcs_err err;

	*out = NULL;
	if ((err = store_ensure(st)) != PCS_OK)
		return err;
	res = store_exec_prepared(st, s->name, s->nparams, vals, lens, fmts, 0);
	rs = PQresultStatus(res);
	if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
		err = store_fail(st, res, s->name);
		PQclear(res);
		return err;
	}
	*out = res;
	return PCS_OK;
}

/* Runs one of our statements; *out is the result (PQclear it) on PCS_OK. */
static enum pcs_err
run(struct store *st, enum stmt s, const char *const *vals, const int *lens,
    const int *fmts, PGresult **out)
{
	return store_run(st, &stmts[s], vals, lens, fmts, out);
}

/*
 * Transaction control (SF_BEGIN, SF_COMMIT, SF_ROLLBACK): on st's
 * connection with its bound and its failure handling, or on an operator
 * command's conn when st is NULL.
 */
static enum pcs_err
run_tx(PGconn *conn, struct store *st, enum store_fixed f)
{
	PGresult *res;
	enum pcs_err err = PCS_OK;

	if (st != NULL)
		return store_run_fixed(st, f);
	res = store_conn_exec_fixed(conn, f);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		err = PCS_EINTERNAL;
	PQclear(res);
	return err;
}

enum pcs_err
store_schema_version(struct store *st, int *version)
{
	PGresult *res;
	enum pcs_err err = run(st, STMT_SCHEMA_VERSION, NULL, NULL, NULL, &res);

	if (err != PCS_OK)
		return err;
	*version = PQntuples(res) == 1 ? atoi(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return PCS_OK;
}

enum pcs_err
store_draft_insert(struct store *st, const uint8_t id[STORE_HASH_BYTES],
    const char *form_id, int64_t expires, const uint8_t *box, size_t len)
{
	char day[11];
	const char *vals[4] = { (const char *)id, form_id, day, (const char *)box };
	int lens[4] = { STORE_HASH_BYTES, 0, 0, (int)len }, fmts[4] = { 1, 0, 0, 1 };
	PGresult *res;
	enum pcs_err err;

	date_format(expires, day);
	err = run(st, STMT_DRAFT_INSERT, vals, lens, fmts, &res);
	PQclear(res);
	return err;
}

enum pcs_err
store_draft_get(struct store *st, struct arena *a, const uint8_t id[STORE_HASH_BYTES],
    const char *form_id, int64_t today, uint8_t **box, size_t *len)
{
	char day[11];
	const char *vals[3] = { (const char *)id, form_id, day };
	int lens[3] = { STORE_HASH_BYTES, 0, 0 }, fmts[3] = { 1, 0, 0 };
	PGresult *res;
	enum pcs_err err;

	date_format(today, day);
	if ((err = run(st, STMT_DRAFT_GET, vals, lens, fmts, &res)) != PCS_OK)
		return err;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return PCS_ENOTFOUND;
	}
	/* binary result would need PQexecPrepared(..., 1): bytea comes as \x hex text */
	{
		size_t n;
		unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 0), &n);

		PQclear(res);
		if (raw == NULL)
			return PCS_ENOMEM;
		if ((*box = arena_alloc(a, n ? n : 1)) == NULL) {
			PQfreemem(raw);
			return PCS_ENOMEM;
		}
		memcpy(*box, raw, n);
		*len = n;
		PQfreemem(raw);
	}
	return PCS_OK;
}

enum pcs_err
store_draft_update(struct store *st, const uint8_t id[STORE_HASH_BYTES], int64_t expires,
    const uint8_t *box, size_t len)
{
	char day[11];
	const char *vals[3] = { (const char *)id, (const char *)box, day };
	int lens[3] = { STORE_HASH_BYTES, (int)len, 0 }, fmts[3] = { 1, 1, 0 };
	PGresult *res;
	enum pcs_err err;

	date_format(expires, day);
	err = run(st, STMT_DRAFT_UPDATE, vals, lens, fmts, &res);
	if (err == PCS_OK && atoi(PQcmdTuples(res)) != 1)
		err = PCS_ENOTFOUND;
	PQclear(res);
	return err;
}

/* The 12 parameters of response_insert (and the first 12 of submit). */
static void
response_params(const struct response_row *r, char day[11], char version[16],
    const char **vals, int *lens, int *fmts)
{
	date_format(r->submitted, day);
	snprintf(version, 16, "%d", r->form_version);
	vals[0] = (const char *)r->rid; lens[0] = STORE_RID_BYTES; fmts[0] = 1;
	vals[1] = r->form_id;
	vals[2] = version;
	vals[3] = day;
	vals[4] = (const char *)r->receipt_hash; lens[4] = STORE_HASH_BYTES; fmts[4] = 1;
	vals[5] = (const char *)r->pseudonym; lens[5] = STORE_HASH_BYTES; fmts[5] = 1;
	vals[6] = r->dims[DIM_ICB];
	vals[7] = r->dims[DIM_REGION];
	vals[8] = r->dims[DIM_ROLE];
	vals[9] = r->dims[DIM_STAFF_GROUP];
	vals[10] = r->dims[DIM_ORG_TYPE];
	vals[11] = r->answers.p;
}

/* No invitation: one statement (STMT_SUBMIT), committed when it returns. */
static enum pcs_err
submit_one(struct store *st, const struct response_row *r, enum store_submit_result *out)
{
	char day[11], version[16];
	const char *vals[13];
	int lens[13] = { 0 }, fmts[13] = { 0 };
	PGresult *res;
	enum pcs_err err;

	response_params(r, day, version, vals, lens, fmts);
	vals[12] = (const char *)r->draft_id; lens[12] = STORE_HASH_BYTES; fmts[12] = 1;
	err = run(st, STMT_SUBMIT, vals, lens, fmts, &res);
	if (err == PCS_ECONFLICT) {		/* UNIQUE (form_id, pseudonym) */
		*out = SUBMIT_DUPLICATE_PERSON;
		return PCS_OK;
	}
	if (err != PCS_OK)
		return err;
	*out = PQntuples(res) == 1 && atoi(PQgetvalue(res, 0, 0)) == 1 ? SUBMIT_STORED :
	    SUBMIT_ALREADY;
	PQclear(res);
	return PCS_OK;
}

static enum pcs_err
submit_in_tx(struct store *st, const struct response_row *r, enum store_submit_result *out)
{
	char day[11], version[16];
	const char *vals[12];
	int lens[12] = { 0 }, fmts[12] = { 0 };
	PGresult *res;
	enum pcs_err err;
	int n;

	if (r->invite_hash) {
		const char *iv[1] = { (const char *)r->invite_hash };
		int il[1] = { STORE_HASH_BYTES }, ifm[1] = { 1 };

		if ((err = run(st, STMT_INVITE_USE, iv, il, ifm, &res)) != PCS_OK)
			return err;
		n = atoi(PQcmdTuples(res));
		PQclear(res);
		if (n != 1) {
			*out = SUBMIT_INVITE_USED;
			return PCS_OK;
		}
	}
	response_params(r, day, version, vals, lens, fmts);
	err = run(st, STMT_RESPONSE_INSERT, vals, lens, fmts, &res);
	if (err == PCS_ECONFLICT) {		/* UNIQUE (form_id, pseudonym) */
		*out = SUBMIT_DUPLICATE_PERSON;
		return PCS_OK;
	}
	if (err != PCS_OK)
		return err;
	n = atoi(PQcmdTuples(res));
	PQclear(res);
	*out = n == 1 ? SUBMIT_STORED : SUBMIT_ALREADY;
	if (*out == SUBMIT_ALREADY && r->invite_hash) {
		/* idempotent retry: the invitation was used by this very response */
	}
	if (r->draft_id) {
		const char *dv[1] = { (const char *)r->draft_id };
		int dl[1] = { STORE_HASH_BYTES }, df[1] = { 1 };

		if ((err = run(st, STMT_DRAFT_DELETE, dv, dl, df, &res)) != PCS_OK)
			return err;
		PQclear(res);
	}
	return PCS_OK;
}

enum pcs_err
store_submit(struct store *st, const struct response_row *r, enum store_submit_result *out)
{
	enum pcs_err err;

	if (r->invite_hash == NULL)
		return submit_one(st, r, out);
	if ((err = store_ensure(st)) != PCS_OK)
		return err;
	if ((err = run_tx(st->conn, st, SF_BEGIN)) != PCS_OK)
		return err;
	err = submit_in_tx(st, r, out);
	if (err == PCS_OK && *out == SUBMIT_STORED)
		err = run_tx(st->conn, st, SF_COMMIT);
	else	/* a refused or repeated submission changes nothing */
		store_rollback(st);
	return err;
}

enum pcs_err
store_response_exists(struct store *st, const uint8_t receipt[STORE_HASH_BYTES], bool *exists)
{
	const char *vals[1] = { (const char *)receipt };
	int lens[1] = { STORE_HASH_BYTES }, fmts[1] = { 1 };
	PGresult *res;
	enum pcs_err err;

	if ((err = run(st, STMT_RESPONSE_EXISTS, vals, lens, fmts, &res)) != PCS_OK)
		return err;
	*exists = PQntuples(res) == 1;
	PQclear(res);
	return PCS_OK;
}

enum pcs_err
store_withdraw(struct store *st, const uint8_t receipt[STORE_HASH_BYTES], bool *deleted)
{
	const char *vals[1] = { (const char *)receipt };
	int lens[1] = { STORE_HASH_BYTES }, fmts[1] = { 1 };
	PGresult *res;
	enum pcs_err err;

	if ((err = run(st, STMT_WITHDRAW, vals, lens, fmts, &res)) != PCS_OK)
		return err;
	*deleted = atoi(PQcmdTuples(res)) >= 1;
	PQclear(res);
	return PCS_OK;
}

enum pcs_err
store_invite_find(struct store *st, const uint8_t code_hash[STORE_HASH_BYTES], char *form_id,
    size_t form_id_len, bool *found)
{
	const char *vals[1] = { (const char *)code_hash };
	int lens[1] = { STORE_HASH_BYTES }, fmts[1] = { 1 };
	PGresult *res;
	enum pcs_err err;

	*found = false;
	if ((err = run(st, STMT_INVITE_FIND, vals, lens, fmts, &res)) != PCS_OK)
		return err;
	if (PQntuples(res) == 1) {
		snprintf(form_id, form_id_len, "%s", PQgetvalue(res, 0, 0));
		*found = true;
	}
	PQclear(res);
	return PCS_OK;
}

/* ---- export ------------------------------------------------------------ */

/*
 * Rows come in (submitted, random id) order, never the serial's: the order
 * of submissions within a day is not published (privacy.md).
 * Each row's answers come as jsonb's own text (PostgreSQL writes it: one
 * member per key, canonical spacing and escapes) and export_cells() below
 * turns them into one cell per column in the caller's key order, with the
 * meaning of ->> : arrays (choices) joined with ";", sealed and pseudonym
 * objects as their base64 / hex text, everything else as its text.
 * (perf.md B4: this was a per-key subquery in SQL, ARRAY(SELECT ... FROM
 * unnest(keys)), which cost the server about 70 us a row, 10x the scan.)
 */
static const char export_sql[] =
    "SELECT encode(r.rid, 'hex'), r.form_version::text, r.submitted::text, r.answers::text "
    "FROM pcs.response r WHERE r.form_id = $1 ORDER BY r.submitted, r.rid";

/* The column keys, hashed once per export (open addressing, FNV-1a). */
struct keyix {
	const char *const	*keys;
	size_t			*lens;
	uint32_t		*slot;		/* key index + 1; 0: empty */
	size_t			 mask;
};

static uint32_t
fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static bool
keyix_init(struct keyix *ix, const char *const *keys, size_t n)
{
	size_t size = 16;

	while (size < 2 * n)
		size *= 2;
	ix->keys = keys;
	ix->mask = size - 1;
	ix->lens = calloc(n + 1, sizeof(*ix->lens));
	ix->slot = calloc(size, sizeof(*ix->slot));
	if (ix->lens == NULL || ix->slot == NULL)
		return false;
	for (size_t k = 0; k < n; k++) {
		size_t h;

		ix->lens[k] = strlen(keys[k]);
		h = fnv1a(keys[k], ix->lens[k]) & ix->mask;
		while (ix->slot[h])
			h = (h + 1) & ix->mask;
		ix->slot[h] = (uint32_t)k + 1;
	}
	return true;
}

static void
keyix_free(struct keyix *ix)
{
	free(ix->lens);
	free(ix->slot);
}

/* The column of key p[0..n), or -1. */
static long
keyix_find(const struct keyix *ix, const char *p, size_t n)
{
	size_t h = fnv1a(p, n) & ix->mask;

	for (; ix->slot[h]; h = (h + 1) & ix->mask) {
		size_t k = ix->slot[h] - 1;

		if (ix->lens[k] == n && memcmp(ix->keys[k], p, n) == 0)
			return (long)k;
	}
	return -1;
}

/* ---- a reader for jsonb's text output (bounds-checked; false: malformed) */

struct jin {
	const char	*p;
	size_t		 n, i;
};

static void
j_ws(struct jin *j)
{
	while (j->i < j->n && (j->p[j->i] == ' ' || j->p[j->i] == '\t' || j->p[j->i] == '\n' ||
	    j->p[j->i] == '\r'))
		j->i++;
}

static bool
j_eat(struct jin *j, char c)
{
	j_ws(j);
	if (j->i >= j->n || j->p[j->i] != c)
		return false;
	j->i++;
	return true;
}

/* A string after its opening quote: the raw slice, escapes left in. */
static bool
j_str(struct jin *j, struct str *raw, bool *esc)
{
	size_t s = j->i;

	*esc = false;
	while (j->i < j->n) {
		char c = j->p[j->i];

		if (c == '"') {
			*raw = (struct str){ j->p + s, j->i - s };
			j->i++;
			return true;
		}
		if (c == '\\') {
			*esc = true;
			j->i++;
		}
		j->i++;
	}
	return false;
}

static int
hex4(const char *p)
{
	int v = 0;

	for (int k = 0; k < 4; k++) {
		char c = p[k];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* Appends the string raw (escapes in) as UTF-8 text. */
static bool
j_unescape(struct buf *b, struct str raw)
{
	const char *p = raw.p;
	size_t n = raw.len, i = 0, run = 0;

	while (i < n) {
		long u;
		char c;

		if (p[i] != '\\') {
			i++;
			continue;
		}
		buf_add(b, p + run, i - run);
		if (i + 1 >= n)
			return false;
		c = p[i + 1];
		i += 2;
		switch (c) {
		case '"': case '\\': case '/':
			buf_addc(b, c);
			break;
		case 'b': buf_addc(b, '\b'); break;
		case 'f': buf_addc(b, '\f'); break;
		case 'n': buf_addc(b, '\n'); break;
		case 'r': buf_addc(b, '\r'); break;
		case 't': buf_addc(b, '\t'); break;
		case 'u':
			if (n - i < 4 || (u = hex4(p + i)) < 0)
				return false;
			i += 4;
			if (u >= 0xD800 && u <= 0xDBFF) {
				int lo;

				if (n - i < 6 || p[i] != '\\' || p[i + 1] != 'u' ||
				    (lo = hex4(p + i + 2)) < 0xDC00 || lo > 0xDFFF)
					return false;
				i += 6;
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			} else if ((u >= 0xDC00 && u <= 0xDFFF) || u == 0)
				return false;
			if (u < 0x80)
				buf_addc(b, (char)u);
			else {
				char e[4];
				size_t m;

				if (u < 0x800) {
					e[0] = (char)(0xC0 | (u >> 6));
					m = 1;
				} else if (u < 0x10000) {
					e[0] = (char)(0xE0 | (u >> 12));
					e[1] = (char)(0x80 | ((u >> 6) & 0x3F));
					m = 2;
				} else {
					e[0] = (char)(0xF0 | (u >> 18));
					e[1] = (char)(0x80 | ((u >> 12) & 0x3F));
					e[2] = (char)(0x80 | ((u >> 6) & 0x3F));
					m = 3;
				}
				e[m] = (char)(0x80 | (u & 0x3F));
				buf_add(b, e, m + 1);
			}
			break;
		default:
			return false;
		}
		run = i;
	}
	buf_add(b, p + run, n - run);
	return true;
}

/* Skips one value (nesting bounded). */
static bool
j_skip(struct jin *j, int depth)
{
	struct str raw;
	bool esc;
	char open, close;
	size_t s;

	j_ws(j);
	if (j->i >= j->n || depth > 64)
		return false;
	open = j->p[j->i];
	if (open == '"') {
		j->i++;
		return j_str(j, &raw, &esc);
	}
	if (open == '{' || open == '[') {
		close = open == '{' ? '}' : ']';
		j->i++;
		if (j_eat(j, close))
			return true;
		for (;;) {
			if (open == '{' && (!j_eat(j, '"') || !j_str(j, &raw, &esc) || !j_eat(j, ':')))
				return false;
			if (!j_skip(j, depth + 1))
				return false;
			if (j_eat(j, ','))
				continue;
			return j_eat(j, close);
		}
	}
	for (s = j->i; j->i < j->n; j->i++) {	/* number, true, false, null */
		char c = j->p[j->i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+' ||
		    c == '.' || c == 'E'))
			break;
	}
	return j->i > s;
}

/* ->> of the value here: appended to b; *null for JSON null. */
static bool
j_text(struct jin *j, struct buf *b, bool *null)
{
	struct str raw;
	bool esc;
	size_t s;

	*null = false;
	j_ws(j);
	if (j->i < j->n && j->p[j->i] == '"') {
		j->i++;
		if (!j_str(j, &raw, &esc))
			return false;
		if (!esc) {
			buf_addstr(b, raw);
			return true;
		}
		return j_unescape(b, raw);
	}
	s = j->i;
	if (!j_skip(j, 0))
		return false;
	if (j->i - s == 4 && memcmp(j->p + s, "null", 4) == 0)
		*null = true;
	else	/* a number, true, false, or a nested value: its jsonb text */
		buf_add(b, j->p + s, j->i - s);
	return true;
}

static void
buf_cut(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->p[len] = '\0';
	}
}

/* One member's cell (appended to b); *present false when it is NULL in SQL. */
static bool
j_cell(struct jin *j, struct buf *b, bool *present)
{
	bool null;

	j_ws(j);
	if (j->i < j->n && j->p[j->i] == '[') {
		/* string_agg(jsonb_array_elements_text(v), ';'): NULLs skipped */
		size_t mark;

		*present = false;
		j->i++;
		if (j_eat(j, ']'))
			return true;
		for (;;) {
			mark = b->len;
			if (*present)
				buf_addc(b, ';');
			if (!j_text(j, b, &null))
				return false;
			if (null)
				buf_cut(b, mark);
			else
				*present = true;
			if (j_eat(j, ','))
				continue;
			return j_eat(j, ']');
		}
	}
	if (j->i < j->n && j->p[j->i] == '{') {
		/* coalesce(v ->> 'sealed', v ->> 'pseudonym') */
		size_t at[2] = { 0, 0 };
		struct str key;
		bool esc;

		j->i++;
		if (!j_eat(j, '}'))
			for (;;) {
				if (!j_eat(j, '"') || !j_str(j, &key, &esc) || !j_eat(j, ':'))
					return false;
				j_ws(j);
				if (!esc && str_eq_cstr(key, "sealed"))
					at[0] = j->i + 1;
				else if (!esc && str_eq_cstr(key, "pseudonym"))
					at[1] = j->i + 1;
				if (!j_skip(j, 1))
					return false;
				if (j_eat(j, ','))
					continue;
				if (!j_eat(j, '}'))
					return false;
				break;
			}
		*present = false;
		for (int k = 0; k < 2 && !*present; k++) {
			struct jin v = { j->p, j->n, at[k] - 1 };
			size_t mark = b->len;

			if (at[k] == 0)
				continue;
			if (!j_text(&v, b, &null))
				return false;
			if (null)
				buf_cut(b, mark);
			else
				*present = true;
		}
		return true;
	}
	if (!j_text(j, b, &null))
		return false;
	*present = !null;
	return true;
}

/* The cells of one row's answers, as offsets into scratch. */
static bool
export_cells(struct str json, const struct keyix *ix, struct buf *scratch, size_t nkeys,
    size_t *off, size_t *len, bool *present)
{
	struct jin j = { json.p, json.len, 0 };
	struct str key;
	bool esc;

	for (size_t k = 0; k < nkeys; k++)
		present[k] = false;
	buf_reset(scratch);
	if (!j_eat(&j, '{'))
		return false;
	if (j_eat(&j, '}'))
		return true;
	for (;;) {
		long k;

		if (!j_eat(&j, '"') || !j_str(&j, &key, &esc) || !j_eat(&j, ':'))
			return false;
		k = esc ? -1 : keyix_find(ix, key.p, key.len);
		if (k < 0) {
			if (!j_skip(&j, 0))
				return false;
		} else {
			size_t mark = scratch->len;

			if (!j_cell(&j, scratch, &present[k]))
				return false;
			if (present[k]) {
				off[k] = mark;
				len[k] = scratch->len - mark;
			} else
				buf_cut(scratch, mark);
		}
		if (j_eat(&j, ','))
			continue;
		if (!j_eat(&j, '}'))
			return false;
		j_ws(&j);
		return j.i == j.n && scratch->err == PCS_OK;
	}
}

enum pcs_err
store_export(struct store *st, const char *form_id, const char *const *keys, size_t nkeys,
    store_export_fn fn, void *arg)
{
	struct str *cells = calloc(nkeys + 1, sizeof(*cells));
	bool *present = calloc(nkeys + 1, sizeof(*present));
	size_t *off = calloc(nkeys + 1, sizeof(*off)), *len = calloc(nkeys + 1, sizeof(*len));
	struct keyix ix = { NULL, NULL, NULL, 0 };
	struct buf scratch;
	const char *vals[1] = { form_id };
	PGresult *res;
	enum pcs_err err = PCS_OK, cb = PCS_OK;

	buf_init(&scratch, 16 * 1024 * 1024);
	if (cells == NULL || present == NULL || off == NULL || len == NULL ||
	    !keyix_init(&ix, keys, nkeys)) {
		err = PCS_ENOMEM;
		goto out;
	}
	if ((err = store_ensure(st)) != PCS_OK)
		goto out;
	if (!PQsendQueryParams(st->conn, export_sql, 1, NULL, vals, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(st->conn)) {
		err = store_fail(st, NULL, "export");
		goto out;
	}
	/* one row at a time: memory stays flat whatever the number of responses (B4) */
	while (store_await(st, "export") && (res = PQgetResult(st->conn)) != NULL) {
		ExecStatusType rs = PQresultStatus(res);

		if (rs == PGRES_SINGLE_TUPLE && cb == PCS_OK) {
			struct str json = { PQgetvalue(res, 0, 3), (size_t)PQgetlength(res, 0, 3) };

			if (!export_cells(json, &ix, &scratch, nkeys, off, len, present))
				cb = PCS_EINTERNAL;
			else {
				for (size_t k = 0; k < nkeys; k++)
					if (present[k])
						cells[k] = (struct str){ scratch.p + off[k], len[k] };
				cb = fn(arg, (struct str){ PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0) },
				    (struct str){ PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1) },
				    (struct str){ PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2) },
				    cells, present, nkeys);
			}
			if (cb != PCS_OK) {
				PGcancel *cancel = PQgetCancel(st->conn);
				char ebuf[64];

				if (cancel) {
					PQcancel(cancel, ebuf, sizeof(ebuf));
					PQfreeCancel(cancel);
				}
			}
		} else if (rs != PGRES_SINGLE_TUPLE && rs != PGRES_TUPLES_OK && cb == PCS_OK)
			err = store_fail(st, res, "fixed");
		PQclear(res);
		if (st->conn == NULL)
			break;
	}
	if (st->conn == NULL && err == PCS_OK)
		err = PCS_EDBDOWN;	/* store_await() dropped a link that stopped answering */
	if (err == PCS_OK)
		err = cb;
out:
	keyix_free(&ix);
	buf_release(&scratch);
	free(cells);
	free(present);
	free(off);
	free(len);
	return err;
}

/* ---- operator commands (one connection each, not the workers') --------- */

enum pcs_err
store_invite_create(const char *conninfo, const char *form_id, const char *label,
    int64_t issued, const uint8_t (*hashes)[STORE_HASH_BYTES], size_t n, char *msg,
    size_t msglen)
{
	PGconn *c = store_connect(conninfo);
	PGresult *res;
	char day[11];
	enum pcs_err err = PCS_OK;

	if (c == NULL) {
		snprintf(msg, msglen, "cannot connect to the database");
		return PCS_EDBDOWN;
	}
	date_format(issued, day);
	(void)run_tx(c, NULL, SF_BEGIN);
	for (size_t i = 0; i < n && err == PCS_OK; i++) {
		const char *vals[4] = { (const char *)hashes[i], form_id, label, day };
		int lens[4] = { STORE_HASH_BYTES, 0, 0, 0 }, fmts[4] = { 1, 0, 0, 0 };

		res = PQexecParams(c, "INSERT INTO pcs.invitation (code_hash, form_id, label, issued) "
		    "VALUES ($1, $2, $3, $4::date)", 4, NULL, vals, lens, fmts, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(msg, msglen, "could not store the invitations (SQLSTATE %s)",
			    PQresultErrorField(res, PG_DIAG_SQLSTATE) ?
			    PQresultErrorField(res, PG_DIAG_SQLSTATE) : "none");
			err = PCS_EINTERNAL;
		}
		PQclear(res);
	}
	/* all or nothing: codes are printed only after this commit */
	if (err == PCS_OK)
		err = run_tx(c, NULL, SF_COMMIT) == PCS_OK ? PCS_OK : PCS_EDBDOWN;
	else
		(void)run_tx(c, NULL, SF_ROLLBACK);
	PQfinish(c);
	return err;
}

enum pcs_err
store_invite_status(const char *conninfo, const char *form_id, FILE *out, char *msg,
    size_t msglen)
{
	PGconn *c = store_connect(conninfo);
	const char *vals[1] = { form_id };
	PGresult *res;

	if (c == NULL) {
		snprintf(msg, msglen, "cannot connect to the database");
		return PCS_EDBDOWN;
	}
	res = PQexecParams(c, "SELECT coalesce(label, ''), count(*), count(*) FILTER (WHERE used) "
	    "FROM pcs.invitation WHERE form_id = $1 GROUP BY 1 ORDER BY 1", 1, NULL, vals,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(msg, msglen, "could not read the invitations");
		PQclear(res);
		PQfinish(c);
		return PCS_EINTERNAL;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		struct buf line;

		buf_init(&line, 4096);
		csv_write_cell(&line, str_cstr(PQgetvalue(res, i, 0)));
		csv_write_sep(&line);
		buf_adds(&line, PQgetvalue(res, i, 1));
		csv_write_sep(&line);
		buf_adds(&line, PQgetvalue(res, i, 2));
		csv_write_eol(&line);
		fwrite(line.p, 1, line.len, out);
		buf_release(&line);
	}
	PQclear(res);
	PQfinish(c);
	return PCS_OK;
}

enum pcs_err
store_purge(const char *conninfo, int64_t today, const struct formset *fs, long *drafts,
    long *responses, char *msg, size_t msglen)
{
	PGconn *c = store_connect(conninfo);
	PGresult *res;
	char day[11];
	const char *v[2];
	enum pcs_err err = PCS_OK;

	*drafts = *responses = 0;
	if (c == NULL) {
		snprintf(msg, msglen, "cannot connect to the database");
		return PCS_EDBDOWN;
	}
	date_format(today, day);
	v[0] = day;
	res = PQexecParams(c, "DELETE FROM pcs.draft WHERE expires < $1::date", 1, NULL, v,
	    NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_COMMAND_OK)
		*drafts = atol(PQcmdTuples(res));
	else
		err = PCS_EINTERNAL;
	PQclear(res);
	for (size_t i = 0; i < fs->n && err == PCS_OK; i++) {
		const struct form *f = fs->v[i];
		char cut[11];

		if (f->retention_days <= 0)
			continue;
		/* privacy.md: responses past their form's retention_days */
		date_format(today - f->retention_days, cut);
		v[0] = f->id;
		v[1] = cut;
		res = PQexecParams(c, "DELETE FROM pcs.response WHERE form_id = $1 "
		    "AND submitted < $2::date", 2, NULL, v, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			*responses += atol(PQcmdTuples(res));
		else
			err = PCS_EINTERNAL;
		PQclear(res);
	}
	if (err != PCS_OK)
		snprintf(msg, msglen, "the purge failed part way; run it again");
	PQfinish(c);
	return err;
}

/* ---- migrate ---------------------------------------------------------- */

static int
exec_params(PGconn *c, const char *sql, int n, const char *const *vals, char *msg,
    size_t msglen)
{
	PGresult *res = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
	ExecStatusType s = PQresultStatus(res);

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		snprintf(msg, msglen, "%s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

static int
load_reference(PGconn *c, char *msg, size_t msglen)
{
	static const struct {
		enum ref_list	 list;
		const char	*sql;
	} upserts[] = {
		{ REF_REGIONS, "INSERT INTO pcs.region (code, ons_code, name) VALUES ($1, $2, $3) "
		    "ON CONFLICT (code) DO UPDATE SET ons_code = $2, name = $3" },
		{ REF_ICBS, "INSERT INTO pcs.icb (code, ons_code, name, short_name, region_code, "
		    "valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6::date, $7::date) "
		    "ON CONFLICT (code) DO UPDATE SET ons_code = $2, name = $3, short_name = $4, "
		    "region_code = $5, valid_from = $6::date, valid_to = $7::date" },
		{ REF_STAFF_GROUPS, "INSERT INTO pcs.staff_group (code, label) VALUES ($1, $2) "
		    "ON CONFLICT (code) DO UPDATE SET label = $2" },
		{ REF_STAFF_ROLES, "INSERT INTO pcs.staff_role (code, label, staff_group) "
		    "VALUES ($1, $2, $3) ON CONFLICT (code) DO UPDATE SET label = $2, staff_group = $3" },
		{ REF_ORG_TYPES, "INSERT INTO pcs.org_type (code, label) VALUES ($1, $2) "
		    "ON CONFLICT (code) DO UPDATE SET label = $2" },
	};

	for (size_t u = 0; u < sizeof(upserts) / sizeof(upserts[0]); u++) {
		const struct ref_table *t = ref_table(upserts[u].list);

		for (size_t i = 0; i < t->n; i++) {
			const struct ref_entry *e = &t->v[i];
			char from[11] = "", to[11] = "";
			const char *v[7];
			int n;

			if (e->valid_from != INT64_MIN)
				date_format(e->valid_from, from);
			if (e->valid_to != INT64_MAX)
				date_format(e->valid_to, to);
			switch (upserts[u].list) {
			case REF_REGIONS:
				v[0] = e->code; v[1] = e->ons_code; v[2] = e->full_name; n = 3;
				break;
			case REF_ICBS:
				v[0] = e->code; v[1] = e->ons_code; v[2] = e->full_name;
				v[3] = e->label; v[4] = e->parent;
				v[5] = from[0] ? from : NULL; v[6] = to[0] ? to : NULL; n = 7;
				break;
			case REF_STAFF_ROLES:
				v[0] = e->code; v[1] = e->label; v[2] = e->parent; n = 3;
				break;
			case REF_STAFF_GROUPS:
			case REF_ORG_TYPES:
			case REF__MAX:
			default:
				v[0] = e->code; v[1] = e->label; n = 2;
				break;
			}
			if (exec_params(c, upserts[u].sql, n, v, msg, msglen) != 0)
				return -1;
		}
	}
	return 0;
}

enum pcs_err
store_migrate(const char *conninfo, int *applied, char *msg, size_t msglen)
{
	PGconn *c = NULL;
	PGresult *res = NULL;
	enum pcs_err err = PCS_EDBDOWN;
	int have = 0;

	*applied = 0;
	/* versions are positions: a gap in the file numbers would skip a file */
	for (int i = 0; migration_files[i].name; i++)
		if (strtol(migration_files[i].name, NULL, 10) != i + 1) {
			snprintf(msg, msglen, "sql/migrations/%s.sql is not number %04d: the files "
			    "must be numbered 0001, 0002, ... without a gap (rebuild)",
			    migration_files[i].name, i + 1);
			return PCS_EINTERNAL;
		}
	if ((c = store_connect(conninfo)) == NULL) {
		snprintf(msg, msglen, "cannot connect to the database (check `database` in "
		    "the configuration and that PostgreSQL is running)");
		goto out;
	}
	err = PCS_EINTERNAL;
	if (exec_params(c, "CREATE SCHEMA IF NOT EXISTS pcs", 0, NULL, msg, msglen) != 0 ||
	    exec_params(c, "CREATE TABLE IF NOT EXISTS pcs.schema_migrations (version integer "
	    "PRIMARY KEY, name text NOT NULL, applied_on date NOT NULL DEFAULT CURRENT_DATE)",
	    0, NULL, msg, msglen) != 0)
		goto out;
	res = PQexecParams(c, "SELECT coalesce(max(version), 0) FROM pcs.schema_migrations",
	    0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		goto out;
	have = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	res = NULL;
	for (int i = have; migration_files[i].name; i++) {
		char ver[16];
		const char *v[2] = { ver, migration_files[i].name };

		snprintf(ver, sizeof(ver), "%d", i + 1);
		(void)run_tx(c, NULL, SF_BEGIN);
		/*
		 * A migration is our own trusted SQL compiled into the binary:
		 * several statements, no parameters, so PQexec is the right call.
		 */
		res = PQexec(c, migration_files[i].data);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(msg, msglen, "migration %s failed: %s", migration_files[i].name,
			    PQresultErrorMessage(res));
			PQclear(res);
			res = NULL;
			(void)run_tx(c, NULL, SF_ROLLBACK);
			goto out;
		}
		PQclear(res);
		res = NULL;
		if (exec_params(c, "INSERT INTO pcs.schema_migrations (version, name) "
		    "VALUES ($1::integer, $2)", 2, v, msg, msglen) != 0 ||
		    run_tx(c, NULL, SF_COMMIT) != PCS_OK)
			goto out;
		(*applied)++;
	}
	(void)run_tx(c, NULL, SF_BEGIN);
	if (load_reference(c, msg, msglen) != 0) {
		(void)run_tx(c, NULL, SF_ROLLBACK);
		goto out;
	}
	if (run_tx(c, NULL, SF_COMMIT) != PCS_OK)
		goto out;
	err = PCS_OK;
out:
	PQclear(res);
	if (c)
		PQfinish(c);
	return err;
}
