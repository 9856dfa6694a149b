/*
 * cmd_keygen.c: `pcsurvey keygen --out DIR` (cli.md, privacy.md: Keys).
 * Creates DIR (0700) if missing and has crypto_keygen() write the three key
 * files; never overwrites one.  Trusts only its own argv parsing.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "crypto.h"
#include "limits.h"

static const char usage[] = "usage: pcsurvey keygen --out DIR";

static int
keygen_usage(const char *why)
{
	fprintf(stderr, "pcsurvey keygen: %s; %s\n", why, usage);
	return 2;
}

int
cmd_keygen(int argc, char **argv)
{
	const char *dir = NULL;
	char msg[PCS_PATH_MAX + 256];
	struct stat st;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf("%s\n\n"
			    "Writes a new key set into DIR (created with mode 0700 "
			    "if missing):\n"
			    "  pseudonym.key  32 random bytes, mode 0600; the "
			    "server needs it\n"
			    "  research.pub   mode 0644; the server needs it\n"
			    "  research.sec   mode 0600; give it to the research "
			    "team's data custodian\n"
			    "                 and delete it from the server (the "
			    "server refuses to start\n"
			    "                 while it is in its key directory)\n"
			    "Refuses to overwrite any existing key file.\n", usage);
			return 0;
		}
		if (strcmp(a, "--out") == 0) {
			if (i + 1 >= argc)
				return keygen_usage("--out needs a directory");
			if (dir != NULL)
				return keygen_usage("--out given twice");
			dir = argv[++i];
		} else if (strncmp(a, "--out=", 6) == 0) {
			if (dir != NULL)
				return keygen_usage("--out given twice");
			dir = a + 6;
		} else
			return keygen_usage("unexpected argument");
	}
	if (dir == NULL || dir[0] == '\0')
		return keygen_usage("--out DIR is required");
	if (strlen(dir) > PCS_PATH_MAX - 32)
		return keygen_usage("--out path too long");

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "pcsurvey keygen: cannot create directory %s: "
		    "%s; create its parent directory or choose another --out\n",
		    dir, strerror(errno));
		return 1;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "pcsurvey keygen: %s is not a directory; "
		    "choose another --out\n", dir);
		return 1;
	}
	if (!crypto_init()) {
		fprintf(stderr, "pcsurvey keygen: libsodium failed to start\n");
		return 1;
	}
	if (crypto_keygen(dir, msg, sizeof(msg)) != PCS_OK) {
		fprintf(stderr, "pcsurvey keygen: %s\n", msg);
		return 1;
	}
	printf("wrote %s/pseudonym.key (mode 0600): the server needs it "
	    "(keys_dir)\n"
	    "wrote %s/research.pub (mode 0644): the server needs it (keys_dir)\n"
	    "wrote %s/research.sec (mode 0600): give it to the research team's "
	    "data custodian, then delete it from the server; the server "
	    "refuses to start while research.sec is in its key directory\n",
	    dir, dir, dir);
	return fflush(stdout) == 0 ? 0 : 1;
}
