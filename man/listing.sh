#!/bin/sh
# Keeps the source listings quoted in a man page identical to the files.
#
#   listing.sh --check  PAGE TOPSRCDIR   exit 1 when a listing is out of date
#   listing.sh --update PAGE TOPSRCDIR   rewrite PAGE's listings from the files
#
# In PAGE a listing is everything between
#   .\" listing FILE [FIRST LAST]
#   .\" end listing
# and is lines FIRST..LAST of TOPSRCDIR/FILE (the whole file without them),
# escaped for roff inside .EX/.EE, with tabs expanded to every 4 columns.
# Such a file must be quoted whole: across its listings, in order, each of
# its non-blank lines appears exactly once. So a change to the file shows up
# here instead of leaving a stale page behind.
#
# A listing may also quote one block of a file:
#   .\" listing FILE @TEXT
# is the first line that reads TEXT through the next line that starts with
# "}" (a struct, a function); such a file need not be quoted whole.
set -eu
mode=$1 page=$2 top=$3
case $mode in --check | --update) ;; *) echo "usage: $0 --check|--update PAGE TOPSRCDIR" >&2; exit 2 ;; esac
out=$(mktemp)
trap 'rm -f "$out"' EXIT

awk -v mode="$mode" -v top="$top" -v page="$page" '
function expand(s,    r, i, c) {
	r = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\t")
			do r = r " "; while (length(r) % 4)
		else
			r = r c
	}
	return r
}
function roff(s) {
	s = expand(s)
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	gsub(/\047/, "\\(aq", s)
	gsub(/`/, "\\(ga", s)
	gsub(/~/, "\\(ti", s)
	gsub(/\^/, "\\(ha", s)
	if (s ~ /^\./)
		s = "\\&" s
	return s
}
function fail(msg) {
	print page ": " msg > "/dev/stderr"
	bad = 1
}
# Lines of the listing, into gen[1..n]; marks them as quoted.
function generate(file, first, last, block,    path, line, n, i, in_block) {
	path = top "/" file
	n = 0
	i = 0
	gen[++n] = ".EX"
	while ((getline line < path) > 0) {
		i++
		if (block != "") {
			if (!in_block && line == block)
				in_block = 1
			else if (in_block == 1 && line ~ /^}/)
				in_block = 2
			else if (in_block != 1)
				continue
			gen[++n] = roff(line)
			continue
		}
		if (i < first || (last && i > last))
			continue
		if (i <= upto[file])
			fail(file " line " i " is quoted twice or out of order")
		upto[file] = i
		quoted[file, i] = 1
		gen[++n] = roff(line)
	}
	close(path)
	if (!i)
		fail("cannot read " path)
	if (block != "" && in_block != 2)
		fail(file " has no block \"" block "\" ending in }")
	gen[++n] = ".EE"
	if (block == "")
		files[file] = 1
	return n
}
/^\.\\" listing / {
	print
	block = index($0, "@") ? substr($0, index($0, "@") + 1) : ""
	n = generate($3, $4 + 0, $5 + 0, block)
	for (k = 1; k <= n; k++)
		print gen[k]
	k = 0
	while ((getline line) > 0 && line != ".\\\" end listing")
		if (++k > n || line != gen[k])
			stale = 1
	if (k != n)
		stale = 1
	if (stale && mode == "--check")
		print page ": the listing of " $3 " " (block != "" ? block : $4 "-" $5) " is out of date" > "/dev/stderr"
	outdated += stale
	stale = 0
	print ".\\\" end listing"
	next
}
{ print }
END {
	for (file in files) {
		path = top "/" file
		i = 0
		while ((getline line < path) > 0)
			if (++i && line !~ /^[ \t]*$/ && !quoted[file, i])
				fail(file " line " i " is not quoted")
		close(path)
	}
	# 1: wrong ranges or files, which rewriting cannot fix; 2: only stale
	exit bad ? 1 : outdated ? 2 : 0
}' "$page" >"$out" && rc=0 || rc=$?

case $mode:$rc in
--update:0 | --update:2) cmp -s "$out" "$page" || cat "$out" >"$page"; exit 0 ;;
--check:2) echo "$page: run man/listing.sh --update $page $top" >&2; exit 1 ;;
*) exit "$rc" ;;
esac
