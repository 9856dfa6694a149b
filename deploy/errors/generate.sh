#!/bin/sh
# generate.sh OUTDIR: writes nginx's own error pages into OUTDIR, one
# <status>.html for each row of pages.txt, filled into page.html.in (both
# beside this script; their header comments say the formats).
# deploy/dev-stack.sh runs it when it installs the assets.  POSIX sh and awk.
#
# The table's texts are written HTML-escaped (& < > " ' as entities, as
# html_text() in fcgi-app/html.c does); markup comes only from the template.
# A malformed row or template, or a failed write, exits 1 with a message.
set -eu

if [ $# -ne 1 ]; then
	printf 'usage: %s OUTDIR\n' "$0" >&2
	exit 2
fi
if [ ! -d "$1" ]; then
	printf '%s: %s is not a directory\n' "$0" "$1" >&2
	exit 1
fi
here=$(cd "$(dirname "$0")" && pwd -P)

# Bytes, not characters: the texts are UTF-8 and pass through untouched.
PCS_ERRORS_OUT=$1 LC_ALL=C exec awk '
function fail(msg) {
	printf "deploy/errors/generate.sh: %s\n", msg | "cat 1>&2"
	failed = 1
	exit 1
}
function esc(s) {
	gsub(/&/, "\\&amp;", s)		# first: the others add "&"
	gsub(/</, "\\&lt;", s)
	gsub(/>/, "\\&gt;", s)
	gsub(/"/, "\\&quot;", s)
	gsub(apos, "\\&#39;", s)
	return s
}
# Every occurrence of key in s replaced by val, which is taken literally
# (gsub would read "&" in val as the match) and not scanned again.
function put(s, key, val,    i, r) {
	r = ""
	while ((i = index(s, key)) > 0) {
		r = r substr(s, 1, i - 1) val
		s = substr(s, i + length(key))
	}
	return r s
}
function blank(s) {
	return s ~ /^[ \t]*$/
}

BEGIN {
	FS = "|"
	apos = sprintf("%c", 39)
	out = ENVIRON["PCS_ERRORS_OUT"]
	nt = 0
	nr = 0
	nfile = 0
}

FNR == 1 {
	nfile++
	where = (nfile == 1 ? "page.html.in" : "pages.txt")
}

# ---- the template: its lines, each with the flag it depends on ("" for none)
nfile == 1 {
	if (substr($0, 1, 3) == "{{!")
		next
	line = $0
	flag = ""
	if (substr(line, 1, 3) == "{{?") {
		j = index(line, "}}")
		flag = substr(line, 4, j - 4)
		if (j == 0 || flag !~ /^[a-z]+$/)
			fail(where ":" FNR ": a {{?flag}} line needs a lower-case flag")
		known[flag] = 1
		line = substr(line, j + 2)
	}
	if (line != "{{paragraphs}}" && index(put(line, "{{heading}}", ""), "{{") > 0)
		fail(where ":" FNR ": unknown placeholder, or {{paragraphs}} not alone on its line")
	nt++
	tline[nt] = line
	tflag[nt] = flag
	next
}

# ---- the table
nfile == 2 {
	if ($0 ~ /^#/ || blank($0))
		next
	if ($0 ~ /[\001-\037\177]/)
		fail(where ":" FNR ": a control character (tab or CR?)")
	if (NF < 4)
		fail(where ":" FNR ": want status|flags|heading|paragraph...")
	if ($1 !~ /^[0-9][0-9][0-9]$/)
		fail(where ":" FNR ": status \"" $1 "\" is not three digits")
	if ($1 in seen)
		fail(where ":" FNR ": status " $1 " twice")
	seen[$1] = 1
	nr++
	status[nr] = $1
	if ($2 != "-") {
		nf = split($2, fl, ",")
		for (k = 1; k <= nf; k++) {
			if (!(fl[k] in known))
				fail(where ":" FNR ": flag \"" fl[k] "\" has no {{?" fl[k] "}} line in page.html.in")
			has[nr, fl[k]] = 1
		}
	}
	for (k = 3; k <= NF; k++)
		if (blank($k))
			fail(where ":" FNR ": field " k " is empty")
	heading[nr] = esc($3)
	paras[nr] = ""
	for (k = 4; k <= NF; k++)
		paras[nr] = paras[nr] (k > 4 ? "\n" : "") "<p>" esc($k) "</p>"
	next
}

END {
	if (failed)
		exit 1
	if (nfile != 2 || nt == 0 || nr == 0)
		fail("page.html.in or pages.txt is missing or empty")
	for (r = 1; r <= nr; r++) {
		path = out "/" status[r] ".html"
		for (i = 1; i <= nt; i++) {
			if (tflag[i] != "" && !((r, tflag[i]) in has))
				continue
			if (tline[i] == "{{paragraphs}}")
				s = paras[r]
			else
				s = put(tline[i], "{{heading}}", heading[r])
			print s > path
		}
		if (close(path) != 0)
			fail("cannot write " path)
	}
}
' "$here/page.html.in" "$here/pages.txt"
