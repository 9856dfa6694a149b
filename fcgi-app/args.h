/*
 * args.h: `--name VALUE` / `--name=VALUE` / `--flag` options for the
 * subcommands (cli.md).  Hand-rolled because getopt.h's struct option
 * collides with the form model's.
 */
#ifndef PCS_ARGS_H
#define PCS_ARGS_H

#include <stdbool.h>

struct arg_spec {
	const char	*name;		/* without "--" */
	bool		 takes_value;
	const char	**value;	/* set to the value, or "" for a flag */
};

/*
 * Parses argv[1..argc) against specs (NULL name ends the list).  Operands
 * (not starting with "--") are collected into operands[0..max) and counted
 * in *nops.  Returns false on an unknown option, a missing value or too many
 * operands.
 */
bool	args_parse(int argc, char **argv, const struct arg_spec *specs,
	    const char **operands, int max, int *nops);

#endif
