/*
 * cmd_token.c: `pcsurvey token create --name NAME --scope aggregate|export`,
 * `pcsurvey token list` and `pcsurvey token revoke ID` (cli.md).  The new
 * token is printed alone on one line, once, after its keyed hash
 * (CP_API_TOKEN) is committed; the token itself is never stored, listed or
 * logged (privacy.md).  Trusts its arguments only after checking them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmd.h"
#include "conf.h"
#include "crypto.h"
#include "limits.h"
#include "store.h"

static int
usage(FILE *out, int rc)
{
	fprintf(out, "usage: pcsurvey token create --name NAME --scope aggregate|export "
	    "[--config FILE]\n"
	    "       pcsurvey token list [--config FILE]\n"
	    "       pcsurvey token revoke ID [--config FILE]\n");
	if (out == stdout)
		printf("\ncreate prints a new API token for /api/v1 and /research/login, once;\n"
		    "only its keyed hash is stored.  aggregate: counts, coverage, codebook;\n"
		    "export: also responses.csv.  list prints id, name, scope, created,\n"
		    "last_used and revoked (dates), tab-separated.  revoke ends a token and\n"
		    "its research sessions.\n");
	return rc;
}

/* A name of 1..PCS_TOKEN_NAME_MAX code points, valid UTF-8, no control characters (TSV-safe). */
static bool
name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || !utf8_valid(name, len) || utf8_count(name, len) > PCS_TOKEN_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

static const char *
db_message(enum pcs_err err)
{
	return err == PCS_EDBDOWN ? "cannot reach the database (check `database` in the "
	    "configuration, and run pcsurvey migrate)" : pcs_strerror(err);
}

static int
token_create(struct store *st, const char *name, const char *scope)
{
	char token[CRYPTO_TOKEN_TEXT + 1];
	uint8_t h[CRYPTO_HASH_BYTES];
	enum pcs_err err;
	int id = 0;

	crypto_token_new(token);
	crypto_keyed_hash(CP_API_TOKEN, NULL, token, CRYPTO_TOKEN_TEXT, h);
	err = store_token_create(st, name, strcmp(scope, "export") == 0, h, date_today(), &id);
	if (err != PCS_OK) {
		crypto_wipe(token, sizeof(token));
		fprintf(stderr, "pcsurvey token: could not store the token: %s\n", db_message(err));
		return 1;
	}
	printf("%s\n", token);		/* cli.md: alone on one line, once */
	crypto_wipe(token, sizeof(token));
	fprintf(stderr, "pcsurvey token: created token %d (%s); it is shown only this once\n",
	    id, scope);
	return fflush(stdout) == 0 ? 0 : 1;
}

static void
list_row(void *arg, const char *id, const char *name, const char *scope, const char *created,
    const char *last_used, const char *revoked)
{
	(void)arg;
	printf("%s\t%s\t%s\t%s\t%s\t%s\n", id, name, scope, created, last_used, revoked);
}

static int
token_list(struct store *st)
{
	enum pcs_err err;

	printf("id\tname\tscope\tcreated\tlast_used\trevoked\n");
	if ((err = store_token_list(st, list_row, NULL)) != PCS_OK) {
		fprintf(stderr, "pcsurvey token: could not list the tokens: %s\n", db_message(err));
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
token_revoke(struct store *st, const char *id_text)
{
	int64_t id;
	bool done = false;
	enum pcs_err err;

	if (!str_to_i64(str_cstr(id_text), &id) || id < 1 || id > INT32_MAX)
		return usage(stderr, 2);
	if ((err = store_token_revoke(st, (int)id, date_today(), &done)) != PCS_OK) {
		fprintf(stderr, "pcsurvey token: could not revoke: %s\n", db_message(err));
		return 1;
	}
	if (!done) {
		fprintf(stderr, "pcsurvey token: no valid token has id %s (see pcsurvey token "
		    "list)\n", id_text);
		return 1;
	}
	fprintf(stderr, "pcsurvey token: revoked token %s and ended its sessions\n", id_text);
	return 0;
}

/* Checks the operands of sub before anything touches the database. */
static bool
args_ok(const char *sub, int nops, const char *name, const char *scope)
{
	if (strcmp(sub, "create") == 0)
		return nops == 1 && name && scope && name_ok(name) &&
		    (strcmp(scope, "aggregate") == 0 || strcmp(scope, "export") == 0);
	if (strcmp(sub, "list") == 0)
		return nops == 1 && !name && !scope;
	if (strcmp(sub, "revoke") == 0)
		return nops == 2 && !name && !scope;
	return false;
}

int
cmd_token(int argc, char **argv)
{
	const char *config = NULL, *name = NULL, *scope = NULL, *helpf = NULL, *ops[2] = { 0 };
	const struct arg_spec specs[] = {
		{ "config", true, &config }, { "name", true, &name }, { "scope", true, &scope },
		{ "help", false, &helpf }, { NULL, false, NULL },
	};
	struct store *st = NULL;
	struct conf conf;
	char msg[1024];
	int nops = 0, rc = 1;

	if (!args_parse(argc, argv, specs, ops, 2, &nops))
		return usage(stderr, 2);
	if (helpf)
		return usage(stdout, 0);
	if (nops < 1 || !args_ok(ops[0], nops, name, scope))
		return usage(stderr, 2);
	if (conf_load(&conf, config, msg, sizeof(msg)) != PCS_OK) {
		fprintf(stderr, "pcsurvey token: %s\n", msg);
		return 1;
	}
	if (!crypto_init()) {
		fprintf(stderr, "pcsurvey token: libsodium could not start\n");
		return 1;
	}
	/* only create hashes: the keyed hash needs the server's pseudonym.key */
	if (strcmp(ops[0], "create") == 0 &&
	    crypto_load_keys(conf.keys_dir, msg, sizeof(msg)) != PCS_OK) {
		fprintf(stderr, "pcsurvey token: %s\n", msg);
		return 1;
	}
	if ((st = store_new(conf.database)) == NULL)
		goto out;
	if (strcmp(ops[0], "create") == 0)
		rc = token_create(st, name, scope);
	else if (strcmp(ops[0], "list") == 0)
		rc = token_list(st);
	else
		rc = token_revoke(st, ops[1]);
out:
	store_free(st);
	crypto_unload_keys();
	return rc;
}
