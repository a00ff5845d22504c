#!/bin/bash
# compute/libvirt conformance, against a real libvirtd (started by this test
# with a private configuration inside the simulated host's namespace) and a
# booting guest (QEMU/TCG: this machine's KVM boots no stock kernel; see
# tests/lib/guest.sh for the guest). On one simulated host, through the
# vxcloud command:
#   - create: the domain runs with the ownership element, the overlay over
#     the base image, its tap vi-NAME on the network's bridge, the console
#     log; the guest gets its address by DHCP (router namespace, dnsmasq)
#     and answers;
#   - a second apply changes nothing;
#   - a reboot of the guest from inside, and a restart of the domain behind
#     vxcloud's back (virsh destroy + start), keep its NIC on the network;
#   - a vCPU change: the definition follows, the guest keeps running, plan
#     and status report a pending restart; allow_restart = true applies it;
#   - a changed kernel command line is shown by plan and applied;
#   - a domain of the same name that vxcloud does not own is refused and
#     left alone, and never listed;
#   - bad cases: libvirtd unreachable, missing base image, a domain type
#     the host cannot run, a libvirt error (quoted);
#   - remove (instance out of the spec) and destroy leave no domain, tap,
#     overlay, dnsmasq or namespace.
set -u
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
. "$VXC_TOP_SRCDIR/tests/lib/libvirt.sh"
. "$VXC_TOP_SRCDIR/tests/lib/guest.sh"
vxt_require_root
vxt_libvirt_require
vxt_require_cmd dnsmasq busybox cpio
[ -f "$VXT_BUILDDIR/plugins/compute/libvirt/.libs/libvirt.so" ] || {
	echo "1..0 # SKIP the libvirt driver is not built"
	exit 77
}
vxt_init
vxt_guest_build || vxt_bail "cannot build the test guest from Debian packages"
vxt_add_host h1 192.0.2.1/24
vxt_libvirtd_start h1 || vxt_bail "libvirtd did not start"
BASE="$VXT_WORK/base.qcow2"
qemu-img create -q -f qcow2 "$BASE" 16M || vxt_bail "qemu-img create failed"

DHCP='dhcp = true; dns = [ "10.9.0.53" ];'
spec() { # EXTRA_INSTANCE_SETTINGS [CMDLINE] [WITH_VM]
	local extra=$1 cmdline=${2:-$VXT_GUEST_CMDLINE} with=${3:-yes}
	cat >"$VXT_WORK/cloud.conf" <<EOF
hosts = ( { name = "h1"; tunnel = "192.0.2.1"; } );
provider = { bridge = "br-prov"; cidr = "203.0.113.0/24"; gateway = "203.0.113.1";
  range = [ "203.0.113.10", "203.0.113.99" ]; };
networks = ( { name = "priv"; vni = 10; cidr = "10.9.0.0/24"; mtu = 1400; $DHCP } );
routers = ( { name = "r"; host = "h1"; external = "203.0.113.10"; networks = [ "priv" ];
  snat = false; } );
EOF
	[ "$with" = yes ] || return 0
	cat >>"$VXT_WORK/cloud.conf" <<EOF
instances = ( { name = "vm1"; kind = "vm"; host = "h1"; network = "priv"; address = "10.9.0.5";
  image = "$BASE"; kernel = "$VXT_GUEST_KERNEL"; initrd = "$VXT_GUEST_INITRD";
  cmdline = "$cmdline"; $extra } );
EOF
}

conf() { # extra node settings
	vxt_node_conf h1 vm=libvirt libvirt.uri="$VXT_LIBVIRT_URI" libvirt.domain_type=qemu \
		libvirt.shutdown_timeout_ms=0 "$@" >/dev/null
}

STATE="$VXT_WORK/h1/state"
http() { # PATH: the body of GET PATH from the guest, asked from the router namespace
	vxt_inst_ns h1 vxr-r sh -c \
		"printf 'GET $1 HTTP/1.0\r\n\r\n' | timeout 5 busybox nc -w 2 10.9.0.5 80" | tail -n 1 | grep .
}
answers() {
	http / | grep -q 'vxguest 10.9.0.5'
}
boots() { # how often the console shows the guest got its address
	grep -c 'vxguest: bound' "$STATE/libvirt/console/vm1.log"
}
booted_again() { # COUNT_BEFORE
	[ "$(boots)" -gt "$1" ]
}
domstate() {
	vxt_virsh h1 domstate vm1 2>/dev/null | head -n 1
}
tap_on_bridge() {
	vxt_ns h1 ip -o link show dev vi-vm1 | grep -q 'master vb-priv'
}
live_vcpus() {
	vxt_virsh h1 vcpucount vm1 --live --current 2>/dev/null
}

before=$(vxt_snapshot h1)
spec ""
conf

# ---- create -------------------------------------------------------------
out=$(vxt_vxcloud h1 plan 2>&1)
vxt_is "plan shows the domain to define (exit 6)" "$?" 6
vxt_ok "plan names the overlay" grep -q "create overlay .*/vm1.qcow2 over $BASE" <<<"$out"
vxt_ok "apply creates the VM" vxt_vxcloud h1 apply
vxt_is "the domain runs" "$(domstate)" running
vxt_ok "its XML carries the ownership element" \
	sh -c "virsh -c '$VXT_LIBVIRT_URI' dumpxml vm1 | grep -q 'vxc:instance.*name=\"vm1\"'"
vxt_ok "its overlay is a qcow2 over the base image" \
	sh -c "qemu-img info -U '$STATE/libvirt/disks/vm1.qcow2' | grep -q 'backing file: $BASE'"
vxt_ok "its tap vi-vm1 is on the network's bridge" tap_on_bridge
vxt_ok "dnsmasq serves the network from the router namespace" \
	vxt_wait_until 50 test -s "$STATE/linuxbridge/dhcp/r.priv.pid"
vxt_ok "the guest got its address by DHCP and answers (bounded wait)" vxt_wait_until 1200 answers
lease=$(http /lease)
vxt_is "DHCP handed out address, gateway, MTU and DNS" "$lease" \
	"ip=10.9.0.5 router=10.9.0.1 mtu=1400 dns=10.9.0.53"
vxt_ok "the console log has the guest's output" \
	grep -q 'vxguest: bound 10.9.0.5' "$STATE/libvirt/console/vm1.log"
out=$(vxt_vxcloud h1 status 2>&1)
vxt_ok "status names the console log" grep -q "= instance vm1: console log $STATE/libvirt/console/vm1.log" \
	<<<"$out"

# ---- zero change ----------------------------------------------------------
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_ok "a second apply changes nothing" grep -q 'no changes' <<<"$out"

# ---- reservations follow the spec without restarting dnsmasq --------------
pid=$(cat "$STATE/linuxbridge/dhcp/r.priv.pid")
reads=$(grep -c 'read .*r.priv.hosts' "$STATE/linuxbridge/dhcp/r.priv.log")
reread() {
	[ "$(grep -c 'read .*r.priv.hosts' "$STATE/linuxbridge/dhcp/r.priv.log")" -gt "$reads" ]
}
spec "" "" yes
c9='{ name = "c9"; kind = "container"; host = "h1"; network = "priv"; address = "10.9.0.9"; },'
sed -i "s/^instances = (/instances = ( $c9/" "$VXT_WORK/cloud.conf"
vxt_ok "apply with one more port" vxt_vxcloud h1 apply
vxt_ok "its reservation is in the hosts file" grep -q ',10.9.0.9,c9$' \
	"$STATE/linuxbridge/dhcp/r.priv.hosts"
vxt_is "dnsmasq kept running (SIGHUP, no restart)" "$(cat "$STATE/linuxbridge/dhcp/r.priv.pid")" \
	"$pid"
vxt_ok "dnsmasq re-read the hosts file" vxt_wait_until 50 reread
spec ""
vxt_ok "apply without it" vxt_vxcloud h1 apply
DHCP=
spec ""
vxt_ok "apply with dhcp off" vxt_vxcloud h1 apply
vxt_is "dnsmasq is gone with its files" "$(find "$STATE/linuxbridge/dhcp" -type f | wc -l)" 0
gone() { # PID: no longer runs (a zombie waiting for its reaper does not run)
	! _vxt_starttime "$1" >/dev/null
}
vxt_ok "the process is gone" gone "$pid"
DHCP='dhcp = true; dns = [ "10.9.0.53" ];'
spec ""
vxt_ok "apply with dhcp on again" vxt_vxcloud h1 apply
vxt_ok "dnsmasq runs again" test -s "$STATE/linuxbridge/dhcp/r.priv.pid"

# ---- guest reboot and domain restart ---------------------------------------
boots=$(boots)
vxt_ok "the guest reboots itself" http /cgi-bin/reboot
vxt_ok "its console shows it booted again" vxt_wait_until 1200 booted_again "$boots"
vxt_ok "after the reboot it answers again (NIC still on the network)" vxt_wait_until 1200 answers
vxt_ok "the tap is still on the bridge" tap_on_bridge
vxt_ok "virsh destroy behind vxcloud's back" vxt_virsh h1 destroy vm1
vxt_ok "virsh start" vxt_virsh h1 start vm1
vxt_ok "libvirt plugged the new tap into the bridge" tap_on_bridge
vxt_ok "the restarted guest answers" vxt_wait_until 1200 answers
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_ok "nothing to repair afterwards" grep -q 'no changes' <<<"$out"

# ---- vCPU change: pending until a restart is allowed -----------------------
spec 'cpus = 2;'
vxt_ok "apply with cpus = 2" vxt_vxcloud h1 apply
vxt_is "the guest was not restarted: still 1 live vCPU" "$(live_vcpus)" 1
vxt_ok "the definition says 2 vCPUs" \
	sh -c "virsh -c '$VXT_LIBVIRT_URI' dumpxml --inactive vm1 | grep -q '>2</vcpu>'"
out=$(vxt_vxcloud h1 plan 2>&1)
vxt_is "plan still differs (exit 6)" "$?" 6
vxt_ok "plan says a restart is pending" grep -q 'restart pending' <<<"$out"
out=$(vxt_vxcloud h1 status 2>&1)
vxt_ok "status says a restart is pending" grep -q 'restart pending' <<<"$out"
vxt_ok "the guest still answers" answers
spec 'cpus = 2; allow_restart = true;'
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_ok "allow_restart = true: apply restarts it" grep -q 'restart the domain for 2 vCPU' <<<"$out"
vxt_is "2 live vCPUs now" "$(live_vcpus)" 2
vxt_ok "it answers after the restart" vxt_wait_until 1200 answers
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_ok "then nothing is pending" grep -q 'no changes' <<<"$out"

# ---- boot setting change ------------------------------------------------------
spec 'cpus = 2;' "$VXT_GUEST_CMDLINE vxtest=1<b>&c"
out=$(vxt_vxcloud h1 plan 2>&1)
vxt_ok "plan shows the changed command line" grep -q 'boot settings changed (cmdline)' <<<"$out"
vxt_ok "apply redefines and restarts" vxt_vxcloud h1 apply
vxt_ok "the new command line is in the definition, escaped" \
	sh -c "virsh -c '$VXT_LIBVIRT_URI' dumpxml vm1 | grep -q 'vxtest=1&lt;b&gt;&amp;c'"
vxt_ok "it answers with it" vxt_wait_until 1200 answers

# ---- a foreign domain of the same name ---------------------------------------
spec "" "" no
vxt_ok "removing vm1 from the spec" vxt_vxcloud h1 apply
vxt_is "remove undefined the domain" "$(vxt_virsh h1 list --all --name | grep -c .)" 0
vxt_ok "remove took the overlay away" test ! -e "$STATE/libvirt/disks/vm1.qcow2"
vxt_ok "remove took the tap away" sh -c "! nsenter --net=/run/netns/${P}-h1 ip link show vi-vm1"
cat >"$VXT_WORK/foreign.xml" <<EOF
<domain type='qemu'><name>vm1</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os></domain>
EOF
vxt_ok "someone defines a domain vm1 by hand" vxt_virsh h1 define "$VXT_WORK/foreign.xml"
spec ""
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_is "apply refuses the foreign domain (exit != 0)" "$([ $? != 0 ] && echo refused)" refused
vxt_ok "the message names the instance and says why" \
	grep -q "instance vm1: a domain named vm1 exists and is not vxcloud's" <<<"$out"
vxt_ok "the foreign domain is untouched" \
	sh -c "virsh -c '$VXT_LIBVIRT_URI' dumpxml vm1 | grep -q '<memory unit=.KiB.>65536'"
spec "" "" no
out=$(vxt_vxcloud h1 destroy 2>&1)
vxt_ok "destroy leaves the foreign domain alone" vxt_virsh h1 dominfo vm1
vxt_ok "undefine it" vxt_virsh h1 undefine vm1

# ---- bad cases ------------------------------------------------------------------
bad() { # DESC WANT_REGEX
	local out
	out=$(vxt_vxcloud h1 apply 2>&1)
	if [ $? = 0 ]; then
		vxt_flunk "$1" "apply succeeded" "$out"
		return
	fi
	vxt_ok "$1" grep -qE "$2" <<<"$out"
}
spec ""
conf libvirt.uri="qemu:///system?socket=$VXT_WORK/no-such.sock"
bad "libvirtd unreachable" \
	"instance vm1: libvirtd unreachable at qemu:///system\\?socket=.*no-such.sock: .+"
conf
sed -i "s|image = \"$BASE\"|image = \"$VXT_WORK/missing.qcow2\"|" "$VXT_WORK/cloud.conf"
bad "missing base image" \
	"instance vm1: base image $VXT_WORK/missing.qcow2: No such file or directory"
spec ""
if grep -qwE 'vmx|svm' /proc/cpuinfo; then
	vxt_diag "this CPU offers vmx/svm: the kvm refusal is not checked here"
else
	conf libvirt.domain_type=kvm
	bad "a domain type the host cannot run" \
		"instance vm1: domain type kvm: this host cannot run it"
fi
conf
spec 'cpus = 1000;'
bad "a libvirt error is quoted" \
	"instance vm1: libvirt (refused the definition|cannot start the domain): .+"
spec "" "" no
vxt_ok "apply without VMs cleans the failed one up" vxt_vxcloud h1 apply

# ---- destroy ----------------------------------------------------------------------
spec ""
vxt_ok "apply again" vxt_vxcloud h1 apply
conf libvirt.uri="qemu:///system?socket=$VXT_WORK/no-such.sock"
out=$(vxt_vxcloud h1 destroy 2>&1)
vxt_is "with a VM recorded, destroy fails when libvirtd is unreachable" \
	"$([ $? != 0 ] && echo failed)" failed
vxt_ok "and says why" grep -q "listing the VMs: libvirtd unreachable at" <<<"$out"
conf
vxt_ok "the domain vanishes behind vxcloud's back (a run killed before defining it)" \
	sh -c "virsh -q -c '$VXT_LIBVIRT_URI' destroy vm1 && virsh -q -c '$VXT_LIBVIRT_URI' undefine vm1"
vxt_ok "its overlay is still there" test -e "$STATE/libvirt/disks/vm1.qcow2"
out=$(vxt_vxcloud h1 status 2>&1)
vxt_ok "status still lists vm1 (from its record)" grep -q '^instance  *vm1 ' <<<"$out"
vxt_ok "destroy" vxt_vxcloud h1 destroy
vxt_is "no domain is left" "$(vxt_virsh h1 list --all --name | grep -c .)" 0
vxt_is "no overlay or console log is left" \
	"$(find "$STATE/libvirt" -type f | wc -l)" 0
vxt_is "no DHCP record is left" "$(find "$STATE/linuxbridge/dhcp" -type f | wc -l)" 0
vxt_is "no dnsmasq of this test runs" \
	"$(ps -eo args | grep -c "[d]nsmasq.*--conf-file=$STATE")" 0
vxt_is "destroy leaves h1 as it was" "$(vxt_snapshot h1)" "$before"
vxt_libvirtd_stop h1
vxt_done
