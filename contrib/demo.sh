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
spec=$top/etc/examples/seed.conf
hosts=(net127 compute1 compute2)
# The seed's instances run `httpd -f -p 9898 -h /srv/www`. Under the netns
# compute driver that is the host's filesystem: the demo provides an httpd
# (busybox) and /srv/www, whose page says which instance answers, when
# they are missing, and `down` removes what it made (listed in $made).
made=/var/lib/vxcloud-demo.made

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

# The seed's page: a CGI (busybox httpd runs cgi-bin/index.cgi for a
# directory without index.html) naming the instance by its address.
seed_pages() {
	: >>"$made"
	if ! command -v httpd >/dev/null 2>&1; then
		ln -s "$(command -v busybox)" /usr/local/bin/httpd
		echo /usr/local/bin/httpd >>"$made"
	fi
	[ -e /srv/www ] && ! grep -qx /srv/www "$made" && {
		echo "demo.sh: /srv/www exists and is not the demo's; the pages may not say who answers"
		return 0
	}
	mkdir -p /srv/www/cgi-bin
	grep -qx /srv/www "$made" || echo /srv/www >>"$made"
	cat >/srv/www/cgi-bin/index.cgi <<'CGI'
#!/bin/sh
addr=$(ip -o -4 addr show dev eth0 | sed -n 's/.* inet \([0-9.]*\).*/\1/p')
case $addr in 192.168.100.6) who=web1 ;; 192.168.100.7) who=web2 ;; *) who=$addr ;; esac
printf 'Content-Type: text/plain\r\n\r\nThis page is got from %s\n' "$who"
CGI
	chmod -R a+rX /srv/www
	chmod 0755 /srv/www/cgi-bin/index.cgi
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
	seed_pages
	for h in "${hosts[@]}"; do
		vxt_node_conf "$h" spec="$spec" log_level=warning nat=nftables lb=haproxy >/dev/null
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
	echo "  nsenter --net=$VXT_WORK/compute1/netns/vxi-web1 sh     # inside web1"
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
