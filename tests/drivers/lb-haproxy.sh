#!/bin/bash
# Conformance of the lb driver "haproxy" through the vxcloud command, on one
# simulated host (h1) holding network blue, its router r1 (no NAT), two
# member instances w1 and w2 (busybox httpd answering with their name) and
# the load balancer lb1 with three listeners covering every spec item:
# http/leastconn with an HTTP check expecting a status, tcp/source with a
# TCP check and a disabled member, and a listener left at the defaults.
#
# Checks: the rendered file line by line and by `haproxy -c`; traffic
# through the VIP; re-apply changes nothing; a weight change and disabling
# a member go through the runtime API (worker PID unchanged, runtime shows
# the new weight/state); any other change reloads (new worker, same master,
# listeners handed over); a file haproxy -c refuses changes nothing; a
# killed haproxy is started again by the next apply; injection attempts are
# refused at validation and change nothing; removing the balancer from the
# spec and destroy leave h1 as it was.
set -u
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
vxt_require_root
vxt_require_cmd busybox curl haproxy
[ -f "${VXC_TOP_BUILDDIR:?}/plugins/lb/haproxy/.libs/haproxy.so" ] || {
	echo "1..0 # SKIP the haproxy plugin is not built"
	exit 77
}
vxt_init
vxt_add_host h1 192.0.2.1/24

www=$VXT_WORK/www
for w in w1 w2; do
	mkdir -p "$www/$w"
	echo "$w" >"$www/$w/index.html"
done
chmod -R a+rX "$www"

# spec [W1_WEIGHT [W2_ENABLED [MAXCONN [WITH_LB [W2_ENABLED_ON_81]]]]]
spec() {
	local w1=${1:-100} en2=${2:-true} maxconn=${3:-100} with_lb=${4:-yes} en81=${5:-false}
	cat >"$VXT_WORK/cloud.conf" <<CONF
hosts = ( { name = "h1"; tunnel = "192.0.2.1"; } );
provider = { bridge = "br-prov"; uplink = "uplink"; cidr = "203.0.113.0/24";
  gateway = "203.0.113.1"; range = [ "203.0.113.10", "203.0.113.99" ]; };
networks = ( { name = "blue"; vni = 1001; cidr = "10.0.0.0/24"; gateway = "10.0.0.1";
  mtu = 1450; } );
routers = ( { name = "r1"; host = "h1"; external = "203.0.113.10"; networks = [ "blue" ];
  snat = false; } );
instances = (
  { name = "w1"; kind = "container"; host = "h1"; network = "blue"; address = "10.0.0.11";
    command = [ "busybox", "httpd", "-f", "-p", "8080", "-h", "$www/w1" ]; },
  { name = "w2"; kind = "container"; host = "h1"; network = "blue"; address = "10.0.0.12";
    command = [ "busybox", "httpd", "-f", "-p", "8080", "-h", "$www/w2" ]; }
);
CONF
	[ "$with_lb" = yes ] || return 0
	cat >>"$VXT_WORK/cloud.conf" <<CONF
load_balancers = (
  { name = "lb1"; host = "h1"; network = "blue"; vip = "10.0.0.8";
    listeners = (
      { protocol = "http"; port = 80; algorithm = "leastconn"; maxconn = $maxconn; retries = 3;
        timeouts = { connect = 5000; client = 50000; server = 40000; };
        health = { interval = 500; timeout = 1500; rise = 2; fall = 2;
                   http_path = "/index.html"; http_status = 200; };
        members = ( { address = "10.0.0.11"; port = 8080; weight = $w1; },
                    { address = "10.0.0.12"; port = 8080; weight = 50; enabled = $en2; } ); },
      { protocol = "tcp"; port = 81; algorithm = "source"; maxconn = 50; retries = 0;
        health = { interval = 1000; };
        members = ( { address = "10.0.0.11"; port = 8080; },
                    { address = "10.0.0.12"; port = 8080; enabled = $en81; } ); },
      { port = 82; members = ( { address = "10.0.0.11"; port = 8080; } ); }
    ); }
);
CONF
}

state=$VXT_WORK/h1/state/haproxy/lb1
expected() { # W1_WEIGHT W2_DISABLED(" disabled" or "") MAXCONN [W2_ON_81_DISABLED]
	cat <<CFG
# vxcloud lb/haproxy: load balancer lb1. Generated; edits are overwritten.
global
    master-worker
    stats socket $state/stats.sock mode 600 level admin expose-fd listeners
    stats timeout 30s

frontend fe-80
    mode http
    bind 10.0.0.8:80
    maxconn $3
    timeout client 50000ms
    option forwardfor
    default_backend be-80

backend be-80
    mode http
    balance leastconn
    retries 3
    option redispatch
    timeout connect 5000ms
    timeout server 40000ms
    option httpchk GET /index.html
    http-check expect status 200
    timeout check 1500ms
    default-server inter 500ms rise 2 fall 2
    server m-10.0.0.11-8080 10.0.0.11:8080 weight $1 check
    server m-10.0.0.12-8080 10.0.0.12:8080 weight 50 check$2

frontend fe-81
    mode tcp
    bind 10.0.0.8:81
    maxconn 50
    timeout client 50000ms
    default_backend be-81

backend be-81
    mode tcp
    balance source
    hash-type consistent
    retries 0
    option redispatch
    timeout connect 5000ms
    timeout server 50000ms
    timeout check 1000ms
    default-server inter 1000ms rise 2 fall 3
    server m-10.0.0.11-8080 10.0.0.11:8080 weight 1 check
    server m-10.0.0.12-8080 10.0.0.12:8080 weight 1 check${4- disabled}

frontend fe-82
    mode tcp
    bind 10.0.0.8:82
    maxconn 2000
    timeout client 50000ms
    default_backend be-82

backend be-82
    mode tcp
    balance roundrobin
    retries 3
    option redispatch
    timeout connect 5000ms
    timeout server 50000ms
    server m-10.0.0.11-8080 10.0.0.11:8080 weight 1
CFG
}

# Line-by-line comparison: every differing line is shown.
same_file() { # FILE EXPECTED_TEXT
	diff -u <(printf '%s\n' "$2") "$1"
}

status_json() {
	vxt_vxcloud h1 --json status 2>/dev/null
}
# The "running" lines of lb1 in `status`.
running() {
	vxt_vxcloud h1 status 2>/dev/null | sed -n 's/^ *| //p'
}
worker_pid() {
	running | sed -n 's/^haproxy: master PID [0-9]*, worker PID \([0-9]*\),.*/\1/p'
}
master_pid() {
	running | sed -n 's/^haproxy: master PID \([0-9]*\),.*/\1/p'
}
from_vip() { # PORT: the page behind the VIP, fetched from the router namespace
	vxt_inst_ns h1 vxr-r1 curl -s -m 3 "http://10.0.0.8:$1/"
}
both_answer() { # PORT: w1 and w2 both answer within 20 requests
	local seen="" i
	for ((i = 0; i < 20; i++)); do
		seen+=" $(from_vip "$1")"
	done
	[[ $seen == *w1* && $seen == *w2* ]]
}
member_state() { # BACKEND SERVER: "status weight" as the runtime API says
	running | sed -n "s|^member [^ ]* ($1/$2): \([A-Z0-9 /]*\), weight \([0-9]*\).*|\1 \2|p"
}
# member_is BACKEND SERVER "STATUS WEIGHT", given 10 s: a check may time
# out on a loaded machine and show a member DOWN for a moment.
member_is() {
	[ "$(member_state "$1" "$2")" = "$3" ]
}
member_ok() { # DESCRIPTION BACKEND SERVER "STATUS WEIGHT"
	vxt_ok "$1" vxt_wait_until 100 member_is "$2" "$3" "$4" ||
		vxt_diag "member $2/$3: $(member_state "$2" "$3")"
}
no_changes() {
	vxt_vxcloud h1 apply | grep -q '^no changes'
}

before=$(vxt_snapshot h1)
spec
vxt_node_conf h1 lb=haproxy log_level=warning >/dev/null
vxt_ok "validate accepts every load balancer item" vxt_vxcloud h1 validate
vxt_ok "apply creates lb1" vxt_vxcloud h1 apply
vxt_ok "the rendered file is exactly the spec, line by line" \
	same_file "$state/haproxy.cfg" "$(expected 100 "" 100)"
vxt_ok "haproxy -c accepts the rendered file" haproxy -c -f "$state/haproxy.cfg"
vxt_ok "namespace vxlb-lb1 holds the VIP at the network MTU" \
	sh -c "nsenter --net='$VXT_WORK/h1/netns/vxlb-lb1' ip -o addr show dev eth0 |
		grep -q 'inet 10.0.0.8/24' &&
		nsenter --net='$VXT_WORK/h1/netns/vxlb-lb1' ip link show dev eth0 | grep -q 'mtu 1450'"
vxt_ok "default route via the tenant gateway" \
	sh -c "nsenter --net='$VXT_WORK/h1/netns/vxlb-lb1' ip route | grep -q 'default via 10.0.0.1'"
vxt_ok "master CLI and runtime sockets exist" test -S "$state/master.sock" -a -S "$state/stats.sock"
vxt_ok "http listener: both members answer through the VIP" vxt_wait_until 100 both_answer 80
tcp82() { [ "$(from_vip 82)" = w1 ]; }
vxt_ok "tcp listener 82 answers (its only member)" tcp82
shows_listener() { running | grep -q '^listener fe-80: OPEN'; }
vxt_ok "status shows the process, listeners and member health" shows_listener
json_running() {
	vxt_vxcloud h1 --json status | grep -q '"running":\["haproxy: master PID [0-9]*, worker PID'
}
vxt_ok "status --json has them in the object's running array" json_running
up_both() {
	[ "$(member_state be-80 m-10.0.0.11-8080)" = "UP 100" ] &&
		[ "$(member_state be-80 m-10.0.0.12-8080)" = "UP 50" ]
}
vxt_ok "the HTTP check finds both members UP (weights 100, 50)" vxt_wait_until 100 up_both
member_ok "the disabled member of listener 81 is in maintenance" be-81 m-10.0.0.12-8080 "MAINT 1"
vxt_ok "a second apply changes nothing" no_changes

master=$(master_pid)
worker=$(worker_pid)
vxt_ok "master and worker PIDs are reported" test -n "$master" -a -n "$worker"

# Weight: runtime API, no reload.
spec 7
out=$(vxt_vxcloud h1 apply)
vxt_ok "a weight change goes through the runtime API" grep -q 'runtime API, no reload' <<<"$out"
vxt_fail "a weight change does not reload" grep -q 'reload haproxy' <<<"$out"
vxt_is "the worker PID is unchanged after a weight change" "$(worker_pid)" "$worker"
member_ok "haproxy runs the new weight" be-80 m-10.0.0.11-8080 "UP 7"
vxt_ok "the file holds the new weight" same_file "$state/haproxy.cfg" "$(expected 7 "" 100)"
vxt_ok "re-apply after the weight change changes nothing" no_changes

# Disabling a member: runtime API, no reload.
spec 7 false
out=$(vxt_vxcloud h1 apply)
vxt_ok "disabling a member goes through the runtime API" grep -q 'disabled (runtime API' <<<"$out"
vxt_is "the worker PID is unchanged after disabling a member" "$(worker_pid)" "$worker"
member_ok "haproxy holds the member in maintenance" be-80 m-10.0.0.12-8080 "MAINT 50"
only_w1() {
	local i
	for ((i = 0; i < 10; i++)); do [ "$(from_vip 80)" = w1 ] || return 1; done
}
vxt_ok "traffic goes to the enabled member only" only_w1
vxt_ok "the file marks the member disabled" \
	same_file "$state/haproxy.cfg" "$(expected 7 " disabled" 100)"
spec 7 true
vxt_ok "enabling it again is one apply" vxt_vxcloud h1 apply
vxt_ok "the member is back in rotation" vxt_wait_until 100 both_answer 80
vxt_is "the worker PID is still unchanged" "$(worker_pid)" "$worker"

# Anything else: reload, new worker, same master.
spec 7 true 150
out=$(vxt_vxcloud h1 apply)
vxt_ok "a maxconn change reloads" grep -q 'reload haproxy (configuration changed)' <<<"$out"
new_worker=$(worker_pid)
vxt_ok "the reload made a new worker ($worker -> $new_worker)" \
	test -n "$new_worker" -a "$new_worker" != "$worker"
vxt_is "the master stays across the reload" "$(master_pid)" "$master"
vxt_ok "the file holds the new maxconn" same_file "$state/haproxy.cfg" "$(expected 7 "" 150)"
vxt_ok "traffic flows after the reload" vxt_wait_until 100 both_answer 80
vxt_ok "re-apply after the reload changes nothing" no_changes

# Drift: a weight set by hand over the runtime socket is a difference that
# apply sets back through the runtime API.
if command -v socat >/dev/null 2>&1; then
	echo "set server be-80/m-10.0.0.11-8080 weight 33" |
		socat - "UNIX-CONNECT:$state/stats.sock" >/dev/null
	member_ok "the hand-set weight is in the worker" be-80 m-10.0.0.11-8080 "UP 33"
	drift_shown() {
		vxt_vxcloud h1 status >/dev/null 2>&1
		[ $? = 6 ]
	}
	vxt_ok "status shows the drift as a difference (exit 6)" drift_shown
	out=$(vxt_vxcloud h1 apply)
	vxt_ok "apply sets the weight back through the runtime API" \
		grep -q 'm-10.0.0.11-8080 weight 7, enabled (runtime API, no reload)' <<<"$out"
	member_ok "the worker holds weight 7 again" be-80 m-10.0.0.11-8080 "UP 7"
	vxt_is "the worker is the same after the repair" "$(worker_pid)" "$new_worker"
else
	vxt_diag "socat not installed: the drift check is left out"
fi

# A member disabled in the file since start is enabled at run time too.
spec 7 true 150 yes true
out=$(vxt_vxcloud h1 apply)
vxt_ok "enabling the member disabled in the file goes through the runtime API" \
	grep -q 'be-81/m-10.0.0.12-8080 weight 1, enabled (runtime API' <<<"$out"
up81() { [ "$(member_state be-81 m-10.0.0.12-8080)" = "UP 1" ]; }
vxt_ok "it leaves maintenance and its check finds it UP" vxt_wait_until 100 up81
vxt_is "the worker is the same" "$(worker_pid)" "$new_worker"
vxt_ok "the file holds it enabled" same_file "$state/haproxy.cfg" "$(expected 7 "" 150 "")"
spec 7 true 150
vxt_ok "disabling it again" vxt_vxcloud h1 apply

# A file haproxy -c refuses changes nothing. A stand-in program named
# haproxy gives the real `haproxy -c` a copy with an unknown keyword when the
# file holds "maxconn 4242", and execs the real haproxy otherwise.
mkdir -p "$VXT_WORK/bin"
cat >"$VXT_WORK/bin/haproxy" <<SH
#!/bin/sh
case " \$* " in
*" -c "*) for f; do :; done
	if grep -q 'maxconn 4242' "\$f"; then
		sed 's/maxconn 4242/&\\n    bogus-keyword-from-the-test 1/' "\$f" >"$VXT_WORK/bin/bad.cfg"
		exec /usr/sbin/haproxy -c -f "$VXT_WORK/bin/bad.cfg"
	fi ;;
esac
exec /usr/sbin/haproxy "\$@"
SH
chmod 0755 "$VXT_WORK/bin/haproxy"
vxt_node_conf h1 lb=haproxy log_level=warning haproxy.haproxy="$VXT_WORK/bin/haproxy" >/dev/null
spec 7 true 4242
cfg_before=$(cat "$state/haproxy.cfg")
out=$(vxt_vxcloud h1 apply 2>&1)
vxt_ok "apply fails when haproxy -c refuses the file" test $? != 0
vxt_ok "the error carries haproxy's alert" \
	grep -q "ALERT.*unknown keyword 'bogus-keyword-from-the-test'" <<<"$out"
vxt_is "the running file is unchanged" "$(cat "$state/haproxy.cfg")" "$cfg_before"
vxt_is "the worker is unchanged" "$(worker_pid)" "$new_worker"
vxt_ok "no candidate file is left" test ! -e "$state/haproxy.cfg.next"
spec 7 true 150
vxt_node_conf h1 lb=haproxy log_level=warning >/dev/null
vxt_ok "back to the accepted spec: no changes" no_changes

# Injection attempts: refused at validation, nothing changes.
inject() { # DESCRIPTION SED-EXPRESSION
	spec 7 true 150
	sed -i "$2" "$VXT_WORK/cloud.conf"
	vxt_fail "validate refuses $1" vxt_vxcloud h1 validate
	vxt_fail "apply refuses $1" vxt_vxcloud h1 apply
	vxt_is "after refusing $1 the file is unchanged" "$(cat "$state/haproxy.cfg")" \
		"$(expected 7 "" 150)"
}
inject "a name with a newline" 's/name = "lb1"/name = "lb1\\nglobal"/'
inject "a name with '#'" 's/name = "lb1"/name = "lb1#x"/'
inject "a name with a space" 's/name = "lb1"/name = "lb1 x"/'
inject "a health path with a space" 's|http_path = "/index.html"|http_path = "/ x"|'
inject "a health path with '#'" 's|http_path = "/index.html"|http_path = "/#x"|'
inject "a health path with a newline" 's|http_path = "/index.html"|http_path = "/a\\nb"|'
inject "a weight above 256" 's/weight = 7;/weight = 257;/'
inject "a port above 65535" 's/port = 82;/port = 65536;/'
inject "an unknown algorithm" 's/algorithm = "source"/algorithm = "source\\nx"/'
inject "an http_status out of range" 's/http_status = 200/http_status = 999/'
spec 7 true 150
vxt_is "the worker survived every refusal" "$(worker_pid)" "$new_worker"

# A dead haproxy is started again by the next apply.
spec 7 true 150
kill -KILL "$(master_pid)"
dead() { ! kill -0 "$master" 2>/dev/null || grep -q '^Z' <(ps -o stat= -p "$master"); }
vxt_ok "the killed master is gone" vxt_wait_until 100 dead
not_running() { running | grep -q 'haproxy: not running'; }
vxt_ok "status sees haproxy not running" not_running
out=$(vxt_vxcloud h1 apply)
vxt_ok "apply restarts it" grep -q 'start haproxy (no longer running)' <<<"$out"
vxt_ok "traffic flows again" vxt_wait_until 100 both_answer 80

# A lost PID record (a run killed between spawn and writing it): the next
# apply stops the haproxy it finds in the namespace and starts one of its own.
orphan=$(master_pid)
rm -f "$state/master.pid"
out=$(vxt_vxcloud h1 apply)
vxt_ok "apply stops the haproxy left without a record" \
	grep -q "stop leftover haproxy (PID $orphan) in vxlb-lb1" <<<"$out"
vxt_ok "and starts its own" grep -q 'start haproxy (not started yet)' <<<"$out"
orphan_gone() { ! kill -0 "$orphan" 2>/dev/null || grep -q '^Z' <(ps -o stat= -p "$orphan"); }
vxt_ok "the orphan is gone" vxt_wait_until 50 orphan_gone
vxt_ok "traffic flows with the new one" vxt_wait_until 100 both_answer 80
vxt_ok "re-apply changes nothing" no_changes

# Removing the balancer from the spec removes everything it had.
spec 7 true 150 no
hap=$(master_pid)
vxt_ok "apply without lb1 removes it" vxt_vxcloud h1 apply
vxt_ok "haproxy is stopped" vxt_wait_until 50 sh -c "! kill -0 $hap 2>/dev/null"
vxt_ok "its namespace is gone" test ! -e "$VXT_WORK/h1/netns/vxlb-lb1"
vxt_fail "its veth is gone" vxt_ns h1 ip link show vl-lb1
vxt_ok "its state directory is gone" test ! -e "$state"
vxt_ok "destroy" vxt_vxcloud h1 destroy
vxt_is "destroy leaves h1 as it was" "$(vxt_snapshot h1)" "$before"
vxt_done
