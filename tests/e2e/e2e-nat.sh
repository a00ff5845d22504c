#!/bin/bash
# NAT end to end on simulated hosts, with the NAT driver given as $1
# (iptables or nftables); the node config's `nat` is the only difference.
#
#   host net: router r1 (external 203.0.113.10, SNAT for blue)
#   host cmp: web1 10.42.0.11 (floating IP 203.0.113.20), web2 10.42.0.12
#   client:   203.0.113.100 on the provider network (and its gateway .1)
#
# Every instance and the client serve /cgi-bin/who, answering with their
# name and the address the request came from, so each check sees both ends
# of the translation. Checks: the client reaches web1 on its floating IP,
# the instances reach the client through SNAT (web2 as the router's
# external address, web1 as its floating IP), hairpin (web2 -> web1's
# floating IP), a second apply changes nothing, moving the floating IP to
# web2 is one apply; then the node config is switched to the other NAT
# driver and applied: the old driver's rules are gone, the new driver's
# are there, and traffic through the floating IP works again.
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
drv=${1:?usage: e2e-nat.sh iptables|nftables}
case $drv in
iptables) other=nftables ;;
nftables) other=iptables ;;
*) vxt_bail "unknown NAT driver $drv" ;;
esac
vxt_require_root
vxt_require_cmd busybox curl nft iptables-legacy-save
[ -f "${VXC_TOP_BUILDDIR:?}/plugins/nat/$drv/.libs/$drv.so" ] &&
	[ -f "$VXC_TOP_BUILDDIR/plugins/nat/$other/.libs/$other.so" ] || {
	echo "1..0 # SKIP the $drv and $other plugins are not both built"
	exit 77
}
vxt_init "nat${drv:0:1}"
vxt_add_host net 10.41.0.1/24
vxt_add_host cmp 10.41.0.2/24
vxt_add_client 203.0.113.100/24 203.0.113.1/24

www=$VXT_WORK/www
for who in web1 web2 client; do
	mkdir -p "$www/$who/cgi-bin"
	printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "%s $REMOTE_ADDR"\n' \
		"$who" >"$www/$who/cgi-bin/who"
	chmod 0755 "$www/$who/cgi-bin/who"
done
chmod -R a+rX "$www"

spec() { # FIP_TARGET
	cat >"$VXT_WORK/cloud.conf" <<CONF
hosts = ( { name = "net"; tunnel = "10.41.0.1"; }, { name = "cmp"; tunnel = "10.41.0.2"; } );
provider = { bridge = "br-prov"; uplink = "uplink"; cidr = "203.0.113.0/24";
  gateway = "203.0.113.1"; range = [ "203.0.113.10", "203.0.113.50" ]; };
networks = ( { name = "blue"; vni = 41; cidr = "10.42.0.0/24"; gateway = "10.42.0.1"; mtu = 1400; } );
routers = ( { name = "r1"; host = "net"; external = "203.0.113.10"; networks = [ "blue" ];
  snat = true; } );
instances = (
  { name = "web1"; kind = "container"; host = "cmp"; network = "blue"; address = "10.42.0.11";
    command = [ "busybox", "httpd", "-f", "-p", "8080", "-h", "$www/web1" ]; },
  { name = "web2"; kind = "container"; host = "cmp"; network = "blue"; address = "10.42.0.12";
    command = [ "busybox", "httpd", "-f", "-p", "8080", "-h", "$www/web2" ]; }
);
floating_ips = ( { address = "203.0.113.20"; router = "r1"; target = "$1"; } );
CONF
}

# who FROM URL: the answer of /cgi-bin/who at URL, fetched from FROM
# ("client", or an instance name on cmp). Retries a little: a fresh
# instance's server may still be starting.
who() {
	local from=$1 url=$2 i out
	for ((i = 0; i < 30; i++)); do
		if [ "$from" = client ]; then
			out=$(vxt_ns client curl -s -m 2 "$url/cgi-bin/who" 2>/dev/null)
		else
			out=$(vxt_inst_ns cmp "vxi-$from" curl -s -m 2 "$url/cgi-bin/who" 2>/dev/null)
		fi
		[ -n "$out" ] && break
		sleep 0.2
	done
	# busybox shows IPv4 peers as [::ffff:a.b.c.d]
	sed -E 's/\[::ffff:([0-9.]+)\]/\1/' <<<"$out"
}

router_ns() {
	vxt_inst_ns net vxr-r1 "$@"
}

# has_objects DRIVER: that driver's table/chains are in the router namespace
has_objects() {
	case $1 in
	nftables) router_ns nft list table ip vxcloud >/dev/null 2>&1 ;;
	iptables) router_ns iptables-legacy-save -t nat 2>/dev/null | grep -q '^:vxc-pre' ;;
	esac
}

no_changes() { # HOST
	vxt_vxcloud "$1" apply | grep -q '^no changes'
}

spec web1
vxt_node_conf net nat="$drv" log_level=warning >/dev/null
vxt_node_conf cmp log_level=warning >/dev/null
vxt_bg vxt_ns client busybox httpd -f -p 8080 -h "$www/client"
vxt_ok "apply on cmp" vxt_vxcloud cmp apply
vxt_ok "apply on net (nat = $drv)" vxt_vxcloud net apply
vxt_ok "$drv holds the router's NAT" has_objects "$drv"
vxt_fail "$other holds nothing" has_objects "$other"

vxt_is "the client reaches web1 on its floating IP, seen as itself" \
	"$(who client http://203.0.113.20:8080)" "web1 203.0.113.100"
vxt_is "web2 reaches the client through SNAT as the router's external address" \
	"$(who web2 http://203.0.113.100:8080)" "client 203.0.113.10"
vxt_is "web1 reaches the client as its floating IP" \
	"$(who web1 http://203.0.113.100:8080)" "client 203.0.113.20"
vxt_is "hairpin: web2 reaches web1 on its floating IP (through the router)" \
	"$(who web2 http://203.0.113.20:8080)" "web1 203.0.113.10"
vxt_ok "a second apply on net changes nothing" no_changes net

spec web2
out=$(vxt_vxcloud net apply)
vxt_ok "moving the floating IP to web2 is one apply" \
	grep -q "move floating IP 203.0.113.20 from 10.42.0.11 to 10.42.0.12" <<<"$out"
vxt_is "the client now reaches web2 on the floating IP" \
	"$(who client http://203.0.113.20:8080)" "web2 203.0.113.100"
vxt_is "hairpin the other way: web1 -> the floating IP -> web2" \
	"$(who web1 http://203.0.113.20:8080)" "web2 203.0.113.10"

# The swap: one word in the node config.
vxt_node_conf net nat="$other" log_level=warning >/dev/null
out=$(vxt_vxcloud net apply 2>&1)
vxt_ok "apply after nat = \"$other\"" test $? = 0
vxt_diag "$(printf '%s\n' "$out" | head -n 12)"
vxt_fail "the $drv rules are gone" has_objects "$drv"
# The floating IP never lapses: the new driver binds it before the old
# driver's rules are removed.
first_new=$(grep -n "^  $other: .*bind floating IP" <<<"$out" | head -n1 | cut -d: -f1)
first_old=$(grep -n "^  $drv: " <<<"$out" | head -n1 | cut -d: -f1)
vxt_ok "$other binds the floating IP before $drv's rules go" \
	test "${first_new:-0}" -gt 0 -a "${first_old:-0}" -gt "${first_new:-0}"
vxt_ok "the $other rules are there" has_objects "$other"
vxt_is "after the swap the client reaches web2 on the floating IP" \
	"$(who client http://203.0.113.20:8080)" "web2 203.0.113.100"
vxt_is "after the swap web1 reaches the client through SNAT" \
	"$(who web1 http://203.0.113.100:8080)" "client 203.0.113.10"
vxt_is "after the swap hairpin works" \
	"$(who web1 http://203.0.113.20:8080)" "web2 203.0.113.10"
vxt_ok "a second apply after the swap changes nothing" no_changes net

vxt_ok "destroy on net" vxt_vxcloud net destroy
vxt_ok "destroy on cmp" vxt_vxcloud cmp destroy
vxt_done
