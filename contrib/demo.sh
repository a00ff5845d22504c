#!/bin/bash
# The demo cloud: etc/examples/seed.conf, all six steps of the seed, on its
# three hosts (net127, compute1, compute2) as network namespaces on this
# machine, plus a "client" namespace on the provider network playing the
# internet. Outside them only the seed's pages change (/srv/www and an httpd
# link to busybox when missing; `down` removes them).
#
#   contrib/demo.sh up       install dependencies, build, bring the cloud up
#   contrib/demo.sh status   vxcloud status on every host
#   contrib/demo.sh down     vxcloud destroy on every host, remove the hosts
#
# web1 and web2 are Docker containers (compute driver docker) of a private
# dockerd the demo starts (its own socket and data root under
# /tmp/PREFIX-engine, iptables off) and `down` stops; their image is
# busybox-static with the seed's page. `up --netns` (or VXC_DEMO_NETNS=1)
# runs them with the embedded netns driver instead: then the seed's
# `httpd -h /srv/www` runs on this machine's filesystem, and the demo
# provides /srv/www and an httpd link to busybox when they are missing
# (`down` removes what it made).
#
# Environment: VXC_DEMO_PREFIX names the namespaces (default: "vxd" and a
# hash of this checkout's path, so two checkouts keep apart).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
prefix=${VXC_DEMO_PREFIX:-vxd$(printf '%04x' $(($(cksum <<<"$top" | cut -d' ' -f1) % 65536)))}
# A tree already configured in place (`./configure && make`) refuses an
# out-of-tree build: use its build then.
build_dir=$top/_build
[ -f "$top/config.status" ] && build_dir=$top
export VXC_TEST_PREFIX=$prefix VXC_TOP_SRCDIR=$top VXC_TOP_BUILDDIR=$build_dir
spec=$top/etc/examples/seed.conf
hosts=(net127 compute1 compute2)
# What the netns mode made outside the namespaces, for `down` to remove.
made=/var/lib/vxcloud-demo.made
engine=/tmp/$prefix-engine
if [ "${2:-}" = --netns ] || [ "${VXC_DEMO_NETNS:-0}" = 1 ]; then
	container=netns
else
	container=docker
fi

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

# The seed's page, under DIR: a CGI (busybox httpd runs cgi-bin/index.cgi
# for a directory without index.html) naming the instance by its address.
seed_page() { # DIR
	mkdir -p "$1/srv/www/cgi-bin"
	cat >"$1/srv/www/cgi-bin/index.cgi" <<'CGI'
#!/bin/sh
addr=$(ip -o -4 addr show dev eth0 | sed -n 's/.* inet \([0-9.]*\).*/\1/p')
case $addr in 192.168.100.6) who=web1 ;; 192.168.100.7) who=web2 ;; *) who=$addr ;; esac
printf 'Content-Type: text/plain\r\n\r\nThis page is got from %s\n' "$who"
CGI
	chmod -R a+rX "$1/srv/www"
	chmod 0755 "$1/srv/www/cgi-bin/index.cgi"
}

# The netns mode's pages on this machine's filesystem (listed in $made).
host_pages() {
	: >>"$made"
	if ! command -v httpd >/dev/null 2>&1; then
		ln -s "$(command -v busybox)" /usr/local/bin/httpd
		echo /usr/local/bin/httpd >>"$made"
	fi
	[ -e /srv/www ] && ! grep -qx /srv/www "$made" && {
		echo "demo.sh: /srv/www exists and is not the demo's; the pages may not say who answers"
		return 0
	}
	grep -qx /srv/www "$made" || echo /srv/www >>"$made"
	seed_page /
}

# alternates CMD...: four answers of CMD come alternately from web1 and web2.
alternates() {
	local prev="" cur i
	for i in 1 2 3 4; do
		cur=$("$@" 2>/dev/null)
		case $cur in *web1 | *web2) ;; *) return 1 ;; esac
		[ "$cur" != "$prev" ] || return 1
		prev=$cur
	done
	echo "web1 and web2 answer in turn"
}

# alternating CMD...: alternates, given up to 5 s (health checks settle).
alternating() {
	local i
	for ((i = 0; i < 50; i++)); do
		alternates "$@" && return 0
		sleep 0.1
	done
	return 1
}

# ---- the private Docker engine (tests/lib/docker.sh does the work) ----------
. "$top/tests/lib/docker.sh"

start_dockerd() {
	echo "== starting a private dockerd (socket $engine/docker.sock)"
	vxd_start_dockerd "$engine" || exit 1
	seed_page "$engine/overlay"
	vxd_import_busybox busybox:latest "$engine/overlay" ||
		{ echo "cannot import busybox" >&2; exit 1; }
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
	if [ "$container" = docker ] && [ -n "$(vxd_cgroups_ro)" ]; then
		echo "demo.sh: no container can start here (cgroup filesystem $(vxd_cgroups_ro)" \
			"is read-only: is this machine itself a container?); web1 and web2 run" \
			"with the netns driver instead"
		container=netns
	fi
	if [ "$container" = docker ]; then
		start_dockerd
	else
		host_pages
	fi
	for h in "${hosts[@]}"; do
		if [ "$container" = docker ]; then
			vxt_node_conf "$h" spec="$spec" log_level=warning nat=nftables lb=haproxy \
				container=docker docker.socket="$engine/docker.sock" docker.pull=never \
				>/dev/null
		else
			vxt_node_conf "$h" spec="$spec" log_level=warning nat=nftables lb=haproxy \
				>/dev/null
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
	check "the router reaches the load balancer's VIP 192.168.100.8, alternating" \
		alternating vxt_inst_ns net127 vxr-router curl -s -m 3 \
		http://192.168.100.8/
	check "the internet reaches load balancer web on floating IP 200.160.0.5, alternating" \
		alternating vxt_ns client curl -s -m 3 http://200.160.0.5/
	printf '        '
	for i in 1 2 3 4; do
		printf '%s; ' "$(vxt_ns client curl -s -m 3 http://200.160.0.5/)"
	done
	echo
	echo
	echo "Look around (state of the demo in $VXT_WORK):"
	if [ "$container" = docker ]; then
		echo "  docker -H unix://$engine/docker.sock ps                # the containers"
	else
		echo "  nsenter --net=$VXT_WORK/compute1/netns/vxi-web1 sh     # inside web1"
	fi
	echo "  nsenter --net=/run/netns/${P}-net127 ip -br link       # on host net127"
	echo "  nsenter --net=$VXT_WORK/net127/netns/vxr-router nft list ruleset"
	echo "  cat $VXT_WORK/net127/state/haproxy/web/haproxy.cfg    # the load balancer"
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
	if [ -f "$made" ]; then
		tac "$made" | while read -r f; do rm -rf --one-file-system "$f"; done
		rm -f "$made"
	fi
	echo "the demo is down"
}

case ${1:-} in
up) up ;;
status) status ;;
down) down ;;
*) echo "usage: $0 up|status|down" >&2; exit 2 ;;
esac
