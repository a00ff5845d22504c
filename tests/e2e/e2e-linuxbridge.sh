#!/bin/bash
# End to end, network driver "linuxbridge" with the netns compute driver, on
# simulated hosts (network namespaces on a shared fabric):
#   - instances on two hosts in one tenant network reach each other over
#     VXLAN (ping, and TCP: busybox httpd / busybox nc);
#   - the router on a third host answers on the tenant gateway, and on its
#     external address from the provider network; with the nftables NAT
#     driver built, a router with SNAT takes its tenant out to the provider
#     network and a floating IP (a local route on its gateway port) brings the
#     provider network in;
#   - two tenants with the same CIDR on different VNIs stay isolated;
#   - a fourth host added to the spec and applied everywhere is reachable;
#   - removing an instance removes its fdb entries on every host;
#   - destroy on every host leaves every host namespace as it was.
# Needs busybox (Debian: busybox-static) for httpd and nc.
set -u
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
vxt_require_root
vxt_require_cmd busybox ping
vxt_init
vxt_add_host h1 192.0.2.1/24
vxt_add_host h2 192.0.2.2/24
vxt_add_host h3 192.0.2.3/24
vxt_add_client 203.0.113.100/24 203.0.113.1/24

# SNAT and floating IPs need a NAT driver (nftables here) on the router host.
if [ -f "$VXT_BUILDDIR/plugins/nat/nftables/.libs/nftables.so" ]; then
	NAT=nftables RED_SNAT=true
	FIPS='floating_ips = ( { address = "203.0.113.20"; router = "red"; target = "r1"; } );'
else
	NAT= RED_SNAT=false FIPS=
	vxt_diag "nftables NAT driver not built: SNAT and floating IP checks left out"
fi

www="$VXT_WORK/www"
mkdir -p "$www"
echo "hello from a2" >"$www/index.html"

# Blue and red both use 10.0.0.0/24. Blue: a1@h1 .5, a2@h2 .6 (HTTP on
# 8080); red: r1@h1 .6 -- blue a2's address, on a1's own host --, r2@h2 .7.
# Both routers on h3; red's with SNAT and a floating IP for r1 when a NAT
# driver is there (blue's never: it shows SNAT is what lets a tenant out).
spec() { # EXTRA_HOSTS EXTRA_INSTANCES WITH_A2
	local with_a2=$3
	{
		cat <<EOF
hosts = (
  { name = "h1"; tunnel = "192.0.2.1"; },
  { name = "h2"; tunnel = "192.0.2.2"; },
  { name = "h3"; tunnel = "192.0.2.3"; }
  $1
);
provider = { bridge = "br-prov"; uplink = "uplink"; cidr = "203.0.113.0/24";
  gateway = "203.0.113.1"; range = [ "203.0.113.10", "203.0.113.99" ]; mtu = 1500; };
networks = (
  { name = "blue"; vni = 1001; cidr = "10.0.0.0/24"; gateway = "10.0.0.1"; mtu = 1450; },
  { name = "red";  vni = 1002; cidr = "10.0.0.0/24"; gateway = "10.0.0.1"; mtu = 1450; }
);
routers = (
  { name = "blue"; host = "h3"; external = "203.0.113.10"; networks = [ "blue" ]; snat = false; },
  { name = "red";  host = "h3"; external = "203.0.113.11"; networks = [ "red" ];
    snat = $RED_SNAT; }
);
$FIPS
instances = (
  { name = "a1"; kind = "container"; host = "h1"; network = "blue"; address = "10.0.0.5";
    command = [ "sleep", "infinity" ]; },
  { name = "r1"; kind = "container"; host = "h1"; network = "red"; address = "10.0.0.6";
    command = [ "sleep", "infinity" ]; },
  { name = "r2"; kind = "container"; host = "h2"; network = "red"; address = "10.0.0.7";
    command = [ "sleep", "infinity" ]; }
EOF
		if [ "$with_a2" = yes ]; then
			cat <<EOF
  ,{ name = "a2"; kind = "container"; host = "h2"; network = "blue"; address = "10.0.0.6";
    command = [ "busybox", "httpd", "-f", "-p", "8080", "-h", "$www" ]; }
EOF
		fi
		printf '%s\n);\n' "$2"
	} >"$VXT_WORK/cloud.conf"
}

apply_all() {
	local h
	for h in "$@"; do
		vxt_ok "apply on $h" vxt_vxcloud "$h" apply || return 1
	done
}

mac_of() { # HOST NS IF
	vxt_inst_ns "$1" "$2" ip -o link show dev "$3" | grep -oE 'link/ether [0-9a-f:]+' |
		awk '{print $2}'
}
neigh_mac() { # HOST NS ADDR: the MAC the namespace resolved ADDR to
	vxt_inst_ns "$1" "$2" ip neigh show "$3" | grep -oE 'lladdr [0-9a-f:]+' | awk '{print $2}'
}
fdb_has() { # HOST MAC: vx-blue on HOST has a static entry for MAC
	vxt_ns "$1" bridge fdb show dev vx-blue 2>/dev/null | grep -q "^$2 dst .* self permanent"
}
http_get() { # HOST NS ADDR: the body of GET / from ADDR:8080 (busybox nc;
	# busybox-static's wget crashes on Debian 12)
	vxt_inst_ns "$1" "$2" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | busybox nc -w 5 $3 8080" |
		tail -n 1 | grep .
}

for h in h1 h2 h3; do
	if [ "$h" = h3 ]; then
		vxt_node_conf "$h" nat="$NAT" >/dev/null
	else
		vxt_node_conf "$h" >/dev/null
	fi
	declare "before_$h=$(vxt_snapshot "$h")"
done

spec "" "" yes
apply_all h1 h2 h3

# ---- one tenant network across hosts --------------------------------------
vxt_ok "a1 (h1) pings a2 (h2) over VXLAN" vxt_inst_ns h1 vxi-a1 ping -c 2 -W 5 10.0.0.6
vxt_ok "a2's HTTP server is up" vxt_wait_until 50 http_get h2 vxi-a2 127.0.0.1
vxt_is "a1 fetches a page from a2 over TCP" "$(http_get h1 vxi-a1 10.0.0.6)" \
	"hello from a2"
vxt_ok "a2 (h2) pings a1 (h1)" vxt_inst_ns h2 vxi-a2 ping -c 2 -W 5 10.0.0.5

# ---- the router on the third host ----------------------------------------
vxt_ok "a1 reaches its gateway, the router on h3" vxt_inst_ns h1 vxi-a1 ping -c 2 -W 5 10.0.0.1
vxt_is "... which is blue's router" "$(neigh_mac h1 vxi-a1 10.0.0.1)" \
	"$(mac_of h3 vxr-blue t-blue)"
vxt_ok "the router answers on its external address from the provider network" \
	vxt_ns client ping -c 2 -W 5 203.0.113.10
vxt_ok "blue's router reaches a2 (h2)" vxt_inst_ns h3 vxr-blue ping -c 2 -W 5 10.0.0.6

if [ -n "$NAT" ]; then
	vxt_is "red's gateway port holds the external address" \
		"$(vxt_inst_ns h3 vxr-red ip -o -4 addr show dev gw0 | awk '{print $4}' | sort | tr '\n' ' ')" \
		"203.0.113.11/24 "
	vxt_is "... and the floating IP as a local route through it" \
		"$(vxt_inst_ns h3 vxr-red ip -4 route show table local type local dev gw0 proto 118 |
			awk '{print $2}')" "203.0.113.20"
	vxt_ok "r1 (red, h1) reaches the provider network through its router's SNAT" \
		vxt_inst_ns h1 vxi-r1 ping -c 2 -W 5 203.0.113.100
	vxt_fail "a1 (blue, router without SNAT) does not" \
		vxt_inst_ns h1 vxi-a1 ping -c 2 -W 2 203.0.113.100
	vxt_ok "the provider network reaches r1 through floating IP 203.0.113.20" \
		vxt_ns client ping -c 2 -W 5 203.0.113.20
fi

# ---- two tenants, one CIDR ---------------------------------------------
vxt_is "a1's 10.0.0.6 is blue a2 on h2, not red r1 next to it on h1" \
	"$(neigh_mac h1 vxi-a1 10.0.0.6)" "$(mac_of h2 vxi-a2 eth0)"
vxt_ok "r2 (red, h2) pings r1 (red, h1)" vxt_inst_ns h2 vxi-r2 ping -c 2 -W 5 10.0.0.6
vxt_is "r2's 10.0.0.6 is red r1" "$(neigh_mac h2 vxi-r2 10.0.0.6)" "$(mac_of h1 vxi-r1 eth0)"
vxt_fail "a1 (blue) cannot reach r2's address (red only)" \
	vxt_inst_ns h1 vxi-a1 ping -c 2 -W 2 10.0.0.7
vxt_fail "r2 (red) cannot fetch a2's page: its 10.0.0.6 is red's r1" http_get h2 vxi-r2 10.0.0.6
vxt_ok "red reaches its own gateway" vxt_inst_ns h1 vxi-r1 ping -c 2 -W 5 10.0.0.1
vxt_is "... red's router, not blue's" "$(neigh_mac h1 vxi-r1 10.0.0.1)" \
	"$(mac_of h3 vxr-red t-red)"

# ---- a fourth host -----------------------------------------------------------
vxt_add_host h4 192.0.2.4/24
vxt_node_conf h4 >/dev/null
before_h4=$(vxt_snapshot h4)
spec ', { name = "h4"; tunnel = "192.0.2.4"; }' \
	', { name = "a4"; kind = "container"; host = "h4"; network = "blue"; address = "10.0.0.8";
    command = [ "sleep", "infinity" ]; }' yes
apply_all h1 h2 h3 h4
vxt_ok "a1 (h1) pings a4 on the new host h4" vxt_inst_ns h1 vxi-a1 ping -c 2 -W 5 10.0.0.8
vxt_is "a4 fetches a2's page" "$(http_get h4 vxi-a4 10.0.0.6)" "hello from a2"
vxt_ok "a4 reaches the router on h3" vxt_inst_ns h4 vxi-a4 ping -c 2 -W 5 10.0.0.1
vxt_fail "red stays off h4 (no instance of it there)" vxt_ns h4 ip link show dev vx-red

# ---- an instance goes ----------------------------------------------------
a2mac=$(mac_of h2 vxi-a2 eth0)
for h in h1 h3 h4; do
	vxt_ok "$h has a fdb entry for a2 before" fdb_has "$h" "$a2mac"
done
spec ', { name = "h4"; tunnel = "192.0.2.4"; }' \
	', { name = "a4"; kind = "container"; host = "h4"; network = "blue"; address = "10.0.0.8";
    command = [ "sleep", "infinity" ]; }' no
apply_all h1 h2 h3 h4
for h in h1 h3 h4; do
	vxt_fail "$h: a2's fdb entry is gone" fdb_has "$h" "$a2mac"
	vxt_fail "$h: no flood entry toward h2 for blue any more" \
		eval "vxt_ns $h bridge fdb show dev vx-blue | grep -q 'dst 192.0.2.2 '"
done
vxt_fail "h2 no longer holds blue" vxt_ns h2 ip link show dev vx-blue
vxt_ok "red still spans h1 and h2" vxt_inst_ns h2 vxi-r2 ping -c 1 -W 5 10.0.0.6
vxt_ok "blue still spans h1 and h4" vxt_inst_ns h4 vxi-a4 ping -c 1 -W 5 10.0.0.5

# ---- destroy everywhere --------------------------------------------------
for h in h1 h2 h3 h4; do
	vxt_ok "destroy on $h" vxt_vxcloud "$h" destroy
done
for h in h1 h2 h3; do
	v="before_$h"
	vxt_is "$h is as it was before" "$(vxt_snapshot "$h")" "${!v}"
done
vxt_is "h4 is as it was before" "$(vxt_snapshot h4)" "$before_h4"
vxt_done
