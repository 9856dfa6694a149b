/*
 * cmd_export.c: `pcsurvey export --form F [--out FILE]` (cli.md): the same
 * stream as responses.csv, for operators, straight from a cursor to the
 * file in constant memory.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cmd.h"
#include "conf.h"
#include "export.h"
#include "form.h"
#include "ref.h"
#include "store.h"

struct export_out {
	FILE			*f;
	const struct form	*form;
	struct buf		 line;
};

static enum pcs_err
write_row(void *arg, struct str rid, struct str version, struct str submitted,
    const struct str *cells, const bool *present, size_t n)
{
	struct export_out *o = arg;

	buf_reset(&o->line);
	export_line(&o->line, o->form, rid, version, submitted, cells, present, n);
	if (o->line.err != PCS_OK)
		return o->line.err;
	return fwrite(o->line.p, 1, o->line.len, o->f) == o->line.len ? PCS_OK : PCS_EIO;
}

int
cmd_export(int argc, char **argv)
{
	const char *config = NULL, *form_id = NULL, *outpath = NULL, *helpf = NULL, *ops[1];
	const struct arg_spec specs[] = {
		{ "config", true, &config }, { "form", true, &form_id }, { "out", true, &outpath },
		{ "help", false, &helpf }, { NULL, false, NULL },
	};
	struct formset fs = { NULL, 0 };
	struct export_cols cols = { NULL, 0 };
	struct export_out o = { .f = stdout };
	struct store *st = NULL;
	struct conf conf;
	char msg[1024];
	int nops, rc = 1;
	enum pcs_err err;

	if (!args_parse(argc, argv, specs, ops, 0, &nops) || (form_id == NULL && !helpf)) {
		fprintf(stderr, "usage: pcsurvey export --form F [--out FILE] [--config FILE]\n");
		return 2;
	}
	if (helpf) {
		printf("usage: pcsurvey export --form F [--out FILE] [--config FILE]\n"
		    "Writes responses.csv of form F (sealed cells stay sealed: see decrypt).\n");
		return 0;
	}
	if (conf_load(&conf, config, msg, sizeof(msg)) != PCS_OK) {
		fprintf(stderr, "pcsurvey export: %s\n", msg);
		return 1;
	}
	if (ref_load() != PCS_OK)
		return 1;
	formset_load(conf.forms_dir, &fs, stderr);
	if ((o.form = formset_find(&fs, str_cstr(form_id))) == NULL) {
		fprintf(stderr, "pcsurvey export: no form \"%s\" in %s\n", form_id, conf.forms_dir);
		goto out;
	}
	if (export_cols_init(o.form, &cols) != PCS_OK || (st = store_new(conf.database)) == NULL)
		goto out;
	if (outpath && (o.f = fopen(outpath, "w")) == NULL) {
		fprintf(stderr, "pcsurvey export: cannot write %s: %s\n", outpath, strerror(errno));
		goto out;
	}
	buf_init(&o.line, 16 * 1024 * 1024);
	export_header(&o.line, &cols);
	fwrite(o.line.p, 1, o.line.len, o.f);
	err = store_export(st, o.form->id, cols.keys, cols.n, write_row, &o);
	buf_release(&o.line);
	if (err != PCS_OK) {
		fprintf(stderr, "pcsurvey export: %s\n", err == PCS_EDBDOWN ?
		    "cannot reach the database" : pcs_strerror(err));
		goto out;
	}
	if (fflush(o.f) != 0) {
		fprintf(stderr, "pcsurvey export: write failed: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (o.f && o.f != stdout)
		fclose(o.f);
	store_free(st);
	export_cols_release(&cols);
	formset_release(&fs);
	return rc;
}
