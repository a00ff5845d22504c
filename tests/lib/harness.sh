# shellcheck shell=bash
# vxcloud test harness: simulated hosts made of network namespaces.
#
# Sourced by root-only shell tests:
#
#   . "$VXC_TOP_SRCDIR/tests/lib/harness.sh"
#   vxt_require_root
#   vxt_init
#   vxt_add_host net127 10.0.0.127/24
#   vxt_add_host compute1 10.0.0.1/24
#   vxt_add_client 200.160.0.100/24 200.160.0.1/24
#   cat >"$VXT_WORK/cloud.conf" <<EOF    # the spec every node config names
#   ...
#   EOF
#   vxt_node_conf compute1 nat=nftables linuxbridge.vxlan_port=4789 >/dev/null
#   before=$(vxt_snapshot compute1)
#   vxt_ok "apply on compute1" vxt_vxcloud compute1 apply
#   vxt_ok "web1 answers" vxt_inst_ns compute1 vxi-web1 ip -4 addr show dev eth0
#   vxt_ok "destroy" vxt_vxcloud compute1 destroy
#   vxt_is "destroy leaves compute1 as it was" "$(vxt_snapshot compute1)" "$before"
#   vxt_done
#
# Layout (nothing in the root namespace changes; every name starts with
# the prefix P = ${VXC_TEST_PREFIX:-vxt} followed by a tag of the test, so
# tests run side by side by `make -j check` do not clean up each other's
# namespaces; see vxt_init):
#
#   ${P}-fabric   namespace holding two bridges: "fabric" (the underlay) and
#                 "provider" (the public network). Host NAME's peers on them
#                 are u-NAME and p-NAME; the client's is p-client.
#   ${P}-NAME     a simulated host: "underlay" (its tunnel address, on
#                 fabric) and "uplink" (no address, on provider; the spec's
#                 provider `uplink = "uplink"` enslaves it).
#   ${P}-client   "the internet": eth0 on provider with a given address and,
#                 optionally, the provider gateway address too.
#
# Host namespaces live in /run/netns (ip netns); the namespaces vxcloud makes
# on host NAME live in that host's own netns_dir, $VXT_WORK/NAME/netns.
#
# Every function returns non-zero on failure; setup functions bail out
# (exit 99, a hard error for automake) since nothing after them makes sense.

# ---------------------------------------------------------------------------
# state

VXT_BASE=${VXC_TEST_PREFIX:-vxt}
P=$VXT_BASE          # the full prefix, set by vxt_init
VXT_WORK=            # per-run work dir, /tmp/${P}-work.XXXXXX
VXT_N=0              # assertions run
VXT_FAILED=0         # assertions failed
VXT_HOSTS=()         # simulated host names, in creation order
VXT_CLEANED=0
VXT_PLUGIN_DIR=
VXT_BG_PID=
declare -A VXT_TUNNEL=()

VXT_BUILDDIR=${VXC_TOP_BUILDDIR:-}

# ---------------------------------------------------------------------------
# reporting

# vxt_diag MSG...: a comment line.
vxt_diag() {
	printf '# %s\n' "$*"
}

# vxt_bail MSG...: stop the test as a hard error (cleanup still runs).
vxt_bail() {
	printf 'Bail out! %s\n' "$*"
	exit 99
}

# vxt_pass DESC: count a passed check.
vxt_pass() {
	VXT_N=$((VXT_N + 1))
	printf 'ok %d - %s\n' "$VXT_N" "$1"
}

# vxt_flunk DESC [DETAIL...]: count a failed check; DETAIL lines become comments.
vxt_flunk() {
	VXT_N=$((VXT_N + 1))
	VXT_FAILED=$((VXT_FAILED + 1))
	printf 'not ok %d - %s\n' "$VXT_N" "$1"
	shift
	local l
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/#   /'
	done
}

# _vxt_check WANT DESC CMD...: runs CMD, output captured; shown when the
# outcome is not the wanted one (WANT = 0: success, 1: failure).
_vxt_check() {
	local want=$1 desc=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if { [ "$want" = 0 ] && [ $rc = 0 ]; } || { [ "$want" = 1 ] && [ $rc != 0 ]; }; then
		vxt_pass "$desc"
		return 0
	fi
	vxt_flunk "$desc" "command: $* (exit $rc)" "$out"
	return 1
}

# vxt_ok DESC CMD...: passes when CMD succeeds.
vxt_ok() {
	_vxt_check 0 "$@"
}

# vxt_fail DESC CMD...: passes when CMD fails (a refusal that is expected).
vxt_fail() {
	_vxt_check 1 "$@"
}

# vxt_is DESC GOT WANT: passes when the two strings are equal.
vxt_is() {
	if [ "$2" = "$3" ]; then
		vxt_pass "$1"
		return 0
	fi
	vxt_flunk "$1" "got:  $2" "want: $3"
	return 1
}

# vxt_wait_until TRIES CMD...: retries CMD every 0.1 s until it succeeds, at
# most TRIES times. For readiness (a daemon coming up), never as a timing
# assertion: give it a generous bound.
vxt_wait_until() {
	local tries=$1 i
	shift
	for ((i = 0; i < tries; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# vxt_done: prints the plan and exits 0 when every check passed, 1 otherwise.
vxt_done() {
	printf '1..%d\n' "$VXT_N"
	[ "$VXT_FAILED" = 0 ] || {
		vxt_diag "$VXT_FAILED of $VXT_N checks failed"
		exit 1
	}
	exit 0
}

# ---------------------------------------------------------------------------
# prerequisites

# vxt_require_root: exit 77 (skip) unless root with the tools the harness uses.
vxt_require_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP needs root"
		exit 77
	fi
	vxt_require_cmd ip bridge nsenter unshare mountpoint find stat
}

# vxt_require_cmd PROG...: exit 77 (skip) when a program the test needs is
# missing (e.g. ping: Debian package iputils-ping).
vxt_require_cmd() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || {
			echo "1..0 # SKIP $t not found"
			exit 77
		}
	done
}

# ---------------------------------------------------------------------------
# setup

# vxt_init [TAG]: sets P = ${VXC_TEST_PREFIX:-vxt}TAG, TAG defaulting to four
# hex digits derived from the script's name (each test its own names, so
# parallel tests never clean up each other); removes what an earlier run
# with this P left behind; traps EXIT/INT/TERM to vxt_cleanup; makes the
# work dir $VXT_WORK under /tmp; makes the fabric namespace.
vxt_init() {
	local tag
	if [ $# -gt 0 ]; then
		tag=$1
	else
		tag=$(basename "$0" | cksum)
		tag=$(printf '%04x' $((${tag%% *} % 65536)))
	fi
	P=$VXT_BASE$tag
	case $P in
	'' | *[!A-Za-z0-9_]*) vxt_bail "test prefix '$P': letters, digits and _ only" ;;
	esac
	vxt_diag "names start with $P"
	trap 'vxt_cleanup' EXIT
	trap 'vxt_cleanup; trap - EXIT; exit 130' INT
	trap 'vxt_cleanup; trap - EXIT; exit 143' TERM
	local old
	for old in /tmp/"${P}"-work.*; do
		[ -d "$old" ] && _vxt_clean_workdir "$old"
	done
	_vxt_clean_namespaces
	VXT_WORK=$(mktemp -d "/tmp/${P}-work.XXXXXX") || vxt_bail "cannot make a work dir"
	chmod 0755 "$VXT_WORK"
	: >"$VXT_WORK/pids"
	VXT_CLEANED=0
	_vxt_make_fabric
}

_vxt_nsadd() {
	ip netns add "$1" || vxt_bail "ip netns add $1 failed"
	ip -n "$1" link set lo up
}

# The fabric namespace: the underlay and provider bridges every host joins.
_vxt_make_fabric() {
	local f="${P}-fabric"
	_vxt_nsadd "$f"
	ip -n "$f" link add fabric type bridge &&
		ip -n "$f" link add provider type bridge &&
		ip -n "$f" link set fabric up &&
		ip -n "$f" link set provider up ||
		vxt_bail "cannot make the fabric bridges in $f"
}

# vxt_add_host NAME TUNNEL_ADDR[/LEN] [MTU]: a simulated host ${P}-NAME with
# "underlay" on the fabric bridge holding TUNNEL_ADDR (default /24) at MTU
# (default 1500), and "uplink" on the provider bridge without an address.
vxt_add_host() {
	local name=$1 addr=$2 mtu=${3:-1500} ns="${P}-$1" f="${P}-fabric"
	[ -n "$name" ] && [ -n "$addr" ] || vxt_bail "usage: vxt_add_host NAME TUNNEL_ADDR [MTU]"
	[ ${#name} -le 13 ] || vxt_bail "host name '$name' is longer than 13 characters"
	case $addr in */*) ;; *) addr="$addr/24" ;; esac
	_vxt_nsadd "$ns"
	ip -n "$f" link add "u-$name" mtu "$mtu" type veth peer name underlay netns "$ns" \
		mtu "$mtu" &&
		ip -n "$f" link set "u-$name" master fabric up &&
		ip -n "$ns" addr add "$addr" dev underlay &&
		ip -n "$ns" link set underlay up &&
		ip -n "$f" link add "p-$name" type veth peer name uplink netns "$ns" &&
		ip -n "$f" link set "p-$name" master provider up &&
		ip -n "$ns" link set uplink up ||
		vxt_bail "cannot plug host $name into the fabric"
	mkdir -p "$VXT_WORK/$name/state"
	VXT_HOSTS+=("$name")
	VXT_TUNNEL[$name]=${addr%/*}
}

# vxt_add_client ADDR/LEN [GATEWAY_ADDR/LEN]: the namespace ${P}-client on
# the provider bridge with ADDR and, when given, the provider gateway
# address too, so it plays "the internet" the routers send to.
vxt_add_client() {
	local addr=$1 gw=${2:-} ns="${P}-client" f="${P}-fabric"
	[ -n "$addr" ] || vxt_bail "usage: vxt_add_client ADDR/LEN [GATEWAY_ADDR/LEN]"
	_vxt_nsadd "$ns"
	ip -n "$f" link add p-client type veth peer name eth0 netns "$ns" &&
		ip -n "$f" link set p-client master provider up &&
		ip -n "$ns" addr add "$addr" dev eth0 &&
		ip -n "$ns" link set eth0 up ||
		vxt_bail "cannot plug the client into the provider bridge"
	if [ -n "$gw" ]; then
		ip -n "$ns" addr add "$gw" dev eth0 || vxt_bail "cannot add $gw to the client"
	fi
}

# Copies of the built plugins, root-owned 0755, in one dir per run: the
# loader refuses plugins that others can write, and directories below one
# others can write (such as /tmp), so it lives in /run. Sets VXT_PLUGIN_DIR.
_vxt_plugin_dir_of() {
	printf '/run/%s-plugins.%s' "$P" "${1##*.}"
}

_vxt_plugin_dir() {
	local dir so n=0
	dir=$(_vxt_plugin_dir_of "$VXT_WORK")
	VXT_PLUGIN_DIR=$dir
	if [ ! -d "$dir" ]; then
		[ -n "$VXT_BUILDDIR" ] || vxt_bail "VXC_TOP_BUILDDIR is not set"
		mkdir -p "$dir"
		for so in "$VXT_BUILDDIR"/plugins/*/*/.libs/*.so; do
			[ -f "$so" ] || continue
			install -o root -g root -m 0755 "$so" "$dir/" || vxt_bail "cannot copy $so"
			n=$((n + 1))
		done
		[ "$n" -gt 0 ] || vxt_bail "no plugins built under $VXT_BUILDDIR/plugins (run make first)"
		chown root:root "$dir"
		chmod 0755 "$dir"
	fi
}

# A libconfig scalar: integers and booleans bare, anything else quoted.
_vxt_conf_value() {
	if [[ $1 =~ ^-?[0-9]+$ || $1 == true || $1 == false ]]; then
		printf '%s' "$1"
	else
		local s=${1//\\/\\\\}
		s=${s//\"/\\\"}
		printf '"%s"' "$s"
	fi
}

# vxt_node_conf NAME [key=value...]: writes $VXT_WORK/NAME/vxcloud.conf and
# prints its path. Defaults: host = NAME, spec = $VXT_WORK/cloud.conf,
# plugin_dir = copies of the built plugins, state_dir and netns_dir under
# $VXT_WORK/NAME, log_level = "info", network = "linuxbridge",
# container = "netns". Overrides: any top-level key (host, spec, log_level,
# network, nat, lb, container, vm, ...; an empty value drops the key, so
# `container=` leaves that concern without a driver), and DRIVER.OPTION=VALUE
# for a driver's settings block (settings = { DRIVER = { OPTION = VALUE; }; }).
vxt_node_conf() {
	local name=$1 conf="$VXT_WORK/$1/vxcloud.conf" kv k v plugins
	shift || vxt_bail "usage: vxt_node_conf NAME [key=value...]"
	[ -d "$VXT_WORK/$name" ] || vxt_bail "vxt_node_conf: no host $name"
	_vxt_plugin_dir
	plugins=$VXT_PLUGIN_DIR
	local -A top=(
		[host]=$name [spec]="$VXT_WORK/cloud.conf" [plugin_dir]=$plugins
		[state_dir]="$VXT_WORK/$name/state" [netns_dir]="$VXT_WORK/$name/netns"
		[log_level]=info [network]=linuxbridge [container]=netns
	)
	local -a order=(host spec plugin_dir state_dir netns_dir log_level network nat lb
		container vm)
	local -A settings=()
	for kv in "$@"; do
		case $kv in *=*) ;; *) vxt_bail "vxt_node_conf: '$kv' is not key=value" ;; esac
		k=${kv%%=*}
		v=${kv#*=}
		case $k in
		*.*) settings[$k]=$v ;;
		*)
			top[$k]=$v
			case " ${order[*]} " in *" $k "*) ;; *) order+=("$k") ;; esac
			;;
		esac
	done
	{
		echo "# written by the test harness for simulated host $name"
		for k in "${order[@]}"; do
			[ -n "${top[$k]:-}" ] || continue
			printf '%s = %s;\n' "$k" "$(_vxt_conf_value "${top[$k]}")"
		done
		if [ ${#settings[@]} -gt 0 ]; then
			echo "settings = {"
			local drv
			for drv in $(printf '%s\n' "${!settings[@]}" | cut -d. -f1 | sort -u); do
				printf '  %s = {' "$drv"
				for k in $(printf '%s\n' "${!settings[@]}" | grep "^$drv\." | sort); do
					printf ' %s = %s;' "${k#*.}" "$(_vxt_conf_value "${settings[$k]}")"
				done
				echo ' };'
			done
			echo "};"
		fi
	} >"$conf"
	printf '%s\n' "$conf"
}

# ---------------------------------------------------------------------------
# running things in the simulated hosts

# vxt_vxcloud NAME ARGS...: the built vxcloud on host NAME with its node
# config (vxt_node_conf NAME first). nsenter --net only: `ip netns exec`
# would give vxcloud a private mount namespace, and the namespaces it
# bind-mounts into its netns_dir would vanish when it exits.
vxt_vxcloud() {
	local name=$1
	shift
	[ -f "$VXT_WORK/$name/vxcloud.conf" ] || vxt_node_conf "$name" >/dev/null
	nsenter --net="/run/netns/${P}-$name" -- \
		"$VXT_BUILDDIR/core/vxcloud" --config "$VXT_WORK/$name/vxcloud.conf" "$@"
}

# vxt_ns NAME CMD...: CMD in the network namespace of host NAME (also
# "fabric" and "client"). Only the network namespace changes: /sys still
# shows the root namespace's devices; read link state with `ip`.
vxt_ns() {
	local name=$1
	shift
	nsenter --net="/run/netns/${P}-$name" -- "$@"
}

# vxt_inst_ns HOST NSNAME CMD...: CMD inside a namespace vxcloud made on
# HOST (vxi-web1, vxr-router, ...), found in that host's netns_dir.
vxt_inst_ns() {
	local host=$1 ns=$2
	shift 2
	nsenter --net="$VXT_WORK/$host/netns/$ns" -- "$@"
}

# vxt_tunnel HOST: that host's underlay (tunnel) address, without length.
vxt_tunnel() {
	printf '%s\n' "${VXT_TUNNEL[$1]}"
}

# vxt_netns_dir HOST: that host's netns_dir.
vxt_netns_dir() {
	printf '%s\n' "$VXT_WORK/$1/netns"
}

# The start time of a running process (field 22 of /proc/PID/stat): PID
# plus start time names one process, whatever PID reuse happens meanwhile.
# Fails for a zombie: it no longer runs (its parent may be an init that
# reaps late).
_vxt_starttime() {
	local stat f
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	read -ra f <<<"${stat##*) }"
	[ "${f[0]}" != Z ] || return 1
	printf '%s\n' "${f[19]}"
}

# vxt_track_pid PID: cleanup will end this process (checked by start time).
vxt_track_pid() {
	local st
	st=$(_vxt_starttime "$1") || return 0
	echo "$1 $st" >>"$VXT_WORK/pids"
}

# vxt_bg CMD...: starts CMD in the background, tracked for cleanup; its PID
# is in $VXT_BG_PID. CMD is a program, or `vxt_ns NAME PROG...` or
# `vxt_inst_ns HOST NSNAME PROG...`: those become a plain nsenter, which
# execs PROG, so the PID is PROG's own (a shell function would run in a
# subshell whose PID is not the program's).
vxt_bg() {
	case $1 in
	vxt_ns)
		set -- nsenter --net="/run/netns/${P}-$2" -- "${@:3}"
		;;
	vxt_inst_ns)
		set -- nsenter --net="$VXT_WORK/$2/netns/$3" -- "${@:4}"
		;;
	esac
	if declare -F "$1" >/dev/null; then
		vxt_bail "vxt_bg: $1 is a shell function; give a program"
	fi
	"$@" </dev/null &
	VXT_BG_PID=$!
	vxt_track_pid "$VXT_BG_PID"
}

# ---------------------------------------------------------------------------
# snapshots

# vxt_snapshot NAME: a normalized dump of host NAME's links, IPv4 and
# global IPv6 addresses, routes, permanent neighbours, static/permanent fdb
# entries, nftables and legacy iptables rules, and the namespaces in its
# netns_dir. Interface indexes, statistics and learned (dynamic) entries are
# left out, so two snapshots differ only when something was changed.
vxt_snapshot() {
	local name=$1 ns="${P}-$1"
	local -a in=(nsenter --net="/run/netns/$ns" --)
	echo "== links"
	"${in[@]}" ip -o link show | sed -E 's/^[0-9]+: //; s/@if[0-9]+/@peer/;
		s/ link-netns(id)? [^ ]+//; s/ qlen [0-9]+//; s/ state [A-Z]+//' | sort
	echo "== addresses"
	"${in[@]}" ip -o -4 addr show | sed -E 's/^[0-9]+: //' | sort
	"${in[@]}" ip -o -6 addr show scope global | sed -E 's/^[0-9]+: //' | sort
	echo "== routes"
	"${in[@]}" ip -4 route show table all | sort
	"${in[@]}" ip -6 route show table all | grep -v -E '^(local |multicast |fe80::|ff00::)' |
		sort
	echo "== neighbours"
	"${in[@]}" ip neigh show nud permanent | sort
	echo "== fdb"
	"${in[@]}" bridge fdb show | grep -E 'permanent|static' | sort
	echo "== nftables"
	if command -v nft >/dev/null 2>&1; then
		"${in[@]}" nft list ruleset 2>/dev/null
	fi
	echo "== iptables"
	if command -v iptables-legacy-save >/dev/null 2>&1; then
		"${in[@]}" iptables-legacy-save 2>/dev/null | grep -v '^#' |
			sed -E 's/\[[0-9]+:[0-9]+\]//'
	fi
	echo "== namespaces"
	if [ -d "$VXT_WORK/$name/netns" ]; then
		ls -1 "$VXT_WORK/$name/netns"
	fi
}

# ---------------------------------------------------------------------------
# cleanup

# Kills a tracked process if it is still the one recorded.
_vxt_kill_tracked() {
	local pid=$1 st=$2 now
	now=$(_vxt_starttime "$pid") || return 0
	[ "$now" = "$st" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	local i
	for ((i = 0; i < 30; i++)); do
		[ "$(_vxt_starttime "$pid")" = "$st" ] || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
}

# PIDs whose network namespace is one of the given nsfs files: processes
# living in namespaces this test made (started by the test or by the
# vxcloud it ran), as `ip netns pids` finds them.
_vxt_pids_in() {
	local -A inos=()
	local ino dir link
	while read -r ino; do
		inos["net:[$ino]"]=1
	done < <(stat -L -c %i "$@" 2>/dev/null)
	[ ${#inos[@]} -gt 0 ] || return 0
	while read -r dir link; do
		[ -n "$link" ] && [ -n "${inos[$link]:-}" ] || continue
		dir=${dir#/proc/}
		dir=${dir%/ns}
		[ "$dir" != $$ ] && printf '%s\n' "$dir"
	done < <(find /proc/[0-9]*/ns -maxdepth 1 -name net -printf '%h %l\n' 2>/dev/null)
}

# The nsfs files of every namespace this prefix owns: the host namespaces
# in /run/netns and what vxcloud made in each work dir's netns dirs.
_vxt_ns_files() {
	local f
	for f in /run/netns/"${P}"-* /tmp/"${P}"-work.*/*/netns/*; do
		[ -e "$f" ] && printf '%s\n' "$f"
	done
}

_vxt_kill_in_namespaces() {
	local -a files pids
	mapfile -t files < <(_vxt_ns_files)
	[ ${#files[@]} -gt 0 ] || return 0
	mapfile -t pids < <(_vxt_pids_in "${files[@]}")
	[ ${#pids[@]} -gt 0 ] || return 0
	vxt_diag "ending ${#pids[@]} process(es) left in the test's namespaces: ${pids[*]}"
	kill -KILL "${pids[@]}" 2>/dev/null
}

# Unmounts every namespace file under a per-host netns dir, then the dir
# (vxcloud bind-mounts it onto itself to make it shared), then removes it.
_vxt_clean_netns_dir() {
	local dir=$1 f
	for f in "$dir"/*; do
		[ -e "$f" ] || continue
		while umount -l "$f" 2>/dev/null; do :; done
		rm -f "$f"
	done
	while mountpoint -q "$dir"; do
		umount -l "$dir" 2>/dev/null || break
	done
	rmdir "$dir" 2>/dev/null
}

_vxt_clean_workdir() {
	local w=$1 pid st d
	if [ -f "$w/pids" ]; then
		while read -r pid st; do
			[ -n "$pid" ] && _vxt_kill_tracked "$pid" "$st"
		done <"$w/pids"
	fi
	_vxt_kill_in_namespaces
	for d in "$w"/*/netns; do
		[ -d "$d" ] && _vxt_clean_netns_dir "$d"
	done
	# vxcloud's run locks of this work dir's hosts ("PID STATE_DIR" inside).
	for d in /run/lock/vxcloud/*.lock; do
		[ -f "$d" ] && case $(cut -d' ' -f2- "$d" 2>/dev/null) in
		"$w"/*) rm -f "$d" ;;
		esac
	done
	rm -rf --one-file-system "$w" "$(_vxt_plugin_dir_of "$w")"
}

_vxt_clean_namespaces() {
	local f
	_vxt_kill_in_namespaces
	for f in /run/netns/"${P}"-*; do
		[ -e "$f" ] || continue
		ip netns delete "${f##*/}" 2>/dev/null || {
			umount -l "$f" 2>/dev/null
			rm -f "$f"
		}
	done
}

# vxt_cleanup: ends the processes this run started (tracked PIDs, then
# anything still inside its namespaces), deletes every namespace with the
# prefix (which takes their links along), unmounts and removes the per-host
# netns dirs and the work dir. Safe to call twice and after a partial setup.
vxt_cleanup() {
	[ "$VXT_CLEANED" = 1 ] && return 0
	VXT_CLEANED=1
	if [ -n "$VXT_WORK" ] && [ -d "$VXT_WORK" ]; then
		_vxt_clean_workdir "$VXT_WORK"
	fi
	_vxt_clean_namespaces
	VXT_HOSTS=()
	VXT_TUNNEL=()
	return 0
}
