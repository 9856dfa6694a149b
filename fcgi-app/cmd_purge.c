/* cmd_purge.c: `pcsurvey purge [--config FILE]` (cli.md, privacy.md). */
#include <stdio.h>

#include "args.h"
#include "cmd.h"
#include "conf.h"
#include "form.h"
#include "ref.h"
#include "store.h"

int
cmd_purge(int argc, char **argv)
{
	const char *config = NULL, *helpf = NULL, *ops[1];
	const struct arg_spec specs[] = {
		{ "config", true, &config }, { "help", false, &helpf }, { NULL, false, NULL },
	};
	struct formset fs = { NULL, 0 };
	struct conf conf;
	char msg[1024];
	long drafts = 0, responses = 0;
	int nops;
	enum pcs_err err;

	if (!args_parse(argc, argv, specs, ops, 0, &nops)) {
		fprintf(stderr, "usage: pcsurvey purge [--config FILE]\n");
		return 2;
	}
	if (helpf) {
		printf("usage: pcsurvey purge [--config FILE]\nDeletes expired drafts and "
		    "responses past their form's retention_days, and prints the counts.\n");
		return 0;
	}
	if (conf_load(&conf, config, msg, sizeof(msg)) != PCS_OK) {
		fprintf(stderr, "pcsurvey purge: %s\n", msg);
		return 1;
	}
	if (ref_load() != PCS_OK)
		return 1;
	if (formset_load(conf.forms_dir, &fs, stderr) > 0)
		fprintf(stderr, "pcsurvey purge: some forms were refused (above); their "
		    "responses are kept\n");
	err = store_purge(conf.database, date_today(), &fs, &drafts, &responses, msg, sizeof(msg));
	formset_release(&fs);
	if (err != PCS_OK) {
		fprintf(stderr, "pcsurvey purge: %s\n", msg);
		return 1;
	}
	printf("purge: %ld expired draft(s) deleted, %ld response(s) past retention deleted\n",
	    drafts, responses);
	return 0;
}
