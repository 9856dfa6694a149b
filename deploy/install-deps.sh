#!/usr/bin/env bash
# install-deps.sh: installs what pcsurvey needs to build, run and test, and
# nothing that is already there.  Debian 12, run as root, no standard input
# (CI).  Package names are the ones checked in ../shared/toolchain.md.
#
# 1. Debian packages: checked one by one with dpkg-query; if any is missing,
#    one `apt-get update`, then one `apt-get install` of the missing ones.
# 2. npm packages (nhsuk-frontend, playwright-core, axe-core) from
#    package-lock.json with `npm ci`, when node_modules is missing or older
#    than the lock file.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"

export DEBIAN_FRONTEND=noninteractive

pkgs=(
	build-essential gcc make pkg-config	# compiler and make
	libfcgi-dev libfcgi0ldbl libfcgi-bin	# FastCGI library, runtime, cgi-fcgi
	libpq-dev libsodium-dev libcjson-dev libcmocka-dev libcsv-dev
	nginx					# the real binary (toolchain.md)
	postgresql-15 postgresql-client-15
	curl					# health checks
	procps					# ps, for pid checks in deploy/dev-stack.sh
	python3					# tests/integration
	chromium				# browser tests (playwright-core drives it)
	clang libclang-rt-14-dev		# libFuzzer
	valgrind wrk
	glpk-utils
	r-base-core r-cran-jsonlite		# runs docs/api.md's R example against the API
)

# Node and npm: preinstalled on our machines; Debian's own when missing.
if ! command -v node >/dev/null 2>&1; then
	pkgs+=(nodejs)
fi
if ! command -v npm >/dev/null 2>&1; then
	pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	if [ "$st" != "installed" ]; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing packages: ${missing[*]}" >&2
		echo "install-deps: run this script as root to install them" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	apt-get update -q </dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
	echo "install-deps: system packages present"
fi

# npm ci when node_modules is absent or older than the lock file.  npm writes
# node_modules/.package-lock.json at the end of every successful install.
if [ ! -f node_modules/.package-lock.json ] ||
    [ package-lock.json -nt node_modules/.package-lock.json ]; then
	echo "install-deps: npm ci"
	npm ci --no-audit --no-fund --loglevel=error </dev/null
	touch node_modules/.package-lock.json
else
	echo "install-deps: node_modules up to date"
fi
