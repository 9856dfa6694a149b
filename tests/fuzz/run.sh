#!/usr/bin/env bash
# run.sh: `make fuzz`, the longer libFuzzer runs of every parser of
# untrusted input (adversarial.md T-40; style README "Tests").
#
#   tests/fuzz/run.sh [HARNESS...]        default: every tests/fuzz/fuzz_*.c
#
# Environment:
#   FUZZ_SECONDS  seconds per harness (default 180)
#   FUZZ_MERGE=1  afterwards, merge the inputs that add coverage into the
#                 committed corpus tests/fuzz/corpus/HARNESS (libFuzzer
#                 -merge=1, so the corpus stays minimal)
#   FUZZ_COVER=0  skip the source-coverage report
#   FUZZ_CJSON=system  link the system libcjson instead of fetching the
#                 Debian source of the installed version (toolchain.md 8:
#                 an uninstrumented library gets no coverage)
#
# Each harness fuzzes from build/fuzz/corpus/HARNESS (its working corpus,
# kept between runs) plus the committed seeds.  A crash, leak, timeout or
# broken property is saved by libFuzzer and then copied into
# tests/fuzz/crashes/HARNESS/, where tests/fuzz/replay.sh turns it into a
# regression test of `make test` (commit it with the fix).
#
# Prints, per harness: executions, executions per second, libFuzzer's edge
# coverage (cov) and features (ft), corpus size, and the line coverage of
# the source files under test measured by replaying the whole corpus
# through a clang source-coverage build.  Last line: `fuzz: N passed,
# N failed` (a harness fails when it found anything).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$ROOT" || exit 1

SECONDS_EACH=${FUZZ_SECONDS:-180}
OUT=build/fuzz
LOGS=$OUT/logs
mkdir -p "$LOGS"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Largest input per harness, and the source files it is about.
max_len() {
	case $1 in
	str) echo 64 ;;
	cookies) echo 4096 ;;
	request | valid) echo 8192 ;;
	urlencoded | csv) echo 16384 ;;
	form) echo 65536 ;;
	*) echo 8192 ;;
	esac
}

# The parser's own functions (llvm-cov names: file:fn for static ones),
# for a coverage figure not diluted by the rest of their files.
functions() {
	case $1 in
	urlencoded) echo "http_parse_urlencoded http.c:decode_part http.c:urldecode http.c:hexval" ;;
	cookies) echo "http_parse_cookies crypto_code_normalise" ;;
	request) echo "http_parse_request http_split_path http_is_urlencoded" ;;
	str) echo "str_to_i64 date_parse utf8_valid utf8_count str_has_ctl days_from_civil civil_from_days date_format" ;;
	csv) echo "csv_read_row csv.c:rd csv.c:peek csv.c:cell_end csv_write_cell csv_write_raw csv.c:write_cell csv.c:needs_quotes" ;;
	form) echo "form_load_mem form.c:scan form.c:scan_string form.c:scan_number form.c:scan_key form.c:scan_literal form.c:scan_close_obj form.c:scan_push form.c:scan_hex4 form.c:scan_ws form.c:scan_fail form.c:utf8_bad_at" ;;
	valid) echo "valid_page valid.c:check_text valid.c:check_number valid.c:check_date valid.c:check_choice valid.c:check_choices valid.c:check_scale valid.c:check_consent valid.c:single journey_eval cond_eval" ;;
	*) echo "" ;;
	esac
}

targets() {
	case $1 in
	urlencoded | request) echo fcgi-app/http.c ;;
	cookies) echo "fcgi-app/http.c fcgi-app/crypto.c" ;;
	str) echo fcgi-app/str.c ;;
	csv) echo fcgi-app/csv.c ;;
	form) echo "fcgi-app/form.c ${CJSON_SRC:+$CJSON_SRC/cJSON.c}" ;;
	valid) echo "fcgi-app/valid.c fcgi-app/journey.c fcgi-app/cond.c" ;;
	*) echo "" ;;
	esac
}

# The Debian source of the installed libcjson, so cJSON.c is compiled with
# the sanitizers and coverage.  Uses apt's own client with a private list
# directory: the system's apt configuration is not touched.
fetch_cjson() {
	local dst=$OUT/cjson-src ver apt dir
	if [ -f "$dst/cJSON.c" ] && [ -f "$dst/cJSON.h" ]; then
		echo "$dst"
		return 0
	fi
	[ "${FUZZ_CJSON:-}" = system ] && return 1
	command -v apt-get >/dev/null 2>&1 && command -v dpkg-source >/dev/null 2>&1 || return 1
	ver=$(dpkg-query -W -f '${source:Version}' libcjson1 2>/dev/null) || return 1
	apt=$(readlink -f $OUT)/apt
	rm -rf "$apt"
	mkdir -p "$apt/lists/partial" "$apt/src"
	{
		echo "deb-src http://deb.debian.org/debian bookworm main"
		echo "deb-src http://deb.debian.org/debian bookworm-updates main"
		echo "deb-src http://deb.debian.org/debian-security bookworm-security main"
	} >"$apt/sources.list"
	local -a o=(-q -o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
	    -o "Dir::State::Lists=$apt/lists")
	if ! timeout 300 apt-get "${o[@]}" update >"$LOGS/apt.log" 2>&1 ||
	    ! (cd "$apt/src" && timeout 300 apt-get "${o[@]}" source "cjson=$ver") >>"$LOGS/apt.log" 2>&1; then
		return 1
	fi
	dir=$(find "$apt/src" -maxdepth 2 -name cJSON.c -printf '%h\n' | head -n 1)
	[ -n "$dir" ] || return 1
	mkdir -p "$dst"
	cp "$dir/cJSON.c" "$dir/cJSON.h" "$dst/"
	printf '%s\n' "$ver" >"$dst/VERSION"
	rm -rf "$apt"
	echo "$dst"
}

if ! command -v clang >/dev/null 2>&1; then
	echo "run.sh: clang is needed for libFuzzer (toolchain.md item 8)"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

CJSON_SRC=
if CJSON_SRC=$(fetch_cjson); then
	echo "cJSON: compiled from the Debian source $(cat "$CJSON_SRC/VERSION" 2>/dev/null) ($CJSON_SRC)"
else
	CJSON_SRC=
	echo "cJSON: the system library (not instrumented: no coverage inside cJSON; see $LOGS/apt.log)"
fi

if ! make -s -f tests/fuzz/fuzz.mk MODE=fuzz CJSON_SRC="$CJSON_SRC" -j"$(nproc)" >"$LOGS/build.log" 2>&1; then
	tail -n 20 "$LOGS/build.log"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

if [ "$#" -gt 0 ]; then
	HARNESSES=("$@")
else
	read -r -a HARNESSES <<<"$(make -s -f tests/fuzz/fuzz.mk list)"
fi

PASSED=0
FAILED=0
declare -A EXECS RATE COV FT CORP FOUND

for h in "${HARNESSES[@]}"; do
	bin=$OUT/bin/fuzz_$h
	work=$OUT/corpus/$h
	art=$OUT/artifacts/$h
	log=$LOGS/$h.log
	if [ ! -x "$bin" ]; then
		echo "FAIL $h: no harness $bin"
		FAILED=$((FAILED + 1))
		continue
	fi
	mkdir -p "$work" "$art" "tests/fuzz/corpus/$h" "tests/fuzz/crashes/$h"
	rm -f "$art"/*
	dict=()
	[ -f "tests/fuzz/dict/$h.dict" ] && dict=("-dict=tests/fuzz/dict/$h.dict")
	echo "== $h: fuzzing for ${SECONDS_EACH}s (log $log)"
	"$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
	    -max_len="$(max_len "$h")" -print_final_stats=1 -artifact_prefix="$art/" \
	    "${dict[@]}" "$work" "tests/fuzz/corpus/$h" >"$log" 2>&1
	EXECS[$h]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	RATE[$h]=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	COV[$h]=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]*' | tail -n 1 | cut -d' ' -f2)
	FT[$h]=$(grep -E '^#[0-9]+' "$log" | grep -o 'ft: [0-9]*' | tail -n 1 | cut -d' ' -f2)
	CORP[$h]=$(find "$work" "tests/fuzz/corpus/$h" -type f | wc -l)
	found=$(find "$art" -type f | wc -l)
	FOUND[$h]=$found
	if [ "$found" -gt 0 ]; then
		cp "$art"/* "tests/fuzz/crashes/$h/"
		echo "FAIL $h: $found input(s) crashed or broke a property; copied to tests/fuzz/crashes/$h/ (see $log)"
		grep -m 3 -E 'ERROR: |runtime error:|property failed' "$log" | sed 's/^/       /'
		FAILED=$((FAILED + 1))
	else
		PASSED=$((PASSED + 1))
	fi
	if [ "${FUZZ_MERGE:-0}" = 1 ]; then
		"$bin" -merge=1 -max_len="$(max_len "$h")" "tests/fuzz/corpus/$h" "$work" \
		    >"$LOGS/$h.merge.log" 2>&1 || echo "warning: merge of $h failed (see $LOGS/$h.merge.log)"
	fi
done

# Line coverage of the files under test, from the whole corpus.
declare -A LINES FUNCS
if [ "${FUZZ_COVER:-1}" != 0 ] && command -v llvm-cov >/dev/null 2>&1 &&
    make -s -f tests/fuzz/fuzz.mk MODE=cover CJSON_SRC="$CJSON_SRC" -j"$(nproc)" >"$LOGS/build-cover.log" 2>&1; then
	for h in "${HARNESSES[@]}"; do
		cbin=build/fuzz-cover/bin/fuzz_$h
		[ -x "$cbin" ] || continue
		prof=build/fuzz-cover/$h
		rm -f "$prof".profraw "$prof".profdata
		LLVM_PROFILE_FILE=$prof.profraw "$cbin" -q "tests/fuzz/corpus/$h" "$OUT/corpus/$h" \
		    >/dev/null 2>"$LOGS/$h.cover.log"
		llvm-profdata merge -sparse "$prof.profraw" -o "$prof.profdata" 2>>"$LOGS/$h.cover.log" || continue
		# shellcheck disable=SC2046  # a list of files
		LINES[$h]=$(llvm-cov report "$cbin" -instr-profile="$prof.profdata" $(targets "$h") 2>>"$LOGS/$h.cover.log" |
		    awk '$1 ~ /\.c$/ { n = split($1, p, "/"); printf "%s%s %s", sep, p[n], $10; sep = ", " }')
		# shellcheck disable=SC2046
		FUNCS[$h]=$(llvm-cov report "$cbin" -instr-profile="$prof.profdata" --show-functions $(targets "$h") \
		    2>>"$LOGS/$h.cover.log" | awk -v want="$(functions "$h")" '
			BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) f[w[i]] = 1 }
			($1 in f) && NF >= 10 { k++; l += $5; lm += $6; b += $8; bm += $9 }
			END { if (k) printf "%d fns: lines %d/%d (%.1f%%), branches %d/%d (%.1f%%)",
			    k, l - lm, l, l ? 100 * (l - lm) / l : 0, b - bm, b, b ? 100 * (b - bm) / b : 0 }')
	done
fi

echo
printf '%-11s %12s %9s %6s %7s %7s  %s\n' harness executions exec/s cov ft corpus "line coverage of the files under test"
for h in "${HARNESSES[@]}"; do
	printf '%-11s %12s %9s %6s %7s %7s  %s%s\n' "$h" "${EXECS[$h]:-?}" "${RATE[$h]:-?}" \
	    "${COV[$h]:-?}" "${FT[$h]:-?}" "${CORP[$h]:-?}" "${LINES[$h]:-n/a}" \
	    "$([ "${FOUND[$h]:-0}" -gt 0 ] && echo "  CRASHES: ${FOUND[$h]}")"
done
echo
echo "coverage of each parser's own functions (the whole corpus replayed):"
for h in "${HARNESSES[@]}"; do
	printf '  %-11s %s\n' "$h" "${FUNCS[$h]:-n/a}"
done
echo "fuzz: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
