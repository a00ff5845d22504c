#!/bin/bash
# The agents on etcd (issue 14): N simulated hosts, each with its vxcloudd
# taking the spec from a three-member etcd cluster (TLS, auth;
# tests/lib/etcd.sh), a spec of INSTANCES instances (netns compute, spread
# over the hosts). Measures, from the status documents the agents write
# (their written_ms, so the polling here does not add to the figures):
#  - empty store to converged: from the first `vxcloud push` until the last
#    host reported that revision applied;
#  - REPS one-object changes (an instance added on the first host, then
#    removed again): from the push until every host reported the new
#    revision applied, against the push's own round trip (the baseline);
#  - bytes each agent's watch connection read per change (its local
#    status, rx_bytes), against the spec's size.
# As root, from the build tree:
#   VXC_TEST_PREFIX=vxb VXC_TOP_SRCDIR=.. VXC_TOP_BUILDDIR=. \
#       bash ../tests/bench/bench-etcd-agent.sh [N [INSTANCES [REPS]]]
set -u
VXC_TOP_SRCDIR=${VXC_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
VXC_TOP_BUILDDIR=${VXC_TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export VXC_TOP_SRCDIR VXC_TOP_BUILDDIR
. "$VXC_TOP_SRCDIR/tests/lib/harness.sh"
. "$VXC_TOP_SRCDIR/tests/lib/etcd.sh"
vxt_require_root
vxt_require_cmd busybox
etcd_require
N=${1:-20}
INSTANCES=${2:-1000}
REPS=${3:-5}
AGENT=$VXT_BUILDDIR/core/vxcloudd
[ -x "$AGENT" ] || vxt_bail "$AGENT not built"
vxt_init etcdab
hosts=()
for ((i = 1; i <= N; i++)); do
	h=$(printf 'h%02d' "$i")
	vxt_add_host "$h" "10.61.0.$i/24"
	hosts+=("$h")
done
etcd_cluster_start 3

# spec FILE [EXTRA]: INSTANCES instances round-robin over the hosts, and
# with EXTRA one more on the first host.
spec() {
	{
		printf 'hosts = (\n'
		for ((i = 1; i <= N; i++)); do
			printf '  { name = "h%02d"; tunnel = "10.61.0.%d"; }%s\n' "$i" "$i" \
				"$([ "$i" -lt "$N" ] && echo ,)"
		done
		printf ');\nnetworks = ( { name = "blue"; vni = 61; cidr = "10.62.0.0/16";'
		printf ' gateway = "10.62.0.1"; mtu = 1400; } );\ninstances = (\n'
		for ((i = 0; i < INSTANCES; i++)); do
			printf '  { name = "i%d"; kind = "container"; host = "h%02d"; network = "blue";' \
				"$i" $((i % N + 1))
			printf ' address = "10.62.%d.%d"; command = [ "busybox", "sleep", "1000000" ]; }%s\n' \
				$((i / 250)) $((i % 250 + 2)) "$([ "$i" -lt $((INSTANCES - 1)) ] || [ -n "${2:-}" ] && echo ,)"
		done
		[ -z "${2:-}" ] || printf '  { name = "extra"; kind = "container"; host = "h01";
    network = "blue"; address = "10.62.255.2"; command = [ "busybox", "sleep", "1000000" ]; }\n'
		printf ');\n'
	} >"$1"
}
spec "$VXT_WORK/base.conf"
spec "$VXT_WORK/plus.conf" extra

for h in "${hosts[@]}"; do
	vxt_node_conf "$h" spec= log_level=warning >/dev/null
	etcd_node_conf_group >>"$VXT_WORK/$h/vxcloud.conf"
	vxt_bg vxt_ns "$h" "$AGENT" --config "$VXT_WORK/$h/vxcloud.conf" --interval 3600 \
		2>>"$VXT_WORK/$h/agent.log"
done
for h in "${hosts[@]}"; do
	vxt_wait_until 300 test -S "$VXT_WORK/$h/state/agent.sock" || vxt_bail "agent on $h"
done

now_ms() { local t=${EPOCHREALTIME/./}; printf '%s\n' "${t:0:-3}"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# all_at REV: every host's document says REV applied; prints the latest
# written_ms among them.
all_at() {
	local docs n
	docs=$(etcd_ctl get --prefix "${ETCD_PREFIX}status/" --print-value-only) || return 1
	n=$(grep -c "\"spec_revision_applied\":$1[,}]" <<<"$docs")
	[ "$n" = "$N" ] || return 1
	grep -o '"written_ms":[0-9]*' <<<"$docs" | cut -d: -f2 | sort -n | tail -n 1
}

# wait_all REV: polls (bounded, 10 minutes) until all_at REV; prints its ms.
wait_all() {
	local i last
	for ((i = 0; i < 2400; i++)); do
		last=$(all_at "$1") && { printf '%s\n' "$last"; return 0; }
		sleep 0.25
	done
	return 1
}

rx_total() { # the sum of every agent's watch bytes
	local h sum=0 b
	for h in "${hosts[@]}"; do
		b=$(vxt_vxcloud "$h" --json status 2>/dev/null | grep -o '"rx_bytes":[0-9]*' |
			cut -d: -f2)
		sum=$((sum + ${b:-0}))
	done
	printf '%s\n' "$sum"
}

push() {
	vxt_vxcloud "${hosts[0]}" push --force "$1"
}

t0=$(now_ms)
rev=$(push "$VXT_WORK/base.conf") || vxt_bail "push failed"
last=$(wait_all "$rev") || vxt_bail "the hosts did not converge to revision $rev"
first_ms=$((last - t0))

lat=() put=()
rx0=$(rx_total)
for ((r = 0; r < REPS; r++)); do
	f=$VXT_WORK/plus.conf
	[ $((r % 2)) = 0 ] || f=$VXT_WORK/base.conf
	t0=$(now_ms)
	rev=$(push "$f") || vxt_bail "push failed"
	put+=($(($(now_ms) - t0)))
	last=$(wait_all "$rev") || vxt_bail "the hosts did not converge to revision $rev"
	lat+=($((last - t0)))
done
rx1=$(rx_total)
size=$(stat -c %s "$VXT_WORK/base.conf")
lm=$(printf '%s\n' "${lat[@]}" | median)
lx=$(printf '%s\n' "${lat[@]}" | sort -n | tail -n 1)
pm=$(printf '%s\n' "${put[@]}" | median)
awk -v n="$N" -v inst="$INSTANCES" -v reps="$REPS" -v first="$first_ms" -v lm="$lm" \
	-v lx="$lx" -v pm="$pm" -v rx=$((rx1 - rx0)) -v size="$size" 'BEGIN {
	printf "%d hosts, %d instances, spec %d bytes, %d one-object changes\n", n, inst, size, reps
	printf "empty store to all converged        %9.0f ms\n", first
	printf "push (baseline, median)             %9.1f ms   1.00x\n", pm
	printf "push to all converged, median       %9.1f ms   %.1fx the push\n", lm, lm / pm
	printf "push to all converged, worst        %9.1f ms   %.1fx the push\n", lx, lx / pm
	printf "read per host per change            %9.0f bytes %.2fx the spec\n",
		rx / n / reps, rx / n / reps / size
}'
vxt_cleanup
