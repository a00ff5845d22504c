#!/bin/bash
# The demo cloud: the seed's three hosts (net127, compute1, compute2) as
# network namespaces on this machine, plus a "client" namespace on the
# provider network playing the internet. Nothing outside them changes.
#
#   contrib/demo.sh up       install dependencies, build, bring the cloud up
#   contrib/demo.sh status   vxcloud status on every host
#   contrib/demo.sh down     vxcloud destroy on every host, remove the hosts
#
# web1 and web2 are Docker containers (compute driver docker) of a private
# dockerd the demo starts (its own socket and data root under
# /tmp/vxcloud-demo/engine, iptables off) and `down` stops. `up --netns` (or
# VXC_DEMO_NETNS=1) runs them with the embedded netns driver instead.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
export VXC_TEST_PREFIX=vxdemo VXC_TOP_SRCDIR=$top VXC_TOP_BUILDDIR=$top/_build
spec=$top/contrib/demo/cloud.conf
www=/tmp/vxcloud-demo/www
hosts=(net127 compute1 compute2)
engine=/tmp/vxcloud-demo/engine
if [ "${2:-}" = --netns ] || [ "${VXC_DEMO_NETNS:-0}" = 1 ]; then
	container=netns
else
	container=docker
	spec=$top/contrib/demo/cloud-docker.conf
fi

[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (it makes network namespaces)" >&2; exit 1; }

build() {
	contrib/deps.sh
	if [ ! -x "$VXC_TOP_BUILDDIR/core/vxcloud" ]; then
		echo "building in $VXC_TOP_BUILDDIR"
		autoreconf -fi >/dev/null 2>&1
		mkdir -p "$VXC_TOP_BUILDDIR"
		(cd "$VXC_TOP_BUILDDIR" && "$top/configure" -q && make -j2) >"$top/_build.log" 2>&1 ||
			{ tail -n 30 "$top/_build.log"; exit 1; }
	fi
}

# The test harness builds the simulated hosts; the demo keeps them after
# it exits. (Sourced at top level: its arrays must stay global.)
. "$top/tests/lib/harness.sh"
P=$VXT_BASE
VXT_WORK=$(ls -d /tmp/${P}-work.* 2>/dev/null | head -n1 || true)

# ---- the private Docker engine (tests/lib/docker.sh does the work) ----------
. "$top/tests/lib/docker.sh"

start_dockerd() {
	echo "== starting a private dockerd (socket $engine/docker.sock)"
	vxd_start_dockerd "$engine" || exit 1
	vxd_import_busybox busybox:latest || { echo "cannot import busybox" >&2; exit 1; }
}

# dockerd of an earlier `up`, found by its pid file and checked by name.
stop_dockerd() {
	local pid
	[ -f "$engine/docker.pid" ] || return 0
	pid=$(cat "$engine/docker.pid")
	VXD_DIR=$engine VXD_SOCK=$engine/docker.sock VXD_PID=
	[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(command -v dockerd)" ] && VXD_PID=$pid
	echo "== stopping the demo's dockerd"
	vxd_stop_dockerd
}

# in_web NAME CMD...: CMD in the network namespace of instance NAME.
in_web() {
	local name=$1 host=compute1 pid
	shift
	[ "$name" = web2 ] && host=compute2
	if [ "$container" = netns ]; then
		vxt_inst_ns "$host" "vxi-$name" "$@"
		return
	fi
	pid=$(VXD_SOCK=$engine/docker.sock vxd_api GET "/containers/$name/json" |
		grep -oE '"Pid":[0-9]+' | cut -d: -f2)
	nsenter --net="/proc/${pid:-0}/ns/net" -- "$@"
}

check() { # DESCRIPTION CMD...: runs CMD, prints its last output line
	local out
	if out=$("${@:2}" 2>&1); then
		printf '  ok    %s: %s\n' "$1" "$(tail -n1 <<<"$out")"
	else
		printf '  FAIL  %s: %s\n' "$1" "$(tail -n1 <<<"$out")"
	fi
}

up() {
	build
	vxt_init ""
	trap - EXIT INT TERM
	vxt_add_host net127 10.0.0.127/24
	vxt_add_host compute1 10.0.0.1/24
	vxt_add_host compute2 10.0.0.2/24
	vxt_add_client 200.160.0.100/24 200.160.0.1/24
	[ "$container" = docker ] && start_dockerd
	for w in web1 web2; do
		mkdir -p "$www/$w"
		echo "This page is got from $w" >"$www/$w/index.html"
	done
	for h in "${hosts[@]}"; do
		if [ "$container" = docker ]; then
			vxt_node_conf "$h" spec="$spec" log_level=warning nat=nftables container=docker \
				docker.socket="$engine/docker.sock" docker.pull=never >/dev/null
		else
			vxt_node_conf "$h" spec="$spec" log_level=warning nat=nftables >/dev/null
		fi
		echo "== vxcloud apply on $h"
		vxt_vxcloud "$h" apply
	done
	echo
	echo "== what the demo shows"
	echo "web1 and web2 run as: $container containers"
	check "web1 (compute1) pings web2 (compute2) over VXLAN" \
		in_web web1 ping -c1 -W2 192.168.100.7
	check "web1 fetches web2's page across hosts" \
		in_web web1 curl -s -m 3 http://192.168.100.7:9898/
	check "web2 pings its gateway, the router on net127" \
		in_web web2 ping -c1 -W2 192.168.100.1
	check "the internet reaches web1 on floating IP 200.160.0.6" \
		vxt_ns client curl -s -m 3 http://200.160.0.6:9898/
	check "the internet reaches web2 on floating IP 200.160.0.7" \
		vxt_ns client curl -s -m 3 http://200.160.0.7:9898/
	echo
	echo "Look around (state of the demo in $VXT_WORK):"
	if [ "$container" = docker ]; then
		echo "  docker -H unix://$engine/docker.sock ps                # the containers"
	else
		echo "  nsenter --net=$VXT_WORK/compute1/netns/vxi-web1 sh     # inside web1"
	fi
	echo "  nsenter --net=/run/netns/${P}-net127 ip -br link       # on host net127"
	echo "  nsenter --net=$VXT_WORK/net127/netns/vxr-router nft list ruleset"
	echo "  contrib/demo.sh status                                 # vxcloud status everywhere"
	echo "Take it down with: contrib/demo.sh down"
}

status() {
	[ -n "$VXT_WORK" ] || { echo "the demo is not up"; exit 1; }
	for h in "${hosts[@]}"; do
		echo "== $h"
		vxt_vxcloud "$h" status || true
	done
}

down() {
	if [ -n "$VXT_WORK" ]; then
		for h in "${hosts[@]}"; do
			[ -f "$VXT_WORK/$h/vxcloud.conf" ] || continue
			echo "== vxcloud destroy on $h"
			vxt_vxcloud "$h" destroy || true
		done
	fi
	stop_dockerd
	vxt_cleanup
	rm -rf /tmp/vxcloud-demo
	echo "the demo is down"
}

case ${1:-} in
up) up ;;
status) status ;;
down) down ;;
*) echo "usage: $0 up|status|down" >&2; exit 2 ;;
esac
