#!/bin/bash
# compute/libvirt benchmark: the time from `vxcloud apply` to two VMs
# answering HTTP on their DHCP addresses, and vxcloud's own share of it,
# against a baseline measured in the same run: the same two domains (the
# XML vxcloud defined, overlays made by qemu-img) defined and started by
# virsh, the way an operator would by hand, on the same network with the
# same DHCP server. QEMU/TCG (this machine's KVM boots no stock kernel).
# As root, from the build tree:
#   VXC_TEST_PREFIX=vxa make -C tests/bench bench
# or VXC_TEST_PREFIX=vxa VXC_TOP_SRCDIR=... VXC_TOP_BUILDDIR=... tests/bench/bench-libvirt.sh
set -u
VXC_TOP_BUILDDIR=${VXC_TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
VXC_TOP_SRCDIR=${VXC_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export VXC_TOP_BUILDDIR VXC_TOP_SRCDIR
. "$VXC_TOP_SRCDIR/tests/lib/harness.sh"
. "$VXC_TOP_SRCDIR/tests/lib/libvirt.sh"
. "$VXC_TOP_SRCDIR/tests/lib/guest.sh"
vxt_require_root
vxt_libvirt_require
vxt_require_cmd dnsmasq busybox cpio timeout
vxt_init
vxt_guest_build || vxt_bail "cannot build the test guest"
vxt_add_host h1 192.0.2.1/24
vxt_libvirtd_start h1 || vxt_bail "libvirtd did not start"
BASE="$VXT_WORK/base.qcow2"
qemu-img create -q -f qcow2 "$BASE" 16M

spec() { # WITH_VMS
	cat >"$VXT_WORK/cloud.conf" <<EOF
hosts = ( { name = "h1"; tunnel = "192.0.2.1"; } );
provider = { bridge = "br-prov"; cidr = "203.0.113.0/24"; gateway = "203.0.113.1";
  range = [ "203.0.113.10", "203.0.113.99" ]; };
networks = ( { name = "priv"; vni = 10; cidr = "10.9.0.0/24"; mtu = 1450; dhcp = true; } );
routers = ( { name = "r"; host = "h1"; external = "203.0.113.10"; networks = [ "priv" ];
  snat = false; } );
EOF
	[ "$1" = yes ] || return 0
	cat >>"$VXT_WORK/cloud.conf" <<EOF
instances = (
  { name = "vm1"; kind = "vm"; host = "h1"; network = "priv"; address = "10.9.0.5";
    image = "$BASE"; kernel = "$VXT_GUEST_KERNEL"; initrd = "$VXT_GUEST_INITRD";
    cmdline = "$VXT_GUEST_CMDLINE"; },
  { name = "vm2"; kind = "vm"; host = "h1"; network = "priv"; address = "10.9.0.6";
    image = "$BASE"; kernel = "$VXT_GUEST_KERNEL"; initrd = "$VXT_GUEST_INITRD";
    cmdline = "$VXT_GUEST_CMDLINE"; }
);
EOF
}
vxt_node_conf h1 vm=libvirt libvirt.uri="$VXT_LIBVIRT_URI" libvirt.domain_type=qemu >/dev/null

now_ms() { echo $(($(date +%s%N) / 1000000)); }
answers() { # ADDR
	vxt_inst_ns h1 vxr-r sh -c \
		"printf 'GET / HTTP/1.0\r\n\r\n' | timeout 2 busybox nc -w 1 $1 80" | grep -q "vxguest $1"
}
both_answer() {
	answers 10.9.0.5 && answers 10.9.0.6
}

# the network, router and DHCP server first, outside both measurements
spec no
vxt_vxcloud h1 apply >/dev/null || vxt_bail "apply of the network failed"

spec yes
t0=$(now_ms)
vxt_vxcloud h1 apply >/dev/null 2>&1 || vxt_bail "apply failed"
t1=$(now_ms)
vxt_wait_until 1500 both_answer || vxt_bail "the VMs did not answer"
t2=$(now_ms)
# the same domains go by hand, so the DHCP reservations stay for the baseline
for d in vm1 vm2; do
	vxt_virsh h1 dumpxml --inactive "$d" >"$VXT_WORK/$d.xml"
	vxt_virsh h1 destroy "$d" >/dev/null
	vxt_virsh h1 undefine "$d" >/dev/null
	rm -f "$VXT_WORK/h1/state/libvirt/disks/$d.qcow2"
done

# baseline: the same domains by hand
t3=$(now_ms)
for d in vm1 vm2; do
	qemu-img create -q -f qcow2 -F qcow2 -b "$BASE" "$VXT_WORK/h1/state/libvirt/disks/$d.qcow2" &&
		vxt_virsh h1 define "$VXT_WORK/$d.xml" >/dev/null &&
		vxt_virsh h1 start "$d" >/dev/null || vxt_bail "virsh could not start $d"
done
t4=$(now_ms)
vxt_wait_until 1500 both_answer || vxt_bail "the hand-made VMs did not answer"
t5=$(now_ms)
vxt_vxcloud h1 destroy >/dev/null 2>&1 # the hand-made domains carry vxcloud's metadata too

awk -v a=$((t1 - t0)) -v t=$((t2 - t0)) -v ba=$((t4 - t3)) -v bt=$((t5 - t3)) 'BEGIN {
	printf "2 VMs, QEMU/TCG, apply until both answer HTTP on their DHCP address\n"
	printf "  vxcloud apply (overlays, define, start)   %7d ms\n", a
	printf "  apply -> both answering                   %7d ms\n", t
	printf "  vxcloud share of it                       %7.1f %%\n", 100 * a / t
	printf "baseline, same run: qemu-img + virsh define + virsh start by hand\n"
	printf "  virsh steps                               %7d ms\n", ba
	printf "  start -> both answering                   %7d ms\n", bt
	printf "ratio vxcloud/baseline: apply steps %.2f, to answering %.2f\n", a / ba, t / bt
}'
vxt_libvirtd_stop h1
exit 0
