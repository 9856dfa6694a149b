/*
 * okapp.c: the FastCGI baselines of perf.md B1, built by tests/bench/bench.py
 * with the Makefile's flags; not part of the application.
 *
 * Set up like `pcsurvey serve`: one unix socket (mode 0660, group of its
 * directory, backlog 64), N pre-forked single-threaded libfcgi workers
 * accepting on it, one connection per request (no keepalive).
 *
 *   okapp SOCKET NWORKERS
 *	B1(b), the protocol's own cost: a fixed "ok".
 *   okapp SOCKET NWORKERS BODYFILE [CONNINFO IDHEX FORM]
 *	B1(c), the floor of a page: the bytes of BODYFILE as text/html and,
 *	with CONNINFO, first the very query a page GET with a draft runs
 *	(store.c draft_get, prepared once per worker, one row by primary key)
 *	for the draft whose id_hash is IDHEX.  What a page costs above this
 *	is the application's own work (parsing, crypto, rendering).
 *
 * SIGTERM or SIGINT stops it and its workers.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <libgen.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXW 64

static volatile sig_atomic_t stop;
static char *body;
static size_t body_len;
static const char *conninfo, *idhex, *form;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int
open_socket(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	char dir[sizeof(sun.sun_path)];
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 || chmod(path, 0660) != 0 ||
	    listen(fd, 64) != 0) {
		close(fd);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(dirname(dir), &st) == 0 && chown(path, (uid_t)-1, st.st_gid) != 0)
		perror("okapp: chown");
	return fd;
}

static int
read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (body = malloc((size_t)n + 1)) == NULL ||
	    fread(body, 1, (size_t)n, f) != (size_t)n) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	body_len = (size_t)n;
	return 0;
}

static PGconn *
db_open(uint8_t id[32])
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "okapp: %s", PQerrorMessage(c));
		_exit(1);
	}
	r = PQprepare(c, "draft_get", "SELECT box FROM pcs.draft WHERE id_hash = $1 AND "
	    "form_id = $2 AND expires >= $3::date", 3, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "okapp: prepare: %s", PQerrorMessage(c));
		_exit(1);
	}
	PQclear(r);
	for (size_t i = 0; i < 32 && idhex[2 * i] && idhex[2 * i + 1]; i++) {
		unsigned v;

		if (sscanf(idhex + 2 * i, "%2x", &v) != 1)
			_exit(1);
		id[i] = (uint8_t)v;
	}
	return c;
}

static void
worker(int fd)
{
	static const char ok[] = "Status: 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 2\r\n\r\nok";
	FCGX_Request rq;
	struct sigaction sa;
	PGconn *db = NULL;
	uint8_t id[32] = { 0 };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);	/* no SA_RESTART: ends a blocked accept */
	if (conninfo)
		db = db_open(id);
	if (FCGX_Init() != 0)
		_exit(1);
	FCGX_InitRequest(&rq, fd, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!stop) {
		if (FCGX_Accept_r(&rq) < 0)
			continue;
		if (db) {
			char day[11];
			time_t now = time(NULL);
			struct tm tm;
			const char *vals[3] = { (const char *)id, form, day };
			int lens[3] = { 32, 0, 0 }, fmts[3] = { 1, 0, 0 };
			PGresult *r;

			gmtime_r(&now, &tm);
			strftime(day, sizeof(day), "%Y-%m-%d", &tm);
			r = PQexecPrepared(db, "draft_get", 3, vals, lens, fmts, 0);
			if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
				fprintf(stderr, "okapp: draft_get found no row\n");
			PQclear(r);
		}
		if (body) {
			char head[128];
			int n = snprintf(head, sizeof(head), "Status: 200 OK\r\nContent-Type: "
			    "text/html; charset=utf-8\r\nContent-Length: %zu\r\n\r\n", body_len);

			FCGX_PutStr(head, n, rq.out);	/* FCGX_FPrintF knows no %zu */
			FCGX_PutStr(body, (int)body_len, rq.out);
		} else
			FCGX_PutStr(ok, (int)sizeof(ok) - 1, rq.out);
		FCGX_Finish_r(&rq);
	}
	if (db)
		PQfinish(db);
	_exit(0);
}

int
main(int argc, char **argv)
{
	pid_t pids[MAXW];
	struct sigaction sa;
	int fd, n;

	if ((argc != 3 && argc != 4 && argc != 7) || (n = atoi(argv[2])) < 1 || n > MAXW) {
		fprintf(stderr, "usage: okapp SOCKET NWORKERS [BODYFILE [CONNINFO IDHEX FORM]]\n");
		return 2;
	}
	if (argc >= 4 && read_file(argv[3]) != 0) {
		fprintf(stderr, "okapp: cannot read %s\n", argv[3]);
		return 1;
	}
	if (argc == 7) {
		conninfo = argv[4];
		idhex = argv[5];
		form = argv[6];
	}
	if ((fd = open_socket(argv[1])) < 0) {
		fprintf(stderr, "okapp: cannot listen on %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < n; i++)
		if ((pids[i] = fork()) == 0)
			worker(fd);
	while (!stop)
		pause();
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			waitpid(pids[i], NULL, 0);
	unlink(argv[1]);
	return 0;
}
