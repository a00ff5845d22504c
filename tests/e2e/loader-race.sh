#!/bin/bash
# The plugin loader against a real unprivileged user racing it: the user
# exchanges (renameat2 RENAME_EXCHANGE, in a loop) a root-owned plugin with
# their own "evil" one whose constructor leaves a marker file, while root
# runs `vxcloud plugins` again and again. Two ways in (issue 7, item 15):
#   1. the plugin directory holds a symbolic link to a root-owned plugin
#      in a world-writable directory;
#   2. the root-owned plugin directory sits in a world-writable directory.
# The evil constructor must never run; both are refused up front.
set -uo pipefail
build=${VXC_TOP_BUILDDIR:?}
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root (a user to race and root to load)"; exit 77; }
tries=${VXC_RACE_TRIES:-300}
user=vxc-race
vxcloud=$build/core/vxcloud
good=$build/plugins/compute/netns/.libs/netns.so
evil=$build/tests/e2e/.libs/evil-plugin.so
swapper=$build/tests/e2e/swap-loop
for f in "$vxcloud" "$good" "$evil" "$swapper"; do
	[ -e "$f" ] || { echo "Bail out! $f is not built"; exit 99; }
done

made_user=0 work= swap_pid=
cleanup() {
	[ -n "$swap_pid" ] && kill "$swap_pid" 2>/dev/null && wait "$swap_pid" 2>/dev/null
	[ -n "$work" ] && rm -rf "$work"
	[ "$made_user" = 1 ] && userdel "$user" 2>/dev/null
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! id "$user" >/dev/null 2>&1; then
	if useradd --system --no-create-home --shell /usr/sbin/nologin "$user" 2>/dev/null; then
		made_user=1
	else
		user=nobody # every Debian has it (base-passwd)
	fi
fi
id "$user" >/dev/null 2>&1 || { echo "Bail out! no unprivileged user to race with"; exit 99; }
uid=$(id -u "$user") gid=$(id -g "$user")
# /run, not /tmp: the test's own directories must not sit below a
# world-writable one, or everything would be refused for that reason alone.
work=$(mktemp -d /run/vxc-race.XXXXXX) || exit 99
chmod 0755 "$work"
export VXC_RACE_MARKER=$work/marker
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; printf '#   %s\n' "$@"; }

# race NAME PLUGIN_DIR A B: the user swaps A and B while root lists plugins.
race() {
	local name=$1 dir=$2 a=$3 b=$4 i out runs=0 swaps
	printf 'plugin_dir = "%s";\nstate_dir = "%s/state";\n' "$dir" "$work" >"$work/node.conf"
	rm -f "$VXC_RACE_MARKER"
	setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$swapper" "$a" "$b" \
		>"$work/swaps" 2>&1 &
	swap_pid=$!
	for ((i = 0; i < tries; i++)); do
		out=$("$vxcloud" --config "$work/node.conf" plugins 2>&1)
		runs=$((runs + 1))
		[ -e "$VXC_RACE_MARKER" ] && break
	done
	kill "$swap_pid"
	wait "$swap_pid"
	swap_pid=
	swaps=$(tail -n1 "$work/swaps")
	if [[ $swaps =~ ^[0-9]+$ ]] && [ "$swaps" -gt "$runs" ]; then
		ok "$name: user $user made $swaps exchanges during $runs runs of vxcloud plugins"
	else
		not_ok "$name: the user's exchange loop did not run" "$(cat "$work/swaps")"
	fi
	if [ -e "$VXC_RACE_MARKER" ]; then
		not_ok "$name: the user's constructor ran as root (run $runs of $tries)" "$out"
	else
		ok "$name: the user's constructor never ran in $runs runs"
	fi
	if grep -q "writable by group or others" <<<"$out"; then
		ok "$name: vxcloud plugins says why it refuses"
	else
		not_ok "$name: no refusal reason in the listing" "$out"
	fi
}

# 1. plugin dir (trusted) -> link -> world-writable dir holding root's plugin
open=$work/open
mkdir -m 0777 "$open" "$work/safe" && chmod 0777 "$open" && chmod 0755 "$work/safe"
install -o root -g root -m 0755 "$good" "$open/p.so"
install -o "$uid" -g "$gid" -m 0755 "$evil" "$open/x.so"
ln -s "$open/p.so" "$work/safe/p.so"
race "link into a world-writable directory" "$work/safe" "$open/p.so" "$open/x.so"

# 2. root-owned plugin dir inside a world-writable directory
rm -rf "$open" && mkdir -m 0777 "$open" && chmod 0777 "$open"
install -d -o root -g root -m 0755 "$open/plugins"
install -o root -g root -m 0755 "$good" "$open/plugins/p.so"
install -d -o "$uid" -g "$gid" -m 0755 "$open/mine"
install -o "$uid" -g "$gid" -m 0755 "$evil" "$open/mine/p.so"
race "plugin directory in a world-writable directory" "$open/plugins" "$open/plugins" \
	"$open/mine"

echo "1..$n"
[ "$failed" = 0 ]
