#!/bin/bash
# The demo cloud: the seed's three hosts (net127, compute1, compute2) as
# network namespaces on this machine, plus a "client" namespace on the
# provider network playing the internet. Nothing outside them changes.
#
#   contrib/demo.sh up       install dependencies, build, bring the cloud up
#   contrib/demo.sh status   vxcloud status on every host
#   contrib/demo.sh down     vxcloud destroy on every host, remove the hosts
#
# Environment: VXC_DEMO_PREFIX names the namespaces (default: "vxd" and a
# hash of this checkout's path, so two checkouts keep apart); VXC_DEMO_DIR
# holds the pages the instances serve (default: the demo's work dir,
# /tmp/PREFIX-work.*, removed by `down`).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
prefix=${VXC_DEMO_PREFIX:-vxd$(printf '%04x' $(($(cksum <<<"$top" | cut -d' ' -f1) % 65536)))}
# A tree already configured in place (`./configure && make`) refuses an
# out-of-tree build: use its build then.
build_dir=$top/_build
[ -f "$top/config.status" ] && build_dir=$top
export VXC_TEST_PREFIX=$prefix VXC_TOP_SRCDIR=$top VXC_TOP_BUILDDIR=$build_dir
spec_template=$top/contrib/demo/cloud.conf
hosts=(net127 compute1 compute2)

[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (it makes network namespaces)" >&2; exit 1; }

build() {
	contrib/deps.sh
	[ -x "$build_dir/core/vxcloud" ] && return 0
	echo "building in $build_dir"
	if [ "$build_dir" = "$top" ]; then
		make -j2 >"$top/_build.log" 2>&1 || { tail -n 30 "$top/_build.log"; exit 1; }
		return 0
	fi
	autoreconf -fi >/dev/null 2>&1
	mkdir -p "$build_dir"
	(cd "$build_dir" && "$top/configure" -q && make -j2) >"$top/_build.log" 2>&1 ||
		{ tail -n 30 "$top/_build.log"; exit 1; }
}

# The test harness builds the simulated hosts; the demo keeps them after
# it exits. (Sourced at top level: its arrays must stay global.)
. "$top/tests/lib/harness.sh"
P=$VXT_BASE
VXT_WORK=$(ls -d /tmp/${P}-work.* 2>/dev/null | head -n1 || true)

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
	local www=${VXC_DEMO_DIR:-$VXT_WORK}/www spec=$VXT_WORK/demo.conf
	sed "s|@WWW@|$www|g" "$spec_template" >"$spec"
	for w in web1 web2; do
		mkdir -p "$www/$w"
		echo "This page is got from $w" >"$www/$w/index.html"
	done
	for h in "${hosts[@]}"; do
		vxt_node_conf "$h" spec="$spec" log_level=warning nat=nftables >/dev/null
		echo "== vxcloud apply on $h"
		vxt_vxcloud "$h" apply
	done
	echo
	echo "== what the demo shows"
	check "web1 (compute1) pings web2 (compute2) over VXLAN" \
		vxt_inst_ns compute1 vxi-web1 ping -c1 -W2 192.168.100.7
	check "web1 fetches web2's page across hosts" \
		vxt_inst_ns compute1 vxi-web1 curl -s -m 3 http://192.168.100.7:9898/
	check "web2 pings its gateway, the router on net127" \
		vxt_inst_ns compute2 vxi-web2 ping -c1 -W2 192.168.100.1
	check "the internet reaches web1 on floating IP 200.160.0.6" \
		vxt_ns client curl -s -m 3 http://200.160.0.6:9898/
	check "the internet reaches web2 on floating IP 200.160.0.7" \
		vxt_ns client curl -s -m 3 http://200.160.0.7:9898/
	echo
	echo "Look around (state of the demo in $VXT_WORK):"
	echo "  nsenter --net=$VXT_WORK/compute1/netns/vxi-web1 sh     # inside web1"
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
	vxt_cleanup
	[ -z "${VXC_DEMO_DIR:-}" ] || rm -rf "$VXC_DEMO_DIR/www"
	echo "the demo is down"
}

case ${1:-} in
up) up ;;
status) status ;;
down) down ;;
*) echo "usage: $0 up|status|down" >&2; exit 2 ;;
esac
