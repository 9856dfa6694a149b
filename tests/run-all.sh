#!/usr/bin/env bash
# run-all.sh: what `make test` runs.  Starts the test instance
# (deploy/dev-stack.sh test-up: sanitizer build behind nginx on 127.0.0.1:8180,
# PostgreSQL on 15532), then runs every suite:
#   unit         every executable in build/opt/tests/ and build/san/tests/
#                (cmocka), and build/opt/tests/* again under valgrind
#   fuzz replay  tests/fuzz/replay.sh and tests/fuzz/*/replay.sh, if present
#   integration  python3 tests/integration/run.py
#   browser      node tests/browser/*.mjs, if present
#   sanitizers   after the stack is stopped, each "ERROR: AddressSanitizer",
#                "ERROR: LeakSanitizer" or "runtime error:" in the server log
# The stack is torn down at the end, on failure and on interrupt.  Prints
# one line per failed test and per-suite totals; full outputs are kept in
# $TESTVAR/log/suites/.  The last line is `N passed, N failed`; exit 1 if
# any failed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$ROOT" || exit 1

PASSED=0
FAILED=0
STACK_UP=0
TORN_DOWN=0
OUT=
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export LSAN_OPTIONS=suppressions=$PWD/deploy/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export CMOCKA_MESSAGE_OUTPUT=STDOUT
SLOT=${PCS_TEST_SLOT:-}
TESTVAR=var/test$SLOT
export PCS_BASE=http://127.0.0.1:$((8180 + ${SLOT:-0} * 10))

fail_line() { printf '  FAIL %s\n' "$*"; }

# suite NAME PASSED FAILED: adds to the totals and prints the suite's line.
suite() {
	PASSED=$((PASSED + $2))
	FAILED=$((FAILED + $3))
	printf '%-44s %d passed, %d failed\n' "$1:" "$2" "$3"
}

# Suite outputs go to $TESTVAR/log/suites (build/test-logs if the stack
# never got that far); set once, after test-up.
init_out() {
	if [ -d $TESTVAR/log ]; then
		OUT=$(readlink -f $TESTVAR/log)/suites
	else
		OUT=$ROOT/build/test-logs
	fi
	rm -rf "$OUT"
	mkdir -p "$OUT"
}

out_dir() {
	printf '%s\n' "$OUT"
}

# make, outside any calling make (see deploy/dev-stack.sh).
run_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j"$(nproc)" "$@"
}

# ------------------------------------------------------------------ unit

# Runs one cmocka binary; $2 is a prefix for names ("san", "valgrind").
unit_one() {
	local bin=$1 label=$2 log rc p f n names
	log=$(out_dir)/unit-$label-$(basename "$bin").out
	# In a subshell whose stderr is discarded, so bash's own "Aborted"
	# notice for a binary killed by a signal does not clutter the output.
	if [ "$label" = valgrind ]; then
		(timeout 900 valgrind -q --error-exitcode=97 --leak-check=full \
		    --errors-for-leak-kinds=definite,indirect "$bin" >"$log" 2>&1; exit $?) 2>/dev/null
	else
		(timeout 600 "$bin" >"$log" 2>&1; exit $?) 2>/dev/null
	fi
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
	names=$(sed -n 's/^\[  FAILED  \] \(.*\)/\1/p' "$log" | grep -v '^[0-9][0-9]* test(s)' | awk '!seen[$0]++')
	if [ -n "$names" ]; then
		while IFS= read -r n; do
			fail_line "$label $(basename "$bin")::$n"
		done <<<"$names"
	fi
	if [ "$label" = valgrind ]; then
		# The plain run already counted the tests: here only memory
		# errors (exit 97) or a crash count, as one failure.
		p=0 f=0
		if [ "$rc" -eq 97 ] || [ "$rc" -ge 124 ]; then
			f=1
			fail_line "valgrind $(basename "$bin"): memory errors or crash (exit $rc), see $log"
		else
			p=1
		fi
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# A crash, a sanitizer abort or a leak report at exit: name the
		# test that was running, if any.
		f=1
		n=$(awk '/^\[ RUN      \] /{t=substr($0,14)} /^\[       OK \] |^\[  FAILED  \] /{t=""} END{print t}' "$log")
		if [ -n "$n" ]; then
			fail_line "$label $(basename "$bin")::$n: exit status $rc during this test (crash or sanitizer report), see $log"
		else
			fail_line "$label $(basename "$bin"): exit status $rc after its tests (crash or sanitizer report), see $log"
		fi
		grep -m 3 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY' "$log" | sed 's/^/       /'
	elif [ "$rc" -eq 0 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		p=1	# not cmocka: a clean exit is one pass
	fi
	UNIT_P=$((UNIT_P + p))
	UNIT_F=$((UNIT_F + f))
}

unit_suite() {
	local label=$1 dir=$2 bin log
	UNIT_P=0 UNIT_F=0
	log=$(out_dir)/build-unit-$label.out
	local -a args=(-k unit)
	if [ "$label" = san ]; then
		args=(-k "SANITIZE=address,undefined" unit)
	fi
	if ! run_make "${args[@]}" >"$log" 2>&1; then
		fail_line "unit tests ($label) do not build, see $log"
		tail -n 5 "$log" | sed 's/^/       /'
		UNIT_F=$((UNIT_F + 1))
	fi
	for bin in "$dir"/*; do
		if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then continue; fi
		unit_one "$bin" "$label"
	done
	suite "unit ($dir)" "$UNIT_P" "$UNIT_F"
	if [ "$label" = opt ] && command -v valgrind >/dev/null 2>&1; then
		UNIT_P=0 UNIT_F=0
		for bin in "$dir"/*; do
			if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then continue; fi
			unit_one "$bin" valgrind
		done
		suite "unit under valgrind ($dir)" "$UNIT_P" "$UNIT_F"
	fi
}

# ------------------------------------------------------------------ others

# Counts a suite from its output: the last "N passed, N failed" line if it
# printed one, else its exit status (0: one pass, else one failure).
# Failed test lines ("not ok - ...", "FAIL ...") are echoed.
counted_suite() {
	local name=$1 log=$2 rc=$3 last p f
	grep -E '^(not ok|FAIL|✖)' "$log" | head -n 50 | sed 's/^/  /'
	last=$(grep -E '(^|[a-z]+: )[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$last" ]; then
		p=$(printf '%s\n' "$last" | sed -E 's/.*\b([0-9]+) passed.*/\1/')
		f=$(printf '%s\n' "$last" | sed -E 's/.*\b([0-9]+) failed.*/\1/')
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
			fail_line "$name: exit status $rc, see $log"
		fi
	elif [ "$rc" -eq 0 ]; then
		p=1 f=0
	else
		p=0 f=1
		fail_line "$name: exit status $rc and no totals, see $log"
		tail -n 5 "$log" | sed 's/^/       /'
	fi
	suite "$name" "$p" "$f"
}

fuzz_replay() {
	local s log rc
	for s in tests/fuzz/replay.sh tests/fuzz/*/replay.sh; do
		[ -f "$s" ] || continue
		log=$(out_dir)/fuzz-$(echo "$s" | tr '/' '_').out
		timeout 1800 bash "$s" >"$log" 2>&1
		rc=$?
		counted_suite "fuzz replay ($s)" "$log" "$rc"
	done
}

integration() {
	local log rc
	log=$(out_dir)/integration.out
	if [ "$STACK_UP" -ne 1 ]; then
		fail_line "integration: not run, the test stack did not come up"
		suite integration 0 1
		return
	fi
	PCS_VAR=$(readlink -f $TESTVAR) timeout 3000 python3 tests/integration/run.py >"$log" 2>&1
	rc=$?
	counted_suite integration "$log" "$rc"
}

browser() {
	local t log rc
	for t in tests/browser/*.mjs; do
		[ -f "$t" ] || continue
		log=$(out_dir)/browser-$(basename "$t").out
		if [ "$STACK_UP" -ne 1 ]; then
			fail_line "browser $t: not run, the test stack did not come up"
			suite "browser ($t)" 0 1
			continue
		fi
		PCS_VAR=$(readlink -f $TESTVAR) timeout 1200 node "$t" >"$log" 2>&1
		rc=$?
		counted_suite "browser ($t)" "$log" "$rc"
	done
}

# ------------------------------------------------------------------ end

teardown() {
	[ "$TORN_DOWN" -eq 0 ] || return 0
	TORN_DOWN=1
	[ -n "$OUT" ] || init_out
	bash deploy/dev-stack.sh test-down >"$(out_dir)/test-down.out" 2>&1 ||
	    printf 'warning: test-down failed, see %s/test-down.out\n' "$(out_dir)"
}

sanitizer_scan() {
	local log n
	log=$(readlink -f $TESTVAR/log 2>/dev/null)/pcsurvey.log
	[ -f "$log" ] || return 0
	n=$(grep -c -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log")
	if [ "$n" -gt 0 ]; then
		grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log" | head -n 10 |
		    while IFS= read -r l; do fail_line "server sanitizer: $l"; done
		suite "sanitizer reports in the server log" 0 "$n"
	else
		suite "sanitizer reports in the server log" 1 0
	fi
}

finish() {
	teardown
	sanitizer_scan
	if [ $((PASSED + FAILED)) -eq 0 ]; then
		fail_line "no test ran"
		FAILED=1
	fi
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	if [ "$FAILED" -gt 0 ]; then
		exit 1
	fi
	exit 0
}

# shellcheck disable=SC2317  # called by the trap
interrupted() {
	trap - INT TERM
	printf 'interrupted\n'
	FAILED=$((FAILED + 1))
	finish
}

trap interrupted INT TERM
trap teardown EXIT

# ------------------------------------------------------------------ main

if bash deploy/dev-stack.sh test-up; then
	STACK_UP=1
	suite "test stack (deploy/dev-stack.sh test-up)" 1 0
else
	fail_line "deploy/dev-stack.sh test-up failed (output above)"
	suite "test stack (deploy/dev-stack.sh test-up)" 0 1
fi
init_out
unit_suite opt build/opt/tests
unit_suite san build/san/tests
fuzz_replay
integration
browser
finish
