#!/bin/bash
# vxcloudd end to end: one agent per simulated host, and no `vxcloud apply`
# at all (the CLI only asks the agents for their status).
#
#   host net: router r1 (external 203.0.113.10, SNAT for blue), NAT nftables
#   host cmp: web1 10.42.0.11 (floating IP 203.0.113.20), web2 10.42.0.12
#   client:   203.0.113.100 on the provider network
#
# Checks: the agents converge both hosts from nothing; each drift (a VXLAN
# fdb entry deleted, the NAT table flushed, a floating IP's map element
# deleted, a bridge's MTU changed, an instance's process killed, the router
# namespace deleted) is repaired without a CLI run and counted in the
# agent's status; foreign objects (an nft table, an iptables rule, a
# bridge) are never touched; spec edits converge (an instance added, the
# floating IP moved); an invalid spec changes nothing and is reported; a
# NAT driver swap by SIGHUP; kill -9 during a pass, then a new agent
# converges without duplicates; SIGTERM leaves the host as it is.
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
vxt_require_root
vxt_require_cmd busybox curl nft iptables-legacy iptables-legacy-save flock timeout
for so in nftables/nftables iptables/iptables; do
	[ -f "${VXC_TOP_BUILDDIR:?}/plugins/nat/$so.so" ] ||
		[ -f "$VXC_TOP_BUILDDIR/plugins/nat/${so%/*}/.libs/${so#*/}.so" ] || {
		echo "1..0 # SKIP the NAT plugins are not both built"
		exit 77
	}
done
vxt_init agent
vxt_add_host net 10.41.0.1/24
vxt_add_host cmp 10.41.0.2/24
vxt_add_client 203.0.113.100/24 203.0.113.1/24
AGENT=$VXT_BUILDDIR/core/vxcloudd

www=$VXT_WORK/www
for who in web1 web2 web3 web4 web5 web6 web7 web8 client; do
	mkdir -p "$www/$who/cgi-bin"
	printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "%s $REMOTE_ADDR"\n' \
		"$who" >"$www/$who/cgi-bin/who"
	chmod 0755 "$www/$who/cgi-bin/who"
done
chmod -R a+rX "$www"

instance() { # NAME ADDRESS (an instance called "flap" runs a command that exits at once)
	local cmd="\"busybox\", \"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"$www/$1\""
	[ "$1" = flap ] && cmd='"busybox", "false"'
	printf '  { name = "%s"; kind = "container"; host = "cmp"; network = "blue";
    address = "%s"; command = [ %s ]; }' "$1" "$2" "$cmd"
}

# spec FIP_TARGET [EXTRA_INSTANCE...]: extra instances get 10.42.0.13 on;
# written by rename-over-write, as a deployment tool would.
spec() {
	local extra= i=13 x
	for x in "${@:2}"; do
		extra+=",
$(instance "$x" "10.42.0.$i")"
		i=$((i + 1))
	done
	cat >"$VXT_WORK/cloud.conf.new" <<CONF
hosts = ( { name = "net"; tunnel = "10.41.0.1"; }, { name = "cmp"; tunnel = "10.41.0.2"; } );
provider = { bridge = "br-prov"; uplink = "uplink"; cidr = "203.0.113.0/24";
  gateway = "203.0.113.1"; range = [ "203.0.113.10", "203.0.113.50" ]; };
networks = ( { name = "blue"; vni = 41; cidr = "10.42.0.0/24"; gateway = "10.42.0.1";
  mtu = 1400; } );
routers = ( { name = "r1"; host = "net"; external = "203.0.113.10"; networks = [ "blue" ];
  snat = true; } );
instances = (
$(instance web1 10.42.0.11),
$(instance web2 10.42.0.12)$extra
);
floating_ips = ( { address = "203.0.113.20"; router = "r1"; target = "$1"; } );
CONF
	mv "$VXT_WORK/cloud.conf.new" "$VXT_WORK/cloud.conf"
}

declare -A AGENT_PID=()

# start_agent HOST: vxcloudd in HOST's namespace, log in $VXT_WORK/HOST/agent.log.
# The periodic full pass is set long (600 s) so every repair below is
# event driven, except legacy iptables which has no change notification.
start_agent() {
	vxt_bg vxt_ns "$1" "$AGENT" --config "$VXT_WORK/$1/vxcloud.conf" --interval "${2:-600}" \
		2>>"$VXT_WORK/$1/agent.log"
	AGENT_PID[$1]=$VXT_BG_PID
	vxt_wait_until 100 test -S "$VXT_WORK/$1/state/agent.sock"
}

status() { # HOST [--json]
	vxt_vxcloud "$1" status "${@:2}"
}

in_sync() { # HOST: its agent (not the CLI's own dry run) says it matches the spec
	local out
	out=$(status "$1" 2>/dev/null) && grep -q '^agent: pid' <<<"$out"
}

# repairs HOST KIND NAME: the agent's repair count for that object.
repairs() {
	status "$1" 2>/dev/null | awk -v k="$2" -v n="$3" '$1 == k && $2 == n { print $6 }'
}

# repaired DESC HOST KIND NAME BEFORE CHECK...: waits (bounded) for the
# agent to count a repair of the object and CHECK to pass.
repaired() {
	local desc=$1 host=$2 kind=$3 name=$4 before=$5
	shift 5
	_more() { [ "$(repairs "$host" "$kind" "$name")" -gt "$before" ] && in_sync "$host" && "$@"; }
	if vxt_wait_until 100 _more "$@"; then
		vxt_pass "$desc"
	else
		vxt_flunk "$desc" "$(status "$host" 2>&1)" "$(tail -n 20 "$VXT_WORK/$host/agent.log")"
	fi
}

# converged DESC HOST...: waits (bounded) until every HOST's agent says it
# matches the spec; on failure shows their status and log.
converged() {
	local desc=$1 h
	shift
	_all_in_sync() {
		local x
		for x in "$@"; do in_sync "$x" || return 1; done
	}
	if vxt_wait_until 300 _all_in_sync "$@"; then
		vxt_pass "$desc"
		return 0
	fi
	for h in "$@"; do
		vxt_flunk "$desc ($h)" "$(status "$h" 2>&1)" "$(tail -n 30 "$VXT_WORK/$h/agent.log")"
	done
	return 1
}

who() { # URL: /cgi-bin/who at URL fetched by the client
	local out i
	for ((i = 0; i < 30; i++)); do
		out=$(vxt_ns client curl -s -m 2 "$1/cgi-bin/who" 2>/dev/null) && [ -n "$out" ] &&
			break
		sleep 0.2
	done
	sed -E 's/\[::ffff:([0-9.]+)\]/\1/' <<<"$out"
}

router_ns() {
	vxt_inst_ns net vxr-r1 "$@"
}

foreign() { # what must never change: a table, a rule, a bridge not vxcloud's
	router_ns nft list table ip foreign
	router_ns iptables-legacy -S INPUT
	vxt_ns cmp ip -o link show frgnbr | sed -E 's/^[0-9]+: //; s/ state [A-Z]+//'
}

spec web1
vxt_node_conf net nat=nftables log_level=warning >/dev/null
vxt_node_conf cmp log_level=warning >/dev/null
vxt_bg vxt_ns client busybox httpd -f -p 8080 -h "$www/client"

# ---- convergence from nothing, without a CLI run -------------------------
start_agent net
start_agent cmp
converged "the agents converge both hosts" net cmp
vxt_is "the client reaches web1 on its floating IP" \
	"$(who http://203.0.113.20:8080)" "web1 203.0.113.100"
vxt_ok "vxcloud status is the agent's (pass, cause, repairs)" \
	eval "status net | grep -q '^totals: passes [0-9]*, changes [0-9]*, repairs'"
vxt_ok "status --json from the agent" \
	eval "status cmp --json | grep -q '\"spec\":{\"path\":.*\"generation\":1'"
before=$(vxt_snapshot cmp)
vxt_fail "vxcloud destroy refuses while the agent runs" vxt_vxcloud cmp destroy
vxt_is "and changes nothing" "$(vxt_snapshot cmp)" "$before"
vxt_ok "a CLI apply waits for the lock and finds nothing to do" \
	eval "vxt_vxcloud net apply | grep -q '^no changes'"

# Foreign objects beside vxcloud's.
router_ns nft add table ip foreign
router_ns nft add chain ip foreign keep '{ type filter hook input priority 10; }'
router_ns nft add rule ip foreign keep ip saddr 192.0.2.1 counter accept
router_ns iptables-legacy -A INPUT -s 192.0.2.2 -j ACCEPT
vxt_ns cmp ip link add name frgnbr type bridge
foreign_before=$(foreign)

# ---- drift, each repaired by events --------------------------------------
n=$(repairs cmp network blue)
vxt_ns cmp bridge fdb del 00:00:00:00:00:00 dev vx-blue dst 10.41.0.1
repaired "a deleted VXLAN fdb entry is put back" cmp network blue "$n" \
	eval "vxt_ns cmp bridge fdb show dev vx-blue | grep -q '00:00:00:00:00:00 dst 10.41.0.1'"

# The lock: while another run holds it, the agent does not touch the host.
lines=$(wc -l <"$VXT_WORK/cmp/agent.log")
# The lock file of a state directory: STATE_DIR/lock, or one in
# /run/lock/vxcloud that names the directory (see vxcloud(8), FILES).
lock_file() {
	local f
	for f in /run/lock/vxcloud/*.lock; do
		[ -f "$f" ] && grep -qs " $1\$" "$f" && { echo "$f"; return; }
	done
	echo "$1/lock"
}
lock=$(lock_file "$VXT_WORK/cmp/state")
# (sleep itself holds it, so ending that one PID releases it)
vxt_bg bash -c 'exec 9>>"$1" && flock 9 && exec sleep 60' lock "$lock"
holder=$VXT_BG_PID
vxt_wait_until 100 eval '! flock -n "$lock" true'
n=$(repairs cmp network blue)
vxt_ns cmp bridge fdb del 00:00:00:00:00:00 dev vx-blue dst 10.41.0.1
lock_wait_logged() {
	tail -n +"$((lines + 1))" "$VXT_WORK/cmp/agent.log" | grep -q 'the pass waits for it'
}
vxt_ok "drift while another run holds the lock: the agent waits" \
	vxt_wait_until 100 lock_wait_logged
vxt_fail "and has not repaired anything meanwhile" eval \
	"vxt_ns cmp bridge fdb show dev vx-blue | grep -q '00:00:00:00:00:00 dst 10.41.0.1'"
kill -TERM "$holder"
repaired "the lock released, the drift is repaired" cmp network blue "$n" \
	eval "vxt_ns cmp bridge fdb show dev vx-blue | grep -q '00:00:00:00:00:00 dst 10.41.0.1'"

n=$(repairs cmp network blue)
vxt_ns cmp ip link set vb-blue mtu 1300
repaired "a bridge MTU changed by hand is set back" cmp network blue "$n" \
	eval "vxt_ns cmp ip link show vb-blue | grep -q 'mtu 1400'"

n=$(repairs net nat r1)
router_ns nft flush table ip vxcloud
repaired "a flushed NAT table is refilled" net nat r1 "$n" \
	eval "router_ns nft list chain ip vxcloud prerouting | grep -q fip_dnat"
vxt_is "the floating IP works after the NAT repair" \
	"$(who http://203.0.113.20:8080)" "web1 203.0.113.100"

n=$(repairs net nat r1)
router_ns nft delete element ip vxcloud fip_dnat '{ 203.0.113.20 }'
repaired "a deleted floating IP map element is put back" net nat r1 "$n" \
	eval "router_ns nft list map ip vxcloud fip_dnat | grep -q '203.0.113.20 : 10.42.0.11'"

n=$(repairs cmp instance web1)
pid=$(awk '{ print $1 }' "$VXT_WORK/cmp/state/netns/web1.pid")
kill -KILL "$pid"
web1_alive() {
	local p
	p=$(awk '{ print $1 }' "$VXT_WORK/cmp/state/netns/web1.pid") &&
		[ "$p" != "$pid" ] && kill -0 "$p"
}
repaired "a killed instance process is started again" cmp instance web1 "$n" web1_alive

n=$(repairs net router r1)
umount "$VXT_WORK/net/netns/vxr-r1" && rm -f "$VXT_WORK/net/netns/vxr-r1"
repaired "a deleted router namespace is made again" net router r1 "$n" \
	test -e "$VXT_WORK/net/netns/vxr-r1"
vxt_ok "its NAT is back too (counted)" vxt_wait_until 100 eval \
	'[ "$(repairs net nat r1)" -gt 0 ] && router_ns nft list table ip vxcloud'
vxt_is "the floating IP works after the namespace is made again" \
	"$(who http://203.0.113.20:8080)" "web1 203.0.113.100"
# The namespace was made anew: the foreign objects in the old one went with
# it (not vxcloud's doing); the foreign bridge on cmp is checked below.
router_ns nft add table ip foreign
router_ns nft add chain ip foreign keep '{ type filter hook input priority 10; }'
router_ns nft add rule ip foreign keep ip saddr 192.0.2.1 counter accept
router_ns iptables-legacy -A INPUT -s 192.0.2.2 -j ACCEPT
foreign_before=$(foreign)
vxt_ok "no CLI apply ran: the log shows the agents' repairs" \
	grep -q 'repair (fdb entry deleted on vx-blue)' "$VXT_WORK/cmp/agent.log"

# ---- spec changes ---------------------------------------------------------
spec web2 web3
vxt_ok "spec edit (web3 added, floating IP moved to web2) converges on both hosts" \
	vxt_wait_until 300 eval 'status cmp | grep -q "^spec: .*generation 2" &&
		status net | grep -q "^spec: .*generation 2" && in_sync net && in_sync cmp'
vxt_ok "web3 runs" vxt_inst_ns cmp vxi-web3 ip -4 addr show dev eth0
vxt_is "the client reaches web2 on the moved floating IP" \
	"$(who http://203.0.113.20:8080)" "web2 203.0.113.100"

before=$(vxt_snapshot cmp)
echo 'hosts = ( { name = "net"; tunnel = "10.41.0.1" } ); instances = oops' \
	>"$VXT_WORK/cloud.conf.new"
mv "$VXT_WORK/cloud.conf.new" "$VXT_WORK/cloud.conf"
vxt_ok "an invalid spec is reported by the agent" vxt_wait_until 100 eval \
	'status cmp | grep -q "^spec refused (the host keeps generation 2): .*cloud.conf:[0-9]"'
vxt_fail "and status says the host does not match the spec" in_sync cmp
vxt_is "an invalid spec changes nothing" "$(vxt_snapshot cmp)" "$before"
spec web2 web3
vxt_ok "the valid spec again: generation 3, in sync" vxt_wait_until 100 eval \
	'status cmp | grep -q "generation 3" && in_sync cmp'

# ---- NAT swap: node config + SIGHUP ---------------------------------------
vxt_node_conf net nat=iptables log_level=warning >/dev/null
kill -HUP "${AGENT_PID[net]}"
vxt_ok "SIGHUP with nat = iptables: the agent swaps the NAT driver" vxt_wait_until 300 eval \
	'status net | grep -q "^nat  *r1  *iptables  *ok" && in_sync net'
vxt_fail "the nftables table is gone" router_ns nft list table ip vxcloud
vxt_ok "the iptables chains are there" \
	eval "router_ns iptables-legacy-save -t nat | grep -q '^:vxc-pre'"
vxt_is "the floating IP works through iptables" \
	"$(who http://203.0.113.20:8080)" "web2 203.0.113.100"
vxt_is "foreign objects were never touched" "$(foreign)" "$foreign_before"

# ---- faults ---------------------------------------------------------------
# kill -9 in the middle of a pass: a spec adding five instances, the agent
# killed as soon as its log shows the pass's first change.
lines=$(wc -l <"$VXT_WORK/cmp/agent.log")
many=(web3 web4 web5 web6 web7 web8)
# The log is followed (not polled) so the kill lands within the pass.
kill_mid_pass() {
	timeout 60 tail --pid="${AGENT_PID[cmp]}" -n +"$((lines + 1))" -f "$VXT_WORK/cmp/agent.log" |
		grep -q -m1 '^vxcloudd: change' && kill -KILL "${AGENT_PID[cmp]}"
}
kill_mid_pass &
killer=$!
spec web2 "${many[@]}"
wait "$killer"
vxt_is "kill -9 the agent on cmp during a pass" "$?" 0
vxt_wait_until 50 eval '! kill -0 "${AGENT_PID[cmp]}" 2>/dev/null'
vxt_diag "instance namespaces when the agent was killed:" \
	"$(ls "$VXT_WORK/cmp/netns" | grep -c vxi-) of 8"
start_agent cmp
converged "a new agent converges cmp" cmp
count_procs() { # HOST NS: processes in that namespace
	local ino
	ino=$(stat -L -c %i "$VXT_WORK/$1/netns/$2")
	find /proc/[0-9]*/ns -maxdepth 1 -name net -printf '%l\n' 2>/dev/null |
		grep -c "^net:\[$ino\]$"
}
counts=
for x in web1 web2 "${many[@]}"; do
	counts+="$(count_procs cmp "vxi-$x") "
done
vxt_is "nothing duplicated: one process per instance" "$counts" "1 1 1 1 1 1 1 1 "
vxt_is "nothing duplicated: fdb entries" \
	"$(vxt_ns cmp bridge fdb show dev vx-blue | grep permanent | sort | uniq -d)" ""
vxt_is "the client reaches web2 on its floating IP" "$(who http://203.0.113.20:8080)" \
	"web2 203.0.113.100"
spec web2
vxt_ok "five instances fewer: converged" vxt_wait_until 300 eval \
	'in_sync cmp && ! test -e "$VXT_WORK/cmp/netns/vxi-web8"'

# A command that exits at once is restarted at a slowing pace, not in a loop.
spec web2 flap
vxt_ok "an instance whose command exits at once is started" vxt_wait_until 100 eval \
	'[ "$(repairs cmp instance flap)" -ge 2 ]'
sleep 3 # a window to count restarts in, not a wait for something to happen
n=$(repairs cmp instance flap)
vxt_ok "its restarts slow down (got $n repairs in about 3 s)" test "$n" -le 12
vxt_ok "the agent says it holds the next repair back" \
	grep -q 'instance flap: repaired .* times in a row' "$VXT_WORK/cmp/agent.log"
spec web2
vxt_ok "flap removed: converged" vxt_wait_until 300 eval \
	'in_sync cmp && ! test -e "$VXT_WORK/cmp/netns/vxi-flap"'

# Legacy iptables sends no notification: the periodic pass (1 s here)
# repairs its drift.
kill -TERM "${AGENT_PID[net]}"
vxt_wait_until 50 eval '! kill -0 "${AGENT_PID[net]}"'
start_agent net 1
vxt_wait_until 100 in_sync net
n=$(repairs net nat r1)
router_ns iptables-legacy -t nat -F vxc-pre
repaired "a flushed iptables NAT chain is refilled by the periodic pass" net nat r1 "$n" \
	eval "router_ns iptables-legacy-save -t nat | grep -q '^-A vxc-pre'"

before_net=$(vxt_snapshot net)
before_cmp=$(vxt_snapshot cmp)
for h in net cmp; do
	kill -TERM "${AGENT_PID[$h]}"
done
vxt_ok "SIGTERM stops both agents" vxt_wait_until 100 eval \
	'! kill -0 "${AGENT_PID[net]}" 2>/dev/null && ! kill -0 "${AGENT_PID[cmp]}" 2>/dev/null'
vxt_is "SIGTERM leaves net as it was" "$(vxt_snapshot net)" "$before_net"
vxt_is "SIGTERM leaves cmp as it was" "$(vxt_snapshot cmp)" "$before_cmp"
vxt_ok "the processes keep running" \
	kill -0 "$(awk '{ print $1 }' "$VXT_WORK/cmp/state/netns/web1.pid")"
vxt_ok "without an agent, status is the CLI's own dry run" \
	eval "status cmp | grep -q '^host cmp matches the spec' && ! status cmp | grep -q '^totals'"
vxt_is "foreign objects were never touched" "$(foreign)" "$foreign_before"
vxt_ok "destroy on net" vxt_vxcloud net destroy
vxt_ok "destroy on cmp" vxt_vxcloud cmp destroy
vxt_done
