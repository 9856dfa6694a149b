#!/usr/bin/env bash
# replay.sh: the fuzz replay of `make test` (tests/run-all.sh runs it; style
# README "Tests": SQLite fuzzcheck's idea).  Builds every harness of
# tests/fuzz/ without libFuzzer but with ASan and UBSan (fuzz.mk
# MODE=replay, in build/fuzz-replay/), then runs through each one:
#   - its committed corpus, tests/fuzz/corpus/HARNESS/, and
#   - every input that ever crashed it or broke one of its properties,
#     tests/fuzz/crashes/HARNESS/ (run.sh copies them there): a crash that
#     was fixed stays fixed.
# One test per harness and directory; prints `ok - ...` or `FAIL ...` for
# each, then `fuzz replay: N passed, N failed`.  Exit 1 if any failed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$ROOT" || exit 1

B=build/fuzz-replay
LOG=$B/logs
mkdir -p "$LOG"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
PASSED=0
FAILED=0

if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -f tests/fuzz/fuzz.mk MODE=replay \
    -j"$(nproc)" >"$LOG/build.log" 2>&1; then
	echo "FAIL fuzz replay: the harnesses do not build, see $LOG/build.log"
	tail -n 10 "$LOG/build.log" | sed 's/^/       /'
	echo "fuzz replay: 0 passed, 1 failed"
	exit 1
fi
read -r -a HARNESSES <<<"$(make -s -f tests/fuzz/fuzz.mk list)"

# replay HARNESS DIR KIND: one test.
replay() {
	local h=$1 dir=$2 kind=$3 n log rc
	n=$(find "$dir" -maxdepth 1 -type f ! -name README ! -name '.*' 2>/dev/null | wc -l)
	log=$LOG/$h-$kind.log
	if [ "$n" -eq 0 ]; then
		echo "ok - fuzz replay $h $kind (no inputs)"
		PASSED=$((PASSED + 1))
		return
	fi
	(timeout 600 "$B/bin/fuzz_$h" "$dir" >"$log" 2>&1; exit $?) 2>/dev/null
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "ok - fuzz replay $h $kind ($n inputs)"
		PASSED=$((PASSED + 1))
	else
		# The driver names each input before running it: the last one
		# named is the one that crashed.
		echo "FAIL fuzz replay $h $kind: exit $rc on $(grep '^standalone: running' "$log" |
		    tail -n 1 | sed 's/^standalone: running //'), see $log"
		grep -m 3 -E 'ERROR: |runtime error:|property failed' "$log" | sed 's/^/       /'
		FAILED=$((FAILED + 1))
	fi
}

for h in "${HARNESSES[@]}"; do
	replay "$h" "tests/fuzz/corpus/$h" corpus
	replay "$h" "tests/fuzz/crashes/$h" crashes
done
echo "fuzz replay: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
