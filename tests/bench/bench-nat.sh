#!/bin/sh
# The NAT benchmark (see bench-nat.c). As root, from the build tree:
#   VXC_TEST_PREFIX=vxa make -C tests/bench bench
# or  VXC_TEST_PREFIX=vxa tests/bench/bench-nat.sh [N...]
set -eu
build=${VXC_TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export VXC_TOP_BUILDDIR=$build
[ "$(id -u)" = 0 ] || { echo "bench-nat: needs root" >&2; exit 77; }
command -v nft >/dev/null && command -v iptables-legacy-restore >/dev/null || {
	echo "bench-nat: needs nft and iptables-legacy-restore for the baselines" >&2; exit 77; }
exec "$build/tests/bench/bench-nat" "$@"
