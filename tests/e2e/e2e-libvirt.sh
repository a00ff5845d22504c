#!/bin/bash
# End to end with a real VM, on simulated hosts (network namespaces on a
# shared fabric): a VM (compute/libvirt, QEMU/TCG, against a private
# libvirtd running in h1's namespace) on h1, a container (compute/netns,
# busybox httpd) on h2, both in one tenant network; its router on h3 with
# DHCP (dnsmasq in the router's namespace) and a floating IP for the VM
# (nftables NAT driver).
#   - the VM got its address (and gateway, MTU) by DHCP;
#   - the container reaches the VM, the VM reaches the container;
#   - the client on the provider network reaches the VM on its floating IP;
#   - destroy on every host leaves no domain, tap, overlay, dnsmasq or
#     namespace: every host as it was.
set -u
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
. "$VXC_TOP_SRCDIR/tests/lib/libvirt.sh"
. "$VXC_TOP_SRCDIR/tests/lib/guest.sh"
vxt_require_root
vxt_libvirt_require
vxt_require_cmd dnsmasq busybox cpio timeout
for so in compute/libvirt/.libs/libvirt.so nat/nftables/.libs/nftables.so; do
	[ -f "$VXT_BUILDDIR/plugins/$so" ] || {
		echo "1..0 # SKIP plugins/$so is not built"
		exit 77
	}
done
vxt_init
vxt_guest_build || vxt_bail "cannot build the test guest from Debian packages"
vxt_add_host h1 192.0.2.1/24
vxt_add_host h2 192.0.2.2/24
vxt_add_host h3 192.0.2.3/24
vxt_add_client 203.0.113.100/24 203.0.113.1/24
vxt_libvirtd_start h1 || vxt_bail "libvirtd did not start"
qemu-img create -q -f qcow2 "$VXT_WORK/base.qcow2" 16M || vxt_bail "qemu-img create failed"
www="$VXT_WORK/www"
mkdir -p "$www"
echo "hello from c1" >"$www/index.html"

cat >"$VXT_WORK/cloud.conf" <<EOF
hosts = (
  { name = "h1"; tunnel = "192.0.2.1"; },
  { name = "h2"; tunnel = "192.0.2.2"; },
  { name = "h3"; tunnel = "192.0.2.3"; }
);
provider = { bridge = "br-prov"; uplink = "uplink"; cidr = "203.0.113.0/24";
  gateway = "203.0.113.1"; range = [ "203.0.113.10", "203.0.113.99" ]; };
networks = ( { name = "blue"; vni = 1001; cidr = "10.0.0.0/24"; mtu = 1450; dhcp = true; } );
routers = ( { name = "blue"; host = "h3"; external = "203.0.113.10"; networks = [ "blue" ]; } );
instances = (
  { name = "vm1"; kind = "vm"; host = "h1"; network = "blue"; address = "10.0.0.5";
    image = "$VXT_WORK/base.qcow2"; kernel = "$VXT_GUEST_KERNEL"; initrd = "$VXT_GUEST_INITRD";
    cmdline = "$VXT_GUEST_CMDLINE"; },
  { name = "c1"; kind = "container"; host = "h2"; network = "blue"; address = "10.0.0.6";
    command = [ "busybox", "httpd", "-f", "-p", "8080", "-h", "$www" ]; }
);
floating_ips = ( { address = "203.0.113.20"; router = "blue"; target = "vm1"; } );
EOF
vxt_node_conf h1 vm=libvirt libvirt.uri="$VXT_LIBVIRT_URI" libvirt.domain_type=qemu >/dev/null
vxt_node_conf h2 >/dev/null
vxt_node_conf h3 nat=nftables >/dev/null
for h in h1 h2 h3; do
	declare "before_$h=$(vxt_snapshot "$h")"
done

get() { # HOST NS ADDR PORT PATH: the body's last line (busybox nc)
	vxt_inst_ns "$1" "$2" sh -c \
		"printf 'GET $5 HTTP/1.0\r\n\r\n' | timeout 10 busybox nc -w 5 $3 $4" | tail -n 1 | grep .
}
client_get() { # ADDR PORT PATH
	vxt_ns client sh -c \
		"printf 'GET $3 HTTP/1.0\r\n\r\n' | timeout 10 busybox nc -w 5 $1 $2" | tail -n 1 | grep .
}
vm_answers() {
	get h2 vxi-c1 10.0.0.5 80 / | grep -q 'vxguest 10.0.0.5'
}

for h in h3 h2 h1; do
	vxt_ok "apply on $h" vxt_vxcloud "$h" apply
done
vxt_ok "the VM answers the container (bounded wait for the boot)" vxt_wait_until 1200 vm_answers
vxt_is "the VM got address, gateway and MTU by DHCP" "$(get h2 vxi-c1 10.0.0.5 80 /lease)" \
	"ip=10.0.0.5 router=10.0.0.1 mtu=1450 dns="
vxt_is "the VM reaches the container (its ping, asked over HTTP)" \
	"$(get h2 vxi-c1 10.0.0.5 80 '/cgi-bin/ping?10.0.0.6')" reachable
vxt_is "the VM reaches its gateway" "$(get h2 vxi-c1 10.0.0.5 80 '/cgi-bin/ping?10.0.0.1')" \
	reachable
vxt_ok "the container's server is up" vxt_wait_until 50 get h2 vxi-c1 127.0.0.1 8080 /
vxt_is "the router reaches the container over VXLAN" "$(get h3 vxr-blue 10.0.0.6 8080 /)" \
	"hello from c1"
vxt_is "the client reaches the VM on its floating IP" "$(client_get 203.0.113.20 80 /)" \
	"vxguest 10.0.0.5"
for h in h1 h2 h3; do
	out=$(vxt_vxcloud "$h" apply 2>&1)
	vxt_ok "a second apply on $h changes nothing" grep -q 'no changes' <<<"$out"
done

for h in h1 h2 h3; do
	vxt_ok "destroy on $h" vxt_vxcloud "$h" destroy
done
vxt_is "no domain is left" "$(vxt_virsh h1 list --all --name | grep -c .)" 0
vxt_is "no overlay or console log is left" \
	"$(find "$VXT_WORK/h1/state/libvirt" -type f | wc -l)" 0
vxt_is "no dnsmasq record is left" \
	"$(find "$VXT_WORK/h3/state/linuxbridge/dhcp" -type f 2>/dev/null | wc -l)" 0
vxt_is "no dnsmasq of this test runs" \
	"$(ps -eo args | grep -c "[d]nsmasq.*--conf-file=$VXT_WORK")" 0
for h in h1 h2 h3; do
	b="before_$h"
	vxt_is "destroy leaves $h as it was (no tap, bridge, namespace)" "$(vxt_snapshot "$h")" \
		"${!b}"
done
vxt_libvirtd_stop h1
vxt_done
