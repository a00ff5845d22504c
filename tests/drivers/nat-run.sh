#!/bin/sh
# Runs the NAT conformance suite (test-nat) against one NAT plugin, after
# checking that the plugin exports nothing but its descriptor. Usage:
#   nat-run.sh DRIVER      (iptables | nftables)
# Needs root (skips with 77 otherwise); VXC_TEST_PREFIX names everything.
set -u
drv=$1
build=${VXC_TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
so=$build/plugins/nat/$drv/.libs/$drv.so
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
[ -r "$so" ] || { echo "Bail out! $so not built"; exit 1; }
exports=$(nm -D --defined-only "$so" | awk '{print $3}' | sort | tr '\n' ' ')
if [ "$exports" != "vxc_plugin_descriptor " ]; then
	echo "Bail out! $so exports more than its descriptor: $exports"
	exit 1
fi
echo "# $so exports only vxc_plugin_descriptor"
exec "$build/tests/drivers/test-nat" "$so"
