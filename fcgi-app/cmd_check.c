/*
 * cmd_check.c: `pcsurvey check FILE...` (cli.md).  Checks each form file
 * against forms.md with form_load() and prints every problem as
 * "file: path: message" on stdout.  Exit 0 when every file is fine, 1 when
 * any has a problem, 2 on bad arguments.  Needs no database: the reference
 * lists are compiled in (ref.h).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "form.h"
#include "ref.h"

static const char usage[] = "usage: pcsurvey check FILE...";

static void
help(void)
{
	printf("%s\n\n"
	    "Checks survey form files (forms/<id>.json) against the form format\n"
	    "and prints one line per problem: file: JSON path: message.\n"
	    "Exits 0 when every file is fine, 1 when any has a problem, 2 on\n"
	    "bad arguments.\n", usage);
}

int
cmd_check(int argc, char **argv)
{
	size_t bad = 0, nfiles;
	int first = 1;
	enum pcs_err e;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		help();
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "--") == 0)
		first = 2;
	if (argc <= first) {
		fprintf(stderr, "%s\n", usage);
		return 2;
	}
	for (int i = first; first == 1 && i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "pcsurvey check: unknown option %s; %s\n",
			    argv[i], usage);
			return 2;
		}
	if ((e = ref_load()) != PCS_OK) {
		fprintf(stderr, "pcsurvey check: the built-in reference lists "
		    "could not be read (%s); rebuild pcsurvey\n",
		    pcs_strerror(e));
		return 1;
	}
	nfiles = (size_t)(argc - first);
	for (int i = first; i < argc; i++) {
		struct form *f = NULL;

		if (form_load(argv[i], &f, stdout) != PCS_OK)
			bad++;
		form_free(f);
	}
	fflush(stdout);
	if (bad > 0) {
		fprintf(stderr, "pcsurvey check: %zu of %zu file%s %s problems; "
		    "fix them and run the check again\n", bad, nfiles,
		    nfiles == 1 ? "" : "s", bad == 1 ? "has" : "have");
		return 1;
	}
	return 0;
}
