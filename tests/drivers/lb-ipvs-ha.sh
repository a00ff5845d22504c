#!/bin/sh
# lb/ipvs with copies on two hosts, on a kernel with IP_VS: the balancer
# web on n1 and n2 (hosts = [...], keepalived per copy), the router and the
# members web1, web2 on cmp, a client on the provider network. Checks: n1
# (first in hosts) holds the VIP, n2 only its link-local VRRP address but
# the same IPVS service; answers come through the floating IP from the
# members; killing n1's keepalived (SIGKILL) moves the VIP to n2 and the
# answers go on; apply on n1 takes it back (preempt); destroy on n1 moves
# it to n2 again; destroy everywhere leaves no namespace or keepalived.
# Timing under QEMU/TCG means nothing: gaps are measured by
# tests/e2e/ha-lb.sh (haproxy) on the host; here every wait is a bounded
# poll.
#
# Usage: lb-ipvs-ha.sh VXCLOUD PLUGIN_DIR BUSYBOX
# (needs iproute2's ip as $IP, ipvsadm as $IPVSADM, keepalived as
# $KEEPALIVED, vxcloud-ha-notify as $NOTIFY in root-owned directories)
set -u
VXCLOUD=$1 PLUGINS=$2 BUSYBOX=$3
if [ "${LB_IPVS_INNER:-}" != 1 ]; then
	LB_IPVS_INNER=1 exec unshare -n "$BUSYBOX" sh "$0" "$@"
fi
IP=${IP:-/sbin/ip}
IPVSADM=${IPVSADM:-ipvsadm}
KEEPALIVED=${KEEPALIVED:-keepalived}
NOTIFY=${NOTIFY:?the vxcloud-ha-notify program}
N=0 FAILED=0
ok() { N=$((N + 1)); echo "ok $N - ha: $1"; }
not_ok() {
	N=$((N + 1)) FAILED=$((FAILED + 1))
	echo "not ok $N - ha: $1"
	shift
	for l in "$@"; do echo "$l" | sed 's/^/# /'; done
}

W=$(mktemp -d /tmp/lb-ipvs-ha.XXXXXX)
S=vxhha
HOSTS="n1 n2 cmp"
cleanup() {
	for h in $HOSTS; do
		[ -f "$W/$h/vxcloud.conf" ] && vxh "$h" destroy >/dev/null 2>&1
	done
	for m in $(grep " $W" /proc/mounts | cut -d' ' -f2 | sort -r); do
		umount "$m" 2>/dev/null
	done
	for n in $HOSTS client fabric; do "$IP" netns del "$S-$n" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

vxh() { # HOST ARGS...: vxcloud on simulated host HOST
	h=$1
	shift
	nsenter --net="/run/netns/$S-$h" -- "$VXCLOUD" --config "$W/$h/vxcloud.conf" "$@"
}
lns() { # HOST CMD...: in the balancer copy's namespace on HOST
	h=$1
	shift
	nsenter --net="$W/$h/netns/vxlb-web" -- "$@"
}

"$IP" netns add "$S-fabric" || exit 99
"$IP" -n "$S-fabric" link add fabric type bridge
"$IP" -n "$S-fabric" link add provider type bridge
"$IP" -n "$S-fabric" link set fabric up
"$IP" -n "$S-fabric" link set provider up
for h in $HOSTS; do
	case $h in n1) t=10.0.0.1 ;; n2) t=10.0.0.2 ;; cmp) t=10.0.0.3 ;; esac
	"$IP" netns add "$S-$h"
	"$IP" -n "$S-$h" link set lo up
	"$IP" -n "$S-fabric" link add "u-$h" type veth peer name underlay netns "$S-$h"
	"$IP" -n "$S-fabric" link set "u-$h" master fabric up
	"$IP" -n "$S-$h" addr add "$t/24" dev underlay
	"$IP" -n "$S-$h" link set underlay up
	"$IP" -n "$S-fabric" link add "p-$h" type veth peer name uplink netns "$S-$h"
	"$IP" -n "$S-fabric" link set "p-$h" master provider up
	"$IP" -n "$S-$h" link set uplink up
	mkdir -p "$W/$h/state" "$W/$h/netns"
	cat >"$W/$h/vxcloud.conf" <<CONF
host = "$h"; spec = "$W/cloud.conf"; plugin_dir = "$PLUGINS";
state_dir = "$W/$h/state"; netns_dir = "$W/$h/netns"; log_level = "warning";
network = "linuxbridge"; nat = "nftables"; lb = "ipvs"; container = "netns";
settings = { ipvs = { keepalived = "$KEEPALIVED"; ha_notify = "$NOTIFY"; }; };
CONF
done
"$IP" netns add "$S-client"
"$IP" -n "$S-fabric" link add p-client type veth peer name eth0 netns "$S-client"
"$IP" -n "$S-fabric" link set p-client master provider up
"$IP" -n "$S-client" addr add 200.160.0.100/24 dev eth0
"$IP" -n "$S-client" link set eth0 up

for who in web1 web2; do
	mkdir -p "$W/www/$who/cgi-bin"
	printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "%s $REMOTE_ADDR"\n' \
		"$who" >"$W/www/$who/cgi-bin/who"
	chmod 0755 "$W/www/$who/cgi-bin/who"
done

cat >"$W/cloud.conf" <<SPEC
hosts = ( { name = "n1"; tunnel = "10.0.0.1"; }, { name = "n2"; tunnel = "10.0.0.2"; },
  { name = "cmp"; tunnel = "10.0.0.3"; } );
provider = { bridge = "br-provider"; uplink = "uplink"; cidr = "200.160.0.0/24";
  gateway = "200.160.0.1"; range = [ "200.160.0.4", "200.160.0.100" ]; };
networks = ( { name = "private"; vni = 100; cidr = "192.168.100.0/24"; gateway = "192.168.100.1";
  mtu = 1450; } );
routers = ( { name = "router"; host = "cmp"; external = "200.160.0.4";
  networks = [ "private" ]; } );
instances = (
  { name = "web1"; kind = "container"; host = "cmp"; network = "private";
    address = "192.168.100.6";
    command = [ "$BUSYBOX", "httpd", "-f", "-p", "9898", "-h", "$W/www/web1" ]; },
  { name = "web2"; kind = "container"; host = "cmp"; network = "private";
    address = "192.168.100.7";
    command = [ "$BUSYBOX", "httpd", "-f", "-p", "9898", "-h", "$W/www/web2" ]; }
);
load_balancers = (
  { name = "web"; hosts = [ "n1", "n2" ]; ha = { advert_ms = 100; }; network = "private";
    vip = "192.168.100.8"; floating_ip = "200.160.0.5";
    listeners = ( { protocol = "tcp"; port = 80; algorithm = "roundrobin";
      members = ( { address = "192.168.100.6"; port = 9898; },
                  { address = "192.168.100.7"; port = 9898; } ); } );
  }
);
SPEC

who() {
	printf 'GET /cgi-bin/who HTTP/1.0\r\n\r\n' |
		nsenter --net="/run/netns/$S-client" "$BUSYBOX" nc -w 3 200.160.0.5 80 2>/dev/null |
		tail -1 | sed -E 's/\[::ffff:([0-9.]+)\]/\1/'
}
# answers N: N answers from the members in at most N + 15 requests (each
# gives up after 3 s)
answers() {
	i=0 got=0
	while [ $i -lt $(($1 + 15)) ] && [ $got -lt "$1" ]; do
		case $(who) in web1\ * | web2\ *) got=$((got + 1)) ;; *) sleep 0.2 ;; esac
		i=$((i + 1))
	done
	[ $got -ge "$1" ]
}
holds_vip() { # HOST
	lns "$1" "$IP" -4 -o addr show dev eth0 2>/dev/null | grep -q ' 192\.168\.100\.8/24 '
}
wait_vip() { # HOST: within 30 s
	i=0
	while [ $i -lt 150 ]; do
		holds_vip "$1" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
check() { # DESC CMD...
	d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}

for h in cmp n1 n2; do
	out=$(vxh "$h" apply 2>&1)
	if [ $? -eq 0 ]; then ok "apply on $h"; else not_ok "apply on $h" "$out"; fi
done
check "n1 (first in hosts) holds the VIP" wait_vip n1
check "n2 does not hold it" eval '! holds_vip n2'
addrs=$(lns n2 "$IP" -4 -o addr show dev eth0 | awk '{ print $4 }' | tr '\n' ' ')
if [ "$addrs" = "169.254.1.2/32 " ]; then ok "the standby holds only its VRRP address"; else
	not_ok "the standby holds only its VRRP address" "$addrs"; fi
check "both copies have the IPVS service on the VIP" eval \
	'lns n1 "$IPVSADM" -Ln | grep -q "TCP  192.168.100.8:80" &&
	 lns n2 "$IPVSADM" -Ln | grep -q "TCP  192.168.100.8:80"'
check "answers through the floating IP (via n1)" answers 4
kpid=$(awk '{ print $1 }' "$W/n1/state/ipvs/ka-lb-web.pid" 2>/dev/null)
if [ -n "$kpid" ] && kill -KILL "$kpid"; then ok "n1's keepalived killed"; else
	not_ok "n1's keepalived killed" "pid '$kpid'"; fi
check "keepalived killed: n2 takes the VIP" wait_vip n2
check "keepalived killed: answers go on (via n2)" answers 4
out=$(vxh n1 apply 2>&1)
if [ $? -eq 0 ]; then ok "apply on n1 restarts keepalived"; else not_ok "apply on n1" "$out"; fi
check "n1 takes the VIP back (preempt)" wait_vip n1
check "answers go on (via n1)" answers 4
out=$(vxh n1 destroy 2>&1)
if [ $? -eq 0 ]; then ok "destroy on n1"; else not_ok "destroy on n1" "$out"; fi
check "destroy: n2 takes the VIP" wait_vip n2
check "destroy: answers go on (via n2)" answers 4
check "destroy: no keepalived record on n1" test ! -e "$W/n1/state/ipvs/ka-lb-web.pid"
rc=0
for h in n2 cmp; do vxh "$h" destroy >/dev/null 2>&1 || rc=1; done
left=$(ls "$W/n1/netns" "$W/n2/netns" "$W/cmp/netns" 2>/dev/null | grep -v ':$' | grep .)
if [ $rc = 0 ] && [ -z "$left" ] && [ ! -e "$W/n2/state/ipvs/ka-lb-web.pid" ]; then
	ok "destroy on every host leaves no namespace and no keepalived"
else
	not_ok "destroy" "left: $left"
fi
echo "1..$N"
[ "$FAILED" -eq 0 ]
