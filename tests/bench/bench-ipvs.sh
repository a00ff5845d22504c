#!/bin/bash
# ipvs against haproxy on the same members. This machine's kernel has no
# IP_VS, so the benchmark (bench-ipvs-vm.sh) runs inside the QEMU/TCG VM of
# the ipvs tests (tests/vm), whose initramfs then also holds haproxy, its
# plugin and wrk; on a kernel with IP_VS it runs here directly. Under TCG
# every instruction is emulated: the absolute figures are the VM's, the
# ratios are the result.
#
# As root, from the build tree:
#   VXC_TOP_SRCDIR=... VXC_TOP_BUILDDIR=... bash tests/bench/bench-ipvs.sh [SECONDS]
set -u
secs=${1:-3}
build=${VXC_TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
src=${VXC_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
[ "$(id -u)" = 0 ] || { echo "bench-ipvs: needs root"; exit 77; }
for c in haproxy wrk qemu-system-x86_64; do
	command -v "$c" >/dev/null || { echo "bench-ipvs: no $c (contrib/deps.sh)"; exit 77; }
done
if [ -e /proc/net/ip_vs ]; then
	work=$(mktemp -d /run/vxh-bench-ipvs.XXXXXX)
	trap 'rm -rf "$work"' EXIT
	mkdir -p "$work/plugins"
	install -m 0755 "$build"/plugins/*/*/.libs/*.so "$work/plugins/"
	exec sh "$src/tests/bench/bench-ipvs-vm.sh" "$build/core/vxcloud" "$work/plugins" \
		"$(command -v busybox)" "$secs"
fi
# shellcheck source=../vm/vm.sh
. "$src/tests/vm/vm.sh"
work=$(mktemp -d /tmp/vxh-bench-ipvs.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$(vxvm_kernel_root) || { echo "bench-ipvs: no kernel for the VM: $root"; exit 1; }
"$src/tests/vm/mkinitramfs.sh" "$root" "$build" "$src" "$work/initrd.gz" bench \
	>"$work/mk.log" 2>&1 || { cat "$work/mk.log"; exit 1; }
echo "# QEMU/TCG VM booting $(basename "$root"), 1 vCPU, 512 MiB; absolute figures are" \
	"emulated, the ratios are the result"
start=$(date +%s)
vxvm_boot "$root" "$work/initrd.gz" "$work/out" $((120 + 20 * secs)) vxmode=bench \
	"vxsecs=$secs"
qrc=$?
echo "# VM ran $(($(date +%s) - start)) s (qemu exit $qrc)"
# what the VM printed from /init on (not the firmware's screen codes)
sed -n '/# VM: kernel/,$p' "$work/out" | sed 's/^.*# VM: kernel/# VM: kernel/' |
	grep -v -e '^VXH-VM-RESULT' -e '^\[ *[0-9.]*\] '
res=$(sed -n 's/^VXH-VM-RESULT //p' "$work/out")
[ -n "$res" ] || { echo "bench-ipvs: no result from the VM"; tail -20 "$work/out"; }
[ "$res" = 0 ]
