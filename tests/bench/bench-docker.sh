#!/bin/bash
# Benchmark of the compute driver "docker": time from `vxcloud apply` to
# every container answering HTTP, for N containers on one simulated host
# whose network and router are already up (made by an untimed apply),
# against the netns driver (the baseline, same spec without the image) in
# the same run; and vxcloud's own share of the docker time: the apply's
# wall time minus the time the driver waited for the engine (its API calls,
# logged by the driver), over the whole time to all answering (own_share);
# and the CPU time (user + system) of the vxcloud process over the same
# whole (own_cpu): own_share also counts waits in the kernel (veth creation
# waits for RCU grace periods) and time lost to the engine's processes
# competing for the CPUs, own_cpu only the work vxcloud itself does.
#
#   VXC_TEST_PREFIX=vxd tests/bench/bench-docker.sh [N...]   (default 10 50)
#
# Root; a private dockerd (tests/lib/docker.sh); prints one line per run.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export VXC_TOP_SRCDIR=${VXC_TOP_SRCDIR:-$top}
export VXC_TOP_BUILDDIR=${VXC_TOP_BUILDDIR:-$top/_build}
. "$VXC_TOP_SRCDIR/tests/lib/harness.sh"
. "$VXC_TOP_SRCDIR/tests/lib/docker.sh"
[ "$(id -u)" = 0 ] || { echo "bench-docker: needs root" >&2; exit 77; }
command -v dockerd >/dev/null && command -v busybox >/dev/null || {
	echo "bench-docker: needs dockerd and busybox" >&2; exit 77; }
[ -f "$VXT_BUILDDIR/plugins/compute/docker/.libs/docker.so" ] || {
	echo "bench-docker: compute/docker not built" >&2; exit 77; }
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 50)

vxt_init bench
trap 'vxd_stop_engine; vxt_cleanup' EXIT
trap 'vxd_stop_engine; vxt_cleanup; trap - EXIT; exit 130' INT
trap 'vxd_stop_engine; vxt_cleanup; trap - EXIT; exit 143' TERM
vxt_add_host h1 192.0.2.1/24 >/dev/null
vxd_start_engine dockerd "$VXT_WORK/engine" || vxt_bail "cannot start dockerd"
vxd_import_busybox busybox:latest || vxt_bail "cannot import busybox"
www=$VXT_WORK/www
mkdir -p "$www"
echo ok >"$www/index.html"
chmod -R a+rX "$www"

spec() { # DRIVER N
	local i
	{
		cat <<EOF
hosts = ( { name = "h1"; tunnel = "192.0.2.1"; } );
provider = { bridge = "br-prov"; cidr = "203.0.113.0/24"; gateway = "203.0.113.1";
  range = [ "203.0.113.10", "203.0.113.20" ]; };
networks = ( { name = "blue"; vni = 1001; cidr = "10.0.0.0/22"; gateway = "10.0.0.1"; } );
routers = ( { name = "r1"; host = "h1"; external = "203.0.113.10"; networks = [ "blue" ];
  snat = false; } );
instances = (
EOF
		for ((i = 0; i < $2; i++)); do
			[ "$i" = 0 ] || printf ','
			printf '{ name = "c%d"; kind = "container"; host = "h1"; network = "blue"; ' "$i"
			printf 'address = "10.0.%d.%d"; ' $(((i + 10) / 250)) $(((i + 10) % 250 + 2))
			if [ "$1" = docker ]; then
				printf 'image = "busybox"; command = [ "httpd", "-f", "-p", "80", '
				printf '"-h", "/srv/www" ]; }\n'
			else
				printf 'command = [ "busybox", "httpd", "-f", "-p", "80", '
				printf '"-h", "%s" ]; }\n' "$www"
			fi
		done
		echo ");"
	} >"$VXT_WORK/cloud.conf"
}

now() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }

# Every container answers, probed from the router's namespace on the
# tenant network, in order; each probe retried until it answers.
all_answer() { # N
	local i addr
	for ((i = 0; i < $1; i++)); do
		addr=10.0.$(((i + 10) / 250)).$(((i + 10) % 250 + 2))
		until vxt_inst_ns h1 vxr-r1 sh -c \
			"printf 'GET / HTTP/1.0\r\n\r\n' | busybox nc -w 2 $addr 80" 2>/dev/null |
			grep -q '^HTTP/1.[01] 200'; do
			sleep 0.02
		done
	done
}

run() { # DRIVER N: prints apply ms, answering ms, engine ms, vxcloud CPU ms
	local t0 t1 t2 engine cpu TIMEFORMAT='%3U %3S'
	vxt_node_conf h1 container="$1" docker.socket="$VXD_SOCK" docker.pull=never \
		docker.stop_timeout_ms=1000 log_level=warning >/dev/null
	# the network and router first, untimed: what is timed is the containers
	spec "$1" 0
	vxt_vxcloud h1 apply >"$VXT_WORK/apply.log" 2>&1 || {
		tail -n 5 "$VXT_WORK/apply.log" >&2
		return 1
	}
	spec "$1" "$2"
	t0=$(now)
	{ time vxt_vxcloud h1 -vv apply >"$VXT_WORK/apply.log" 2>&1; } 2>"$VXT_WORK/cpu" || {
		tail -n 5 "$VXT_WORK/apply.log" >&2
		return 1
	}
	t1=$(now)
	cpu=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$VXT_WORK/cpu")
	timeout 120 bash -c "$(declare -f all_answer vxt_inst_ns); P=$P VXT_WORK=$VXT_WORK all_answer $2" ||
		return 1
	t2=$(now)
	engine=$(grep -oE 'compute/docker: [0-9]+ engine API calls, [0-9.]+ ms' "$VXT_WORK/apply.log" |
		awk '{print $6}')
	echo "$(ms "$t0" "$t1") $(ms "$t0" "$t2") ${engine:-0} $cpu"
	vxt_vxcloud h1 destroy >/dev/null 2>&1 || return 1
}

printf '%-7s %4s %9s %14s %12s %10s %10s %8s\n' driver N apply_ms all_answer_ms \
	per_inst_ms engine_ms own_share own_cpu
for n in "${sizes[@]}"; do
	for drv in netns docker; do
		read -r apply total engine cpu < <(run "$drv" "$n") || vxt_bail "$drv with $n failed"
		[ -n "${total:-}" ] || vxt_bail "$drv with $n failed"
		if [ "$drv" = docker ]; then
			own=$(awk -v a="$apply" -v e="$engine" -v t="$total" \
				'BEGIN { printf "%.1f%%", 100 * (a - e) / t }')
			ratio=$(awk -v d="$total" -v b="$base" 'BEGIN { printf "%.2f", d / b }')
			cpus=$(awk -v c="$cpu" -v t="$total" 'BEGIN { printf "%.1f%%", 100 * c / t }')
		else
			own=- base=$total engine=- cpus=- # (a stale-object listing may call the engine)
		fi
		printf '%-7s %4d %9d %14d %12.1f %10s %10s %8s\n' "$drv" "$n" "$apply" "$total" \
			"$(awk -v t="$total" -v n="$n" 'BEGIN { print t / n }')" "$engine" "$own" "$cpus"
	done
	echo "        docker/netns time to all answering for $n: ${ratio}x"
done
