#!/bin/bash
# Root-only: the test harness itself. Two simulated hosts and a client,
# underlay reachability, node configs, snapshots, process tracking, and
# proof that cleanup leaves nothing behind (also after an interrupted run).
srcdir=${VXC_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../lib/harness.sh
. "$srcdir/tests/lib/harness.sh"

# dead PID: the process is gone or a zombie (its parent may be init).
dead() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	[ "${st%% *}" = Z ]
}
export -f dead

vxt_require_root
vxt_require_cmd ping
vxt_init

vxt_add_host h1 10.0.0.1/24
vxt_add_host h2 10.0.0.2 1450
vxt_add_client 192.0.2.100/24 192.0.2.1/24

vxt_ok "h1 reaches h2 over the underlay" vxt_ns h1 ping -c 1 -W 5 10.0.0.2
vxt_ok "h2 reaches h1 over the underlay" vxt_ns h2 ping -c 1 -W 5 10.0.0.1
vxt_ok "h2's underlay has MTU 1450" \
	bash -c "ip -n ${P}-h2 -o link show underlay | grep -q ' mtu 1450 '"
vxt_ok "h1's uplink is on the provider bridge" \
	bash -c "ip -n ${P}-fabric -o link show p-h1 | grep -q 'master provider'"
vxt_ok "h1's uplink has no address" \
	bash -c "! ip -n ${P}-h1 -o -4 addr show dev uplink | grep -q inet"
vxt_ok "the client holds the provider gateway address" \
	bash -c "ip -n ${P}-client -o addr show dev eth0 | grep -q 192.0.2.1/24"
vxt_ok "the root namespace has no link of the test" \
	bash -c "! ip -o link show | grep -q -E ' (u|p)-(h1|h2|client)[@:]'"

# Node configs.
conf=$(vxt_node_conf h1 nat=nftables log_level=debug linuxbridge.vxlan_port=4789 \
	netns.stop_timeout_ms=500 vm=)
vxt_ok "node config written" test -s "$conf"
vxt_ok "with host, netns_dir and drivers" \
	grep -q -e '^host = "h1";' -e "^netns_dir = \"$VXT_WORK/h1/netns\";" "$conf"
vxt_ok "overrides and settings blocks" bash -c \
	"grep -q '^nat = \"nftables\";' '$conf' && grep -q 'linuxbridge = { vxlan_port = 4789; };' '$conf' &&
	 grep -q 'netns = { stop_timeout_ms = 500; };' '$conf' && ! grep -q '^vm' '$conf'"
plugins=$(_vxt_plugin_dir_of "$VXT_WORK")
vxt_ok "plugin copies are root-owned 0755" bash -c \
	"ls $plugins/*.so >/dev/null && [ -z \"\$(find $plugins -name '*.so' ! -perm 0755)\" ] &&
	 [ -z \"\$(find $plugins ! -user root)\" ]"
if command -v config_lint >/dev/null 2>&1; then
	vxt_ok "config parses" config_lint "$conf"
fi
vxt_diag "node config of h1:"
sed 's/^/#   /' "$conf"

# vxt_vxcloud runs the built command inside h1's namespace (whatever the
# command answers to --help, it must have been executed).
vxt_vxcloud h1 --help >/dev/null 2>&1
vxt_ok "vxt_vxcloud executes the built vxcloud (exit $?)" test $? -lt 126

# Snapshots: equal when nothing changed, different when something did.
before=$(vxt_snapshot h1)
vxt_is "two snapshots in a row are equal" "$(vxt_snapshot h1)" "$before"
vxt_ns h1 ip addr add 198.51.100.7/32 dev uplink
vxt_ok "a change shows in the snapshot" test "$(vxt_snapshot h1)" != "$before"
vxt_ns h1 ip addr del 198.51.100.7/32 dev uplink
vxt_is "undoing it restores the snapshot" "$(vxt_snapshot h1)" "$before"

# A namespace made in h1's netns_dir the way vxcloud makes one (shared
# self-bind of the dir, nsfs bind mount), with a process inside.
nsdir=$(vxt_netns_dir h1)
mkdir -p "$nsdir"
mount --bind "$nsdir" "$nsdir" && mount --make-shared "$nsdir"
touch "$nsdir/vxi-test"
vxt_ok "an instance namespace in h1's netns dir" unshare --net="$nsdir/vxi-test" true
vxt_ok "vxt_inst_ns enters it" vxt_inst_ns h1 vxi-test ip link show lo
vxt_ok "the snapshot lists it" bash -c "grep -qx vxi-test <<<\"\$1\"" _ "$(vxt_snapshot h1)"
vxt_bg vxt_inst_ns h1 vxi-test sleep 300
tracked=$VXT_BG_PID
nsenter --net="$nsdir/vxi-test" sleep 301 </dev/null >/dev/null 2>&1 &
untracked=$! # not tracked: found by its namespace at cleanup
# Both start in this shell's namespace and move once nsenter has run: wait
# for that (a loaded machine can take a while) instead of reading once.
moved_together() {
	local a b
	a=$(readlink "/proc/$tracked/ns/net") b=$(readlink "/proc/$untracked/ns/net")
	[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$(readlink /proc/$$/ns/net)" ]
}
vxt_ok "the background process runs in that namespace" vxt_wait_until 100 moved_together

# An interrupted run with another tag (its names start with $P too): TERM
# mid-setup cleans up through the trap; a SIGKILLed one is cleaned by the
# next vxt_init with that tag.
sub=${P}sub
VXC_TEST_PREFIX=$P bash -c ". '$srcdir/tests/lib/harness.sh'; vxt_init sub >/dev/null;
	vxt_add_host a 10.9.0.1/24; kill -TERM \$\$; sleep 5"
vxt_ok "TERM during a run: its trap cleaned up" \
	bash -c "! ls /run/netns | grep -q '^$sub-' && ! ls -d /tmp/$sub-work.* 2>/dev/null"
VXC_TEST_PREFIX=$P bash -c ". '$srcdir/tests/lib/harness.sh'; vxt_init sub >/dev/null;
	vxt_add_host a 10.9.0.1/24; vxt_bg vxt_ns a sleep 300; echo \$VXT_BG_PID >'$VXT_WORK/subpid';
	kill -KILL \$\$"
subpid=$(cat "$VXT_WORK/subpid")
vxt_ok "a SIGKILLed run leaves things behind" \
	bash -c "ls /run/netns | grep -q '^$sub-a\$' && ls -d /tmp/$sub-work.* && ! dead $subpid"
VXC_TEST_PREFIX=$P bash -c ". '$srcdir/tests/lib/harness.sh'; vxt_init sub >/dev/null; vxt_cleanup"
vxt_ok "the next run removes them" \
	bash -c "! ls /run/netns | grep -q '^$sub-' && ! ls -d /tmp/$sub-work.* 2>/dev/null"
vxt_ok "and ends the process it had started" dead "$subpid"

# Cleanup, called twice, leaves nothing with the prefix.
work=$VXT_WORK
vxt_cleanup
vxt_cleanup
vxt_ok "no $P- namespace is left" bash -c "! ls /run/netns | grep -q '^$P-'"
vxt_ok "the work dir is gone" test ! -e "$work"
vxt_ok "no mount of the run is left" bash -c "! grep -q '$work' /proc/self/mountinfo"
vxt_ok "the tracked process was ended" dead "$tracked"
vxt_ok "the process left in a test namespace was ended" dead "$untracked"
vxt_done
