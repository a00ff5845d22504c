#!/bin/bash
# Crash injection: `vxcloud apply` and `vxcloud destroy` SIGKILLed at their
# netlink sends, renames and unlinks (strace -e inject=SYSCALL:signal=KILL:
# when=N) and at random moments, on a realistic host: provider with an
# uplink, three networks, a router with SNAT and floating IPs, instances
# with commands (one of them `sh -c "exec sleep ..."`), with each NAT driver.
#
# After a killed apply: the next apply succeeds, plan exits 0, every command
# runs exactly once; then destroy leaves the host's snapshot identical to
# the one before the first apply and no command running. After a killed
# destroy: the next destroy does the same.
#
# Every kill point runs when VXC_CRASH_ALL=1 (about 450, 6-7 minutes);
# otherwise every VXC_CRASH_STRIDE-th one (by default the stride that gives
# about 40 per driver, about a minute and a half in all),
# plus VXC_CRASH_RANDOM (default 3) random moments per driver. The closing
# lines give, for apply and destroy: kill points tried, converged, processes
# orphaned.
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
vxt_require_root
vxt_require_cmd strace nft iptables-legacy-save
vxt_init crash
vxt_add_host h1 10.51.0.1/24

# Unique arguments: these processes are found by their command line alone,
# independently of vxcloud's own owner mark.
cmds=(60001 60002 60003 60004)
cat >"$VXT_WORK/cloud.conf" <<CONF
hosts = ( { name = "h1"; tunnel = "10.51.0.1"; }, { name = "h2"; tunnel = "10.51.0.2"; } );
provider = { bridge = "br-prov"; uplink = "uplink"; cidr = "203.0.113.0/24";
  gateway = "203.0.113.1"; range = [ "203.0.113.10", "203.0.113.90" ]; };
networks = (
  { name = "blue"; vni = 51; cidr = "10.52.0.0/24"; gateway = "10.52.0.1"; mtu = 1400; },
  { name = "green"; vni = 52; cidr = "10.53.0.0/24"; gateway = "10.53.0.1"; mtu = 1400; },
  { name = "red"; vni = 53; cidr = "10.54.0.0/24"; gateway = "10.54.0.1"; mtu = 1400; }
);
routers = ( { name = "r1"; host = "h1"; external = "203.0.113.10";
  networks = [ "blue", "green", "red" ]; snat = true; } );
instances = (
  { name = "a1"; kind = "container"; host = "h1"; network = "blue"; address = "10.52.0.11";
    command = [ "sleep", "${cmds[0]}" ]; },
  { name = "a2"; kind = "container"; host = "h1"; network = "blue"; address = "10.52.0.12";
    command = [ "sleep", "${cmds[1]}" ]; },
  { name = "b1"; kind = "container"; host = "h1"; network = "green"; address = "10.53.0.11";
    command = [ "sleep", "${cmds[2]}" ]; },
  { name = "c1"; kind = "container"; host = "h1"; network = "red"; address = "10.54.0.11";
    command = [ "/bin/sh", "-c", "exec sleep ${cmds[3]}" ]; },
  { name = "c2"; kind = "container"; host = "h2"; network = "red"; address = "10.54.0.12"; }
);
floating_ips = (
  { address = "203.0.113.21"; router = "r1"; target = "a1"; },
  { address = "203.0.113.22"; router = "r1"; target = "a2"; },
  { address = "203.0.113.23"; router = "r1"; target = "b1"; },
  { address = "203.0.113.24"; router = "r1"; target = "c1"; },
  { address = "203.0.113.25"; router = "r1"; target = "c2"; }
);
CONF

log=$VXT_WORK/run.log
# Kill points: netlink sends (libnl: sendmsg; libmnl: sendto), renames and
# unlinks (state files, records, namespace files).
syscalls=(sendmsg sendto rename renameat renameat2 unlink unlinkat)

vx() { vxt_vxcloud h1 "$@" >>"$log" 2>&1; }

# vx_killed SYSCALL N CMD...: CMD killed at the Nth SYSCALL of the vxcloud
# process itself (not -f: daemons it starts must not be traced).
vx_killed() {
	local sc=$1 n=$2
	shift 2
	# In a subshell: its "Killed" notice goes to /dev/null, not the TAP stream.
	(nsenter --net="/run/netns/${P}-h1" -- strace -qq -o /dev/null -e trace="$sc" \
		-e inject="$sc:signal=KILL:when=$n" "$VXT_BUILDDIR/core/vxcloud" \
		--config "$VXT_WORK/h1/vxcloud.conf" "$@" >>"$log" 2>&1) 2>/dev/null
}

# How many times apply (from a clean host) or destroy (of an applied host)
# makes each syscall: the kill points.
count_calls() { # CMD
	local out=$VXT_WORK/count.$1
	nsenter --net="/run/netns/${P}-h1" -- strace -qq -o "$out" \
		-e trace="$(IFS=,; echo "${syscalls[*]}")" "$VXT_BUILDDIR/core/vxcloud" \
		--config "$VXT_WORK/h1/vxcloud.conf" "$1" >>"$log" 2>&1
	for sc in "${syscalls[@]}"; do
		printf '%s %s\n' "$sc" "$(grep -c "^$sc(" "$out")"
	done
}

# PIDs running command I (by its unique argument) that this test's vxcloud
# started: their owner mark names our state directory. Another run of this
# test on the machine (a container's, whose processes show here too) has
# the same commands and is none of ours.
ours() {
	local pid
	for pid in $(pgrep -f "sleep ${cmds[$1]}\$"); do
		tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null |
			grep -q "^VXCLOUD_OWNER=$VXT_WORK/" && echo "$pid"
	done
}

n_running() {
	ours "$1" | wc -l
}

duplicates() {
	local i n bad=
	for i in "${!cmds[@]}"; do
		n=$(n_running "$i")
		[ "$n" = 1 ] || bad+=" sleep ${cmds[$i]}: $n"
	done
	printf '%s' "$bad"
}

# Kills what is left of the commands (by PID, after counting them).
orphans() {
	local i pid n=0
	for i in "${!cmds[@]}"; do
		for pid in $(ours "$i"); do
			kill -KILL "$pid" 2>/dev/null && n=$((n + 1))
		done
	done
	echo "$n"
}

declare -A tried=() converged=() orphaned=()

# One killed apply: then apply, plan, processes, destroy, snapshot.
check_apply_after_kill() { # WHAT
	local what=$1 rc=0 prc=0 dup orph snap
	vx apply || rc=$?
	vx plan || prc=$?
	dup=$(duplicates)
	vx destroy || true
	snap=$(vxt_snapshot h1)
	orph=$(orphans)
	tried[apply]=$((${tried[apply]:-0} + 1))
	orphaned[apply]=$((${orphaned[apply]:-0} + orph))
	if [ "$rc" = 0 ] && [ "$prc" = 0 ] && [ -z "$dup" ] && [ "$orph" = 0 ] &&
		[ "$snap" = "$before" ]; then
		converged[apply]=$((${converged[apply]:-0} + 1))
		vxt_pass "$drv: apply killed $what: converges, one copy each, destroy clean"
	else
		vxt_flunk "$drv: apply killed $what: converges, one copy each, destroy clean" \
			"next apply exit $rc, plan exit $prc, duplicates:${dup:- none}," \
			"orphans after destroy: $orph" \
			"$(diff <(echo "$before") <(echo "$snap") | head -20)" "$(tail -15 "$log")"
		vx destroy || true
	fi
}

check_destroy_after_kill() { # WHAT
	local what=$1 rc=0 snap orph
	vx destroy || rc=$?
	snap=$(vxt_snapshot h1)
	orph=$(orphans)
	tried[destroy]=$((${tried[destroy]:-0} + 1))
	orphaned[destroy]=$((${orphaned[destroy]:-0} + orph))
	if [ "$rc" = 0 ] && [ "$orph" = 0 ] && [ "$snap" = "$before" ]; then
		converged[destroy]=$((${converged[destroy]:-0} + 1))
		vxt_pass "$drv: destroy killed $what: the next destroy leaves the host as it was"
	else
		vxt_flunk "$drv: destroy killed $what: the next destroy leaves the host as it was" \
			"next destroy exit $rc, orphans: $orph" \
			"$(diff <(echo "$before") <(echo "$snap") | head -20)" "$(tail -15 "$log")"
		vx destroy || true
	fi
}

# Kill points 1..COUNT of one syscall, every STRIDE-th (offset so that
# different syscalls do not all start at 1), always including the last.
points() { # COUNT STRIDE SALT
	local count=$1 stride=$2 salt=$3 n last=0
	[ "$count" -gt 0 ] || return 0
	for ((n = 1 + salt % stride; n <= count; n += stride)); do
		echo "$n"
		last=$n
	done
	[ "$last" = "$count" ] || echo "$count"
}

# kill_after MS CMD: CMD SIGKILLed MS milliseconds after it started.
kill_after() {
	local ms=$1 pid
	(
		nsenter --net="/run/netns/${P}-h1" -- "$VXT_BUILDDIR/core/vxcloud" \
			--config "$VXT_WORK/h1/vxcloud.conf" "$2" >>"$log" 2>&1 &
		pid=$!
		sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid"
	) 2>/dev/null
}

all=${VXC_CRASH_ALL:-0}
n_random=${VXC_CRASH_RANDOM:-3}
for drv in iptables nftables; do
	vxt_node_conf h1 nat="$drv" >/dev/null
	before=$(vxt_snapshot h1)
	declare -A acount=() dcount=()
	while read -r sc n; do acount[$sc]=$n; done < <(count_calls apply)
	vxt_ok "$drv: a clean apply runs every command once" test -z "$(duplicates)"
	vx plan
	while read -r sc n; do dcount[$sc]=$n; done < <(count_calls destroy)
	vxt_is "$drv: a clean destroy leaves the host as it was" "$(vxt_snapshot h1)" "$before"
	vxt_diag "$drv: apply makes $(for s in "${syscalls[@]}"; do printf '%s=%s ' "$s" "${acount[$s]}"; done)"
	vxt_diag "$drv: destroy makes $(for s in "${syscalls[@]}"; do printf '%s=%s ' "$s" "${dcount[$s]}"; done)"
	total=0
	for sc in "${syscalls[@]}"; do total=$((total + acount[$sc] + dcount[$sc])); done
	# CI: about 40 kill points per driver (the stride is reported).
	stride=${VXC_CRASH_STRIDE:-$(((total + 39) / 40))}
	[ "$all" = 1 ] && stride=1
	[ "$stride" -ge 1 ] || stride=1
	vxt_diag "$drv: $total kill points, trying every ${stride}th"
	salt=0
	for sc in "${syscalls[@]}"; do
		for n in $(points "${acount[$sc]}" "$stride" "$salt"); do
			vx_killed "$sc" "$n" apply
			check_apply_after_kill "at $sc #$n"
		done
		salt=$((salt + 1))
	done
	for sc in "${syscalls[@]}"; do
		for n in $(points "${dcount[$sc]}" "$stride" "$salt"); do
			vx apply || true
			vx_killed "$sc" "$n" destroy
			check_destroy_after_kill "at $sc #$n"
		done
		salt=$((salt + 1))
	done
	# Random moments: a background apply (or destroy) killed after a random
	# part of the time a whole one takes.
	t0=$(date +%s%N)
	vx apply
	span_ms=$((($(date +%s%N) - t0) / 1000000 + 1))
	vx destroy
	for ((i = 0; i < n_random; i++)); do
		ms=$((RANDOM % span_ms))
		kill_after "$ms" apply
		check_apply_after_kill "after ${ms} ms (of ${span_ms})"
		vx apply || true
		kill_after "$((ms / 2))" destroy
		check_destroy_after_kill "after $((ms / 2)) ms"
	done
	unset acount dcount
done
for what in apply destroy; do
	vxt_diag "crash summary: $what: kill points tried ${tried[$what]:-0}," \
		"converged ${converged[$what]:-0}, processes orphaned ${orphaned[$what]:-0}"
done
vxt_done
