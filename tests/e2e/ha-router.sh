#!/bin/bash
# A router with copies on two simulated hosts (hosts = ["n1", "n2"]), VRRP
# by keepalived, NAT driver $HA_NAT (default nftables):
#
#   hosts n1, n2: router r1 (external 203.0.113.10, SNAT for blue)
#   host cmp:     web1 10.52.0.11 (floating IP 203.0.113.20)
#   client:       203.0.113.100 on the provider network (and its gateway .1)
#
# Two request loops run throughout: the client fetches web1 through its
# floating IP, web1 fetches the client through SNAT. Each fails at most for
# a gap while the active copy's host
#   1. loses its links (underlay and uplink down), then gets them back;
#   2. has its keepalived killed with SIGKILL, then `vxcloud apply` again;
#   3. is destroyed (`vxcloud destroy`), then `vxcloud apply` again;
# and with preempt on, n1 takes its role back each time. Then preemption is
# turned off: a destroyed and re-applied n1 stays backup, without a gap.
# The longest gap of each event is printed ("# gap EVENT LOOP MS") and
# checked against a bound; pings through the floating IP and out through
# SNAT run all along and must never see a duplicate reply (exactly one copy
# forwards). Also checked: the backup holds nothing routable (only its
# link-local VRRP address), forwards nothing, and `destroy` leaves neither
# keepalived nor namespace.
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
nat=${HA_NAT:-nftables}
# HA_NEIGH_PROXY=true: every host's VXLAN devices answer ARP themselves
# (linuxbridge neigh_proxy), so cmp resolves r1's gateway from the
# neighbour-only entry the planner gives it.
proxy=${HA_NEIGH_PROXY:-false}
# A gap above this fails the test; the figure itself is printed either way.
gap_max_ms=${HA_GAP_MAX_MS:-3000}
vxt_require_root
vxt_require_cmd busybox curl ping keepalived
[ -x "${VXC_TOP_BUILDDIR:?}/plugins/common/vxcloud-ha-notify" ] || {
	echo "1..0 # SKIP vxcloud-ha-notify is not built"
	exit 77
}
vxt_init "har${proxy:0:1}"
vxt_add_host n1 10.51.0.1/24
vxt_add_host n2 10.51.0.2/24
vxt_add_host cmp 10.51.0.3/24
vxt_add_client 203.0.113.100/24 203.0.113.1/24

# keepalived runs only notify programs that no one but root can change, in
# directories no one but root can change: a copy in a root-owned dir in /run.
libexec=/run/${P}-libexec
rm -rf "$libexec"
mkdir -m 0755 "$libexec"
install -o root -g root -m 0755 "$VXC_TOP_BUILDDIR/plugins/common/vxcloud-ha-notify" "$libexec/"
trap 'vxt_cleanup; rm -rf "$libexec"' EXIT

www=$VXT_WORK/www
for who in web1 client; do
	mkdir -p "$www/$who/cgi-bin"
	printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "%s $REMOTE_ADDR"\n' \
		"$who" >"$www/$who/cgi-bin/who"
	chmod 0755 "$www/$who/cgi-bin/who"
done
chmod -R a+rX "$www"

spec() { # PREEMPT [PLACEMENT]
	local placement=${2:-'hosts = [ "n1", "n2" ]; ha = { advert_ms = 100; preempt = '$1'; };'}
	cat >"$VXT_WORK/cloud.conf" <<CONF
hosts = ( { name = "n1"; tunnel = "10.51.0.1"; }, { name = "n2"; tunnel = "10.51.0.2"; },
  { name = "cmp"; tunnel = "10.51.0.3"; } );
provider = { bridge = "br-prov"; uplink = "uplink"; cidr = "203.0.113.0/24";
  gateway = "203.0.113.1"; range = [ "203.0.113.10", "203.0.113.50" ]; };
networks = ( { name = "blue"; vni = 52; cidr = "10.52.0.0/24"; gateway = "10.52.0.1";
  mtu = 1400; } );
routers = ( { name = "r1"; $placement external = "203.0.113.10";
  networks = [ "blue" ]; snat = true; } );
instances = (
  { name = "web1"; kind = "container"; host = "cmp"; network = "blue"; address = "10.52.0.11";
    command = [ "busybox", "httpd", "-f", "-p", "8080", "-h", "$www/web1" ]; } );
floating_ips = ( { address = "203.0.113.20"; router = "r1"; target = "web1"; } );
CONF
}

rns() { # HOST CMD...: in the router copy's namespace on HOST
	local h=$1
	shift
	vxt_inst_ns "$h" vxr-r1 "$@"
}

holds_external() { # HOST
	rns "$1" ip -4 -o addr show dev gw0 2>/dev/null | grep -q ' 203\.0\.113\.10/24 '
}

# The active copy's host: the one holding the external address (and only one).
active() {
	local h n=0 who=none
	for h in n1 n2; do
		if holds_external "$h"; then
			who=$h
			n=$((n + 1))
		fi
	done
	[ $n -le 1 ] || who=both
	echo "$who"
}

# Nothing routable on a backup: its link-local VRRP address only, no
# default route, forwarding off.
backup_is_inert() { # HOST
	local addrs
	addrs=$(rns "$1" ip -4 -o addr show | awk '$2 != "lo" { print $2, $4 }' | sort | tr '\n' ' ')
	[ "$addrs" = "gw0 169.254.1.$2/32 " ] || { echo "addresses: $addrs"; return 1; }
	[ -z "$(rns "$1" ip -4 route show default)" ] || { echo "has a default route"; return 1; }
	[ "$(rns "$1" cat /proc/sys/net/ipv4/ip_forward)" = 0 ] || { echo "forwards"; return 1; }
}

only_n1() { [ "$(active)" = n1 ]; }

ka_pid() { # HOST: the recorded keepalived of r1 on HOST
	local f="$VXT_WORK/$1/state/linuxbridge/ka-router-r1.pid"
	[ -f "$f" ] && awk '{ print $1 }' "$f"
}

spec true
vxt_node_conf cmp log_level=warning linuxbridge.neigh_proxy="$proxy" >/dev/null
for h in n1 n2; do
	vxt_node_conf "$h" nat="$nat" log_level=warning linuxbridge.neigh_proxy="$proxy" \
		linuxbridge.ha_notify="$libexec/vxcloud-ha-notify" >/dev/null
done
before_n1=$(vxt_snapshot n1)
vxt_bg vxt_ns client busybox httpd -f -p 8080 -h "$www/client"
vxt_ok "apply on cmp" vxt_vxcloud cmp apply
vxt_ok "apply on n1" vxt_vxcloud n1 apply
vxt_ok "apply on n2" vxt_vxcloud n2 apply
vxt_ok "n1 (first in hosts) becomes the active copy" vxt_wait_until 100 holds_external n1
vxt_is "exactly one copy, n1's, holds the external address" "$(active)" n1
vxt_ok "the backup n2 holds nothing routable and forwards nothing" backup_is_inert n2 2
gw_mac_on_cmp() { vxt_ns cmp ip neigh show dev vx-blue 10.52.0.1 | awk '{ print $3 }'; }
vxt_ok "cmp has no forwarding entry for r1's port MAC (flooded to both copies)" \
	test -z "$(vxt_ns cmp bridge fdb show dev vx-blue | grep -v '^00:00:00:00:00:00' |
		grep "dst 10.51.0.[12] ")"
if [ "$proxy" = true ]; then
	vxt_ok "neigh_proxy: cmp's VXLAN device knows r1's gateway (neighbour only)" \
		test -n "$(gw_mac_on_cmp)"
fi
status_says() { # HOST ROLE
	vxt_vxcloud "$1" status | grep -q "router r1: copy [12] of 2 on $1 (VRID 1, .*): $2"
}
vxt_ok "status on n1: the active copy" status_says n1 active
vxt_ok "status on n2: the standby copy" status_says n2 standby
no_changes() { # HOST
	vxt_vxcloud "$1" apply | grep -q '^no changes'
}
vxt_ok "a second apply on n1 changes nothing" no_changes n1
vxt_ok "a second apply on n2 changes nothing" no_changes n2

# ---- the loops -----------------------------------------------------------
# Each appends the time (ms) of every success to its file; curl gives up
# after 0.3 s so a lost SYN costs one attempt, not a 1 s retransmission;
# the figures are as fine as that.
loop_fip=$VXT_WORK/loop-fip
loop_snat=$VXT_WORK/loop-snat
probe() { # FILE CMD...
	local f=$1
	shift
	while :; do
		if "$@" >/dev/null 2>&1; then
			echo "${EPOCHREALTIME/./}" >>"$f"
		fi
		sleep 0.03
	done
}
: >"$loop_fip"
: >"$loop_snat"
probe "$loop_fip" nsenter --net="/run/netns/${P}-client" -- \
	curl -sf -m 0.3 http://203.0.113.20:8080/cgi-bin/who </dev/null &
vxt_track_pid $!
probe "$loop_snat" nsenter --net="$VXT_WORK/cmp/netns/vxi-web1" -- \
	curl -sf -m 0.3 http://203.0.113.100:8080/cgi-bin/who </dev/null &
vxt_track_pid $!
# Pings through each event: a second copy forwarding shows as "DUP!"
# (a reply that both copies forward reaches the pinger twice).
ping_start() {
	nsenter --net="/run/netns/${P}-client" -- ping -n -i 0.02 203.0.113.20 \
		>"$VXT_WORK/ping-fip" 2>&1 </dev/null &
	ping_fip=$!
	vxt_track_pid $ping_fip
	nsenter --net="$VXT_WORK/cmp/netns/vxi-web1" -- ping -n -i 0.02 203.0.113.100 \
		>"$VXT_WORK/ping-snat" 2>&1 </dev/null &
	ping_snat=$!
	vxt_track_pid $ping_snat
}
gone() { ! kill -0 "$1" 2>/dev/null; }
ping_stop() { # EVENT MAX_DUPS
	local f replies dups
	kill -INT "$ping_fip" "$ping_snat" 2>/dev/null
	vxt_wait_until 50 gone "$ping_fip"
	vxt_wait_until 50 gone "$ping_snat"
	for f in fip snat; do
		replies=$(grep -c 'bytes from' "$VXT_WORK/ping-$f")
		dups=$(grep -c 'DUP!' "$VXT_WORK/ping-$f")
		echo "# dup $1 $f $dups of $replies replies"
		vxt_ok "$1: pings through $f answered" test "$replies" -gt 0
		vxt_ok "$1: $dups duplicated replies through $f (at most $2)" test "$dups" -le "$2"
	done
}

now_us() { echo "${EPOCHREALTIME/./}"; }

# The longest time without a success in [FROM, now], counting from the
# last success before FROM (and to now when none came since); in ms.
longest_gap() { # FILE FROM_US
	awk -v from="$2" -v to="$(now_us)" '
		$1 < from { last = $1; next }
		{ if (last && $1 - last > g) g = $1 - last; last = $1 }
		END { if (to - last > g) g = to - last; printf "%d\n", g / 1000 }' "$1"
}

# Both loops succeed again: a success in each after T.
both_after() { # T_US
	[ "$(awk -v t="$1" '$1 > t' "$loop_fip" | wc -l)" -ge 3 ] &&
		[ "$(awk -v t="$1" '$1 > t' "$loop_snat" | wc -l)" -ge 3 ]
}

# settle: both loops have succeeded for a while (after T)
settle() { # T_US
	vxt_wait_until 300 both_after "$1"
}

declare -A gaps=()
record_gap() { # EVENT FROM_US
	local g1 g2
	g1=$(longest_gap "$loop_fip" "$2")
	g2=$(longest_gap "$loop_snat" "$2")
	gaps[$1]="$g1 $g2"
	echo "# gap $1 fip $g1"
	echo "# gap $1 snat $g2"
	vxt_ok "$1: floating IP loop gap ${g1} ms <= ${gap_max_ms} ms" test "$g1" -le "$gap_max_ms"
	vxt_ok "$1: SNAT loop gap ${g2} ms <= ${gap_max_ms} ms" test "$g2" -le "$gap_max_ms"
}

t=$(now_us)
vxt_ok "both loops succeed through n1" settle "$t"
# The baseline: the longest gap with nothing happening (loop pace, load).
many_after() { # T_US
	[ "$(awk -v t="$1" '$1 > t' "$loop_fip" | wc -l)" -ge 30 ] &&
		[ "$(awk -v t="$1" '$1 > t' "$loop_snat" | wc -l)" -ge 30 ]
}
t=$(now_us)
vxt_ok "steady: 30 requests of each loop" vxt_wait_until 300 many_after "$t"
record_gap steady "$t"

# ---- 1. n1 loses its links -----------------------------------------------
ping_start
t=$(now_us)
vxt_ns n1 ip link set underlay down
vxt_ns n1 ip link set uplink down
vxt_ok "link loss: n2 takes over" vxt_wait_until 100 holds_external n2
vxt_ok "link loss: loops succeed through n2" settle "$(now_us)"
record_gap link-loss "$t"
ping_stop link-loss 0
ping_start
t=$(now_us)
vxt_ns n1 ip link set underlay up
vxt_ns n1 ip link set uplink up
vxt_ok "links back: n1 takes its role back (preempt)" vxt_wait_until 100 only_n1
vxt_ok "links back: loops succeed" settle "$(now_us)"
record_gap link-back "$t"
# n1 was active all along, cut off: both copies are active until the first
# advert crosses (one interval), and a reply flooded to both meanwhile is
# forwarded twice. The figure is printed; the bound is that window: one
# advert interval (100 ms) of pings every 20 ms, and 3 for scheduling.
ping_stop link-back 8
vxt_is "links back: one active copy, n1" "$(active)" n1

# ---- 2. keepalived on n1 killed -------------------------------------------
pid=$(ka_pid n1)
vxt_ok "n1's keepalived is recorded and runs" kill -0 "$pid"
ping_start
t=$(now_us)
kill -KILL "$pid"
vxt_ok "keepalived killed: n2 takes over" vxt_wait_until 100 holds_external n2
vxt_ok "keepalived killed: n1 holds nothing routable" \
	vxt_wait_until 50 backup_is_inert n1 1
vxt_ok "keepalived killed: loops succeed through n2" settle "$(now_us)"
record_gap ka-kill "$t"
ping_stop ka-kill 0
ping_start
t=$(now_us)
vxt_ok "apply on n1 restarts keepalived" vxt_vxcloud n1 apply
vxt_ok "keepalived back: n1 takes its role back" vxt_wait_until 100 holds_external n1
vxt_ok "keepalived back: loops succeed" settle "$(now_us)"
record_gap ka-back "$t"
ping_stop ka-back 0
vxt_is "keepalived back: one active copy, n1" "$(active)" n1

# ---- 3. n1 destroyed --------------------------------------------------------
pid=$(ka_pid n1)
start=$(_vxt_starttime "$pid")
ping_start
t=$(now_us)
vxt_ok "destroy on n1" vxt_vxcloud n1 destroy
vxt_ok "destroy: n2 is active" holds_external n2
still_runs() { [ "$(_vxt_starttime "$1")" = "$2" ]; }
vxt_fail "destroy: n1's keepalived is gone" still_runs "$pid" "$start"
vxt_ok "destroy: n1 has no router namespace" test ! -e "$VXT_WORK/n1/netns/vxr-r1"
vxt_ok "destroy: loops succeed through n2" settle "$(now_us)"
record_gap destroy "$t"
ping_stop destroy 0
ping_start
t=$(now_us)
vxt_ok "apply on n1 again" vxt_vxcloud n1 apply
vxt_ok "n1 back: takes its role back" vxt_wait_until 100 holds_external n1
vxt_ok "n1 back: loops succeed" settle "$(now_us)"
record_gap destroy-back "$t"
ping_stop destroy-back 0
vxt_is "n1 back: one active copy, n1" "$(active)" n1
vxt_ok "n1 back: the backup n2 holds nothing routable" backup_is_inert n2 2

# ---- a lost record: the next apply stops the unrecorded keepalived it finds
# by its owner mark and starts a recorded one
pid=$(ka_pid n1)
start=$(_vxt_starttime "$pid")
rm -f "$VXT_WORK/n1/state/linuxbridge/ka-router-r1.pid"
vxt_ok "lost record: apply on n1" vxt_vxcloud n1 apply
vxt_fail "lost record: the unrecorded keepalived is gone" still_runs "$pid" "$start"
vxt_ok "lost record: a recorded keepalived runs" kill -0 "$(ka_pid n1)"
vxt_ok "lost record: n1 active again" vxt_wait_until 100 only_n1
vxt_ok "lost record: loops succeed" settle "$(now_us)"

# ---- a leftover with the mark while the recorded one runs (a crash between
# two runs' records): the next apply stops it, and only it
pid=$(ka_pid n1)
start=$(_vxt_starttime "$pid")
mark=$(tr '\0' '\n' <"/proc/$pid/environ" | grep '^VXCLOUD_OWNER=')
env -i "$mark" sleep 600 </dev/null >/dev/null 2>&1 &
stray=$!
vxt_track_pid $stray
stray_start=$(_vxt_starttime "$stray")
out=$(vxt_vxcloud n1 apply)
vxt_ok "leftover: apply on n1 stops it" grep -q "stop leftover keepalived (PID $stray)" <<<"$out"
vxt_fail "leftover: it is gone" still_runs "$stray" "$stray_start"
vxt_ok "leftover: the recorded keepalived still runs" still_runs "$pid" "$start"
vxt_is "leftover: n1 still the one active copy" "$(active)" n1

# ---- 4. preempt = false: a returning n1 stays backup ----------------------
spec false
vxt_ok "preempt off: apply on n2 (keepalived re-reads)" vxt_vxcloud n2 apply
vxt_ok "preempt off: apply on n1 (keepalived re-reads)" vxt_vxcloud n1 apply
ping_start
t=$(now_us)
vxt_ok "preempt off: destroy on n1" vxt_vxcloud n1 destroy
vxt_ok "preempt off: n2 is active" holds_external n2
vxt_ok "preempt off: loops succeed through n2" settle "$(now_us)"
record_gap nopreempt-destroy "$t"
ping_stop nopreempt-destroy 0
ping_start
t=$(now_us)
vxt_ok "preempt off: apply on n1" vxt_vxcloud n1 apply
vxt_ok "preempt off: n1's keepalived runs" \
	vxt_wait_until 50 test -f "$VXT_WORK/n1/state/linuxbridge/ka-router-r1.kpid"
# n1 would have taken over within a few adverts; give it 30 of them
vxt_fail "preempt off: n1 stays backup" vxt_wait_until 30 holds_external n1
vxt_ok "preempt off: loops succeed" settle "$(now_us)"
record_gap nopreempt-back "$t"
ping_stop nopreempt-back 0
vxt_is "preempt off: one active copy, n2" "$(active)" n2

# ---- 5. back to one copy, on n2 ------------------------------------------
# The host that loses its copy first: while it runs keepalived, n2 stopping
# its own would hand it the active role (and the bridges' learning).
spec false 'host = "n2";'
t=$(now_us)
vxt_ok "one copy: apply on n1 removes its copy" vxt_vxcloud n1 apply
vxt_ok "one copy: apply on n2 (keepalived stopped, addresses its own again)" \
	vxt_vxcloud n2 apply
vxt_ok "one copy: apply on cmp (a unicast fdb entry again)" vxt_vxcloud cmp apply
vxt_ok "one copy: n1 has no router namespace" test ! -e "$VXT_WORK/n1/netns/vxr-r1"
vxt_ok "one copy: no keepalived record left on n2" \
	test ! -e "$VXT_WORK/n2/state/linuxbridge/ka-router-r1.pid"
vxt_ok "one copy: n2 holds the external address" holds_external n2
if ! vxt_ok "one copy: loops succeed through n2" settle "$(now_us)"; then
	vxt_diag "n2: $(rns n2 ip -4 -o addr show | awk '{ print $2, $4 }' | tr '\n' ' ')"
	vxt_diag "n2: forward $(rns n2 cat /proc/sys/net/ipv4/ip_forward)," \
		"arp_ignore $(rns n2 cat /proc/sys/net/ipv4/conf/all/arp_ignore)," \
		"routes: $(rns n2 ip -4 route | tr '\n' ';')"
	vxt_diag "fabric: $(vxt_ns fabric bridge fdb show br provider | grep -i "$(rns n2 \
		ip -br link show gw0 | awk '{ print $3 }')")"
	vxt_diag "cmp fdb: $(vxt_ns cmp bridge fdb show dev vx-blue | grep dst | tr '\n' ';')"
fi
vxt_ok "one copy: a second apply on n2 changes nothing" no_changes n2

# ---- the end ------------------------------------------------------------------
vxt_ok "destroy on n1" vxt_vxcloud n1 destroy
vxt_ok "destroy on n2" vxt_vxcloud n2 destroy
vxt_ok "destroy on cmp" vxt_vxcloud cmp destroy
vxt_ok "no keepalived of r1 left on n2" test ! -e "$VXT_WORK/n2/state/linuxbridge/ka-router-r1.pid"
vxt_is "destroy leaves n1 as it was" "$(vxt_snapshot n1)" "$before_n1"
vxt_done
