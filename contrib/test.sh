#!/bin/bash
# Runs every vxcloud test: installs dependencies, builds with warnings as
# errors, runs `make check` (unit tests; as root also the driver and
# end-to-end tests in namespaces they create), the unit tests again under
# ASan+UBSan, the spec fuzzer for a bounded time, and `make distcheck`.
# Prints one summary line: "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
[ "$(id -u)" -eq 0 ] && contrib/deps.sh

passed=0 failed=0 skipped=0
count() { # Adds up automake's .trs results under $1.
	local p f s
	read -r p f s < <(find "$1" -name '*.trs' -exec cat {} + 2>/dev/null | awk '
		/^:test-result: PASS/ { p++ }
		/^:test-result: (FAIL|ERROR|XPASS)/ { f++ }
		/^:test-result: SKIP/ { s++ }
		END { print p + 0, f + 0, s + 0 }')
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}
status=0
step() { echo "=== $*"; }
show_failures() { # Prints the log of every failed test under $1.
	{ grep -rlE '^:test-result: (FAIL|ERROR|XPASS)' --include='*.trs' "$1" 2>/dev/null || true; } |
		while read -r trs; do
			echo "--- ${trs%.trs}.log"
			tail -n 60 "${trs%.trs}.log"
		done
}

# Out-of-tree builds, so the sanitizer build can share the source tree.
build="$top/_build" san="$top/_build-san"
step "build in $build (warnings are errors)"
autoreconf -fi >/dev/null 2>&1
rm -rf "$build" && mkdir -p "$build"
(cd "$build" && "$top/configure" -q --enable-werror && make -j2 -s)

step "make check"
make -s -C "$build" check || { status=1; show_failures "$build/tests"; }
count "$build/tests"

step "unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
# libconfig's own leaks on some syntax errors (test-cfgtree compares our
# reader with it on such input): the fuzzer's suppressions, its exact sites.
lsan="suppressions=$top/tests/fuzz/lsan.supp:print_suppressions=0"
rm -rf "$san" && mkdir -p "$san"
(cd "$san" && "$top/configure" -q --enable-werror \
	CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	LDFLAGS="-fsanitize=address,undefined" &&
	make -j2 -s &&
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="$lsan" make -s -C tests/unit check) ||
	{ status=1; show_failures "$san/tests/unit"; }
count "$san/tests/unit"

if command -v clang >/dev/null; then
	step "spec fuzzer (bounded time)"
	if VXC_FUZZ_BUILDDIR="$build/tests/fuzz" tests/fuzz/run-fuzz.sh "${VXC_FUZZ_SECONDS:-60}"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1)) status=1
	fi
fi

step "make distcheck"
if make -s -C "$build" distcheck >/dev/null; then
	passed=$((passed + 1))
else
	failed=$((failed + 1)) status=1
fi

echo "$passed passed, $failed failed, $skipped skipped"
exit $status
