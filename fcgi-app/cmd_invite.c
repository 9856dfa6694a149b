/*
 * cmd_invite.c: `pcsurvey invite create --form F --count N [--label TEXT]`
 * and `pcsurvey invite status --form F` (cli.md).  Codes are printed once,
 * after their keyed hashes are committed; the clear codes are never stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmd.h"
#include "conf.h"
#include "crypto.h"
#include "csv.h"
#include "form.h"
#include "ref.h"
#include "store.h"

#define INVITE_COUNT_MAX	100000

static int
usage(void)
{
	fprintf(stderr, "usage: pcsurvey invite create --form F --count N [--label TEXT] "
	    "[--config FILE]\n       pcsurvey invite status --form F [--config FILE]\n");
	return 2;
}

/* The form must exist in forms_dir and take invitations. */
static int
check_form(const struct conf *conf, const char *id)
{
	struct formset fs = { NULL, 0 };
	const struct form *f;
	int rc = 0;

	formset_load(conf->forms_dir, &fs, stderr);
	f = formset_find(&fs, str_cstr(id));
	if (f == NULL) {
		fprintf(stderr, "pcsurvey invite: no form \"%s\" in %s\n", id, conf->forms_dir);
		rc = 1;
	} else if (f->access != ACCESS_INVITE) {
		fprintf(stderr, "pcsurvey invite: form \"%s\" has access \"open\"; "
		    "invitations are for forms with \"access\": \"invite\"\n", id);
		rc = 1;
	}
	formset_release(&fs);
	return rc;
}

static int
invite_create(const struct conf *conf, const char *form, long count, const char *label)
{
	uint8_t (*hashes)[STORE_HASH_BYTES] = calloc((size_t)count, STORE_HASH_BYTES);
	char (*codes)[CRYPTO_CODE_TEXT + 1] = calloc((size_t)count, CRYPTO_CODE_TEXT + 1);
	char msg[512];
	struct buf line;
	int rc = 1;

	if (hashes == NULL || codes == NULL)
		goto out;
	for (long i = 0; i < count; i++) {
		char canon[CRYPTO_CODE_CHARS + 1];

		crypto_code_new(codes[i]);
		if (!crypto_code_normalise(str_cstr(codes[i]), canon))
			goto out;
		crypto_keyed_hash(CP_INVITE, NULL, canon, CRYPTO_CODE_CHARS, hashes[i]);
	}
	if (store_invite_create(conf->database, form, label, date_today(),
	    (const uint8_t (*)[STORE_HASH_BYTES])hashes, (size_t)count, msg, sizeof(msg)) != PCS_OK) {
		fprintf(stderr, "pcsurvey invite: %s\n", msg);
		goto out;
	}
	buf_init(&line, 4096);
	buf_adds(&line, "code,link,label\r\n");
	fwrite(line.p, 1, line.len, stdout);
	for (long i = 0; i < count; i++) {
		buf_reset(&line);
		buf_adds(&line, codes[i]);
		csv_write_sep(&line);
		buf_printf(&line, "%s/i/%s", conf->base_url, codes[i]);
		csv_write_sep(&line);
		csv_write_cell(&line, str_cstr(label ? label : ""));
		csv_write_eol(&line);
		fwrite(line.p, 1, line.len, stdout);
	}
	buf_release(&line);
	rc = 0;
out:
	if (codes)
		crypto_wipe(codes, (size_t)count * (CRYPTO_CODE_TEXT + 1));
	free(codes);
	free(hashes);
	return rc;
}

int
cmd_invite(int argc, char **argv)
{
	const char *config = NULL, *form = NULL, *count = NULL, *label = NULL, *helpf = NULL;
	const struct arg_spec specs[] = {
		{ "config", true, &config }, { "form", true, &form }, { "count", true, &count },
		{ "label", true, &label }, { "help", false, &helpf }, { NULL, false, NULL },
	};
	const char *ops[1];
	struct conf conf;
	char msg[1024];
	int nops;
	long n = 0;

	if (!args_parse(argc, argv, specs, ops, 1, &nops) || nops != 1 || form == NULL)
		return helpf ? (usage(), 0) : usage();
	if (conf_load(&conf, config, msg, sizeof(msg)) != PCS_OK) {
		fprintf(stderr, "pcsurvey invite: %s\n", msg);
		return 1;
	}
	if (!crypto_init() || ref_load() != PCS_OK)
		return 1;
	if (check_form(&conf, form) != 0)
		return 1;
	if (strcmp(ops[0], "status") == 0) {
		if (count || label)
			return usage();
		printf("label,issued,used\r\n");
		if (store_invite_status(conf.database, form, stdout, msg, sizeof(msg)) != PCS_OK) {
			fprintf(stderr, "pcsurvey invite: %s\n", msg);
			return 1;
		}
		return 0;
	}
	if (strcmp(ops[0], "create") != 0 || count == NULL)
		return usage();
	n = strtol(count, NULL, 10);
	if (n < 1 || n > INVITE_COUNT_MAX)
		return usage();
	if (crypto_load_keys(conf.keys_dir, msg, sizeof(msg)) != PCS_OK) {
		fprintf(stderr, "pcsurvey invite: %s\n", msg);
		return 1;
	}
	return invite_create(&conf, form, n, label);
}
