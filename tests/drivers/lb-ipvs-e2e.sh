#!/bin/sh
# lb/ipvs end to end on simulated hosts, on a kernel with IP_VS: the seed's
# step 6 with ipvs. Three hosts (namespaces on a fabric and a provider
# bridge): net127 holds the router (SNAT, nftables) and the balancer with a
# floating IP, compute1 and compute2 one member each. A client on the
# provider network fetches /cgi-bin/who through the floating IP: the answers
# alternate between the members and each member saw the VIP as the source
# (full NAT: members on other hosts answer through the balancer). Then a
# re-apply changes nothing, a drain takes web2 out, destroy leaves nothing.
#
# Usage: lb-ipvs-e2e.sh VXCLOUD PLUGIN_DIR BUSYBOX   (needs iproute2's ip)
set -u
VXCLOUD=$1 PLUGINS=$2 BUSYBOX=$3
if [ "${LB_IPVS_INNER:-}" != 1 ]; then
	LB_IPVS_INNER=1 exec unshare -n "$BUSYBOX" sh "$0" "$@"
fi
IP=${IP:-/sbin/ip}
N=0 FAILED=0
ok() { N=$((N + 1)); echo "ok $N - e2e: $1"; }
not_ok() {
	N=$((N + 1)) FAILED=$((FAILED + 1))
	echo "not ok $N - e2e: $1"
	shift
	for l in "$@"; do echo "$l" | sed 's/^/# /'; done
}

W=$(mktemp -d /tmp/lb-ipvs-e2e.XXXXXX)
S=vxhe2e
HOSTS="net127 compute1 compute2"
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

"$IP" netns add "$S-fabric" || exit 99
"$IP" -n "$S-fabric" link add fabric type bridge
"$IP" -n "$S-fabric" link add provider type bridge
"$IP" -n "$S-fabric" link set fabric up
"$IP" -n "$S-fabric" link set provider up
i=0
for h in $HOSTS; do
	case $h in net127) t=10.0.0.127 ;; compute1) t=10.0.0.1 ;; compute2) t=10.0.0.2 ;; esac
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

spec() { # WEIGHT_OF_WEB2
	cat >"$W/cloud.conf" <<SPEC
hosts = ( { name = "net127"; tunnel = "10.0.0.127"; }, { name = "compute1"; tunnel = "10.0.0.1"; },
  { name = "compute2"; tunnel = "10.0.0.2"; } );
provider = { bridge = "br-provider"; uplink = "uplink"; cidr = "200.160.0.0/24";
  gateway = "200.160.0.1"; range = [ "200.160.0.4", "200.160.0.100" ]; };
networks = ( { name = "private"; vni = 100; cidr = "192.168.100.0/24"; gateway = "192.168.100.1";
  mtu = 1450; } );
routers = ( { name = "router"; host = "net127"; external = "200.160.0.4"; networks = [ "private" ];
  snat = true; } );
instances = (
  { name = "web1"; kind = "container"; host = "compute1"; network = "private";
    address = "192.168.100.6";
    command = [ "$BUSYBOX", "httpd", "-f", "-p", "9898", "-h", "$W/www/web1" ]; },
  { name = "web2"; kind = "container"; host = "compute2"; network = "private";
    address = "192.168.100.7";
    command = [ "$BUSYBOX", "httpd", "-f", "-p", "9898", "-h", "$W/www/web2" ]; }
);
load_balancers = (
  { name = "web"; host = "net127"; network = "private"; vip = "192.168.100.8";
    floating_ip = "200.160.0.5";
    listeners = ( { protocol = "tcp"; port = 80; algorithm = "roundrobin";
      members = ( { address = "192.168.100.6"; port = 9898; },
                  { address = "192.168.100.7"; port = 9898; weight = $1; } ); } );
  }
);
SPEC
}

# who: the answer of /cgi-bin/who through the floating IP, from the client.
who() {
	printf 'GET /cgi-bin/who HTTP/1.0\r\n\r\n' |
		nsenter --net="/run/netns/$S-client" "$BUSYBOX" nc -w 3 200.160.0.5 80 2>/dev/null |
		tail -1 | sed -E 's/\[::ffff:([0-9.]+)\]/\1/'
}
# who_many N: N answers, one per line; the first waits (bounded) for the
# members' servers to be up.
who_many() {
	i=0
	while [ $i -lt 50 ] && [ -z "$(who)" ]; do sleep 0.2; i=$((i + 1)); done
	i=0
	while [ $i -lt "$1" ]; do who; i=$((i + 1)); done
}

spec 1
for h in compute1 compute2 net127; do
	out=$(vxh "$h" apply 2>&1)
	if [ $? -eq 0 ]; then ok "apply on $h"; else not_ok "apply on $h" "$out"; fi
done
answers=$(who_many 6)
echo "$answers" | sed 's/^/#   /'
n1=$(echo "$answers" | grep -c '^web1 192.168.100.8$')
n2=$(echo "$answers" | grep -c '^web2 192.168.100.8$')
if [ "$n1" -ge 2 ] && [ "$n2" -ge 2 ] && [ $((n1 + n2)) = 6 ]; then
	ok "through the floating IP the answers alternate between the members on two hosts"
else
	not_ok "answers alternate" "web1 $n1, web2 $n2"
fi
if [ $((n1 + n2)) = 6 ]; then ok "every member saw the VIP as the source (full NAT)"; else
	not_ok "members saw the VIP as the source"; fi
out=$(vxh net127 apply 2>&1)
if echo "$out" | grep -q "no changes"; then ok "a second apply on net127 changes nothing"; else
	not_ok "second apply: no changes" "$out"; fi
spec 0
vxh net127 apply >/dev/null 2>&1
answers=$(who_many 4)
n1=$(echo "$answers" | grep -c '^web1 ')
if [ "$n1" = 4 ]; then ok "web2 drained: every request goes to web1"; else
	not_ok "drain" "$answers"; fi
rc=0
why=
for h in net127 compute1 compute2; do
	out=$(vxh "$h" destroy 2>&1) || { rc=1; why="$why
destroy on $h: $out"; }
done
left=$(ls "$W/net127/netns" "$W/compute1/netns" "$W/compute2/netns" 2>/dev/null |
	grep -v ':$' | grep .)
if [ $rc = 0 ] && [ -z "$left" ]; then ok "destroy on every host leaves no namespace"; else
	not_ok "destroy" "left: $left$why"; fi
echo "1..$N"
[ "$FAILED" -eq 0 ]
