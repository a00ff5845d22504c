# shellcheck shell=bash
# A tiny test guest built from Debian packages only: the kernel of the
# linux-image package that linux-image-amd64 depends on (apt-get download)
# and an initramfs of busybox-static plus the virtio NIC modules of that
# kernel. Its /init loads the modules, asks for an address with udhcpc on
# eth0 (the address, router, MTU and DNS servers it got are served back as
# /lease), and serves HTTP on port 80:
#   GET /        "vxguest <address>"
#   GET /lease   "ip=... router=... mtu=... dns=..."
#   GET /cgi-bin/reboot  reboots the guest (a reboot from inside)
#   GET /cgi-bin/ping?ADDR  "reachable" when the guest's ping of ADDR answers
# Its console (ttyS0) prints "vxguest: bound <address>" when it has one.
#
#   . "$VXC_TOP_SRCDIR/tests/lib/guest.sh"
#   vxt_guest_build   # sets VXT_GUEST_KERNEL and VXT_GUEST_INITRD
#
# The result is cached in ${VXC_GUEST_CACHE:-/var/tmp/vxcloud-guest}, keyed by
# the kernel package's version and this file's content.

VXT_GUEST_KERNEL=
VXT_GUEST_INITRD=
VXT_GUEST_CMDLINE="console=ttyS0 quiet panic=-1"

_vxt_guest_modules=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	failover net_failover virtio_net)

_vxt_guest_init() {
	cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in $(cat /modules.order); do insmod /modules/$m.ko; done
ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p /www/cgi-bin
cat >/www/cgi-bin/reboot <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nrebooting\n'
(sleep 1; reboot -f) </dev/null >/dev/null 2>&1 &
CGI
chmod 755 /www/cgi-bin/reboot
ip link set eth0 up
cat >/www/cgi-bin/ping <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
case $QUERY_STRING in
*[!0-9.]* | '') echo "bad address" ;;
*) ping -c 1 -W 3 "$QUERY_STRING" >/dev/null 2>&1 && echo reachable || echo unreachable ;;
esac
CGI
chmod 755 /www/cgi-bin/ping
udhcpc -i eth0 -s /udhcpc.sh -O mtu -t 60 -T 1 -A 1 -b
httpd -p 80 -h /www
while :; do sleep 3600; done
EOF
}

_vxt_guest_udhcpc() {
	cat <<'EOF'
#!/bin/sh
case $1 in
deconfig) ip addr flush dev $interface ;;
bound | renew)
	[ -n "$mtu" ] && ip link set $interface mtu $mtu
	ip addr flush dev $interface
	ip addr add $ip/$mask dev $interface
	for r in $router; do ip route add default via $r dev $interface; break; done
	echo "vxguest $ip" >/www/index.html
	echo "ip=$ip router=$router mtu=$mtu dns=$dns" >/www/lease
	echo "vxguest: bound $ip" >/dev/console
	;;
esac
EOF
}

# vxt_guest_build: builds (or finds in the cache) the kernel and initramfs.
vxt_guest_build() {
	local cache=${VXC_GUEST_CACHE:-/var/tmp/vxcloud-guest} pkg ver key dir tmp m ko
	command -v busybox >/dev/null && command -v cpio >/dev/null && command -v apt-get >/dev/null ||
		return 1
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	if [ -z "$pkg" ]; then # no package lists yet
		apt-get update -qq >/dev/null 2>&1
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	fi
	[ -n "$pkg" ] || return 1
	ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2 }')
	key=$(printf '%s %s\n' "$pkg" "$ver" | cat - "${BASH_SOURCE[0]}" | cksum | cut -d' ' -f1)
	dir="$cache/$pkg-$key"
	VXT_GUEST_KERNEL="$dir/vmlinuz"
	VXT_GUEST_INITRD="$dir/initrd.gz"
	[ -f "$VXT_GUEST_KERNEL" ] && [ -f "$VXT_GUEST_INITRD" ] && return 0
	mkdir -p "$cache" || return 1
	tmp=$(mktemp -d "$cache/build.XXXXXX") || return 1
	(
		set -e
		cd "$tmp"
		apt-get download "$pkg" >/dev/null 2>&1
		dpkg-deb -x ./*.deb x
		mkdir -p root/bin root/proc root/sys root/dev root/modules root/www root/tmp
		mknod root/dev/console c 5 1
		cp /bin/busybox root/bin/busybox
		for m in "${_vxt_guest_modules[@]}"; do
			ko=$(find x/lib/modules -name "$m.ko" | head -n 1)
			[ -n "$ko" ]
			cp "$ko" root/modules/
			echo "$m" >>root/modules.order
		done
		_vxt_guest_init >root/init
		_vxt_guest_udhcpc >root/udhcpc.sh
		chmod 755 root/init root/udhcpc.sh
		(cd root && find . | cpio -o -H newc --quiet) | gzip -1 >initrd.gz
		mkdir -p "$dir"
		cp x/boot/vmlinuz-* "$dir/vmlinuz.tmp"
		mv initrd.gz "$dir/initrd.gz"
		mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
	)
	local rc=$?
	rm -rf "$tmp"
	return $rc
}
