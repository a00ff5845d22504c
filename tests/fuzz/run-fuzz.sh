#!/bin/sh
# Runs the spec fuzzer for SECONDS (default 60), building it first if needed.
#   tests/fuzz/run-fuzz.sh [SECONDS]
# Run it from the top of a configured build tree (or set VXC_FUZZ_BUILDDIR
# to the build's tests/fuzz directory). Exit status: 0 clean, 1 a crash,
# leak or sanitizer report (the input is kept in tests/fuzz/fuzz-out/), 77
# when clang was not found by configure.
set -eu

secs=${1:-60}
srcdir=$(cd "$(dirname "$0")" && pwd)
builddir=${VXC_FUZZ_BUILDDIR:-}
if [ -z "$builddir" ]; then
	if [ -f tests/fuzz/Makefile ]; then
		builddir=tests/fuzz
	elif [ -f "$srcdir/Makefile" ]; then
		builddir=$srcdir
	else
		echo "run-fuzz.sh: no configured build found; run it from the build tree" >&2
		exit 2
	fi
fi
builddir=$(cd "$builddir" && pwd)

if ! grep -q '^fuzz_spec:' "$builddir/Makefile"; then
	echo "run-fuzz.sh: configure found no clang; the fuzzer is not built (skipped)" >&2
	exit 77
fi
make -s -C "$builddir" fuzz_spec

out=$builddir/fuzz-out
mkdir -p "$out/corpus"
export LSAN_OPTIONS="suppressions=$srcdir/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

# 1. Fuzz for $secs s. Leak checks are off here: libconfig leaks on some
#    syntax errors (suppressed, see lsan.supp), and a suppressed leak still
#    costs a full leak scan per input, which would slow the run twentyfold.
#    New inputs go to fuzz-out/corpus; the seed corpus in the tree stays.
# 2. Replay every input kept (each one reached new code) and the seeds with
#    leak checks on: a leak on any path the fuzzer found fails the run.
fail() {
	echo "run-fuzz.sh: FAILED in $1; log: $2" >&2
	grep -E 'ERROR|SUMMARY|artifact|Test unit' "$2" >&2 || true
	exit 1
}
"$builddir/fuzz_spec" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-detect_leaks=0 -print_final_stats=1 -dict="$srcdir/spec.dict" \
	-artifact_prefix="$out/" "$out/corpus" "$srcdir/corpus" >"$out/fuzz.log" 2>&1 ||
	fail "fuzzing" "$out/fuzz.log"
grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' \
	"$out/fuzz.log" || true
"$builddir/fuzz_spec" -runs=0 -timeout=10 -detect_leaks=1 -artifact_prefix="$out/" \
	"$out/corpus" "$srcdir/corpus" >"$out/replay.log" 2>&1 ||
	fail "the leak-checked replay" "$out/replay.log"
grep -E 'files found' "$out/replay.log" | sed 's/^INFO: */replayed with leak checks: /' || true
echo "run-fuzz.sh: no crash, leak or sanitizer report in $secs s"
