/*
 * serve.c: the supervisor and the worker's life.  Trusts its configuration
 * file; nothing from the network reaches this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "args.h"
#include "cmd.h"
#include "conf.h"
#include "crypto.h"
#include "fcgi.h"
#include "form.h"
#include "log.h"
#include "ref.h"
#include "route.h"
#include "serve.h"
#include "store.h"

#define SERVE_DRAIN_SECONDS	10	/* SIGTERM: then SIGKILL what is left */
#define SERVE_BACKLOG		64	/* short: a full server answers fast (issue 8) */
#define SERVE_RESPAWN_PAUSE_MS	250	/* before restarting a worker that died at once */
#define SERVE_EXIT_KEYS		78	/* EX_CONFIG: a worker found other keys bound (T-37) */

static volatile sig_atomic_t got_term, got_hup, got_chld;
static volatile sig_atomic_t worker_stop;
static bool keys_refused;	/* supervisor: a worker exited SERVE_EXIT_KEYS */
static ino_t socket_ino;	/* ours, so a successor's socket is never removed */

static void
on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

static void
on_worker_term(int sig)
{
	(void)sig;
	worker_stop = 1;
}

static void
set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: a signal must end a blocked accept */
	sigaction(sig, &sa, NULL);
}

/* Creates the listening socket: mode 0660, group of its directory (toolchain.md 2). */
static int
open_socket(const char *path)
{
	struct sockaddr_un sun;
	struct stat dst;
	char dir[PCS_PATH_MAX];
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "pcsurvey serve: socket path too long: %s\n", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, 0660) != 0 || listen(fd, SERVE_BACKLOG) != 0) {
		fprintf(stderr, "pcsurvey serve: cannot listen on %s: %s\n", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (stat(path, &dst) == 0)
		socket_ino = dst.st_ino;
	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(dirname(dir), &dst) == 0 && chown(path, (uid_t)-1, dst.st_gid) != 0)
		log_event(LOG_WARN, "socket_chown_failed", "errno=%d", errno);
	return fd;
}

/* The fingerprints of the loaded keys, as the store compares them. */
static void
loaded_keys(struct store_keys *k)
{
	crypto_key_fingerprints(k->pseudonym, k->research);
}

/*
 * route_dispatch, then stop this worker for good if its connection found
 * other keys bound in the database than the ones it holds (T-37): the
 * request got a 503, the supervisor sees SERVE_EXIT_KEYS and stops all.
 */
static void
dispatch(void *arg, struct arena *a, struct http_req *req, struct resp *resp)
{
	struct app *app = arg;

	route_dispatch(arg, a, req, resp);
	store_request_end(app->store);
	if (store_keys_refused(app->store))
		worker_stop = 1;
}

static void
worker_main(int fd, const struct conf *conf, const struct formset *forms)
{
	struct app app = { .conf = conf, .forms = forms };
	struct store_keys keys;
	sigset_t none;
	bool refused;

	set_handler(SIGTERM, on_worker_term);
	set_handler(SIGINT, on_worker_term);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	/* the supervisor blocks these around sigsuspend; a worker must receive them */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((app.store = store_new(conf->database)) == NULL)
		_exit(1);
	loaded_keys(&keys);
	store_set_keys(app.store, &keys);
	store_set_worker_limits(app.store);
	if (fcgi_init() != 0)
		_exit(1);
	log_event(LOG_INFO, "worker_start", NULL);
	fcgi_worker_run(fd, conf->max_body, &worker_stop, dispatch, &app);
	refused = store_keys_refused(app.store);
	store_free(app.store);
	log_event(LOG_INFO, "worker_stop", NULL);
	exit(refused ? SERVE_EXIT_KEYS : 0);
}

struct pool {
	pid_t	pids[PCS_WORKERS_MAX];
	long long born[PCS_WORKERS_MAX];	/* CLOCK_MONOTONIC ms at spawn */
	int	n;
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pid_t
spawn(int fd, const struct conf *conf, const struct formset *forms)
{
	pid_t pid = fork();

	if (pid == 0)
		worker_main(fd, conf, forms);
	if (pid < 0)
		log_event(LOG_ERROR, "fork_failed", "errno=%d", errno);
	return pid;
}

/* Sends SIGTERM to every worker and waits up to the drain time, then kills. */
static void
pool_drain(struct pool *p)
{
	time_t deadline = time(NULL) + SERVE_DRAIN_SECONDS;
	int left;

	for (int i = 0; i < p->n; i++)
		if (p->pids[i] > 0)
			kill(p->pids[i], SIGTERM);
	do {
		left = 0;
		for (int i = 0; i < p->n; i++) {
			if (p->pids[i] <= 0)
				continue;
			if (waitpid(p->pids[i], NULL, WNOHANG) == p->pids[i])
				p->pids[i] = 0;
			else {
				left++;
				kill(p->pids[i], SIGTERM);	/* again: it may have missed one in a race */
			}
		}
		if (left)
			usleep(50 * 1000);
	} while (left && time(NULL) < deadline);
	for (int i = 0; i < p->n; i++)
		if (p->pids[i] > 0) {
			kill(p->pids[i], SIGKILL);
			waitpid(p->pids[i], NULL, 0);
			p->pids[i] = 0;
		}
}

static void
pool_start(struct pool *p, int fd, const struct conf *conf, const struct formset *forms)
{
	for (int i = 0; i < p->n; i++) {
		p->pids[i] = spawn(fd, conf, forms);
		p->born[i] = mono_ms();
	}
}

/* Reaps dead workers and starts their replacements. */
static void
pool_reap(struct pool *p, int fd, const struct conf *conf, const struct formset *forms)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < p->n; i++) {
			if (p->pids[i] != pid)
				continue;
			log_event(LOG_WARN, "worker_died", "status=%d signal=%d",
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
			p->pids[i] = 0;
			if (WIFEXITED(status) && WEXITSTATUS(status) == SERVE_EXIT_KEYS) {
				/* T-37: fail closed, no replacement would do better */
				keys_refused = true;
				got_term = 1;
			}
			if (got_term)
				continue;
			/*
			 * A worker that dies within a second of its start (a
			 * start-up failure) is not restarted in a tight loop:
			 * at most about four forks a second per slot.  One that
			 * ran for longer is replaced at once (T-35: < 1 s).
			 */
			if (mono_ms() - p->born[i] < 1000)
				usleep(SERVE_RESPAWN_PAUSE_MS * 1000);
			p->pids[i] = spawn(fd, conf, forms);
			p->born[i] = mono_ms();
		}
	}
}

static void
load_forms(const struct conf *conf, struct formset *fs)
{
	char *text = NULL;
	size_t len = 0;
	FILE *report = open_memstream(&text, &len);
	size_t refused;

	refused = formset_load(conf->forms_dir, fs, report ? report : stderr);
	if (report)
		fclose(report);
	if (text && len) {
		/* forms.md: a refused form is reported, the others keep serving */
		char *line, *save = NULL;

		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			fprintf(stderr, "form refused: %s\n", line);
	}
	free(text);
	log_event(LOG_INFO, "forms_loaded", "count=%zu refused=%zu", fs->n, refused);
}

/*
 * SIGHUP: load the forms again and roll the workers.  The new workers
 * accept while the old ones finish their requests, so nothing queues.
 */
static void
reload(struct pool *pool, struct formset *forms, int fd, const struct conf *conf)
{
	struct formset fresh = { NULL, 0 };
	struct pool next = { .n = conf->workers };

	load_forms(conf, &fresh);
	pool_start(&next, fd, conf, &fresh);
	pool_drain(pool);
	formset_release(forms);
	*forms = fresh;
	*pool = next;
	log_event(LOG_INFO, "reload", "forms=%zu", forms->n);
}

static void
usage(void)
{
	fprintf(stderr, "usage: pcsurvey serve [--config FILE] [--socket PATH] [--workers N] "
	    "[--accept-new-keys]\n");
}

/*
 * T-37: the keys must be the ones that wrote the data.  Checked here,
 * before the socket exists, when the database answers; when it does not,
 * each worker checks on its first connection (store_set_keys) instead.
 * accept: a deliberate rotation (docs/privacy.md section 7) binds the new
 * keys.  False: refuse to start (the message names the file only).
 */
static bool
keys_match_data(const struct conf *conf, bool accept)
{
	struct store *st = store_new(conf->database);
	struct store_keys k;
	const char *which = "";
	enum pcs_err err;

	if (st == NULL)
		return false;
	loaded_keys(&k);
	err = store_keys_check(st, &k, accept, &which);
	store_free(st);		/* no connection is inherited by the workers */
	if (err == PCS_ECRYPTO) {
		fprintf(stderr, "pcsurvey serve: refusing to start: %s/%s is not the key that "
		    "wrote the data in this database (its fingerprint was never accepted).  "
		    "Install the right key; after a deliberate rotation (docs/privacy.md) start "
		    "once with --accept-new-keys\n", conf->keys_dir, which);
		log_event(LOG_ERROR, "key_mismatch", "file=%s", which);
		return false;
	}
	if (err == PCS_OK) {
		log_event(LOG_INFO, accept ? "keys_rebound" : "keys_checked", NULL);
		return true;
	}
	if (accept) {
		/* the workers would refuse the new keys: nothing to start */
		fprintf(stderr, "pcsurvey serve: --accept-new-keys needs the database, which "
		    "does not answer (check `database` and that PostgreSQL is running)\n");
		return false;
	}
	log_event(LOG_WARN, "keys_check_deferred", "reason=db_unavailable");
	return true;
}

int
cmd_serve(int argc, char **argv)
{
	const char *config = NULL, *sock = NULL, *nworkers = NULL, *helpf = NULL;
	const char *accept_keys = NULL;
	const struct arg_spec specs[] = {
		{ "config", true, &config },
		{ "socket", true, &sock },
		{ "workers", true, &nworkers },
		{ "accept-new-keys", false, &accept_keys },
		{ "help", false, &helpf },
		{ NULL, false, NULL },
	};
	struct conf conf;
	struct formset forms = { NULL, 0 };
	struct pool pool = { .n = 0 };
	struct rlimit nocore = { 0, 0 };
	const char *ops[1];
	char msg[1024];
	long workers = 0;
	int nops, fd;
	sigset_t mask, old;

	if (!args_parse(argc, argv, specs, ops, 0, &nops)) {
		usage();
		return 2;
	}
	if (helpf) {
		usage();
		return 0;
	}
	if (nworkers) {
		workers = strtol(nworkers, NULL, 10);
		if (workers < 1 || workers > PCS_WORKERS_MAX) {
			usage();
			return 2;
		}
	}
	if (conf_load(&conf, config, msg, sizeof(msg)) != PCS_OK) {
		fprintf(stderr, "pcsurvey serve: %s\n", msg);
		return 1;
	}
	if (sock)
		snprintf(conf.socket, sizeof(conf.socket), "%s", sock);
	if (workers)
		conf.workers = (int)workers;
	log_set_level(conf.log_level);
	/* privacy.md: no identifier in a core dump, so there are no core dumps */
	setrlimit(RLIMIT_CORE, &nocore);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (!crypto_init()) {
		fprintf(stderr, "pcsurvey serve: libsodium failed to start\n");
		return 1;
	}
	if (crypto_load_keys(conf.keys_dir, msg, sizeof(msg)) != PCS_OK) {
		fprintf(stderr, "pcsurvey serve: refusing to start: %s\n", msg);
		return 1;
	}
	if (ref_load() != PCS_OK) {
		fprintf(stderr, "pcsurvey serve: reference data is damaged (rebuild)\n");
		return 1;
	}
	if (!keys_match_data(&conf, accept_keys != NULL))
		return 1;
	load_forms(&conf, &forms);
	if ((fd = open_socket(conf.socket)) < 0)
		return 1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &old);
	set_handler(SIGTERM, on_signal);
	set_handler(SIGINT, on_signal);
	set_handler(SIGHUP, on_signal);
	set_handler(SIGCHLD, on_signal);
	signal(SIGPIPE, SIG_IGN);

	pool.n = conf.workers;
	pool_start(&pool, fd, &conf, &forms);
	log_event(LOG_INFO, "serve_start", "workers=%d", pool.n);
	while (!got_term) {
		sigsuspend(&old);	/* atomically unblock and wait: no lost signal */
		if (got_chld) {
			got_chld = 0;
			if (!got_term)
				pool_reap(&pool, fd, &conf, &forms);
		}
		if (got_hup && !got_term) {
			got_hup = 0;
			reload(&pool, &forms, fd, &conf);
		}
	}
	log_event(LOG_INFO, "serve_drain", NULL);
	pool_drain(&pool);
	close(fd);
	{
		struct stat st;

		if (stat(conf.socket, &st) == 0 && st.st_ino == socket_ino)
			unlink(conf.socket);
	}
	formset_release(&forms);
	if (keys_refused) {
		fprintf(stderr, "pcsurvey serve: stopped: a worker found that %s holds other "
		    "keys than the ones that wrote the data (see the log: key_mismatch)\n",
		    conf.keys_dir);
		log_event(LOG_ERROR, "serve_stop", "reason=key_mismatch");
		return 1;
	}
	log_event(LOG_INFO, "serve_stop", NULL);
	return 0;
}
