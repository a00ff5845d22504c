#!/bin/bash
# The load balancer benchmark, on simulated hosts (the seed's step 6 with the
# haproxy lb driver and the nftables NAT driver): wrk from the client
#   - through the load balancer's floating IP (NAT -> haproxy -> a member
#     on another host over VXLAN), and
#   - straight to one member through its own floating IP (NAT -> member),
# in the same run, same wrk settings; prints requests/s and p50/p99 latency
# of both and their ratios (target: latency through the balancer <= 1.3x
# direct). Then the time from `vxcloud apply` of a member change to the
# traffic following it: draining a member (runtime API) and undoing it
# together with a change that reloads haproxy.
#
# As root, from the build tree:
#   VXC_TEST_PREFIX=vxa make -C tests/bench bench
# or  VXC_TEST_PREFIX=vxa VXC_TOP_SRCDIR=... VXC_TOP_BUILDDIR=... tests/bench/bench-lb.sh [SECONDS]
set -u
secs=${1:-5}
build=${VXC_TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export VXC_TOP_BUILDDIR=$build
export VXC_TOP_SRCDIR=${VXC_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$VXC_TOP_SRCDIR/tests/lib/harness.sh"
vxt_require_root
vxt_require_cmd wrk curl busybox haproxy
[ -f "$build/plugins/lb/haproxy/.libs/haproxy.so" ] || {
	echo "bench-lb: haproxy plugin not built"
	exit 77
}
vxt_init lbb
vxt_add_host net127 10.0.0.127/24
vxt_add_host compute1 10.0.0.1/24
vxt_add_host compute2 10.0.0.2/24
vxt_add_client 200.160.0.100/24 200.160.0.1/24

www=$VXT_WORK/www
for w in web1 web2; do
	mkdir -p "$www/$w"
	echo "$w" >"$www/$w/index.html"
done
chmod -R a+rX "$www"

spec() { # WEB1_WEIGHT MAXCONN
	cat >"$VXT_WORK/cloud.conf" <<CONF
hosts = ( { name = "net127"; tunnel = "10.0.0.127"; }, { name = "compute1"; tunnel = "10.0.0.1"; },
  { name = "compute2"; tunnel = "10.0.0.2"; } );
provider = { bridge = "br-provider"; uplink = "uplink"; cidr = "200.160.0.0/24";
  gateway = "200.160.0.1"; range = [ "200.160.0.4", "200.160.0.100" ]; };
networks = ( { name = "private"; vni = 100; cidr = "192.168.100.0/24";
  gateway = "192.168.100.1"; mtu = 1450; } );
routers = ( { name = "router"; host = "net127"; external = "200.160.0.4";
  networks = [ "private" ]; snat = true; } );
instances = (
  { name = "web1"; kind = "container"; host = "compute1"; network = "private";
    address = "192.168.100.6";
    command = [ "busybox", "httpd", "-f", "-p", "9898", "-h", "$www/web1" ]; },
  { name = "web2"; kind = "container"; host = "compute2"; network = "private";
    address = "192.168.100.7";
    command = [ "busybox", "httpd", "-f", "-p", "9898", "-h", "$www/web2" ]; }
);
load_balancers = ( { name = "web"; host = "net127"; network = "private"; vip = "192.168.100.8";
  floating_ip = "200.160.0.5";
  listeners = ( { protocol = "http"; port = 80; algorithm = "leastconn"; maxconn = $2; retries = 3;
    health = { interval = 2000; timeout = 1000; rise = 2; fall = 3; http_path = "/"; };
    members = ( { address = "192.168.100.6"; port = 9898; weight = $1; },
                { address = "192.168.100.7"; port = 9898; weight = 100; } ); } ); } );
floating_ips = ( { address = "200.160.0.6"; router = "router"; target = "web1"; } );
CONF
}

spec 100 1000
vxt_node_conf net127 nat=nftables lb=haproxy log_level=warning >/dev/null
for h in compute1 compute2 net127; do
	vxt_node_conf "$h" log_level=warning nat=nftables lb=haproxy >/dev/null
	vxt_vxcloud "$h" apply >/dev/null || vxt_bail "apply on $h failed"
done
ready() { [ "$(vxt_ns client curl -s -m 2 http://200.160.0.5/)" != "" ] &&
	[ "$(vxt_ns client curl -s -m 2 http://200.160.0.6:9898/)" = web1 ]; }
vxt_wait_until 100 ready || vxt_bail "the floating IPs do not answer"

# wrk URL: "req/s p50_ms p99_ms"
to_ms() { # a wrk duration (123.45us, 1.23ms, 1.02s) in ms
	awk -v d="$1" 'BEGIN {
		v = d + 0
		if (d ~ /us$/) v /= 1000
		else if (d ~ /[0-9]s$/ && d !~ /ms$/) v *= 1000
		printf "%.3f", v
	}'
}
measure() { # URL CONNECTIONS
	local out p50 p99 rps
	out=$(vxt_ns client wrk -t"$(($2 < 2 ? 1 : 2))" -c"$2" -d"${secs}s" --latency "$1" 2>&1)
	p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
	p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
	rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
	grep -E 'Non-2xx|Socket errors' <<<"$out" | sed 's/^/#   /' >&2
	echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}
# Warm both paths (ARP, conntrack, haproxy's server connections).
vxt_ns client wrk -t1 -c2 -d1s http://200.160.0.5/ >/dev/null 2>&1
vxt_ns client wrk -t1 -c2 -d1s http://200.160.0.6:9898/ >/dev/null 2>&1
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
row() { printf '%-46s %10s %10s %10s\n' "$@"; }
# One connection: the latency of a request on an idle path. Eight: the
# machine saturated (2 cores shared by wrk, haproxy, the members and the
# kernel's NAT and VXLAN), where latency follows throughput.
for conns in 1 8; do
	read -r d_rps d_p50 d_p99 <<<"$(measure http://200.160.0.6:9898/ "$conns")"
	read -r l_rps l_p50 l_p99 <<<"$(measure http://200.160.0.5/ "$conns")"
	echo "== wrk -c$conns -d${secs}s from the client, both paths in the same run"
	row "path" "req/s" "p50 ms" "p99 ms"
	row "direct: web1's floating IP (NAT -> member)" "$d_rps" "$d_p50" "$d_p99"
	row "balancer: floating IP 200.160.0.5 (haproxy)" "$l_rps" "$l_p50" "$l_p99"
	row "balancer / direct" "$(ratio "$l_rps" "$d_rps")" "$(ratio "$l_p50" "$d_p50")" \
		"$(ratio "$l_p99" "$d_p99")"
done
echo "target: latency through the balancer <= 1.3x direct"

now_ms() { date +%s%3N; }
# follow WHO N: ms until N answers in a row come from WHO (or only from
# others when WHO starts with '!'); polls the floating IP, bounded at 20 s.
follow() {
	local want=$1 n=$2 t0=$3 run=0 a deadline=$(($(now_ms) + 20000))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		a=$(vxt_ns client curl -s -m 2 http://200.160.0.5/)
		if { [ "${want:0:1}" = '!' ] && [ -n "$a" ] && [ "$a" != "${want:1}" ]; } ||
			[ "$a" = "$want" ]; then
			run=$((run + 1))
			[ "$run" -ge "$n" ] && { echo $(($(now_ms) - t0)); return 0; }
		else
			run=0
		fi
	done
	echo "timeout"
}
echo
echo "== from apply of a member change to the traffic following it (ms)"
spec 0 1000
t0=$(now_ms)
vxt_vxcloud net127 apply >/dev/null
t_apply=$(($(now_ms) - t0))
t_follow=$(follow '!web1' 10 "$t0")
printf '%s: apply %s ms, 10 answers in a row from web2 after %s ms\n' \
	"drain web1 (weight 0, runtime API)" \
	"$t_apply" "$t_follow"
spec 100 1001
t0=$(now_ms)
vxt_vxcloud net127 apply >/dev/null
t_apply=$(($(now_ms) - t0))
t_follow=$(follow web1 1 "$t0")
printf '%s: apply %s ms, first answer from web1 after %s ms\n' \
	"web1 back with a maxconn change (reload)" \
	"$t_apply" "$t_follow"
for h in net127 compute1 compute2; do vxt_vxcloud "$h" destroy >/dev/null; done
vxt_done
