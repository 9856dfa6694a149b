/*
 * store_research.c: the researchers' queries (http-api.md: Researcher API):
 * tokens, sessions, the access audit and the true counts behind every
 * published figure.  Shares the connection and helpers of store.c through
 * store_int.h; every statement is in research_stmts[], prepared on each
 * connect, with out-of-line parameters only.  Trusts nothing it reads back
 * beyond libpq's framing: counts are parsed strictly, unexpected values are
 * passed on as text for the caller to match against its own lists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "log.h"
#include "store_int.h"

enum rstmt {
	RS_TOKEN_CREATE,
	RS_TOKEN_LIST,
	RS_TOKEN_REVOKE,
	RS_TOKEN_FIND,
	RS_TOKEN_TOUCH,
	RS_SESSION_CREATE,
	RS_SESSION_FIND,
	RS_SESSION_DELETE,
	RS_SESSION_PURGE,
	RS_AUDIT,
	RS_COUNTS_MARKER,
	RS_COUNTS_ROWS,
	RS_FORM_TOTALS,
	RS_PUB_GET,
	RS_PUB_TRYLOCK,
	RS_PUB_LOCK,
	RS_PUB_PUT,
	RS_PUB_PRUNE,
	RS__MAX
};

const struct store_stmt research_stmts[] = {
	[RS_TOKEN_CREATE] = { "research_token_create",
	    "INSERT INTO pcs.api_token (name, scope, token_hash, created) "
	    "VALUES ($1, $2, $3, $4::date) RETURNING id", 4 },
	[RS_TOKEN_LIST] = { "research_token_list",
	    "SELECT id::text, name, scope, created::text, coalesce(last_used::text, ''), "
	    "coalesce(revoked::text, '') FROM pcs.api_token ORDER BY id", 0 },
	/* privacy.md: a revoked token opens nothing, its sessions included */
	[RS_TOKEN_REVOKE] = { "research_token_revoke",
	    "WITH t AS (UPDATE pcs.api_token SET revoked = $2::date "
	    "WHERE id = $1::integer AND revoked IS NULL RETURNING id), "
	    "s AS (DELETE FROM pcs.research_session WHERE token_id IN (SELECT id FROM t)) "
	    "SELECT count(*) FROM t", 2 },
	[RS_TOKEN_FIND] = { "research_token_find",
	    "SELECT id, scope, token_hash FROM pcs.api_token "
	    "WHERE token_hash = $1 AND revoked IS NULL", 1 },
	[RS_TOKEN_TOUCH] = { "research_token_touch",
	    "UPDATE pcs.api_token SET last_used = $2::date WHERE id = $1::integer "
	    "AND (last_used IS NULL OR last_used < $2::date)", 2 },
	[RS_SESSION_CREATE] = { "research_session_create",
	    "INSERT INTO pcs.research_session (id_hash, token_id, expires) "
	    "VALUES ($1, $2::integer, now() + make_interval(secs => $3::integer))", 3 },
	[RS_SESSION_FIND] = { "research_session_find",
	    "SELECT t.id, t.scope, s.id_hash FROM pcs.research_session s "
	    "JOIN pcs.api_token t ON t.id = s.token_id "
	    "WHERE s.id_hash = $1 AND s.expires > now() AND t.revoked IS NULL", 1 },
	[RS_SESSION_DELETE] = { "research_session_delete",
	    "DELETE FROM pcs.research_session WHERE id_hash = $1", 1 },
	[RS_SESSION_PURGE] = { "research_session_purge",
	    "DELETE FROM pcs.research_session WHERE expires <= now()", 0 },
	[RS_AUDIT] = { "research_audit",
	    "INSERT INTO pcs.access_audit (day, token_id, via, what, form_id, detail, status) "
	    "VALUES ($1::date, $2::integer, $3, $4, $5, $6, $7::integer)", 7 },
	/* 0006_change_marker.sql: the deletions so far and the highest counted id */
	[RS_COUNTS_MARKER] = { "research_counts_marker",
	    "SELECT (SELECT n FROM pcs.response_deletions), coalesce((SELECT id FROM pcs.response "
	    "WHERE form_id = $1 AND submitted < $2::date ORDER BY id DESC LIMIT 1), 0), 0", 2 },
	/*
	 * One scan; the worker aggregates (figures.c): one row per response,
	 * its answers as JSON text, so no per-key work happens in SQL.
	 */
	[RS_COUNTS_ROWS] = { "research_counts_rows",
	    "SELECT icb, region, role, staff_group, org_type, answers::text FROM pcs.response "
	    "WHERE form_id = $1 AND submitted < $2::date", 2 },
	[RS_FORM_TOTALS] = { "research_form_totals",
	    "SELECT (SELECT count(*) FROM pcs.response r WHERE r.form_id = f.id "
	    "AND r.submitted < f.before) FROM unnest($1::text[], $2::date[]) "
	    "WITH ORDINALITY AS f(id, before, i) ORDER BY f.i", 2 },
	/* the shared published lattice (0004_published.sql, figures.c) */
	[RS_PUB_GET] = { "research_pub_get",
	    "SELECT blob FROM pcs.published WHERE form_id = $1 AND data_as_of = $2::date "
	    "AND marker_n = $3::bigint AND marker_max = $4::bigint AND marker_sum = $5::bigint "
	    "AND shape = $6::bigint", 6 },
	[RS_PUB_TRYLOCK] = { "research_pub_trylock",
	    "SELECT pg_catalog.pg_try_advisory_xact_lock($1::bigint)", 1 },
	[RS_PUB_LOCK] = { "research_pub_lock",
	    "SELECT 1 FROM pg_catalog.pg_advisory_xact_lock($1::bigint)", 1 },
	/* DO UPDATE: a blob a reader found damaged is replaced, not kept */
	[RS_PUB_PUT] = { "research_pub_put",
	    "INSERT INTO pcs.published (form_id, data_as_of, marker_n, marker_max, marker_sum, "
	    "shape, blob) VALUES ($1, $2::date, $3::bigint, $4::bigint, $5::bigint, $6::bigint, $7) "
	    "ON CONFLICT (form_id, data_as_of, marker_n, marker_max, marker_sum, shape) "
	    "DO UPDATE SET blob = EXCLUDED.blob, built = EXCLUDED.built", 7 },
	/* older lattices of the form; never a later day's (a worker behind midnight) */
	[RS_PUB_PRUNE] = { "research_pub_prune",
	    "DELETE FROM pcs.published WHERE form_id = $1 AND data_as_of <= $2::date "
	    "AND NOT (data_as_of = $2::date AND marker_n = $3::bigint AND marker_max = $4::bigint "
	    "AND marker_sum = $5::bigint AND shape = $6::bigint)", 6 },
};
_Static_assert(sizeof(research_stmts) / sizeof(research_stmts[0]) == RS__MAX, "research_stmts[]");
const size_t research_nstmts = RS__MAX;

static enum pcs_err
run(struct store *st, enum rstmt s, const char *const *vals, const int *lens,
    const int *fmts, PGresult **out)
{
	return store_run(st, &research_stmts[s], vals, lens, fmts, out);
}

/* Strict decimal from a result cell. */
static bool
cell_i64(PGresult *res, int row, int col, int64_t *v)
{
	return !PQgetisnull(res, row, col) &&
	    str_to_i64((struct str){ PQgetvalue(res, row, col),
	    (size_t)PQgetlength(res, row, col) }, v);
}

/* A bytea in text form ("\x" and 64 hex digits) into hash. */
static bool
cell_hash(PGresult *res, int row, int col, uint8_t hash[STORE_HASH_BYTES])
{
	const char *v = PQgetvalue(res, row, col);

	if (PQgetlength(res, row, col) != 2 + 2 * STORE_HASH_BYTES || v[0] != '\\' || v[1] != 'x')
		return false;
	for (size_t i = 0; i < STORE_HASH_BYTES; i++) {
		unsigned b = 0;

		for (int k = 0; k < 2; k++) {
			char ch = v[2 + 2 * i + (size_t)k];

			b <<= 4;
			if (ch >= '0' && ch <= '9')
				b |= (unsigned)(ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				b |= (unsigned)(ch - 'a' + 10);
			else
				return false;
		}
		hash[i] = (uint8_t)b;
	}
	return true;
}

/* ---- tokens ------------------------------------------------------------ */

enum pcs_err
store_token_create(struct store *st, const char *name, bool export_scope,
    const uint8_t hash[STORE_HASH_BYTES], int64_t today, int *id)
{
	char day[11];
	const char *vals[4] = { name, export_scope ? "export" : "aggregate",
	    (const char *)hash, day };
	int lens[4] = { 0, 0, STORE_HASH_BYTES, 0 }, fmts[4] = { 0, 0, 1, 0 };
	PGresult *res;
	int64_t v = 0;
	enum pcs_err err;

	date_format(today, day);
	if ((err = run(st, RS_TOKEN_CREATE, vals, lens, fmts, &res)) != PCS_OK)
		return err;
	if (PQntuples(res) != 1 || !cell_i64(res, 0, 0, &v) || v <= 0 || v > INT32_MAX)
		err = PCS_EINTERNAL;
	*id = (int)v;
	PQclear(res);
	return err;
}

enum pcs_err
store_token_list(struct store *st, store_token_row_fn fn, void *arg)
{
	PGresult *res;
	enum pcs_err err;

	if ((err = run(st, RS_TOKEN_LIST, NULL, NULL, NULL, &res)) != PCS_OK)
		return err;
	for (int i = 0; i < PQntuples(res); i++)
		fn(arg, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
		    PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), PQgetvalue(res, i, 5));
	PQclear(res);
	return PCS_OK;
}

enum pcs_err
store_token_revoke(struct store *st, int id, int64_t today, bool *done)
{
	char sid[16], day[11];
	const char *vals[2] = { sid, day };
	PGresult *res;
	int64_t n = 0;
	enum pcs_err err;

	snprintf(sid, sizeof(sid), "%d", id);
	date_format(today, day);
	if ((err = run(st, RS_TOKEN_REVOKE, vals, NULL, NULL, &res)) != PCS_OK)
		return err;
	*done = PQntuples(res) == 1 && cell_i64(res, 0, 0, &n) && n == 1;
	PQclear(res);
	return PCS_OK;
}

/* Fills t from a row (id, scope, hash); false if the row is malformed. */
static bool
token_row(PGresult *res, struct store_token *t)
{
	int64_t id;

	if (!cell_i64(res, 0, 0, &id) || id <= 0 || id > INT32_MAX ||
	    !cell_hash(res, 0, 2, t->hash))
		return false;
	t->id = (int)id;
	t->export_scope = strcmp(PQgetvalue(res, 0, 1), "export") == 0;
	return true;
}

/* Runs a lookup by hash (token or session) into t. */
static enum pcs_err
find_by_hash(struct store *st, enum rstmt s, const uint8_t hash[STORE_HASH_BYTES],
    struct store_token *t, bool *found)
{
	const char *vals[1] = { (const char *)hash };
	int lens[1] = { STORE_HASH_BYTES }, fmts[1] = { 1 };
	PGresult *res;
	enum pcs_err err;

	*found = false;
	memset(t, 0, sizeof(*t));
	if ((err = run(st, s, vals, lens, fmts, &res)) != PCS_OK)
		return err;
	if (PQntuples(res) == 1) {
		if (token_row(res, t))
			*found = true;
		else
			err = PCS_EINTERNAL;
	}
	PQclear(res);
	return err;
}

enum pcs_err
store_token_find(struct store *st, const uint8_t hash[STORE_HASH_BYTES],
    struct store_token *t, bool *found)
{
	return find_by_hash(st, RS_TOKEN_FIND, hash, t, found);
}

enum pcs_err
store_token_touch(struct store *st, int id, int64_t today)
{
	char sid[16], day[11];
	const char *vals[2] = { sid, day };
	PGresult *res;
	enum pcs_err err;

	snprintf(sid, sizeof(sid), "%d", id);
	date_format(today, day);
	if ((err = run(st, RS_TOKEN_TOUCH, vals, NULL, NULL, &res)) == PCS_OK)
		PQclear(res);
	return err;
}

/* ---- sessions ---------------------------------------------------------- */

enum pcs_err
store_session_create(struct store *st, const uint8_t hash[STORE_HASH_BYTES], int token_id,
    int seconds)
{
	char tid[16], secs[16];
	const char *vals[3] = { (const char *)hash, tid, secs };
	int lens[3] = { STORE_HASH_BYTES, 0, 0 }, fmts[3] = { 1, 0, 0 };
	PGresult *res;
	enum pcs_err err;

	snprintf(tid, sizeof(tid), "%d", token_id);
	snprintf(secs, sizeof(secs), "%d", seconds);
	if ((err = run(st, RS_SESSION_CREATE, vals, lens, fmts, &res)) == PCS_OK)
		PQclear(res);
	return err;
}

enum pcs_err
store_session_find(struct store *st, const uint8_t hash[STORE_HASH_BYTES],
    struct store_token *t, bool *found)
{
	return find_by_hash(st, RS_SESSION_FIND, hash, t, found);
}

enum pcs_err
store_session_delete(struct store *st, const uint8_t hash[STORE_HASH_BYTES])
{
	const char *vals[1] = { (const char *)hash };
	int lens[1] = { STORE_HASH_BYTES }, fmts[1] = { 1 };
	PGresult *res;
	enum pcs_err err;

	if ((err = run(st, RS_SESSION_DELETE, vals, lens, fmts, &res)) == PCS_OK)
		PQclear(res);
	return err;
}

enum pcs_err
store_session_purge(struct store *st)
{
	PGresult *res;
	enum pcs_err err;

	if ((err = run(st, RS_SESSION_PURGE, NULL, NULL, NULL, &res)) == PCS_OK)
		PQclear(res);
	return err;
}

/* ---- audit ------------------------------------------------------------- */

enum pcs_err
store_audit(struct store *st, const struct store_audit *a)
{
	char day[11], tid[16], status[16];
	const char *vals[7] = { day, a->token_id > 0 ? tid : NULL, a->via, a->what,
	    a->form_id, a->detail, status };
	PGresult *res;
	enum pcs_err err;

	date_format(a->day, day);
	snprintf(tid, sizeof(tid), "%d", a->token_id);
	snprintf(status, sizeof(status), "%d", a->status);
	if ((err = run(st, RS_AUDIT, vals, NULL, NULL, &res)) == PCS_OK)
		PQclear(res);
	return err;
}

/* ---- counts ------------------------------------------------------------ */

enum pcs_err
store_read_begin(struct store *st)
{
	enum pcs_err err;

	if ((err = store_ensure(st)) != PCS_OK)
		return err;
	/* one snapshot for the marker and the rows */
	return store_run_fixed(st, SF_BEGIN_SNAPSHOT_RO);
}

void
store_read_end(struct store *st)
{
	store_rollback(st);
}

enum pcs_err
store_counts_marker(struct store *st, const char *form_id, int64_t before,
    struct store_marker *m)
{
	char day[11];
	const char *vals[2] = { form_id, day };
	PGresult *res;
	enum pcs_err err;

	date_format(before, day);
	if ((err = run(st, RS_COUNTS_MARKER, vals, NULL, NULL, &res)) != PCS_OK)
		return err;
	if (PQntuples(res) != 1 || !cell_i64(res, 0, 0, &m->n) ||
	    !cell_i64(res, 0, 1, &m->max_id) || !cell_i64(res, 0, 2, &m->sum_id))
		err = PCS_EINTERNAL;
	PQclear(res);
	return err;
}

/* A row of RS_COUNTS_ROWS. */
static bool
count_row(PGresult *res, struct store_count_row *r)
{
	memset(r, 0, sizeof(*r));
	if (PQnfields(res) != STORE_DIMS + 1 || PQgetisnull(res, 0, STORE_DIMS))
		return false;
	for (int d = 0; d < STORE_DIMS; d++) {
		r->has[d] = !PQgetisnull(res, 0, d);
		r->dim[d] = (struct str){ PQgetvalue(res, 0, d), (size_t)PQgetlength(res, 0, d) };
	}
	r->answers = (struct str){ PQgetvalue(res, 0, STORE_DIMS),
	    (size_t)PQgetlength(res, 0, STORE_DIMS) };
	return true;
}

/* Stops the query in flight (the rest of its rows are discarded). */
static void
cancel(PGconn *conn)
{
	PGcancel *c = PQgetCancel(conn);
	char ebuf[64];

	if (c != NULL) {
		PQcancel(c, ebuf, sizeof(ebuf));
		PQfreeCancel(c);
	}
}

/* Runs a counts statement one row at a time (memory bounded by a row, perf.md B3). */
static enum pcs_err
stream(struct store *st, enum rstmt s, const char *const *vals, store_count_fn fn, void *arg)
{
	const struct store_stmt *stmt = &research_stmts[s];
	enum pcs_err err, cb = PCS_OK;
	PGresult *res;

	if ((err = store_ensure(st)) != PCS_OK)
		return err;
	if (!PQsendQueryPrepared(st->conn, stmt->name, stmt->nparams, vals, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(st->conn))
		return store_fail(st, NULL, stmt->name);
	while (store_await(st, stmt->name) && (res = PQgetResult(st->conn)) != NULL) {
		ExecStatusType rs = PQresultStatus(res);

		if (rs == PGRES_SINGLE_TUPLE && cb == PCS_OK) {
			struct store_count_row row;

			cb = count_row(res, &row) ? fn(arg, &row) : PCS_EINTERNAL;
			if (cb != PCS_OK)
				cancel(st->conn);
		} else if (rs != PGRES_SINGLE_TUPLE && rs != PGRES_TUPLES_OK && cb == PCS_OK &&
		    err == PCS_OK)
			err = store_fail(st, res, stmt->name);
		PQclear(res);
		if (st->conn == NULL)
			break;
	}
	if (st->conn == NULL && err == PCS_OK)
		err = PCS_EDBDOWN;	/* store_await() dropped a link that stopped answering */
	return cb != PCS_OK ? cb : err;
}

enum pcs_err
store_counts_rows(struct store *st, const char *form_id, int64_t before, store_count_fn fn,
    void *arg)
{
	char day[11];
	const char *vals[2] = { form_id, day };

	date_format(before, day);
	return stream(st, RS_COUNTS_ROWS, vals, fn, arg);
}

enum pcs_err
store_form_totals(struct store *st, const char *const *form_ids, const int64_t *before,
    size_t n, int64_t *totals)
{
	struct buf ids, days;
	const char *vals[2];
	PGresult *res = NULL;
	enum pcs_err err;

	buf_init(&ids, 1024 * 1024);
	buf_init(&days, 1024 * 1024);
	buf_addc(&ids, '{');
	buf_addc(&days, '{');
	for (size_t i = 0; i < n; i++) {
		char d[11];

		date_format(before[i], d);
		buf_adds(&ids, i ? ",\"" : "\"");
		buf_adds(&ids, form_ids[i]);	/* forms.md: [a-z0-9][a-z0-9-]* */
		buf_addc(&ids, '"');
		buf_adds(&days, i ? "," : "");
		buf_adds(&days, d);
	}
	buf_addc(&ids, '}');
	buf_addc(&days, '}');
	vals[0] = ids.p;
	vals[1] = days.p;
	err = ids.err != PCS_OK || days.err != PCS_OK ? PCS_ENOMEM :
	    run(st, RS_FORM_TOTALS, vals, NULL, NULL, &res);
	if (err == PCS_OK) {
		if (PQntuples(res) != (int)n)
			err = PCS_EINTERNAL;
		for (int i = 0; err == PCS_OK && i < (int)n; i++)
			if (!cell_i64(res, i, 0, &totals[i]))
				err = PCS_EINTERNAL;
		PQclear(res);
	}
	buf_release(&ids);
	buf_release(&days);
	return err;
}

/* ---- the shared published lattice -------------------------------------- */

/* The text parameters of a key: form, day, marker and shape ($1..$6). */
struct pub_params {
	char		 day[11], n[24], max[24], sum[24], shape[24];
	const char	*vals[7];
};

static void
pub_params(const struct store_pub_key *k, struct pub_params *p)
{
	date_format(k->data_as_of, p->day);
	snprintf(p->n, sizeof(p->n), "%lld", (long long)k->marker.n);
	snprintf(p->max, sizeof(p->max), "%lld", (long long)k->marker.max_id);
	snprintf(p->sum, sizeof(p->sum), "%lld", (long long)k->marker.sum_id);
	/* bigint is signed: the fingerprint's bits, as stored */
	snprintf(p->shape, sizeof(p->shape), "%lld", (long long)(int64_t)k->shape);
	p->vals[0] = k->form_id;
	p->vals[1] = p->day;
	p->vals[2] = p->n;
	p->vals[3] = p->max;
	p->vals[4] = p->sum;
	p->vals[5] = p->shape;
	p->vals[6] = NULL;
}

enum pcs_err
store_published_get(struct store *st, const struct store_pub_key *k, uint8_t **blob,
    size_t *len)
{
	const struct store_stmt *s = &research_stmts[RS_PUB_GET];
	struct pub_params p;
	PGresult *res;
	enum pcs_err err;

	*blob = NULL;
	*len = 0;
	pub_params(k, &p);
	if ((err = store_ensure(st)) != PCS_OK)
		return err;
	/* binary result: the blob as its bytes, not hex text twice its size */
	res = store_exec_prepared(st, s->name, s->nparams, p.vals, NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		err = store_fail(st, res, s->name);
		PQclear(res);
		return err;
	}
	if (PQntuples(res) != 1 || PQnfields(res) != 1 || PQgetisnull(res, 0, 0))
		err = PCS_ENOTFOUND;
	else if ((*blob = malloc((size_t)PQgetlength(res, 0, 0) + 1)) == NULL)
		err = PCS_ENOMEM;
	else {
		*len = (size_t)PQgetlength(res, 0, 0);
		memcpy(*blob, PQgetvalue(res, 0, 0), *len);
	}
	PQclear(res);
	return err;
}

/*
 * Opens the transaction of a published-lattice lock (begin: SF_BEGIN or
 * SF_BEGIN_SNAPSHOT; wait: with SF_WAIT_FOR_BUILDER) and runs the lock
 * statement s on lock; *res is its result.
 */
static enum pcs_err
pub_lock(struct store *st, enum store_fixed begin, bool wait, enum rstmt s, int64_t lock,
    PGresult **res)
{
	char id[24];
	const char *vals[1] = { id };
	enum pcs_err err;

	*res = NULL;
	snprintf(id, sizeof(id), "%lld", (long long)lock);
	if ((err = store_ensure(st)) != PCS_OK)
		return err;
	if ((err = store_run_fixed(st, begin)) != PCS_OK)
		return err;
	if (wait && (err = store_run_fixed(st, SF_WAIT_FOR_BUILDER)) != PCS_OK)
		return err;
	return run(st, s, vals, NULL, NULL, res);
}

enum pcs_err
store_published_begin(struct store *st, int64_t lock, bool *got)
{
	PGresult *res;
	enum pcs_err err;

	*got = false;
	/* read-write: the builder stores what it built in the same snapshot */
	err = pub_lock(st, SF_BEGIN_SNAPSHOT, false, RS_PUB_TRYLOCK, lock, &res);
	if (err == PCS_OK) {
		*got = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
	}
	if (!*got)
		store_rollback(st);
	return err;
}

enum pcs_err
store_published_wait(struct store *st, int64_t lock)
{
	PGresult *res;
	/* wait for the builder longer than a worker's lock_timeout, within its reply limit */
	enum pcs_err err = pub_lock(st, SF_BEGIN, true, RS_PUB_LOCK, lock, &res);

	PQclear(res);
	if (err == PCS_EDBDOWN && st->conn != NULL)
		err = PCS_OK;	/* lock_timeout (55P03): still building; the caller tries again */
	store_rollback(st);	/* releases the lock at once */
	return err;
}

enum pcs_err
store_published_put(struct store *st, const struct store_pub_key *k, const uint8_t *blob,
    size_t len)
{
	struct pub_params p;
	int lens[7] = { 0, 0, 0, 0, 0, 0, 0 }, fmts[7] = { 0, 0, 0, 0, 0, 0, 1 };
	PGresult *res;
	enum pcs_err err;

	if (len > INT32_MAX)
		return PCS_ETOOBIG;
	pub_params(k, &p);
	p.vals[6] = (const char *)blob;
	lens[6] = (int)len;
	if ((err = run(st, RS_PUB_PUT, p.vals, lens, fmts, &res)) != PCS_OK)
		return err;
	PQclear(res);
	if ((err = run(st, RS_PUB_PRUNE, p.vals, NULL, NULL, &res)) == PCS_OK)
		PQclear(res);
	return err;
}

enum pcs_err
store_published_commit(struct store *st)
{
	if (st->conn == NULL)
		return PCS_EDBDOWN;
	return store_run_fixed(st, SF_COMMIT);
}

void
store_published_rollback(struct store *st)
{
	store_rollback(st);
}
