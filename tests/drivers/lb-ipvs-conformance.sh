#!/bin/sh
# lb/ipvs conformance, on a kernel with IP_VS: create, re-apply with zero
# changes, weight change, drain, listener removal, the validation refusals,
# balancer removal, destroy. POSIX sh: it runs under busybox sh inside the
# test VM (tests/vm/ipvs-vm.sh) as well as under bash on a host with IP_VS.
#
# Usage: [IPVSADM=PATH] SOCAT=PATH lb-ipvs-conformance.sh VXCLOUD PLUGIN_DIR BUSYBOX
# IPVSADM, when given, changes IPVS by hand to check that apply sets it back
# (the driver itself never runs ipvsadm). SOCAT: the UDP servers of the
# members udp1 and udp2 and the client of the UDP checks (busybox nc has no
# UDP); without it those checks fail. CHECKER: the vxcloud-ipvs-check
# program (the driver's setting ipvs.checker) when not installed.
# Runs everything inside a network namespace of its own (unshare -n), so
# nothing outside changes; prints TAP.
set -u
VXCLOUD=$1 PLUGINS=$2 BUSYBOX=$3
SOCAT=${SOCAT:-}
CHECKER=${CHECKER:-}

if [ "${LB_IPVS_INNER:-}" != 1 ]; then
	LB_IPVS_INNER=1 exec unshare -n "$BUSYBOX" sh "$0" "$@"
fi

N=0
FAILED=0
ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() {
	N=$((N + 1)) FAILED=$((FAILED + 1))
	echo "not ok $N - $1"
	shift
	for l in "$@"; do echo "$l" | sed 's/^/# /'; done
}
# pass_if DESC DETAIL CMD...: ok when CMD succeeds, else not ok with DETAIL.
pass_if() {
	d=$1 detail=$2
	shift 2
	if "$@"; then ok "$d"; else not_ok "$d" "$detail"; fi
}
# says TEXT: the last command's output ($out) holds TEXT (a grep pattern).
says() { echo "$out" | grep -q -- "$1"; }
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d" "command: $*"; fi; }

W=$(mktemp -d /tmp/lb-ipvs.XXXXXX)
NSDIR=$W/netns
cleanup() {
	[ -f "$W/h1.conf" ] && "$VXCLOUD" --config "$W/h1.conf" destroy >/dev/null 2>&1
	for m in $(grep " $NSDIR" /proc/mounts | cut -d' ' -f2 | sort -r); do
		umount "$m" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

ip link set lo up
# the tunnel address linuxbridge's VXLAN binds to (one host: no peer)
ip addr add 10.0.0.1/32 dev lo

mkdir -p "$W/www1" "$W/www2" "$W/state" "$NSDIR"
echo web1 >"$W/www1/index.html"
echo web2 >"$W/www2/index.html"
cat >"$W/h1.conf" <<CONF
host = "h1";
spec = "$W/cloud.conf";
plugin_dir = "$PLUGINS";
state_dir = "$W/state";
netns_dir = "$NSDIR";
network = "linuxbridge";
container = "netns";
lb = "ipvs";
CONF
[ -n "$CHECKER" ] && echo "settings = { ipvs = { checker = \"$CHECKER\"; }; };" >>"$W/h1.conf"

# spec W1 W2 [UDP]: the cloud with member weights W1, W2; a udp listener when UDP=1.
spec() { # WEIGHT1 WEIGHT2 [UDP [OFF: member 2 enabled = false [HEALTH: tcp checks]]]
	udp="" off="" health=""
	[ "${4:-0}" = 1 ] && off=" enabled = false;"
	[ "${5:-0}" = 1 ] && health="
        health = { interval = 500; timeout = 400; rise = 2; fall = 2; };"
	[ "${3:-0}" = 1 ] && udp=",
      { protocol = \"udp\"; port = 53; algorithm = \"rr\";
        members = ( { address = \"192.168.100.16\"; port = 53; },
                    { address = \"192.168.100.17\"; port = 53; } ); }"
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
    address = "192.168.100.20"; },
  { name = "udp1"; kind = "container"; host = "h1"; network = "private";
    address = "192.168.100.16";
    command = [ "${SOCAT:-socat}", "UDP4-RECVFROM:53,fork", "SYSTEM:echo udp1" ]; },
  { name = "udp2"; kind = "container"; host = "h1"; network = "private";
    address = "192.168.100.17";
    command = [ "${SOCAT:-socat}", "UDP4-RECVFROM:53,fork", "SYSTEM:echo udp2" ]; }
);
load_balancers = (
  { name = "lb1"; host = "h1"; network = "private"; vip = "192.168.100.8";
    listeners = (
      { protocol = "tcp"; port = 80; algorithm = "roundrobin";$health
        members = ( { address = "192.168.100.6"; port = 9898; weight = $1; },
                    { address = "192.168.100.7"; port = 9898; weight = $2;$off } ); }$udp
    );
  }
);
SPEC
}

vx() { "$VXCLOUD" --config "$W/h1.conf" "$@"; }
in_ns() { ns=$1; shift; nsenter --net="$NSDIR/$ns" -- "$@"; }
ipvs_table() { in_ns vxlb-lb1 cat /proc/net/ip_vs; }
# The weight of member HEXADDR:HEXPORT as IPVS reports it.
weight_of() { ipvs_table | awk -v m="$1" '$1 == "->" && $2 == m { print $4 }'; }
# get ADDR PORT: the body of GET / from the client instance (busybox nc:
# busybox-static's wget crashes on Debian 12).
get() {
	printf 'GET / HTTP/1.0\r\n\r\n' |
		in_ns vxi-client "$BUSYBOX" nc -w 3 "$1" "$2" 2>/dev/null | tail -1
}
fetch() { get 192.168.100.8 80; }
# fetch_many N: the answers of N requests through the VIP, one per line.
fetch_many() { i=0; while [ $i -lt "$1" ]; do fetch; i=$((i + 1)); done; }
# wait_members: until web1 and web2 both answer directly (bounded, 20 s).
wait_members() {
	i=0
	while [ $i -lt 100 ]; do
		a=$(get 192.168.100.6 9898)
		b=$(get 192.168.100.7 9898)
		[ "$a" = web1 ] && [ "$b" = web2 ] && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
count() { grep -c "^$1\$"; }
has() { echo "$T" | grep -q -- "$1"; }
hasnt() { [ -n "$T" ] && ! echo "$T" | grep -q -- "$1"; }

echo "# kernel $(uname -r); IPVS $(head -1 /proc/net/ip_vs 2>/dev/null || echo absent)"

# ---- plan on a fresh host: what apply would do, nothing done ------------
spec 1 1 1
out=$(vx plan 2>&1); rc=$?
if [ $rc -eq 6 ] && echo "$out" | grep -q "add service tcp 192.168.100.8:80 scheduler wrr" &&
	echo "$out" | grep -q "add member 192.168.100.7:9898 weight 1" &&
	[ ! -e "$NSDIR/vxlb-lb1" ]; then
	ok "plan on a fresh host lists the services and members (exit 6), makes nothing"
else
	not_ok "plan on a fresh host" "exit $rc" "$out"
fi

# ---- create -----------------------------------------------------------
out=$(vx apply 2>&1); rc=$?
pass_if "apply creates the balancer" "$out" [ $rc -eq 0 ]
T=$(ipvs_table 2>&1)
echo "$T" | sed 's/^/#   /'
check "TCP service on VIP:80 with scheduler wrr (roundrobin)" has "^TCP  C0A86408:0050 wrr"
check "UDP service on VIP:53 with scheduler rr" has "^UDP  C0A86408:0035 rr"
check "members are masqueraded (full NAT), weight 1" has "-> C0A86406:26AA *Masq *1 "
T=$(in_ns vxlb-lb1 ip addr show dev eth0 2>&1)
check "the balancer's namespace holds the VIP on eth0" has "inet 192.168.100.8/24"
if wait_members; then ok "the members serve"; else not_ok "the members serve"; fi
answers=$(fetch_many 6)
n1=$(echo "$answers" | count web1); n2=$(echo "$answers" | count web2)
if [ "$n1" -ge 2 ] && [ "$n2" -ge 2 ]; then
	ok "requests from the tenant network to the VIP alternate (web1 $n1, web2 $n2)"
else
	not_ok "requests to the VIP alternate" "web1 $n1, web2 $n2: $answers"
fi

# ---- UDP: datagrams to the VIP reach the members, answers come back ----
# udp ADDR SPORT: the answer to one datagram from the client's SPORT (socat
# waits 3 s after sending for it; the checks send in parallel). Each answer
# is a fork and exec of sh in the member, and under TCG on a loaded machine
# 3 s once lost one: a datagram left unanswered is sent once more, from the
# same port (IPVS keeps the port's member, so the spread checks still hold).
udp_once() { # ADDR SPORT WAIT_S
	echo ping | in_ns vxi-client "$SOCAT" -t "$3" - "UDP4:$1:53,sourceport=$2,reuseaddr" \
		2>/dev/null | head -1
}
udp() {
	local a
	a=$(udp_once "$1" "$2" 3)
	[ -n "$a" ] || a=$(udp_once "$1" "$2" 10)
	echo "$a"
}
# udp_ports PORT...: "PORT ANSWER" per line, the datagrams sent at once.
udp_ports() {
	for p in "$@"; do (echo "$p $(udp 192.168.100.8 "$p")" >"$W/udp.$p") & done
	wait
	for p in "$@"; do cat "$W/udp.$p"; done
}
wait_udp_members() {
	i=0
	while [ $i -lt 20 ]; do
		[ "$(udp 192.168.100.16 40999)" = udp1 ] && [ "$(udp 192.168.100.17 40998)" = udp2 ] &&
			return 0
		i=$((i + 1))
	done
	return 1
}
if [ -z "$SOCAT" ]; then
	not_ok "UDP through the VIP" "no socat (SOCAT=PATH): the UDP checks cannot run"
elif ! wait_udp_members; then
	not_ok "UDP through the VIP" "the members udp1, udp2 do not answer directly"
else
	U=$(udp_ports 41001 41002 41003 41004 41005 41006 41007 41008)
	echo "$U" | sed 's/^/#   /'
	u1=$(echo "$U" | grep -c ' udp1$'); u2=$(echo "$U" | grep -c ' udp2$')
	if [ "$u1" = 4 ] && [ "$u2" = 4 ]; then
		ok "UDP: 8 datagrams from 8 source ports to VIP:53 answered, rr spread 4/4"
	else
		not_ok "UDP: datagrams through the VIP answered and spread by rr" "udp1 $u1, udp2 $u2"
	fi
	# the same source ports again: IPVS's UDP connection entries keep each
	# port on the member it was scheduled to
	A=$(udp_ports 41001 41002 41003 41004)
	if [ -n "$A" ] && [ "$A" = "$(echo "$U" | head -4)" ]; then
		ok "UDP: a source port sent again reaches the same member"
	else
		not_ok "UDP: a source port sent again reaches the same member" "first: $U" "again: $A"
	fi
fi

# ---- lb_status: what IPVS holds, per listener and member -----------------
out=$(vx status 2>&1)
echo "$out" | grep '|' | sed 's/^/#   /'
# the connections each member holds now (active + inactive), from status
held() {
	echo "$out" | sed -n "s/.*member $1 (.*, \([0-9]*\) active, \([0-9]*\) inactive.*/\1 \2/p" |
		awk '{ print $1 + $2 }'
}
if says "| listener tcp 192.168.100.8:80: scheduler wrr, 6 connections scheduled" &&
	says "| listener udp 192.168.100.8:53: scheduler rr, 8 connections scheduled"; then
	ok "status: each listener's scheduler and the connections it scheduled (tcp 6, udp 8)"
else
	not_ok "status: listeners with scheduler and connections scheduled" "$out"
fi
c1=$(held 192.168.100.6:9898) c2=$(held 192.168.100.7:9898)
u1=$(held 192.168.100.16:53) u2=$(held 192.168.100.17:53)
if says "| member 192.168.100.6:9898 (tcp 192.168.100.8:80): weight 1, " &&
	[ "${c1:-0}" -ge 1 ] && [ "${c2:-0}" -ge 1 ] && [ "$((${u1:-0} + ${u2:-0}))" = 8 ]; then
	ok "status: each member's weight and connections (web1 $c1, web2 $c2, udp $u1 + $u2)"
else
	not_ok "status: members with weight and connections" "web1 $c1 web2 $c2 udp1 $u1 udp2 $u2"
fi

# ---- re-apply: zero changes -------------------------------------------
vx plan >/dev/null 2>&1; rc=$?
pass_if "plan after apply: nothing to change" "exit $rc" [ $rc -eq 0 ]
out=$(vx apply 2>&1)
pass_if "second apply: no changes" "$out" says "no changes"

# ---- weight change: only that member's destination is sent -------------
spec 3 1 1
out=$(vx apply 2>&1)
echo "$out" | sed 's/^/#   /'
n=$(echo "$out" | grep -c "load balancer lb1:")
if [ "$n" -eq 1 ] && echo "$out" | grep -q "set member 192.168.100.6:9898 weight 3"; then
	ok "a weight change sends one destination change"
else
	not_ok "a weight change sends one destination change" "$n changes"
fi
w=$(weight_of C0A86406:26AA)
if [ "$w" = 3 ]; then ok "IPVS holds weight 3"; else not_ok "IPVS holds weight 3" "weight $w"; fi

# ---- drift: IPVS changed by hand (ipvsadm) is set back by apply -------
# The driver diffs against what the kernel holds, not against a cache.
if [ -n "${IPVSADM:-}" ]; then
	in_ns vxlb-lb1 "$IPVSADM" -e -t 192.168.100.8:80 -r 192.168.100.6:9898 -m -w 7
	in_ns vxlb-lb1 "$IPVSADM" -a -t 192.168.100.8:80 -r 192.168.100.99:9898 -m -w 1
	in_ns vxlb-lb1 "$IPVSADM" -A -t 192.168.100.8:8080 -s rr
	in_ns vxlb-lb1 "$IPVSADM" -E -t 192.168.100.8:80 -s lc
	vx plan >/dev/null 2>&1; rc=$?
	pass_if "plan sees the hand changes (exit 6)" "exit $rc" [ $rc -eq 6 ]
	out=$(vx apply 2>&1)
	echo "$out" | sed 's/^/#   /'
	for c in "set service tcp 192.168.100.8:80 scheduler wrr" \
		"set member 192.168.100.6:9898 weight 3" \
		"remove member 192.168.100.99:9898" \
		"remove service tcp 192.168.100.8:8080"; do
		if echo "$out" | grep -q "$c"; then ok "apply: $c"; else not_ok "apply: $c"; fi
	done
	T=$(ipvs_table)
	if has "^TCP  C0A86408:0050 wrr" && has "-> C0A86406:26AA *Masq *3 " && hasnt "C0A86463" &&
		hasnt ":1F90"; then
		ok "IPVS is back to the spec"
	else
		not_ok "IPVS is back to the spec" "$T"
	fi
	out=$(vx apply 2>&1)
	pass_if "then no changes" "$out" says "no changes"
else
	echo "ok $((N + 1)) # SKIP drift: no ipvsadm to change IPVS by hand"
	N=$((N + 1))
fi

# ---- drain: weight 0, no new connections ------------------------------
spec 3 0 1
out=$(vx apply 2>&1)
if echo "$out" | grep -q "set member 192.168.100.7:9898 weight 0 (drained)"; then
	ok "drain reported"; else not_ok "drain reported" "$out"; fi
w=$(weight_of C0A86407:26AA)
pass_if "IPVS holds the drained member at weight 0" "weight $w" [ "$w" = 0 ]
answers=$(fetch_many 4)
n1=$(echo "$answers" | count web1); n2=$(echo "$answers" | count web2)
if [ "$n1" = 4 ] && [ "$n2" = 0 ]; then ok "a drained member gets no new requests"; else
	not_ok "a drained member gets no new requests" "web1 $n1, web2 $n2"; fi
T=$(ipvs_table)
check "the drained member is still a destination" has "-> C0A86407:26AA "
out=$(vx status 2>&1)
pass_if "status shows the drained member at weight 0 (drained)" "$out" \
	says "| member 192.168.100.7:9898 (tcp 192.168.100.8:80): weight 0 (drained), "

# ---- enabled = false: drained as at weight 0 ---------------------------
spec 3 1 1 1
out=$(vx apply 2>&1)
pass_if "weight 1 with enabled = false changes nothing over weight 0" "$out" says "no changes"
w=$(weight_of C0A86407:26AA)
pass_if "IPVS holds the disabled member at weight 0" "weight $w" [ "$w" = 0 ]

# ---- listener removal -----------------------------------------------
spec 3 0 0
out=$(vx apply 2>&1)
if echo "$out" | grep -q "remove service udp 192.168.100.8:53"; then
	ok "a removed listener's service is removed"; else not_ok "service removed" "$out"; fi
T=$(ipvs_table)
check "no UDP service left" hasnt "^UDP"
out=$(vx apply 2>&1)
pass_if "apply after the removal: no changes" "$out" says "no changes"

# ---- validation refusals: named by line and field, nothing changes ----
before=$(ipvs_table)
cp "$W/cloud.conf" "$W/good.conf"
sed 's/protocol = "tcp"; port = 80;/protocol = "http"; port = 80;/' "$W/good.conf" >"$W/cloud.conf"
line=$(grep -n 'protocol = "http"' "$W/cloud.conf" | cut -d: -f1)
out=$(vx apply 2>&1); rc=$?
echo "$out" | sed 's/^/#   /'
LS='load_balancers\[0\].listeners\[0\]'
if [ $rc -ne 0 ] && says "cloud.conf:$line: $LS.protocol: .*http.*ipvs cannot honour it"; then
	ok "protocol http refused for ipvs with file, line and field"
else
	not_ok "protocol http refused" "exit $rc"
fi
sed 's/algorithm = "roundrobin";/algorithm = "roundrobin"; health = { interval = 1000; };/' \
	"$W/good.conf" >"$W/cloud.conf"
out=$(vx validate 2>&1); rc=$?
pass_if "TCP health checks accepted for ipvs" "exit $rc: $out" [ $rc -eq 0 ]
spec 3 0 1
sed 's/algorithm = "rr";/algorithm = "rr"; health = { interval = 1000; };/' "$W/cloud.conf" \
	>"$W/udp.conf"
mv "$W/udp.conf" "$W/cloud.conf"
line=$(grep -n 'algorithm = "rr"; health = ' "$W/cloud.conf" | cut -d: -f1)
out=$(vx validate 2>&1); rc=$?
echo "$out" | sed 's/^/#   /'
LS1='load_balancers\[0\].listeners\[1\]'
if [ $rc -ne 0 ] && [ -n "$line" ] &&
	says "cloud.conf:$line: $LS1.health: .*health checks of a udp listener"; then
	ok "health checks of a udp listener refused with file, line and field"
else
	not_ok "health checks of a udp listener refused" "exit $rc, line $line"
fi
sed 's/algorithm = "roundrobin";/algorithm = "roundrobin"; health = { http_path = "\/"; };/' \
	"$W/good.conf" >"$W/cloud.conf"
out=$(vx validate 2>&1); rc=$?
if [ $rc -ne 0 ] && says "$LS.health.http_path: .*an HTTP health check"; then
	ok "HTTP health check refused for ipvs"
else
	not_ok "HTTP health check refused" "exit $rc: $out"
fi
after=$(ipvs_table)
if [ -n "$before" ] && [ "$before" = "$after" ]; then ok "a refused spec changes nothing"; else
	not_ok "a refused spec changes nothing" "before: $before" "after: $after"; fi
cp "$W/good.conf" "$W/cloud.conf"

# ---- member health: the driver's checker sets a dead member's weight to 0 --
# pids_of TEXT: the processes whose command line holds TEXT
pids_of() {
	for p in /proc/[0-9]*; do
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q -- "$1" && echo "${p#/proc/}"
	done
}
# wait_weight HEXMEMBER WEIGHT: until IPVS holds it (bounded, 20 s); the
# tenths of seconds it took on stdout
wait_weight() {
	i=0
	while [ $i -lt 100 ]; do
		[ "$(weight_of "$1")" = "$2" ] && { echo $((i * 2)); return 0; }
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
checker_pid() { vx status 2>&1 | sed -n 's/.*| health checker: PID \([0-9]*\),.*/\1/p'; }
spec 1 1 0 0 1
out=$(vx apply 2>&1)
echo "$out" | sed 's/^/#   /'
pass_if "health: apply starts the checker" "$out" \
	says "load balancer lb1: start health checker (2 members, tcp connect)"
cpid=$(checker_pid)
pass_if "health: status names the running checker" "$(vx status 2>&1)" [ -n "$cpid" ]
out=$(vx apply 2>&1)
pass_if "health: a second apply changes nothing" "$out" says "no changes"
wait_members >/dev/null
for p in $(pids_of "-h $W/www2"); do kill "$p" 2>/dev/null; done
if t=$(wait_weight C0A86407:26AA 0); then
	ok "health: web2's httpd stopped: its weight is 0 after $((t / 10)).$((t % 10)) s"
else
	not_ok "health: web2's httpd stopped: weight 0" "$(ipvs_table)"
fi
answers=$(fetch_many 4)
n1=$(echo "$answers" | count web1)
pass_if "health: every request goes to web1" "$answers" [ "$n1" = 4 ]
out=$(vx status 2>&1)
if says "| health: member down: tcp 192.168.100.8:80 192.168.100.7:9898" &&
	says "| member 192.168.100.7:9898 (tcp 192.168.100.8:80): weight 0 (down: health check)"
then
	ok "health: status names the member down"
else
	not_ok "health: status names the member down" "$out"
fi
out=$(vx plan 2>&1)
echo "$out" | sed 's/^/#   /'
if ! echo "$out" | grep -q "member 192.168.100.7:9898 weight"; then
	ok "health: apply would keep the member held down at weight 0"
else
	not_ok "health: apply keeps the member held down at weight 0" "$out"
fi
vx apply >/dev/null 2>&1 # starts web2's httpd again
if t=$(wait_weight C0A86407:26AA 1); then
	ok "health: web2's httpd back: weight 1 again after $((t / 10)).$((t % 10)) s"
else
	not_ok "health: web2 back at weight 1" "$(ipvs_table)" "$(vx status 2>&1)"
fi
answers=$(fetch_many 4)
n2=$(echo "$answers" | count web2)
pass_if "health: web2 answers again" "$answers" [ "$n2" -ge 1 ]
kill -9 "$cpid" 2>/dev/null
out=$(vx apply 2>&1)
pass_if "health: a killed checker is started again by apply" "$out" \
	says "start health checker"
spec 3 1 0 0 1
out=$(vx apply 2>&1)
pass_if "health: a weight change restarts the checker with it" "$out" \
	says "restart health checker"
n=$(pids_of vxcloud-ipvs-check | wc -l)
pass_if "health: one checker runs" "$n checkers" [ "$n" = 1 ]
# a damaged record (a crash while it was written, a hand edit): the
# running checker is found by its owner mark, stopped, and one new one runs
old=$(pids_of vxcloud-ipvs-check)
echo garbage >"$W/state/ipvs/lb1.check"
out=$(vx apply 2>&1)
new=$(pids_of vxcloud-ipvs-check)
if says "start health checker" && [ "$(echo "$new" | wc -l)" = 1 ] && [ "$new" != "$old" ]; then
	ok "health: a damaged record: the old checker stopped by its mark, one new runs"
else
	not_ok "health: damaged record" "old $old, now $new" "$out"
fi
cp "$W/good.conf" "$W/cloud.conf"
out=$(vx apply 2>&1)
pass_if "health: dropping health stops the checker" "$out" says "stop health checker"
spec 1 1 0 0 1
vx apply >/dev/null 2>&1

# ---- balancer removal, destroy -----------------------------------------
sed '/^load_balancers/,$d' "$W/good.conf" >"$W/cloud.conf"
out=$(vx apply 2>&1)
echo "$out" | sed 's/^/#   /'
if [ ! -e "$NSDIR/vxlb-lb1" ] && ! ip link show vl-lb1 >/dev/null 2>&1; then
	ok "a balancer dropped from the spec is removed (namespace, veth)"
	n=$(pids_of vxcloud-ipvs-check | wc -l)
	pass_if "its health checker is stopped" "$n left" [ "$n" = 0 ]
else
	not_ok "balancer removed" "$out"
fi
cp "$W/good.conf" "$W/cloud.conf"
vx apply >/dev/null 2>&1
out=$(vx destroy 2>&1); rc=$?
left=$(ls "$NSDIR" 2>/dev/null)
if [ $rc -eq 0 ] && [ -z "$left" ]; then ok "destroy leaves no namespace"; else
	not_ok "destroy leaves no namespace" "exit $rc, left: $left"; fi

echo "1..$N"
[ "$FAILED" -eq 0 ]
