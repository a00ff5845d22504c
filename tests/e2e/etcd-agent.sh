#!/bin/bash
# One cloud, one store (issue 14): a three-member etcd cluster on the
# simulated underlay (TLS with client certificates, auth on), an agent on
# each of three simulated hosts taking its spec from etcd, the operator
# pushing specs from host net.
#
#   host net:  router r1 (external 203.0.113.10, SNAT for blue)
#   host cmp1: web1 10.42.0.11 (floating IP 203.0.113.20 at first)
#   host cmp2: web2 10.42.0.12
#   etcd:      members 10.41.0.201-203 (tests/lib/etcd.sh)
#   client:    203.0.113.100 on the provider network
#
# Checks: push -> every host converged, HTTP through the floating IP; a
# second push converges; a stale push is refused and changes nothing; one
# member killed -9 -> pushes and watches go on; all of etcd stopped -> the
# hosts keep working and their state, the agents say the store is
# unreachable, and after the restart the next push reaches every host; an
# agent killed -9 -> gone once its lease expires, converged after restart;
# a host cut from the underlay (while etcd compacts its history) and
# restored catches up; a revision a host cannot serve is refused there and
# reported; an instance that cannot start shows its host failing; SIGHUP
# swaps the NAT driver, the spec still from etcd; clients without the right
# credentials are refused; SIGTERM revokes the lease.
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
. "$VXC_TOP_SRCDIR/tests/lib/etcd.sh"
vxt_require_root
vxt_require_cmd busybox curl nft timeout
etcd_require
vxt_init etcdag
vxt_add_host net 10.41.0.1/24
vxt_add_host cmp1 10.41.0.2/24
vxt_add_host cmp2 10.41.0.3/24
vxt_add_client 203.0.113.100/24 203.0.113.1/24
AGENT=$VXT_BUILDDIR/core/vxcloudd
HOSTS=(net cmp1 cmp2)
LEASE_TTL_S=2

etcd_cluster_start 3

www=$VXT_WORK/www
for who in web1 web2 web3 web4 client; do
	mkdir -p "$www/$who/cgi-bin"
	printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "%s $REMOTE_ADDR"\n' \
		"$who" >"$www/$who/cgi-bin/who"
	chmod 0755 "$www/$who/cgi-bin/who"
done
chmod -R a+rX "$www"

instance() { # NAME HOST ADDRESS [KIND] (KIND broken: a container whose program is missing)
	local kind=${4:-container}
	local run="command = [ \"busybox\", \"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"$www/$1\" ];"
	case $kind in
	vm) run="cpus = 1; memory = 128;" ;;
	broken) run="command = [ \"/nonexistent/vxcloud-test\" ];" kind=container ;;
	esac
	printf '  { name = "%s"; kind = "%s"; host = "%s"; network = "blue";
    address = "%s"; %s }' "$1" "$kind" "$2" "$3" "$run"
}

# spec FILE FIP_TARGET [NAME:HOST[:KIND]...]: web1 on cmp1 and web2 on cmp2,
# extra instances from 10.42.0.13 on.
spec() {
	local file=$1 fip=$2 extra= i=13 x n h k
	for x in "${@:3}"; do
		IFS=: read -r n h k <<<"$x"
		extra+=",
$(instance "$n" "$h" "10.42.0.$i" "${k:-container}")"
		i=$((i + 1))
	done
	cat >"$file" <<CONF
hosts = ( { name = "net"; tunnel = "10.41.0.1"; }, { name = "cmp1"; tunnel = "10.41.0.2"; },
  { name = "cmp2"; tunnel = "10.41.0.3"; } );
provider = { bridge = "br-prov"; uplink = "uplink"; cidr = "203.0.113.0/24";
  gateway = "203.0.113.1"; range = [ "203.0.113.10", "203.0.113.50" ]; };
networks = ( { name = "blue"; vni = 41; cidr = "10.42.0.0/24"; gateway = "10.42.0.1";
  mtu = 1400; } );
routers = ( { name = "r1"; host = "net"; external = "203.0.113.10"; networks = [ "blue" ];
  snat = true; } );
instances = (
$(instance web1 cmp1 10.42.0.11),
$(instance web2 cmp2 10.42.0.12)$extra
);
floating_ips = ( { address = "203.0.113.20"; router = "r1"; target = "$fip"; } );
CONF
}

# node_conf HOST [etcd KEY=VALUE...]: the harness's node config without a
# spec file (NAT driver $NAT, default nftables), and the etcd group of this
# cluster.
node_conf() {
	local h=$1
	shift
	vxt_node_conf "$h" spec= nat="${NAT:-nftables}" log_level=warning >/dev/null
	etcd_node_conf_group lease_ttl_s="$LEASE_TTL_S" "$@" \
		>>"$VXT_WORK/$h/vxcloud.conf"
}

declare -A AGENT_PID=()
start_agent() { # HOST: vxcloudd there, log in $VXT_WORK/HOST/agent.log
	vxt_bg vxt_ns "$1" "$AGENT" --config "$VXT_WORK/$1/vxcloud.conf" --interval 600 \
		2>>"$VXT_WORK/$1/agent.log"
	AGENT_PID[$1]=$VXT_BG_PID
	vxt_wait_until 100 test -S "$VXT_WORK/$1/state/agent.sock"
}

# push ARGS... FILE: `vxcloud push` from host net; the new revision on stdout.
push() {
	vxt_vxcloud net push "$@"
}

# push_retry FILE: push until it is stored (bounded, 20 s: elections after a
# member died); sets REV.
push_retry() {
	local i
	REV=
	for ((i = 0; i < 40; i++)); do
		REV=$(push --force "$1" 2>/dev/null) && [ -n "$REV" ] && return 0
		sleep 0.5
	done
	return 1
}

cloud() { # status --cloud [--json], asked from host net
	vxt_vxcloud net status --cloud "$@"
}

# every_host_at REV: status --cloud says every host is alive and converged
# (exit 0), and the stored spec is revision REV.
every_host_at() {
	local out
	out=$(cloud) && grep -q "^spec: revision $1\$" <<<"$out"
}

# converged DESC REV: waits (bounded, 60 s) for every_host_at REV.
converged() {
	if vxt_wait_until 600 every_host_at "$2"; then
		vxt_pass "$1"
		return 0
	fi
	local h
	vxt_flunk "$1" "$(cloud 2>&1)"
	for h in "${HOSTS[@]}"; do
		vxt_diag "$h: $(tail -n 15 "$VXT_WORK/$h/agent.log")"
	done
	return 1
}

who() { # URL: /cgi-bin/who at URL fetched by the client
	local out i
	for ((i = 0; i < 50; i++)); do
		out=$(vxt_ns client curl -s -m 2 "$1/cgi-bin/who" 2>/dev/null) && [ -n "$out" ] &&
			break
		sleep 0.2
	done
	sed -E 's/\[::ffff:([0-9.]+)\]/\1/' <<<"$out"
}

# host_line HOST: its line of `status --cloud`.
host_line() {
	cloud 2>/dev/null | awk -v h="$1" '$1 == h'
}

for h in "${HOSTS[@]}"; do
	node_conf "$h"
done
vxt_bg vxt_ns client busybox httpd -f -p 8080 -h "$www/client"

# ---- push, converge ----------------------------------------------------------
for h in "${HOSTS[@]}"; do
	start_agent "$h"
done
vxt_ok "agents wait for a spec: status --cloud shows them alive, not converged" \
	vxt_wait_until 100 eval '[ "$(cloud | grep -c " alive pid ")" = 3 ]'
vxt_fail "and exits non-zero while nothing is stored" cloud

spec "$VXT_WORK/s1.conf" web1
rev1=$(push "$VXT_WORK/s1.conf")
vxt_ok "push prints the new revision ($rev1)" test "$rev1" -gt 0
converged "every host converges to revision $rev1" "$rev1"
vxt_is "the client reaches web1 on its floating IP" \
	"$(who http://203.0.113.20:8080)" "web1 203.0.113.100"
vxt_ok "status --cloud --json: one object per host, converged" eval \
	'[ "$(cloud --json | grep -c "\"state\":\"converged\"")" = 3 ]'
vxt_ok "the local status names the store and the applied revision" eval \
	"vxt_vxcloud cmp1 status | grep -q '^store: ok; spec revision seen $rev1, applied $rev1'"

spec "$VXT_WORK/s2.conf" web2
rev2=$(push "$VXT_WORK/s2.conf")
converged "a second push (floating IP moved to web2) converges: revision $rev2" "$rev2"
vxt_is "the client reaches web2 on the moved floating IP" \
	"$(who http://203.0.113.20:8080)" "web2 203.0.113.100"

spec "$VXT_WORK/stale.conf" web1 web3:cmp1
out=$(push --revision "$rev1" "$VXT_WORK/stale.conf" 2>&1)
vxt_is "a push based on a stale revision is refused (exit 5)" "$?" 5
vxt_ok "it says which revisions" grep -q "revision $rev2.*$rev1" <<<"$out"
vxt_ok "and changes nothing in the store" every_host_at "$rev2"

# ---- one etcd member killed -9 -------------------------------------------------
etcd_member_kill 1
spec "$VXT_WORK/s3.conf" web2 web3:cmp1
push_retry "$VXT_WORK/s3.conf"
vxt_ok "member 1 killed -9: a push goes through the others" test -n "$REV"
rev3=$REV
converged "and reaches every host (watches go on): revision $rev3" "$rev3"
vxt_ok "web3 runs on cmp1" vxt_inst_ns cmp1 vxi-web3 ip -4 addr show dev eth0
etcd_member_start 1
etcd_wait_healthy

# ---- all of etcd stopped -----------------------------------------------------------
before=()
for h in "${HOSTS[@]}"; do
	before+=("$(vxt_snapshot "$h")")
done
etcd_cluster_stop
store_down() { # HOST: its agent says the store is unreachable
	vxt_vxcloud "$1" status 2>/dev/null | grep -q '^store: unreachable since'
}
for h in "${HOSTS[@]}"; do
	vxt_ok "etcd stopped: the agent on $h reports the store unreachable" \
		vxt_wait_until 150 store_down "$h"
done
vxt_is "the hosts keep working: the client reaches web2" \
	"$(who http://203.0.113.20:8080)" "web2 203.0.113.100"
i=0
for h in "${HOSTS[@]}"; do
	vxt_is "and $h keeps its state" "$(vxt_snapshot "$h")" "${before[$i]}"
	i=$((i + 1))
done
vxt_ok "the agents keep running" kill -0 "${AGENT_PID[net]}" "${AGENT_PID[cmp1]}" \
	"${AGENT_PID[cmp2]}"
for i in 1 2 3; do
	etcd_member_start "$i"
done
etcd_wait_healthy
spec "$VXT_WORK/s4.conf" web1 web3:cmp1
push_retry "$VXT_WORK/s4.conf"
vxt_ok "etcd back: the next push is stored" test -n "$REV"
rev4=$REV
converged "and reaches every host: revision $rev4" "$rev4"
vxt_is "the client reaches web1 again" "$(who http://203.0.113.20:8080)" \
	"web1 203.0.113.100"

# ---- an agent killed -9 --------------------------------------------------------------
kill -KILL "${AGENT_PID[cmp2]}"
gone() { host_line cmp2 | grep -q '^cmp2 *gone '; }
vxt_ok "agent on cmp2 killed -9: status --cloud shows it gone once its lease expires" \
	vxt_wait_until 300 gone
vxt_fail "and exits non-zero" cloud
vxt_ok "its last state is still shown" eval 'host_line cmp2 | grep -q converged'
start_agent cmp2
converged "restarted, cmp2 is alive and converged again" "$rev4"

# ---- a host cut from the underlay, then restored ----------------------------------
# While it is cut, two revisions are pushed and etcd compacts its history
# past the revision cmp1's watch resumes from: it must read the key again.
lines=$(wc -l <"$VXT_WORK/cmp1/agent.log")
vxt_ns fabric ip link set u-cmp1 down
watch_broke() {
	tail -n +"$((lines + 1))" "$VXT_WORK/cmp1/agent.log" | grep -q "spec's watch broke"
}
vxt_ok "cmp1 cut from the underlay: its watch breaks (TCP keepalives)" \
	vxt_wait_until 300 watch_broke
spec "$VXT_WORK/s5a.conf" web1 web3:cmp1
push "$VXT_WORK/s5a.conf" >/dev/null
spec "$VXT_WORK/s5.conf" web1 web3:cmp1 web4:cmp1
rev5=$(push "$VXT_WORK/s5.conf")
vxt_ok "etcd compacts its history up to revision $rev5" etcd_ctl compact "$rev5"
vxt_ok "cmp1 goes gone while the others converge" \
	vxt_wait_until 300 eval 'host_line cmp1 | grep -q "^cmp1 *gone "'
vxt_ok "status --cloud: cmp1 lags (revision $rev4 applied, the spec is $rev5)" eval \
	'host_line cmp1 | grep -q "lagging: revision $rev4 applied, the spec is $rev5"'
vxt_fail "web4 is not there while cmp1 is cut" test -e "$VXT_WORK/cmp1/netns/vxi-web4"
vxt_ns fabric ip link set u-cmp1 up
converged "restored, cmp1 catches up: revision $rev5" "$rev5"
vxt_ok "its watch found its revision compacted and read the spec again" \
	grep -q 'was compacted (up to [0-9]*); reading the spec again' "$VXT_WORK/cmp1/agent.log"
vxt_ok "web4 runs on cmp1" vxt_inst_ns cmp1 vxi-web4 ip -4 addr show dev eth0

# ---- a revision one host cannot serve ----------------------------------------------
# cmp2 has no vm driver: a VM placed there is refused on cmp2 only.
spec "$VXT_WORK/s6.conf" web1 web3:cmp1 web4:cmp1 vm1:cmp2:vm
before_cmp2=$(vxt_snapshot cmp2)
rev6=$(push "$VXT_WORK/s6.conf")
refused() { host_line cmp2 | grep -q 'spec refused: .*vm'; }
vxt_ok "revision $rev6 needs a driver cmp2 lacks: status --cloud says refused there" \
	vxt_wait_until 300 refused
vxt_ok "the others converge to it" vxt_wait_until 300 eval \
	'cloud --json | grep "\"host\":\"cmp1\"" | grep -q "\"state\":\"converged\""'
vxt_is "cmp2 changes nothing" "$(vxt_snapshot cmp2)" "$before_cmp2"
vxt_ok "cmp2 keeps revision $rev5" eval \
	'cloud --json | grep "\"host\":\"cmp2\"" | grep -q "\"spec_revision_applied\":$rev5"'
rev7=$(push "$VXT_WORK/s5.conf")
converged "the next push without it: every host converged at $rev7" "$rev7"

# ---- an object that fails on one host --------------------------------------------
spec "$VXT_WORK/s8.conf" web1 web3:cmp1 web4:cmp1 bad:cmp2:broken
rev8=$(push "$VXT_WORK/s8.conf")
failing() { host_line cmp2 | grep -q 'failing: instance bad: .*nonexistent'; }
if vxt_wait_until 300 failing; then
	vxt_pass "revision $rev8 has an instance whose program is missing: cmp2 is failing, naming it"
else
	vxt_flunk "revision $rev8 has an instance whose program is missing: cmp2 is failing" \
		"$(cloud 2>&1)" "$(tail -n 10 "$VXT_WORK/cmp2/agent.log")"
fi
vxt_fail "status --cloud exits non-zero" cloud
bad_listed() {
	cloud --json | grep '"host":"cmp2"' | grep -q '"errors":\[{"kind":"instance","name":"bad"'
}
vxt_ok "its document lists the error" bad_listed
rev7=$(push "$VXT_WORK/s5.conf")
converged "without it: every host converged at $rev7" "$rev7"

# ---- security -------------------------------------------------------------------------------
ep=${ETCD_ENDPOINT_LIST[1]}
vxt_fail "etcd refuses a client without a certificate" \
	vxt_ns net curl -sf -m 5 --cacert "$ETCD_CA" -X POST "$ep/v3/kv/range" -d '{"key":"Lw=="}'
vxt_fail "etcd refuses a certificate from another CA" \
	vxt_ns net curl -sf -m 5 --cacert "$ETCD_CA" --cert "$ETCD_ROGUE_CERT" \
	--key "$ETCD_ROGUE_KEY" -X POST "$ep/v3/kv/range" -d '{"key":"Lw=="}'
printf 'not-the-password\n' >"$VXT_WORK/wrong-password"
cp "$VXT_WORK/net/vxcloud.conf" "$VXT_WORK/net/good.conf"
node_conf net password_file="$VXT_WORK/wrong-password"
out=$(cloud 2>&1)
vxt_is "vxcloud with a wrong password is refused by etcd (exit 1)" "$?" 1
vxt_ok "and says so" grep -qi 'auth\|password\|denied\|refused' <<<"$out"
vxt_fail "a push --force with a wrong password is refused" push --force "$VXT_WORK/s1.conf"
cp "$VXT_WORK/net/good.conf" "$VXT_WORK/net/vxcloud.conf"
vxt_ok "and changed nothing: every host still at revision $rev7" every_host_at "$rev7"

# ---- SIGHUP: another NAT driver, the spec still from etcd --------------------------
if [ -f "$VXT_BUILDDIR/plugins/nat/iptables/.libs/iptables.so" ] &&
	command -v iptables-legacy-save >/dev/null; then
	NAT=iptables node_conf net timeout_ms=2500
	kill -HUP "${AGENT_PID[net]}"
	swapped() {
		vxt_vxcloud net status | grep -q '^nat  *r1  *iptables  *ok' && every_host_at "$rev7"
	}
	vxt_ok "SIGHUP with nat = iptables: the agent swaps the driver, the spec stays revision $rev7" \
		vxt_wait_until 300 swapped
	vxt_ok "and reconnects to etcd with its changed settings (timeout_ms)" \
		grep -q 'the etcd settings changed; reconnecting' "$VXT_WORK/net/agent.log"
	vxt_ok "its host is alive again under a new lease" \
		vxt_wait_until 100 eval 'cloud | grep -q "^net  *alive"'
	vxt_is "the floating IP works through iptables" "$(who http://203.0.113.20:8080)" \
		"web1 203.0.113.100"
else
	vxt_diag "no nat/iptables plugin or iptables-legacy: the SIGHUP check is left out"
fi

# ---- a clean stop --------------------------------------------------------------------------
before=$(vxt_snapshot cmp1)
kill -TERM "${AGENT_PID[cmp1]}"
vxt_wait_until 100 eval '! kill -0 "${AGENT_PID[cmp1]}" 2>/dev/null'
# Asked as soon as the agent is gone: a lease left to expire would still
# hold the key for up to $LEASE_TTL_S s.
vxt_is "SIGTERM: the agent revoked its lease, alive/cmp1 went with it" \
	"$(etcd_ctl get --print-value-only "${ETCD_PREFIX}alive/cmp1")" ""
vxt_ok "status --cloud shows cmp1 gone" eval 'host_line cmp1 | grep -q "^cmp1 *gone "'
vxt_is "and its host is left as it was" "$(vxt_snapshot cmp1)" "$before"
for h in net cmp2; do
	kill -TERM "${AGENT_PID[$h]}"
done
vxt_wait_until 100 eval '! kill -0 "${AGENT_PID[net]}" 2>/dev/null &&
	! kill -0 "${AGENT_PID[cmp2]}" 2>/dev/null'
for h in "${HOSTS[@]}"; do
	vxt_ok "destroy on $h" vxt_vxcloud "$h" destroy
done
vxt_done
