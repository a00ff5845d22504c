#!/bin/bash
# Builds the initramfs of the IPVS test VM: busybox-static, the kernel
# modules the test needs (with their dependencies, read from each module's
# own .modinfo since the package ships no modules.dep), the built vxcloud
# command, its plugins and every shared library they load (found by ldd),
# the test scripts and /init. With "bench": also haproxy, its plugin, wrk
# and the benchmark script (tests/bench/bench-ipvs-vm.sh).
#
# Usage: mkinitramfs.sh KERNEL_ROOT BUILDDIR SRCDIR OUT.cpio.gz [bench]
set -euo pipefail
kroot=$1 builddir=$2 srcdir=$3 out=$4 mode=${5:-test}
moddir=$(echo "$kroot"/lib/modules/*)
[ -d "$moddir" ] || { echo "mkinitramfs: no modules under $kroot/lib/modules" >&2; exit 1; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/vxh-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,proc,sys,dev,tmp,run,etc,lib/modules,vx/plugins}

cp /bin/busybox "$stage/bin/busybox"

# The modules by name, dependencies first.
declare -A seen=()
order=()
modpath() { find "$moddir" -name "$1.ko" -print -quit; }
add_module() {
	local name=${1//-/_} path dep
	[ -n "${seen[$name]:-}" ] && return 0
	seen[$name]=1
	path=$(modpath "$name")
	[ -n "$path" ] || path=$(modpath "${1//_/-}")
	[ -n "$path" ] || { echo "mkinitramfs: module $1 not in $moddir" >&2; exit 1; }
	for dep in $(tr '\0' '\n' <"$path" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_module "$dep"
	done
	cp "$path" "$stage/lib/modules/"
	order+=("$(basename "$path")")
}
# crc32c_generic: libcrc32c (conntrack, nf_nat) asks the crypto API for crc32c (a softdep)
for m in crc32c_generic ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh \
	nf_conntrack nf_nat nf_tables nft_nat nft_chain_nat nft_ct nf_conntrack_netlink \
	veth bridge vxlan; do
	add_module "$m"
done
printf '%s\n' "${order[@]}" >"$stage/lib/modules/order"

# vxcloud, the plugins it needs, their libraries (and the loader).
cp "$builddir/core/vxcloud" "$stage/vx/vxcloud"
plugins="linuxbridge netns ipvs nftables"
[ "$mode" = bench ] && plugins="$plugins haproxy"
for so in $plugins; do
	f=$(echo "$builddir"/plugins/*/"$so"/.libs/"$so".so)
	cp "$f" "$stage/vx/plugins/"
done
chmod 0755 "$stage/vx/plugins" "$stage"/vx/plugins/*.so
# ipvsadm: only the test uses it, to change IPVS by hand; iproute2's ip
# makes the simulated hosts of the end-to-end test (busybox's cannot)
cp "$(command -v ipvsadm || echo /usr/sbin/ipvsadm)" "$stage/vx/ipvsadm"
cp /sbin/ip "$stage/vx/ip"
# socat: the UDP client and the members' UDP servers of the conformance test
cp "$(command -v socat || echo /usr/bin/socat)" "$stage/vx/socat"
# the driver's member health checker (setting ipvs.checker)
cp "$builddir/plugins/lb/ipvs/vxcloud-ipvs-check" "$stage/vx/vxcloud-ipvs-check"
# balancer copies on two hosts (lb-ipvs-ha.sh): keepalived and its notify
cp "$(command -v keepalived || echo /usr/sbin/keepalived)" "$stage/vx/keepalived"
cp "$builddir/plugins/common/vxcloud-ha-notify" "$stage/vx/vxcloud-ha-notify"
progs=(ipvsadm ip socat vxcloud-ipvs-check keepalived vxcloud-ha-notify)
if [ "$mode" = bench ]; then
	cp "$(command -v haproxy || echo /usr/sbin/haproxy)" "$stage/vx/haproxy"
	cp "$(command -v wrk || echo /usr/bin/wrk)" "$stage/vx/wrk"
	cp "$srcdir/tests/bench/bench-ipvs-vm.sh" "$stage/vx/bench.sh"
	progs+=(haproxy wrk)
fi
for lib in $(ldd "$stage/vx/vxcloud" "$stage"/vx/plugins/*.so "${progs[@]/#/$stage/vx/}" |
	awk '/=> \// { print $3 } /^\t\// { print $1 }' | sort -u); do
	mkdir -p "$stage$(dirname "$lib")"
	cp -L "$lib" "$stage$lib"
done
cp "$srcdir/tests/drivers/lb-ipvs-conformance.sh" "$stage/vx/conformance.sh"
cp "$srcdir/tests/drivers/lb-ipvs-e2e.sh" "$stage/vx/e2e.sh"
cp "$srcdir/tests/drivers/lb-ipvs-ha.sh" "$stage/vx/ha.sh"
# keepalived runs a notify program only in directories no one but root
# can write to, as a user it finds by name (script_user root)
chmod 0755 "$stage" "$stage/vx"
echo 'root:x:0:0:root:/:/bin/sh' >"$stage/etc/passwd"
echo 'root:x:0:' >"$stage/etc/group"
mkdir -p "$stage/var"
ln -s ../run "$stage/var/run"
cp "$srcdir/tests/vm/init" "$stage/init"
chmod 0755 "$stage/init"

(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
