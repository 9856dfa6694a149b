/*
 * main.c: `pcsurvey CMD ...` (cli.md).  Only dispatches; each command lives
 * in its own file and returns the exit code.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "serve.h"

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*help;
} cmds[] = {
	{ "serve", cmd_serve, "serve [--config FILE] [--socket PATH] [--workers N]   run the FastCGI server" },
	{ "check", cmd_check, "check FILE...                 validate form files (forms.md)" },
	{ "migrate", cmd_migrate, "migrate [--config FILE]       apply schema migrations, load reference data" },
	{ "keygen", cmd_keygen, "keygen --out DIR              write pseudonym.key, research.pub, research.sec" },
	{ "token", cmd_token, "token create --name NAME --scope aggregate|export | token list | token revoke ID" },
	{ "invite", cmd_invite, "invite create --form F --count N [--label TEXT] | invite status --form F" },
	{ "export", cmd_export, "export --form F [--out FILE]      responses.csv for operators" },
	{ "purge", cmd_purge, "purge [--config FILE]         delete expired drafts and old responses" },
	{ "decrypt", cmd_decrypt, "decrypt --secret-key FILE [IN] [--out FILE]   open sealed cells of an export, offline" },
};

static void
help(FILE *out)
{
	fprintf(out, "usage: pcsurvey COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(out, "  %s\n", cmds[i].help);
	fprintf(out, "\nThe configuration file comes from --config FILE or $PCSURVEY_CONFIG.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		help(stderr);
		return 2;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		help(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "pcsurvey: unknown command \"%s\" (try: pcsurvey help)\n", argv[1]);
	return 2;
}
