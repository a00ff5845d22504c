#!/bin/bash
# Conformance of the network driver "linuxbridge" through the vxcloud
# command, on one simulated host (h1) of a spec whose other hosts only
# exist as tunnel addresses: apply, apply again ("no changes"), a dry run
# that changes nothing, status, change the MTU, add a remote host, remove a
# remote port, repair drift, the driver's settings (vxlan_port, neigh_proxy),
# drop the uplink from the spec (released, its MTU back), destroy -- which
# must leave h1 exactly as it was (the uplink released at its own MTU) and
# never touch what vxcloud did not make (a foreign bridge); then a provider
# bridge the operator made: adopted, and kept by destroy.
# Kernel state is read back with ip/bridge inside the test's namespaces.
set -u
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
vxt_require_root
vxt_init
vxt_add_host h1 192.0.2.1/24

H2=192.0.2.2
H3=192.0.2.3
H4=192.0.2.4

# spec MTU REMOTE_PORTS: h1 holds instance a1 and router r1 (no SNAT: no NAT
# driver is needed) on network "blue"; the other hosts hold the instances
# named in REMOTE_PORTS ("a2@h2 a3@h3 ...").
spec() {
	local mtu=$1 ports=$2 p name host n=10
	local UPLINK='uplink = "uplink";'
	[ -n "${NO_UPLINK:-}" ] && UPLINK=
	{
		cat <<EOF
hosts = (
  { name = "h1"; tunnel = "192.0.2.1"; },
  { name = "h2"; tunnel = "$H2"; },
  { name = "h3"; tunnel = "$H3"; },
  { name = "h4"; tunnel = "$H4"; }
);
provider = { bridge = "br-prov"; $UPLINK cidr = "203.0.113.0/24";
  gateway = "203.0.113.1"; range = [ "203.0.113.10", "203.0.113.99" ]; mtu = 1500; };
networks = ( { name = "blue"; vni = 1001; cidr = "10.0.0.0/24"; gateway = "10.0.0.1";
  mtu = $mtu; } );
routers = ( { name = "r1"; host = "h1"; external = "203.0.113.10"; networks = [ "blue" ];
  snat = false; } );
instances = (
  { name = "a1"; kind = "container"; host = "h1"; network = "blue"; address = "10.0.0.5";
    command = [ "sleep", "infinity" ]; }
EOF
		for p in $ports; do
			name=${p%@*}
			host=${p#*@}
			n=$((n + 1))
			printf '  ,{ name = "%s"; kind = "container"; host = "%s"; network = "blue"; ' \
				"$name" "$host"
			printf 'address = "10.0.0.%d"; command = [ "sleep", "infinity" ]; }\n' "$n"
		done
		echo ");"
	} >"$VXT_WORK/cloud.conf"
}

# What the kernel of h1 holds, in one line each.
link_of() { # NAME: "mtu M master B state"
	vxt_ns h1 ip -o link show dev "$1" 2>/dev/null |
		sed -E 's/.* mtu ([0-9]+) .*master ([^ ]+) .*/mtu \1 master \2/; t; s/.* mtu ([0-9]+) .*/mtu \1/'
}
fdb_to() { # REMOTE: how many static entries of vx-blue point at it
	vxt_ns h1 bridge fdb show dev vx-blue 2>/dev/null | grep -c "dst $1 self permanent"
}
vxlan_of() {
	vxt_ns h1 ip -d -o link show dev vx-blue |
		grep -oE 'vxlan id [0-9]+|local [0-9.]+|dstport [0-9]+|nolearning( proxy)?' |
		tr '\n' ' '
}
alias_of() {
	vxt_ns h1 ip -o link show dev "$1" | grep -oE 'alias [^\\]+' | sed 's/ *$//'
}
is_up() {
	vxt_ns h1 ip -o link show dev "$1" | grep -q '[<,]UP[,>]'
}

# Something vxcloud did not make, present before and after; the uplink at
# its own MTU, which vxcloud changes to the provider's and must give back.
vxt_ns h1 ip link add "${P}x" type bridge
vxt_ns h1 ip link set dev uplink mtu 1400
before=$(vxt_snapshot h1)

spec 1450 "a2@h2"
vxt_node_conf h1 >/dev/null
vxt_ok "validate" vxt_vxcloud h1 validate

out=$(vxt_vxcloud h1 plan 2>&1)
vxt_ok "plan lists the bridge it would create" \
	grep -q "network blue: create bridge vb-blue" <<<"$out"
vxt_is "plan changes nothing" "$(vxt_snapshot h1)" "$before"

vxt_ok "apply" vxt_vxcloud h1 apply
vxt_is "provider bridge up, uplink enslaved" "$(link_of uplink)" "mtu 1500 master br-prov"
vxt_is "provider bridge marked as vxcloud's" "$(alias_of br-prov)" "alias vxcloud:provider:br-prov"
vxt_is "tenant bridge" "$(link_of vb-blue)" "mtu 1450"
vxt_ok "tenant bridge up" is_up vb-blue
vxt_is "vxlan device on the bridge" "$(link_of vx-blue)" "mtu 1450 master vb-blue"
vxt_ok "vxlan device up" is_up vx-blue
vxt_is "vxlan: VNI, local tunnel address, port 4789, learning off" "$(vxlan_of)" \
	"vxlan id 1001 local 192.0.2.1 dstport 4789 nolearning "
vxt_is "vxlan marked as vxcloud's" "$(alias_of vx-blue)" "alias vxcloud:network:blue"
vxt_is "fdb: flood entry and a2's entry toward h2" "$(fdb_to $H2)" 2
vxt_is "fdb: nothing toward hosts without the network" "$(fdb_to $H3)" 0
vxt_is "instance port at the network MTU on the bridge" "$(link_of vi-a1)" "mtu 1450 master vb-blue"
vxt_is "router port on the bridge" "$(link_of rp-blue)" "mtu 1450 master vb-blue"
vxt_is "router gateway port on the provider bridge" "$(link_of rg-r1)" "mtu 1500 master br-prov"
vxt_is "router holds the gateway" \
	"$(vxt_inst_ns h1 vxr-r1 ip -o -4 addr show dev t-blue | awk '{print $4}')" "10.0.0.1/24"
vxt_is "router: external address on gw0" \
	"$(vxt_inst_ns h1 vxr-r1 ip -o -4 addr show dev gw0 | awk '{print $4}')" "203.0.113.10/24"
vxt_is "router: default route via the provider gateway" \
	"$(vxt_inst_ns h1 vxr-r1 ip -4 route show default | awk '{print $3}')" "203.0.113.1"
vxt_is "router: forwarding on" \
	"$(vxt_inst_ns h1 vxr-r1 cat /proc/sys/net/ipv4/ip_forward)" 1
vxt_ok "instance reaches its router over the bridge" \
	vxt_inst_ns h1 vxi-a1 ping -c 1 -W 5 10.0.0.1

out=$(vxt_vxcloud h1 apply 2>&1)
vxt_ok "apply again: no changes" grep -q "no changes" <<<"$out"
vxt_ok "status: in sync" vxt_vxcloud h1 status

# MTU change: bridge, vxlan, every port.
spec 1400 "a2@h2"
vxt_ok "apply MTU 1400" vxt_vxcloud h1 apply
vxt_is "bridge MTU 1400" "$(link_of vb-blue)" "mtu 1400"
vxt_is "vxlan MTU 1400" "$(link_of vx-blue)" "mtu 1400 master vb-blue"
vxt_is "instance port MTU 1400" "$(link_of vi-a1)" "mtu 1400 master vb-blue"
vxt_is "router port MTU 1400" "$(link_of rp-blue)" "mtu 1400 master vb-blue"
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_ok "apply again: no changes" grep -q "no changes" <<<"$out"

# A new remote host: only its entries are added.
spec 1400 "a2@h2 a4@h4"
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_is "a new host: 2 changes (its flood entry and its port)" \
	"$(grep -c 'linuxbridge: network blue: add fdb' <<<"$out")" 2
vxt_is "fdb toward h4" "$(fdb_to $H4)" 2
vxt_is "fdb toward h2 unchanged" "$(fdb_to $H2)" 2

# A remote port goes (and with it h2's share of the network).
spec 1400 "a4@h4"
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_is "a removed port: its entry and h2's flood entry go" \
	"$(grep -c 'linuxbridge: network blue: remove fdb' <<<"$out")" 2
vxt_is "nothing toward h2" "$(fdb_to $H2)" 0
vxt_is "h4 kept" "$(fdb_to $H4)" 2

# Drift: status names it, apply repairs it.
vxt_ns h1 bridge fdb del 00:00:00:00:00:00 dev vx-blue dst $H4 self
vxt_ns h1 ip link set dev rp-blue mtu 1300
vxt_fail "status: out of sync after drift" vxt_vxcloud h1 status
out=$(vxt_vxcloud h1 status 2>&1)
vxt_ok "status names the missing fdb entry" grep -q "add fdb 00:00:00:00:00:00 -> $H4" <<<"$out"
vxt_ok "status names the MTU" grep -q "rp-blue: mtu 1300 -> 1400" <<<"$out"
vxt_ok "apply repairs" vxt_vxcloud h1 apply
vxt_is "flood entry back" "$(fdb_to $H4)" 2
vxt_ok "status: in sync again" vxt_vxcloud h1 status

# The driver's settings: another UDP port and ARP answered locally. Both are
# fixed when a VXLAN device is made, so the device is replaced (and its fdb
# programmed again).
vxt_node_conf h1 linuxbridge.vxlan_port=70000 >/dev/null
vxt_fail "validate refuses vxlan_port 70000" vxt_vxcloud h1 validate
vxt_node_conf h1 linuxbridge.vxlan_port=4790 linuxbridge.neigh_proxy=true >/dev/null
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_ok "apply with vxlan_port 4790, neigh_proxy on replaces the device" \
	grep -q "replace vxlan vx-blue" <<<"$out"
vxt_is "vxlan: port 4790, proxy on" "$(vxlan_of)" \
	"vxlan id 1001 local 192.0.2.1 dstport 4790 nolearning proxy "
vxt_is "fdb programmed again" "$(fdb_to $H4)" 2
vxt_is "a permanent neighbour entry for the remote port" \
	"$(vxt_ns h1 ip neigh show dev vx-blue nud permanent | awk '{print $1}')" "10.0.0.11"
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_ok "apply again: no changes" grep -q "no changes" <<<"$out"
vxt_node_conf h1 >/dev/null
vxt_ok "back to the defaults" vxt_vxcloud h1 apply
vxt_is "vxlan: port 4789, proxy off" "$(vxlan_of)" \
	"vxlan id 1001 local 192.0.2.1 dstport 4789 nolearning "
vxt_is "no neighbour entries" "$(vxt_ns h1 ip neigh show dev vx-blue nud permanent)" ""

# The uplink dropped from the spec: it leaves the bridge at its own MTU;
# the router's gateway port stays.
out=$(NO_UPLINK=1 spec 1400 "a4@h4"; vxt_vxcloud h1 plan 2>&1)
vxt_ok "plan names the uplink's release" \
	grep -q "provider: uplink uplink: leave its bridge" <<<"$out"
vxt_is "plan leaves the uplink enslaved" "$(link_of uplink)" "mtu 1500 master br-prov"
NO_UPLINK=1 spec 1400 "a4@h4"
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_ok "apply without an uplink restores its MTU" \
	grep -q "provider: uplink uplink: mtu 1500 -> 1400" <<<"$out"
vxt_is "uplink released, at its own MTU" "$(link_of uplink)" "mtu 1400"
vxt_is "router gateway port still on the provider bridge" "$(link_of rg-r1)" \
	"mtu 1500 master br-prov"
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_ok "apply again: no changes" grep -q "no changes" <<<"$out"
spec 1400 "a4@h4"
vxt_ok "apply with the uplink again" vxt_vxcloud h1 apply
vxt_is "uplink enslaved again" "$(link_of uplink)" "mtu 1500 master br-prov"

# Destroy: everything vxcloud made goes, nothing else.
vxt_ok "destroy" vxt_vxcloud h1 destroy
vxt_is "uplink released at its own MTU" "$(link_of uplink)" "mtu 1400"
vxt_is "destroy leaves h1 as it was (uplink released, foreign bridge kept)" \
	"$(vxt_snapshot h1)" "$before"
vxt_ok "destroy again: nothing to do" vxt_vxcloud h1 destroy

# A provider bridge the operator made: used as it is, said once, kept by
# destroy with only what vxcloud put in it taken out -- here with a port of
# the operator's own and a fixed address, as a bridge in use has (an empty
# bridge's carrier and derived address change with any port's coming and
# going, whoever plugs it).
vxt_ns h1 ip link add br-prov address 02:00:00:00:0b:01 mtu 1500 type bridge
vxt_ns h1 ip link add "${P}o" mtu 1500 type veth peer name "${P}p" mtu 1500
vxt_ns h1 ip link set dev "${P}o" master br-prov up
vxt_ns h1 ip link set dev "${P}p" up
vxt_ns h1 ip link set dev br-prov up
# Settled (carrier, then IPv6 joins its multicast groups) before the snapshot.
bridge_settled() {
	! vxt_ns h1 ip -o link show dev br-prov | grep -q NO-CARRIER &&
		vxt_ns h1 bridge fdb show dev br-prov | grep -q '^33:33:ff:00:0b:01 '
}
vxt_wait_until 100 bridge_settled || vxt_bail "the operator's bridge br-prov never got carrier"
before=$(vxt_snapshot h1)
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_ok "apply reports the adoption" grep -q \
	"provider: use existing bridge br-prov (not created by vxcloud; it will be kept)" <<<"$out"
vxt_is "adopted bridge left unmarked" "$(alias_of br-prov)" ""
vxt_is "uplink in the adopted bridge" "$(link_of uplink)" "mtu 1500 master br-prov"
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_ok "apply again: no changes (the adoption is said once)" grep -q "no changes" <<<"$out"
vxt_ok "status: in sync" vxt_vxcloud h1 status
out=$(vxt_vxcloud h1 destroy 2>&1)
vxt_ok "destroy says the adopted bridge is kept" \
	grep -q "provider: keep bridge br-prov (not created by vxcloud)" <<<"$out"
vxt_ok "adopted bridge kept" vxt_ns h1 ip link show dev br-prov
vxt_is "the operator's port stays in it" "$(link_of "${P}o")" "mtu 1500 master br-prov"
vxt_is "uplink released at its own MTU" "$(link_of uplink)" "mtu 1400"
vxt_is "destroy leaves h1 as it was (adopted bridge kept)" "$(vxt_snapshot h1)" "$before"
out=$(vxt_vxcloud h1 destroy 2>&1)
vxt_is "destroy again: nothing to do" "$(grep -c 'linuxbridge:' <<<"$out")" 0
vxt_done
