/* args.c: see args.h. */
#include <string.h>

#include "args.h"

bool
args_parse(int argc, char **argv, const struct arg_spec *specs, const char **operands,
    int max, int *nops)
{
	*nops = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq;
		const struct arg_spec *s;
		size_t n;

		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (*nops >= max)
				return false;
			operands[(*nops)++] = a;
			continue;
		}
		a += 2;
		eq = strchr(a, '=');
		n = eq ? (size_t)(eq - a) : strlen(a);
		for (s = specs; s->name; s++)
			if (strlen(s->name) == n && strncmp(s->name, a, n) == 0)
				break;
		if (s->name == NULL)
			return false;
		if (!s->takes_value) {
			if (eq)
				return false;
			*s->value = "";
		} else if (eq)
			*s->value = eq + 1;
		else if (i + 1 < argc)
			*s->value = argv[++i];
		else
			return false;
	}
	return true;
}
