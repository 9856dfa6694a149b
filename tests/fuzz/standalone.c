/*
 * standalone.c: a main() for the harnesses without libFuzzer (replay.sh,
 * and run.sh's coverage build).  Runs LLVMFuzzerTestOneInput once per file
 * named on the command line, or per file of a directory named there, as
 * SQLite's fuzzcheck replays its corpus in every build.  Prints the name of
 * each file on stderr before running it, so a sanitizer report or an
 * abort is tied to its input; exits 0 when every input ran.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int quiet;

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0;

	if (f == NULL) {
		fprintf(stderr, "standalone: cannot open %s\n", path);
		return 1;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			uint8_t *nd;

			cap = cap ? cap * 2 : 4096;
			if ((nd = realloc(data, cap)) == NULL) {
				fclose(f);
				free(data);
				fprintf(stderr, "standalone: out of memory\n");
				return 1;
			}
			data = nd;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	if (!quiet)
		fprintf(stderr, "standalone: running %s (%zu bytes)\n", path, len);
	/*
	 * An exact-size copy, so ASan catches a read one past the input as
	 * libFuzzer does.
	 */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (exact == NULL) {
			free(data);
			return 1;
		}
		if (len)
			memcpy(exact, data, len);
		free(data);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	return 0;
}

static int
run_path(const char *path, size_t *count)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "standalone: no such file %s\n", path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	if ((d = opendir(path)) == NULL)
		return 1;
	while ((de = readdir(d)) != NULL) {
		char sub[4096];

		if (de->d_name[0] == '.' || strcmp(de->d_name, "README") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (stat(sub, &st) == 0 && S_ISREG(st.st_mode)) {
			(*count)++;
			rc |= run_file(sub);
		}
	}
	closedir(d);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t count = 0;
	int rc = 0, first = 1;

	if (argc > 1 && strcmp(argv[1], "-q") == 0) {
		quiet = 1;
		first = 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = first; i < argc; i++)
		rc |= run_path(argv[i], &count);
	fprintf(stderr, "standalone: %zu inputs ran%s\n", count, rc ? " (some could not be read)" : "");
	return rc;
}
