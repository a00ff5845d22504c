#!/bin/bash
# Installs what vxcloud needs to build, run and test on Debian 12.
set -euo pipefail
packages=(
	build-essential autoconf automake libtool pkg-config
	libconfig-dev libnl-3-dev libnl-route-3-dev libnftnl-dev libmnl-dev libiptc-dev
	iproute2 iputils-ping curl iptables nftables conntrack haproxy keepalived busybox-static strace
	procps
	clang libclang-rt-14-dev llvm passwd util-linux
	libnl-genl-3-dev qemu-system-x86 cpio ipvsadm
	apache2-utils wrk socat
	libcurl4-openssl-dev libjansson-dev docker.io podman catatonit
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev libxml2-dev
	qemu-utils dnsmasq-base
	etcd-server etcd-client openssl
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

# The test guest of the libvirt tests (tests/lib/guest.sh): Debian's kernel
# package (apt-get download) and a busybox initramfs, built once into
# ${VXC_GUEST_CACHE:-/var/tmp/vxcloud-guest}.
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../tests/lib/guest.sh
. "$here/tests/lib/guest.sh"
vxt_guest_build || { echo "deps.sh: cannot build the libvirt test guest" >&2; exit 1; }
