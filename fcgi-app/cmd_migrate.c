/* cmd_migrate.c: `pcsurvey migrate [--config FILE]` (cli.md). */
#include <stdio.h>

#include "args.h"
#include "cmd.h"
#include "conf.h"
#include "ref.h"
#include "store.h"

int
cmd_migrate(int argc, char **argv)
{
	const char *config = NULL, *helpf = NULL, *ops[1];
	const struct arg_spec specs[] = {
		{ "config", true, &config },
		{ "help", false, &helpf },
		{ NULL, false, NULL },
	};
	struct conf conf;
	char msg[1024] = "";
	int nops, applied = 0;

	if (!args_parse(argc, argv, specs, ops, 0, &nops)) {
		fprintf(stderr, "usage: pcsurvey migrate [--config FILE]\n");
		return 2;
	}
	if (helpf) {
		printf("usage: pcsurvey migrate [--config FILE]\n"
		    "Applies sql/migrations not yet applied (each in a transaction) "
		    "and loads the reference lists.  Safe to run twice.\n");
		return 0;
	}
	if (conf_load(&conf, config, msg, sizeof(msg)) != PCS_OK) {
		fprintf(stderr, "pcsurvey migrate: %s\n", msg);
		return 1;
	}
	if (ref_load() != PCS_OK) {
		fprintf(stderr, "pcsurvey migrate: reference data is damaged (rebuild)\n");
		return 1;
	}
	if (store_migrate(conf.database, &applied, msg, sizeof(msg)) != PCS_OK) {
		fprintf(stderr, "pcsurvey migrate: %s\n", msg);
		return 1;
	}
	printf("migrate: %d migration(s) applied, schema at version %d, reference data loaded\n",
	    applied, store_expected_version());
	return 0;
}
