# shellcheck shell=bash
# The QEMU/TCG VM of the IPVS suites and benchmark, sourced by
# tests/drivers/lb-ipvs.tap and tests/bench/bench-ipvs.sh (bash): Debian's
# kernel (ip_vs is a module there; this machine's kernel has none) booted
# with an initramfs made by mkinitramfs.sh; /init (tests/vm/init) runs what
# the command line's vxmode= names and prints a VXH-VM-RESULT line.
VXVM_CACHE=${VXC_IPVS_KERNEL_CACHE:-/var/cache/vxcloud-ipvs-kernel}

# vxvm_kernel_root: the unpacked package linux-image-amd64 points at,
# downloaded once into the cache; its path on stdout.
vxvm_kernel_root() {
	local pkg deb
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-/ { print $2; exit }')
	if [ -z "$pkg" ]; then
		echo "# apt-cache knows no linux-image-amd64 (apt-get update?)"
		return 1
	fi
	if [ ! -f "$VXVM_CACHE/$pkg/boot/vmlinuz-${pkg#linux-image-}" ]; then
		mkdir -p "$VXVM_CACHE" || return 1
		deb=$(ls "$VXVM_CACHE/${pkg}"_*.deb 2>/dev/null | head -1)
		if [ -z "$deb" ]; then
			(cd "$VXVM_CACHE" && apt-get download "$pkg" >/dev/null) || return 1
			deb=$(ls "$VXVM_CACHE/${pkg}"_*.deb | head -1)
		fi
		rm -rf "$VXVM_CACHE/$pkg.tmp"
		dpkg-deb -x "$deb" "$VXVM_CACHE/$pkg.tmp" || return 1
		mv "$VXVM_CACHE/$pkg.tmp" "$VXVM_CACHE/$pkg" || return 1
	fi
	echo "$VXVM_CACHE/$pkg"
}

# vxvm_boot KERNEL_ROOT INITRD OUT TIMEOUT [CMDLINE...]: runs the VM (no
# network, one vCPU, 512 MiB) until it powers off or TIMEOUT seconds pass;
# its console without carriage returns in OUT, qemu's own output in
# OUT.qemu. Returns qemu's exit code (124: timed out).
vxvm_boot() {
	local root=$1 initrd=$2 out=$3 timeout=$4 rc
	shift 4
	timeout "$timeout" qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nographic -no-reboot \
		-nodefaults -serial "file:$out.console" -display none \
		-kernel "$root"/boot/vmlinuz-* -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet loglevel=3 $*" </dev/null >"$out.qemu" 2>&1
	rc=$?
	tr -d '\r' <"$out.console" >"$out"
	rm -f "$out.console"
	return $rc
}
