#!/bin/sh
# ipvs against haproxy on the same members, on a kernel with IP_VS (run
# inside the QEMU/TCG VM by bench-ipvs.sh, or directly on such a host).
# One simulated host in a namespace of its own: members web1 and web2
# (busybox httpd in netns containers) and a client on the tenant network;
# the same spec (a tcp listener on the VIP, roundrobin, both members) is
# applied with lb = "ipvs", measured with wrk from the client, destroyed,
# then applied and measured with lb = "haproxy". wrk straight to web1 is
# the baseline of the same run. Prints requests/s, p50 and p99 latency of
# each and the ratios; under TCG the absolute numbers are emulated, the
# ratios are the figures.
#
# Usage: bench-ipvs-vm.sh VXCLOUD PLUGIN_DIR BUSYBOX [SECONDS]   (POSIX sh;
# needs wrk and haproxy on PATH)
set -u
VXCLOUD=$1 PLUGINS=$2 BUSYBOX=$3 SECS=${4:-3}
if [ "${LB_IPVS_INNER:-}" != 1 ]; then
	LB_IPVS_INNER=1 exec unshare -n "$BUSYBOX" sh "$0" "$@"
fi
W=$(mktemp -d /tmp/bench-ipvs.XXXXXX)
NSDIR=$W/netns
cleanup() {
	[ -f "$W/h1.conf" ] && "$VXCLOUD" --config "$W/h1.conf" destroy >/dev/null 2>&1
	for m in $(grep " $NSDIR" /proc/mounts | cut -d' ' -f2 | sort -r); do
		umount "$m" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
fail() { echo "bench-ipvs: $*"; exit 1; }

ip link set lo up
ip addr add 10.0.0.1/32 dev lo
mkdir -p "$W/www1" "$W/www2" "$W/state" "$NSDIR"
echo web1 >"$W/www1/index.html"
echo web2 >"$W/www2/index.html"
cat >"$W/cloud.conf" <<SPEC
hosts = ( { name = "h1"; tunnel = "10.0.0.1"; } );
networks = ( { name = "private"; vni = 100; cidr = "192.168.100.0/24";
               gateway = "192.168.100.1"; mtu = 1450; } );
instances = (
  { name = "web1"; kind = "container"; host = "h1"; network = "private";
    address = "192.168.100.6";
    command = [ "$BUSYBOX", "httpd", "-f", "-p", "9898", "-h", "$W/www1" ]; },
  { name = "web2"; kind = "container"; host = "h1"; network = "private";
    address = "192.168.100.7";
    command = [ "$BUSYBOX", "httpd", "-f", "-p", "9898", "-h", "$W/www2" ]; },
  { name = "client"; kind = "container"; host = "h1"; network = "private";
    address = "192.168.100.20"; }
);
load_balancers = (
  { name = "lb1"; host = "h1"; network = "private"; vip = "192.168.100.8";
    listeners = ( { protocol = "tcp"; port = 80; algorithm = "roundrobin";
      members = ( { address = "192.168.100.6"; port = 9898; },
                  { address = "192.168.100.7"; port = 9898; } ); } ); }
);
SPEC
node_conf() { # LB_DRIVER
	cat >"$W/h1.conf" <<CONF
host = "h1"; spec = "$W/cloud.conf"; plugin_dir = "$PLUGINS"; state_dir = "$W/state";
netns_dir = "$NSDIR"; network = "linuxbridge"; container = "netns"; lb = "$1";
log_level = "warning";
settings = { haproxy = { haproxy = "$(command -v haproxy)"; }; };
CONF
}
vx() { "$VXCLOUD" --config "$W/h1.conf" "$@"; }
client() { nsenter --net="$NSDIR/vxi-client" -- "$@"; }
get() { # ADDR PORT: the body of GET /
	printf 'GET / HTTP/1.0\r\n\r\n' | client "$BUSYBOX" nc -w 3 "$1" "$2" 2>/dev/null | tail -1
}
# ready ADDR PORT: until two answers in a row through it (bounded, 30 s)
ready() {
	i=0
	while [ $i -lt 150 ]; do
		[ -n "$(get "$1" "$2")" ] && [ -n "$(get "$1" "$2")" ] && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
to_ms() { # a wrk duration (123.45us, 1.23ms, 1.02s) in ms
	awk -v d="$1" 'BEGIN { v = d + 0; if (d ~ /us$/) v /= 1000
		else if (d ~ /[0-9]s$/ && d !~ /ms$/) v *= 1000; printf "%.2f", v }'
}
# measure URL CONNS: "req/s p50_ms p99_ms errors"
measure() {
	out=$(client wrk -t1 -c"$2" -d"${SECS}s" --latency "$1" 2>&1)
	rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
	p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
	p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
	err=$(echo "$out" | awk '/Socket errors/ { print "socket-errors" }')
	[ -n "$rps" ] || { echo "$out" | sed 's/^/#   /' >&2; echo "0 0 0 wrk-failed"; return; }
	echo "$rps $(to_ms "$p50") $(to_ms "$p99") ${err:-none}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
row() { printf '%-34s %10s %10s %10s  %s\n' "$@"; }

CONNS="1 8"
for drv in ipvs haproxy; do
	node_conf "$drv"
	out=$(vx apply 2>&1) || fail "apply with lb = $drv: $out"
	ready 192.168.100.8 80 || fail "$drv: the VIP does not answer"
	ready 192.168.100.6 9898 || fail "web1 does not answer"
	client wrk -t1 -c2 -d1s http://192.168.100.8:80/ >/dev/null 2>&1 # warm
	for c in $CONNS; do
		eval "r_${drv}_$c=\"\$(measure http://192.168.100.8:80/ $c)\""
		[ "$drv" = ipvs ] && eval "r_direct_$c=\"\$(measure http://192.168.100.6:9898/ $c)\""
	done
	vx destroy >/dev/null 2>&1 || fail "destroy with lb = $drv"
done

echo "# kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPU; wrk -t1 -d${SECS}s"
for c in $CONNS; do
	eval "set -- \$r_direct_$c \$r_ipvs_$c \$r_haproxy_$c"
	echo "== wrk -c$c from the client to the VIP (tcp listener, roundrobin, 2 members)"
	row "path" "req/s" "p50 ms" "p99 ms" "errors"
	row "direct: web1 192.168.100.6:9898" "$1" "$2" "$3" "$4"
	row "ipvs: VIP 192.168.100.8:80" "$5" "$6" "$7" "$8"
	row "haproxy: VIP 192.168.100.8:80" "$9" "${10}" "${11}" "${12}"
	row "ipvs / haproxy" "$(ratio "$5" "$9")" "$(ratio "$6" "${10}")" "$(ratio "$7" "${11}")"
	row "ipvs / direct" "$(ratio "$5" "$1")" "$(ratio "$6" "$2")" "$(ratio "$7" "$3")"
	row "haproxy / direct" "$(ratio "$9" "$1")" "$(ratio "${10}" "$2")" "$(ratio "${11}" "$3")"
done
