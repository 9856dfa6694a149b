/*
 * serve.h: `pcsurvey serve` (cli.md): a supervisor that loads forms and keys
 * once, opens the FastCGI unix socket (0660, group of its directory), pre-forks
 * N workers, restarts one that dies, drains on SIGTERM and reloads forms on
 * SIGHUP by rolling the workers.  It never reads a request itself.
 */
#ifndef PCS_SERVE_H
#define PCS_SERVE_H

int	cmd_serve(int argc, char **argv);

#endif
