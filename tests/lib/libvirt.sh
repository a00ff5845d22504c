# shellcheck shell=bash
# A private libvirtd for a test, inside one simulated host's network
# namespace (so the taps it makes for guests are that host's), with its own
# configuration and state: a private mount namespace bind-mounts directories
# of the test's work dir over /etc/libvirt, /run/libvirt, /var/lib/libvirt,
# /var/cache/libvirt and /var/log/libvirt, so nothing of the machine's own
# libvirt (if any) is read or changed and two tests never share a daemon.
# Its socket lives in the work dir; clients use
#   qemu:///system?socket=$VXT_LIBVIRT_SOCK
# QEMU runs as root without a security driver or virtlogd (the console
# goes to a file).
#
#   . "$VXC_TOP_SRCDIR/tests/lib/libvirt.sh"
#   vxt_libvirtd_start HOST   # sets VXT_LIBVIRT_URI, tracked for cleanup
#   vxt_virsh HOST ARGS...    # virsh against that daemon (tests only)

declare -A VXT_LIBVIRT_URIS=()
VXT_LIBVIRT_URI=

# Skips (exit 77, naming why) where no guest can have a NIC: without
# /dev/net/tun (a machine that is itself a container with no such device).
vxt_libvirt_require() {
	vxt_require_cmd libvirtd virsh qemu-system-x86_64 qemu-img unshare
	[ -c /dev/net/tun ] || {
		echo "1..0 # SKIP no /dev/net/tun here: a guest's NIC cannot be made"
		exit 77
	}
}

# The script run in the private mount namespace; arguments: DIR NETNS.
_vxt_libvirtd_script() {
	cat <<'EOF'
set -e
d=$1
for p in etc run lib cache log; do mkdir -p "$d/$p"; done
mkdir -p /etc/libvirt
mount --bind "$d/etc" /etc/libvirt
for pair in run:/run/libvirt lib:/var/lib/libvirt cache:/var/cache/libvirt log:/var/log/libvirt; do
	mkdir -p "${pair#*:}"
	mount --bind "$d/${pair%%:*}" "${pair#*:}"
done
exec nsenter --net="$2" -- libvirtd --config "$d/etc/libvirtd.conf" --pid-file "$d/libvirtd.pid"
EOF
}

# vxt_libvirtd_start HOST: starts the daemon in host HOST's namespace and
# waits until it answers (its first start probes QEMU for some seconds).
vxt_libvirtd_start() {
	local host=$1 d="$VXT_WORK/libvirt-$1"
	mkdir -p "$d/etc" "$d/sock"
	cat >"$d/etc/libvirtd.conf" <<EOF
unix_sock_dir = "$d/sock"
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
listen_tls = 0
listen_tcp = 0
EOF
	cat >"$d/etc/qemu.conf" <<EOF
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
stdio_handler = "file"
namespaces = [ ]
EOF
	getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
	getent passwd libvirt-qemu >/dev/null ||
		useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
	_vxt_libvirtd_script >"$d/start.sh"
	unshare --mount --propagation private -- bash "$d/start.sh" "$d" "/run/netns/${P}-$host" \
		>"$d/libvirtd.log" 2>&1 </dev/null &
	vxt_track_pid $!
	echo "$!" >"$d/unshare.pid"
	VXT_LIBVIRT_URI="qemu:///system?socket=$d/sock/libvirt-sock"
	VXT_LIBVIRT_URIS[$host]=$VXT_LIBVIRT_URI
	# bounded: the first start probes QEMU's capabilities (8-9 s here)
	vxt_wait_until 1200 virsh -c "$VXT_LIBVIRT_URI" version || {
		cat "$d/libvirtd.log" >&2
		return 1
	}
	vxt_track_pid "$(cat "$d/libvirtd.pid")"
}

# vxt_libvirtd_stop HOST: stops it by PID and waits until it is gone.
vxt_libvirtd_stop() {
	local d="$VXT_WORK/libvirt-$1" pid
	pid=$(cat "$d/libvirtd.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	vxt_wait_until 100 sh -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
	return 0
}

vxt_virsh() {
	local host=$1
	shift
	virsh -q -c "${VXT_LIBVIRT_URIS[$host]}" "$@"
}
