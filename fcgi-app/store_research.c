/*
 * store_research.c: the researchers' queries (http-api.md: Researcher API):
 * tokens, sessions, counts, coverage, the access audit.  Shares the
 * connection and helpers of store.c through store_int.h.
 */
#include "store_int.h"

const struct store_stmt research_stmts[] = {
	{ "research_none", "SELECT 1", 0 },	/* placeholder until the API lands */
};
const size_t research_nstmts = sizeof(research_stmts) / sizeof(research_stmts[0]);
