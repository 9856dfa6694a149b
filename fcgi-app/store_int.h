/*
 * store_int.h: what the store's own files share (store.c and
 * store_research.c are the only includers of libpq-fe.h).  Not for anyone
 * else: the rest of the program sees store.h only.
 */
#ifndef PCS_STORE_INT_H
#define PCS_STORE_INT_H

#include <libpq-fe.h>

#include "store.h"

struct store_stmt {
	const char	*name;		/* prepared statement name, unique */
	const char	*sql;		/* schema-qualified, $n parameters only */
	int		 nparams;
};

struct store {
	char			*conninfo;
	PGconn			*conn;
	struct store_keys	 keys;		/* compared on every connect when has_keys */
	bool			 has_keys;
	bool			 keys_refused;
	int			 reply_ms;	/* 0: wait for replies without a limit */
};

/* store_research.c's statements, prepared with ours on every connect. */
extern const struct store_stmt research_stmts[];
extern const size_t research_nstmts;

/* A new connection with an empty search_path, or NULL. */
PGconn		*store_connect(const char *conninfo);
/*
 * Waits, at most st->reply_ms, until st->conn has a whole result; false
 * when the wait timed out and the connection was dropped (what: the
 * statement, for the log).  Call before each PQgetResult() of a query sent
 * with PQsend*: a link that stops answering must not hold a worker (T-34).
 */
bool		 store_await(struct store *st, const char *what);
/* PQexecPrepared with each wait bounded; NULL when dropped. */
PGresult	*store_exec_prepared(struct store *st, const char *name, int n,
		    const char *const *vals, const int *lens, const int *fmts, int resfmt);

/*
 * The statements that take no value, by name from one table (store.c) and
 * through the extended protocol with no parameters: no text built at run
 * time is ever executed (style: only parameterised SQL).
 */
enum store_fixed {
	SF_BEGIN,
	SF_BEGIN_SNAPSHOT,	/* REPEATABLE READ: a published-lattice builder */
	SF_BEGIN_SNAPSHOT_RO,	/* REPEATABLE READ READ ONLY: counts, one snapshot */
	SF_COMMIT,
	SF_ROLLBACK,
	SF_LOCK_TIMEOUT,	/* a worker's session: PCS_DB_LOCK_TIMEOUT (T-36) */
	SF_WAIT_FOR_BUILDER,	/* this transaction: PCS_DB_BUILD_WAIT (B3) */
	SF__MAX
};
/* On a worker's connection, each wait bounded; NULL when dropped. */
PGresult	*store_exec_fixed(struct store *st, enum store_fixed f);
/* store_exec_fixed, its failure classified by store_fail(). */
enum pcs_err	 store_run_fixed(struct store *st, enum store_fixed f) PCS_MUST;
/* Ends st's transaction, if it still has a connection; the outcome does not matter. */
void		 store_rollback(struct store *st);
/* On an operator command's connection (no bound). */
PGresult	*store_conn_exec_fixed(PGconn *c, enum store_fixed f);
/* Connects and prepares if needed; PCS_EDBDOWN when the database is away. */
enum pcs_err	 store_ensure(struct store *st) PCS_MUST;
/* Classifies a failure (logging SQLSTATE only, never the message). */
enum pcs_err	 store_fail(struct store *st, PGresult *res, const char *what);
/* Runs a prepared statement; on PCS_OK *out must be PQclear'd. */
enum pcs_err	 store_run(struct store *st, const struct store_stmt *s,
		    const char *const *vals, const int *lens, const int *fmts,
		    PGresult **out) PCS_MUST;

#endif
