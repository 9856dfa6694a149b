/*
 * cmd.h: the subcommands of cli.md.  Each takes argv with argv[0] the
 * subcommand name and returns the process exit code: 0 success, 1 failure
 * (message on stderr naming what failed and what to do), 2 usage error (one
 * line on stderr).  main.c only dispatches.
 */
#ifndef PCS_CMD_H
#define PCS_CMD_H

int	cmd_serve(int argc, char **argv);
int	cmd_check(int argc, char **argv);
int	cmd_migrate(int argc, char **argv);
int	cmd_keygen(int argc, char **argv);
int	cmd_decrypt(int argc, char **argv);
int	cmd_invite(int argc, char **argv);
int	cmd_export(int argc, char **argv);
int	cmd_purge(int argc, char **argv);
int	cmd_token(int argc, char **argv);

#endif
