#!/bin/bash
# The seed's step 6 end to end on simulated hosts, with the NAT driver given
# as $1 (iptables or nftables): net127 holds the router and the load
# balancer "web" (haproxy, VIP 192.168.100.8, floating IP 200.160.0.5);
# compute1 and compute2 hold web1 and web2 (busybox httpd answering with
# their name); the client plays the internet on the provider network.
#
# Checks: curl to the VIP from inside the tenant network (the router
# namespace) and to the floating IP from the client alternate between the
# members; a stopped member is taken out by its health check and traffic
# goes on; a load of at least 2,000 requests (ab) running through ten
# reloads and a member drain loses none; destroy leaves nothing running.
set -u
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
drv=${1:?usage: e2e-lb.sh iptables|nftables}
vxt_require_root
vxt_require_cmd busybox curl haproxy ab
for so in "lb/haproxy/.libs/haproxy.so" "nat/$drv/.libs/$drv.so"; do
	[ -f "${VXC_TOP_BUILDDIR:?}/plugins/$so" ] || {
		echo "1..0 # SKIP plugin $so is not built"
		exit 77
	}
done
vxt_init "lb${drv:0:1}"
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

spec() { # CLIENT_TIMEOUT_MS WEB1_WEIGHT [WITH_LB]
	local lb
	lb=$(lb_spec "$@")
	cat >"$VXT_WORK/cloud.conf" <<CONF
hosts = (
  { name = "net127";   tunnel = "10.0.0.127"; },
  { name = "compute1"; tunnel = "10.0.0.1"; },
  { name = "compute2"; tunnel = "10.0.0.2"; }
);
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
$lb
CONF
}

lb_spec() { # CLIENT_TIMEOUT_MS WEB1_WEIGHT [WITH_LB]
	[ "${3:-yes}" = yes ] || return 0
	cat <<CONF
load_balancers = (
  { name = "web"; host = "net127"; network = "private"; vip = "192.168.100.8";
    floating_ip = "200.160.0.5";
    listeners = (
      { protocol = "http"; port = 80; algorithm = "leastconn"; maxconn = 100; retries = 3;
        timeouts = { connect = 5000; client = $1; server = 50000; };
        health = { interval = 300; timeout = 1500; rise = 2; fall = 2; http_path = "/"; };
        members = (
          { address = "192.168.100.6"; port = 9898; weight = $2; },
          { address = "192.168.100.7"; port = 9898; weight = 100; }
        ); }
    ); }
);
CONF
}

running() { # the "running" lines of load balancer web in `status` on net127
	vxt_vxcloud net127 status 2>/dev/null | sed -n 's/^ *| //p'
}
member_status() { # ADDR
	running | sed -n "s|^member $1:9898 .*: \([A-Z]*\).*|\1|p" | head -n1
}
# UP as a passed check says (haproxy starts members UP before checking).
checked_up() { # ADDR
	running | grep -q "^member $1:9898 .*: UP, .*check L7OK"
}
both_up() {
	checked_up 192.168.100.6 && checked_up 192.168.100.7
}
fetch() { # FROM URL: FROM is "router" or "client"
	case $1 in
	router) vxt_inst_ns net127 vxr-router curl -s -m 3 "$2" ;;
	client) vxt_ns client curl -s -m 3 "$2" ;;
	esac
}
# alternates FROM URL: six requests in a row answer web1/web2 alternately.
alternates() {
	local prev="" cur i seq="" ok=0
	for ((i = 0; i < 6; i++)); do
		cur=$(fetch "$1" "$2")
		seq+=" $cur"
		case $cur in web1 | web2) ;; *) ok=1 ;; esac
		[ "$cur" != "$prev" ] || ok=1
		prev=$cur
	done
	echo "answers:$seq"
	return $ok
}
all_from() { # WHO FROM URL N
	local i
	for ((i = 0; i < $4; i++)); do [ "$(fetch "$2" "$3")" = "$1" ] || return 1; done
}

spec 50000 100
vxt_node_conf net127 nat="$drv" lb=haproxy log_level=warning >/dev/null
vxt_node_conf compute1 log_level=warning >/dev/null
vxt_node_conf compute2 log_level=warning >/dev/null
vxt_ok "apply on compute1" vxt_vxcloud compute1 apply
vxt_ok "apply on compute2" vxt_vxcloud compute2 apply
vxt_ok "apply on net127 (nat = $drv, lb = haproxy)" vxt_vxcloud net127 apply
vxt_ok "health checks find both members UP" vxt_wait_until 150 both_up
vxt_ok "curl to the VIP from the tenant network alternates web1/web2" \
	alternates router http://192.168.100.8/
vxt_ok "curl to the floating IP from the client alternates web1/web2" \
	alternates client http://200.160.0.5/
out=$(vxt_vxcloud net127 apply)
vxt_ok "a second apply on net127 changes nothing" grep -q '^no changes' <<<"$out"

# A stopped member: its health check takes it out, traffic goes on.
pid=$(cut -d' ' -f1 "$VXT_WORK/compute1/state/netns/web1.pid")
kill -TERM "$pid"
down() { [ "$(member_status 192.168.100.6)" = DOWN ]; }
vxt_ok "the stopped web1 is taken out by its health check" vxt_wait_until 150 down
vxt_ok "traffic to the floating IP goes on, all to web2" all_from web2 client \
	http://200.160.0.5/ 20
vxt_ok "apply on compute1 starts web1 again" vxt_vxcloud compute1 apply
vxt_ok "web1 is back UP" vxt_wait_until 150 both_up

# Load through ten reloads and a drain: ab runs batches from the client
# until the changes are done, then at least 2,000 requests in all.
stop=$VXT_WORK/load.stop
load() {
	local n=0
	while [ ! -e "$stop" ] || [ $n -lt 8 ]; do
		vxt_ns client ab -r -q -n 250 -c 4 -s 10 http://200.160.0.5/ >"$VXT_WORK/ab.$n" 2>&1
		n=$((n + 1))
	done
}
load &
load_pid=$!
# The changes start once a batch is under way and end before the last ones.
started() { ls "$VXT_WORK"/ab.* >/dev/null 2>&1; }
vxt_wait_until 100 started
batches_before=$(ls "$VXT_WORK"/ab.* | wc -l)
reloads=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	spec $((50000 + i)) 100
	out=$(vxt_vxcloud net127 apply) && grep -q 'reload haproxy' <<<"$out" &&
		reloads=$((reloads + 1))
done
vxt_is "ten applies reloaded haproxy ten times under load" "$reloads" 10
spec 50010 0
out=$(vxt_vxcloud net127 apply)
vxt_ok "draining web1 (weight 0) goes through the runtime API under load" \
	grep -q 'weight 0, enabled (runtime API, no reload)' <<<"$out"
batches_during=$(($(ls "$VXT_WORK"/ab.* | wc -l) - batches_before))
touch "$stop"
wait "$load_pid"
vxt_ok "the load ran during the changes ($batches_during batches started meanwhile)" \
	test "$batches_during" -ge 2
sum() { # FIELD-REGEX: the sum of that ab figure over all batches
	cat "$VXT_WORK"/ab.* | sed -n "s/^$1: *\([0-9]*\).*/\1/p" | awk '{s += $1} END {print s + 0}'
}
complete=$(sum 'Complete requests')
failed=$(sum 'Failed requests')
non2xx=$(sum 'Non-2xx responses')
vxt_diag "load: $complete requests, $failed failed, $non2xx non-2xx," \
	"over $(ls "$VXT_WORK"/ab.* | wc -l) ab batches"
vxt_ok "at least 2,000 requests ran through the changes ($complete)" test "$complete" -ge 2000
vxt_is "no request failed" "$failed" 0
vxt_is "no request got an error status" "$non2xx" 0
vxt_ok "after the drain new requests go to web2 only" all_from web2 client \
	http://200.160.0.5/ 10

# Without the balancer in the spec: haproxy, namespace and floating IP go.
fip_rules() {
	case $drv in
	nftables) vxt_inst_ns net127 vxr-router nft list ruleset ;;
	iptables) vxt_inst_ns net127 vxr-router iptables-legacy-save -t nat ;;
	esac | grep -c '200\.160\.0\.5'
}
vxt_ok "the floating IP 200.160.0.5 is in the $drv rules" test "$(fip_rules)" -gt 0
spec 50010 0 no
vxt_ok "apply without the load balancer" vxt_vxcloud net127 apply
vxt_is "its floating IP is gone from the $drv rules" "$(fip_rules)" 0
vxt_ok "its namespace is gone" test ! -e "$VXT_WORK/net127/netns/vxlb-web"
vxt_fail "no haproxy of it is left" pgrep -f "$VXT_WORK/net127/state/haproxy"
vxt_fail "the floating IP no longer answers" fetch client http://200.160.0.5/

vxt_ok "destroy on net127" vxt_vxcloud net127 destroy
vxt_ok "destroy on compute1" vxt_vxcloud compute1 destroy
vxt_ok "destroy on compute2" vxt_vxcloud compute2 destroy
vxt_fail "no haproxy of this test is left" pgrep -f "$VXT_WORK/net127/state/haproxy"
vxt_done
