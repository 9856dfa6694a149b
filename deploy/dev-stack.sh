#!/usr/bin/env bash
# dev-stack.sh: the local stack behind `make run`, `make stop` and `make test`:
# PostgreSQL 15 (own cluster, unix socket only), `pcsurvey serve` (FastCGI)
# and nginx, all owned by one instance directory.
#
#   run        dev instance:  var/       nginx 127.0.0.1:8080, PostgreSQL 15432
#   stop       stops the dev instance (nginx, pcsurvey, PostgreSQL)
#   test-up    test instance: var/test/  nginx 127.0.0.1:8180, PostgreSQL 15532,
#              sanitizer build, fresh database and keys, logs rotated
#   test-down  stops the test instance (keeps its files for a post-mortem)
#   bench-up   bench instance: var/bench/ nginx 127.0.0.1:8380, PostgreSQL 15732,
#              optimised build (bin/pcsurvey), 4 workers per CPU (PCS_BENCH_WORKERS),
#              no POST rate limit to speak of, fresh database and keys
#   bench-down stops the bench instance (`make bench`: tests/bench/bench.py)
#   status     says what runs, per instance
#
# All instances can run side by side.  Every process is found again by its
# pid file; a stale pid file (or a zombie: toolchain.md gotcha 10) is not
# trusted.  Run as root on Debian 12 (see deploy/install-deps.sh).
#
# When www-data (nginx workers) or postgres cannot reach the clone (e.g. it
# sits under /root), or the socket paths would be too long for a sockaddr_un,
# the state lives in /var/tmp/pcsurvey-<hash of the repo path>/<instance> and
# var/ (or var/test) is a symlink to it.
#
# Environment: PCS_LOG_LEVEL (default info), PCS_NGINX_RATE (default 50r/s),
# PCS_TEST_SLOT (a number: a separate test instance in var/testN on ports
# 8180+10N and 15532+10N, so several test runs can share a machine).
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
PGBIN=/usr/lib/postgresql/15/bin
ME=dev-stack

say() { printf '%s[%s]: %s\n' "$ME" "${INST:-?}" "$*"; }
die() { printf '%s[%s]: error: %s\n' "$ME" "${INST:-?}" "$*" >&2; exit 1; }

# Prints the last lines of a log file, indented, to stderr.
show_tail() {
	if [ -s "$1" ]; then
		printf '  --- last lines of %s ---\n' "$1" >&2
		tail -n "${2:-20}" "$1" | sed 's/^/  | /' >&2
	fi
}

# ---------------------------------------------------------------- instances

set_instance() {
	INST=$1
	case $INST in
	dev)
		SLOT= LINK=var HTTP_PORT=8080 PG_PORT=15432 WORKERS=2
		BIN=$ROOT/bin/pcsurvey LAG=
		;;
	test)
		# PCS_TEST_SLOT=N gives parallel test instances (var/testN, ports +10N)
		SLOT=${PCS_TEST_SLOT:-}
		LINK=var/test$SLOT HTTP_PORT=$((8180 + ${SLOT:-0} * 10))
		PG_PORT=$((15532 + ${SLOT:-0} * 10)) WORKERS=3
		BIN=$ROOT/build/san/pcsurvey LAG=0
		;;
	bench)
		# Workers block on PostgreSQL round trips (fsync at commit): 4
		# per CPU served twice the respondents of 1 per CPU (perf.md B2).
		SLOT= LINK=var/bench HTTP_PORT=8380 PG_PORT=15732
		WORKERS=${PCS_BENCH_WORKERS:-$((4 * $(nproc)))}
		BIN=$ROOT/bin/pcsurvey LAG=0
		;;
	*)
		die "unknown instance $INST"
		;;
	esac
	LOG_LEVEL=${PCS_LOG_LEVEL:-info}
	RATE=${PCS_NGINX_RATE:-50r/s}
	if [ "$INST" = bench ]; then
		RATE=${PCS_NGINX_RATE:-1000000r/s}	# benchmarks must not be throttled
	fi
}

# The test and bench instances are thrown away and made again at every start.
throwaway() {
	[ "$INST" = test ] || [ "$INST" = bench ]
}

# True when the nginx workers (www-data) and PostgreSQL (postgres) can reach
# the clone, and the two unix socket paths fit in sockaddr_un (108 bytes).
repo_reachable() {
	local u p
	for u in www-data postgres; do
		if ! runuser -u "$u" -- test -x "$ROOT" 2>/dev/null; then
			return 1
		fi
	done
	for p in "$ROOT/$LINK/run/pcsurvey.sock" "$ROOT/$LINK/pgsock/.s.PGSQL.$PG_PORT"; do
		if [ "${#p}" -ge 100 ]; then
			return 1
		fi
	done
	return 0
}

fallback_dir() {
	local h
	h=$(printf '%s' "$ROOT" | sha256sum | cut -c1-10)
	printf '/var/tmp/pcsurvey-%s/%s' "$h" "$INST${SLOT:-}"
}

# Sets VAR, the physical state directory, creating it (and the var or
# var/test symlink) when $1 is "create"; otherwise VAR is empty when the
# instance was never set up.
resolve_var() {
	local link=$ROOT/$LINK target
	VAR=
	if [ "$1" != create ]; then
		if [ -e "$link" ]; then
			VAR=$(readlink -f "$link")
		fi
		return 0
	fi
	if [ "$INST" != dev ] && [ ! -e "$ROOT/var" ]; then
		# The dev instance's directory holds var/test: make it first,
		# with the same fallback decision.
		(set_instance dev; resolve_var create)
	fi
	if repo_reachable; then
		if [ -L "$link" ]; then
			target=$(readlink -f "$link")
			mkdir -p "$target"
		else
			mkdir -p "$link"
		fi
	else
		target=$(fallback_dir)
		if [ -e "$link" ] && [ ! -L "$link" ]; then
			die "$link is a directory, but www-data or postgres cannot reach it; run 'make stop' and remove it"
		fi
		mkdir -p "$target"
		chmod 755 "$(dirname "$target")" "$target"
		if [ "$(readlink "$link" 2>/dev/null)" != "$target" ]; then
			ln -sfn "$target" "$link"
			say "state kept in $target ($LINK links to it: www-data or postgres cannot reach $ROOT)"
		fi
	fi
	VAR=$(readlink -f "$link")
	chmod 755 "$VAR"
}

make_dirs() {
	mkdir -p "$VAR/log" "$VAR/run" "$VAR/nginx" "$VAR/pg" "$VAR/pgsock"
	chmod 755 "$VAR/log" "$VAR/nginx"
	# The FastCGI socket inherits group www-data from this directory.
	chgrp www-data "$VAR/run"
	chmod 2750 "$VAR/run"
	chown postgres:postgres "$VAR/pg" "$VAR/pgsock"
	chmod 700 "$VAR/pg"
	chmod 755 "$VAR/pgsock"
}

# ---------------------------------------------------------------- processes

# True when process $1 exists and is not a zombie.
pid_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $st in
	'' | Z*) return 1 ;;
	esac
	return 0
}

# Prints the pid in file $1 if that process is alive and its command line
# contains $2 (so a recycled pid is not taken for ours).
live_pid() {
	local pid args
	[ -f "$1" ] || return 1
	pid=$(head -n 1 "$1" | tr -dc '0-9')
	[ -n "$pid" ] || return 1
	pid_alive "$pid" || return 1
	args=$(ps -o args= -p "$pid" 2>/dev/null) || return 1
	case $args in
	*"$2"*) printf '%s\n' "$pid" ;;
	*) return 1 ;;
	esac
}

# Waits up to $2 tenths of a second for process $1 to go away.
wait_gone() {
	local i=0
	while pid_alive "$1"; do
		[ "$i" -lt "$2" ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 0
}

stop_nginx() {
	local pid
	if pid=$(live_pid "$VAR/run/nginx.pid" nginx); then
		say "stopping nginx (pid $pid)"
		kill -QUIT "$pid" 2>/dev/null || true
		if ! wait_gone "$pid" 100; then
			kill -TERM "$pid" 2>/dev/null || true
			wait_gone "$pid" 30 || kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$VAR/run/nginx.pid"
}

stop_server() {
	local pid p
	if pid=$(live_pid "$VAR/run/pcsurvey.pid" pcsurvey); then
		say "stopping pcsurvey (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_gone "$pid" 200; then
			say "pcsurvey did not drain within 20 s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		# Workers left behind by a killed supervisor: the server was
		# started by setsid, so its session id is its pid.
		for p in $(ps -o pid= -s "$pid" 2>/dev/null); do
			if pid_alive "$p"; then
				wait_gone "$p" 30 || kill -KILL "$p" 2>/dev/null || true
			fi
		done
	fi
	rm -f "$VAR/run/pcsurvey.pid" "$VAR/run/pcsurvey.sock"
}

# Runs a PostgreSQL tool as postgres, from / (the caller's directory may be
# out of postgres's reach, e.g. under /root).
as_postgres() {
	(cd / && runuser -u postgres -- "$@")
}

pg_pid() {
	live_pid "$VAR/pg/postmaster.pid" postgres
}

stop_pg() {
	local pid
	if pid=$(pg_pid); then
		say "stopping PostgreSQL (pid $pid)"
		if ! as_postgres "$PGBIN/pg_ctl" -D "$VAR/pg" -m fast -w -t 30 stop >/dev/null; then
			as_postgres "$PGBIN/pg_ctl" -D "$VAR/pg" -m immediate -w -t 30 stop >/dev/null || true
		fi
	fi
}

stop_all() {
	stop_nginx
	stop_server
	stop_pg
}

# ---------------------------------------------------------------- steps

install_deps() {
	bash "$ROOT/deploy/install-deps.sh" | sed -e "/^$/d" -e "s/^/${ME}[${INST}]: /"
}

# make, outside any calling make (its command-line variables such as
# SANITIZE travel in MAKEFLAGS) so each build is exactly the one asked for.
build() {
	local out
	out=$(mktemp)
	say "building: make${*:+ $*}"
	if ! (cd "$ROOT" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    make -j"$(nproc)" "$@") >"$out" 2>&1; then
		tail -n 40 "$out" >&2
		rm -f "$out"
		die "build failed: make $*"
	fi
	rm -f "$out"
}

psql_admin() {
	PGOPTIONS='-c client_min_messages=warning' "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$VAR/pgsock" -p "$PG_PORT" \
	    -U postgres -d postgres "$@"
}

pg_up() {
	local pid
	touch "$VAR/log/postgresql.log"
	chown postgres:postgres "$VAR/log/postgresql.log"
	chmod 640 "$VAR/log/postgresql.log"
	if [ ! -s "$VAR/pg/PG_VERSION" ]; then
		say "creating PostgreSQL cluster in $VAR/pg"
		if ! as_postgres "$PGBIN/initdb" -D "$VAR/pg" -U postgres \
		    -A trust -E UTF8 --locale=C.UTF-8 -N >"$VAR/log/initdb.log" 2>&1; then
			show_tail "$VAR/log/initdb.log"
			die "initdb failed"
		fi
		# No client address in the log, no statement text or DETAIL
		# (which can quote values: privacy.md), dates in UTC.
		cat >>"$VAR/pg/postgresql.conf" <<-'EOF'

		# pcsurvey (deploy/dev-stack.sh).  Port and socket directory are
		# in pcsurvey-instance.conf, rewritten at every start, so a bare
		# `pg_ctl -D ... start` (as the tests do) starts it the same way.
		include_if_exists = 'pcsurvey-instance.conf'
		listen_addresses = ''
		unix_socket_permissions = 0770
		log_line_prefix = '%m [%p] %q%u@%d '
		log_error_verbosity = terse
		log_min_error_statement = panic
		log_connections = off
		log_disconnections = off
		log_hostname = off
		timezone = 'UTC'
		log_timezone = 'UTC'
		EOF
	fi
	if ! grep -q "^include_if_exists = 'pcsurvey-instance.conf'" "$VAR/pg/postgresql.conf"; then
		printf "\ninclude_if_exists = 'pcsurvey-instance.conf'\n" >>"$VAR/pg/postgresql.conf"
	fi
	printf "port = %s\nunix_socket_directories = '%s'\n" "$PG_PORT" "$VAR/pgsock" \
	    >"$VAR/pg/pcsurvey-instance.conf"
	chown postgres:postgres "$VAR/pg/pcsurvey-instance.conf"
	if pid=$(pg_pid); then
		say "PostgreSQL already running (pid $pid)"
	else
		# A stale postmaster.pid (dead or zombie owner) makes postgres
		# refuse to start: it checks with kill(pid, 0).
		rm -f "$VAR/pg/postmaster.pid"
		say "starting PostgreSQL on $VAR/pgsock port $PG_PORT"
		if ! as_postgres "$PGBIN/pg_ctl" -D "$VAR/pg" \
		    -l "$VAR/log/postgresql.log" -w -t 60 start >/dev/null; then
			show_tail "$VAR/log/postgresql.log"
			die "PostgreSQL did not start"
		fi
	fi
	if throwaway; then
		psql_admin -c "DROP DATABASE IF EXISTS pcsurvey WITH (FORCE)"
	fi
	if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'pcsurvey'")" != 1 ]; then
		psql_admin -c "CREATE ROLE pcsurvey LOGIN"
	fi
	if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'pcsurvey'")" != 1 ]; then
		say "creating database pcsurvey"
		psql_admin -c "CREATE DATABASE pcsurvey OWNER pcsurvey ENCODING 'UTF8' TEMPLATE template0"
	fi
}

keys() {
	local k=$VAR/keys c=$VAR/custodian
	if throwaway; then
		rm -rf "$k" "$c"
	fi
	if [ -f "$k/pseudonym.key" ]; then
		return 0
	fi
	rm -rf "$k"
	if ! "$BIN" keygen --out "$k" >"$VAR/log/keygen.log" 2>&1; then
		# In case keygen wants the directory to exist already.
		mkdir -m 700 "$k"
		if ! "$BIN" keygen --out "$k" >"$VAR/log/keygen.log" 2>&1; then
			show_tail "$VAR/log/keygen.log"
			die "pcsurvey keygen failed"
		fi
	fi
	chmod 700 "$k"
	# The server refuses to start while research.sec is in keys_dir.
	mkdir -p "$c"
	chmod 700 "$c"
	if [ -f "$k/research.sec" ]; then
		mv -f "$k/research.sec" "$c/research.sec"
		chmod 600 "$c/research.sec"
	fi
	if [ "$INST" = dev ]; then
		say "Development keys generated in var/keys (research secret key kept in var/custodian for testing; in production give it to the data custodian)"
	else
		say "test keys generated in $LINK/keys (research secret key in $LINK/custodian)"
	fi
}

# The test instance serves the study forms plus the test forms of
# tests/forms/ (closed, not-yet-open, one_per_person ...), copied so the
# study forms in forms/ stay exactly the research team's.
forms_dir() {
	if [ "$INST" = test ]; then
		rm -rf "$VAR/forms"
		mkdir -p "$VAR/forms"
		cp "$ROOT"/forms/*.json "$VAR/forms/"
		if ls "$ROOT"/tests/forms/*.json >/dev/null 2>&1; then
			cp "$ROOT"/tests/forms/*.json "$VAR/forms/"
		fi
		printf '%s' "$VAR/forms"
	else
		printf '%s' "$ROOT/forms"
	fi
}

write_conf() {
	local f=$VAR/pcsurvey.conf fd
	fd=$(forms_dir)
	{
		printf '# Written by deploy/dev-stack.sh (%s instance) at every start: edits are lost.\n' "$INST"
		printf 'database = host=%s port=%s dbname=pcsurvey user=pcsurvey\n' "$VAR/pgsock" "$PG_PORT"
		printf 'forms_dir = %s\n' "$fd"
		printf 'keys_dir = %s\n' "$VAR/keys"
		printf 'base_url = http://127.0.0.1:%s\n' "$HTTP_PORT"
		printf 'socket = %s\n' "$VAR/run/pcsurvey.sock"
		printf 'workers = %s\n' "$WORKERS"
		if [ -n "$LAG" ]; then
			printf 'counts_lag_days = %s\n' "$LAG"
		fi
		printf 'log_level = %s\n' "$LOG_LEVEL"
	} >"$f.tmp"
	mv -f "$f.tmp" "$f"
}

migrate() {
	local out
	out=$(mktemp)
	say "migrating the database"
	if ! "$BIN" migrate --config "$VAR/pcsurvey.conf" >"$out" 2>&1; then
		cat "$out" >>"$VAR/log/pcsurvey.log"
		show_tail "$out" 30
		rm -f "$out"
		die "pcsurvey migrate failed"
	fi
	cat "$out" >>"$VAR/log/pcsurvey.log"
	rm -f "$out"
}

# /assets/: nhsuk-frontend's CSS, JS and images (the CSS asks for
# /assets/images/...), our own deploy/assets/*, and nginx's error pages,
# generated from deploy/errors/page.html.in and deploy/errors/pages.txt.
assets() {
	local nhs=$ROOT/node_modules/nhsuk-frontend/dist/nhsuk a=$VAR/assets
	[ -f "$nhs/nhsuk-frontend.min.css" ] || die "$nhs/nhsuk-frontend.min.css missing (npm ci failed?)"
	rm -rf "$a.new"
	mkdir -p "$a.new/errors"
	cp "$nhs/nhsuk-frontend.min.css" "$nhs/nhsuk-frontend.min.js" "$a.new/"
	cp -R "$nhs/assets/." "$a.new/"
	if [ -d "$ROOT/deploy/assets" ]; then
		cp -R "$ROOT/deploy/assets/." "$a.new/"
	fi
	sh "$ROOT/deploy/errors/generate.sh" "$a.new/errors" || die "deploy/errors/generate.sh failed"
	chmod -R u=rwX,go=rX "$a.new"
	rm -rf "$a"
	mv "$a.new" "$a"
}

start_server() {
	local pid i=0 sock=$VAR/run/pcsurvey.sock
	[ -x "$BIN" ] || die "$BIN was not built"
	rm -f "$sock"
	printf '%s %s start instance=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$ME" "$INST" >>"$VAR/log/pcsurvey.log"
	setsid "$BIN" serve --config "$VAR/pcsurvey.conf" \
	    </dev/null >>"$VAR/log/pcsurvey.log" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$VAR/run/pcsurvey.pid"
	say "started pcsurvey serve (pid $pid, $WORKERS workers)"
	while [ ! -S "$sock" ]; do
		if ! pid_alive "$pid"; then
			show_tail "$VAR/log/pcsurvey.log" 30
			die "pcsurvey serve exited during start-up"
		fi
		if [ "$i" -ge 300 ]; then
			show_tail "$VAR/log/pcsurvey.log" 30
			die "no socket $sock after 30 s"
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

sed_escape() {
	printf '%s' "$1" | sed 's/[\\&|]/\\&/g'
}

start_nginx() {
	local conf=$VAR/nginx/nginx.conf
	sed -e "s|@VAR@|$(sed_escape "$VAR")|g" \
	    -e "s|@PORT@|$HTTP_PORT|g" \
	    -e "s|@SOCKET@|$(sed_escape "$VAR/run/pcsurvey.sock")|g" \
	    -e "s|@RATE@|$(sed_escape "$RATE")|g" \
	    "$ROOT/deploy/nginx.conf.in" >"$conf.tmp"
	mv -f "$conf.tmp" "$conf"
	if ! nginx -t -q -p "$VAR/nginx/" -e "$VAR/log/nginx-error.log" -c "$conf"; then
		die "nginx -t rejected $conf"
	fi
	if ! nginx -p "$VAR/nginx/" -e "$VAR/log/nginx-error.log" -c "$conf"; then
		show_tail "$VAR/log/nginx-error.log"
		die "nginx did not start (is port $HTTP_PORT in use?)"
	fi
	say "started nginx on 127.0.0.1:$HTTP_PORT"
}

wait_healthy() {
	local i=0 url=http://127.0.0.1:$HTTP_PORT/healthz
	until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
		if [ "$i" -ge 60 ]; then
			show_tail "$VAR/log/nginx-error.log"
			show_tail "$VAR/log/pcsurvey.log"
			die "$url did not answer 200 within 30 s"
		fi
		sleep 0.5
		i=$((i + 1))
	done
}

rotate_logs() {
	local f
	for f in "$VAR"/log/*.log; do
		[ -f "$f" ] || continue
		mv -f "$f" "$f.1"
	done
}

# The shared core: everything up, in order.
up() {
	resolve_var create
	make_dirs
	stop_nginx
	stop_server
	if throwaway; then
		# A throwaway instance: fresh logs (PostgreSQL restarted so it
		# writes to the new file), fresh database and keys below.
		stop_pg
		rotate_logs
	fi
	pg_up
	keys
	write_conf
	migrate
	assets
	start_server
	start_nginx
	wait_healthy
}

# ---------------------------------------------------------------- commands

cmd_run() {
	set_instance dev
	install_deps
	build
	up
	say "logs in $LINK/log/; stop with: make stop"
	printf 'pcsurvey is running at http://127.0.0.1:%s\n' "$HTTP_PORT"
}

cmd_test_up() {
	set_instance test
	install_deps
	build
	build SANITIZE=address,undefined
	export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
	export LSAN_OPTIONS=suppressions=$ROOT/deploy/lsan.supp:print_suppressions=0
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	up
	say "test instance up at http://127.0.0.1:$HTTP_PORT (state in $VAR)"
}

cmd_bench_up() {
	set_instance bench
	install_deps
	build
	up
	say "bench instance up at http://127.0.0.1:$HTTP_PORT (state in $VAR, $WORKERS workers)"
}

cmd_down() {
	set_instance "$1"
	resolve_var find
	if [ -z "$VAR" ] || [ ! -d "$VAR" ]; then
		say "nothing to stop"
		return 0
	fi
	stop_all
	say "stopped"
}

cmd_status() {
	local i pid
	for i in dev test bench; do
		set_instance "$i"
		resolve_var find
		if [ -z "$VAR" ] || [ ! -d "$VAR" ]; then
			say "not set up"
			continue
		fi
		if pid=$(live_pid "$VAR/run/nginx.pid" nginx); then
			say "nginx running (pid $pid) on 127.0.0.1:$HTTP_PORT"
		else
			say "nginx stopped"
		fi
		if pid=$(live_pid "$VAR/run/pcsurvey.pid" pcsurvey); then
			say "pcsurvey running (pid $pid)"
		else
			say "pcsurvey stopped"
		fi
		if pid=$(pg_pid); then
			say "PostgreSQL running (pid $pid) on port $PG_PORT"
		else
			say "PostgreSQL stopped"
		fi
	done
}

usage() {
	echo "usage: deploy/dev-stack.sh run|stop|test-up|test-down|bench-up|bench-down|status" >&2
	exit 2
}

[ "$#" -eq 1 ] || usage
if [ "$(id -u)" -ne 0 ]; then
	echo "$ME: run as root (it starts PostgreSQL as postgres and nginx as www-data)" >&2
	exit 1
fi
case $1 in
run) cmd_run ;;
stop) cmd_down dev ;;
test-up) cmd_test_up ;;
test-down) cmd_down test ;;
bench-up) cmd_bench_up ;;
bench-down) cmd_down bench ;;
status) cmd_status ;;
*) usage ;;
esac
