#!/bin/bash
# The third-party path: install vxcloud (into a scratch DESTDIR), build
# contrib/example-plugin out of tree against the installed headers with
# `pkg-config vxcloud`, install it, and have the installed vxcloud load it.
set -euo pipefail
src=${VXC_TOP_SRCDIR:?} build=${VXC_TOP_BUILDDIR:?}
# Not in /tmp: the loader refuses plugins below a directory that others
# can write. As root in /run, otherwise in the build tree.
if [ "$(id -u)" -eq 0 ]; then
	dest=$(mktemp -d /run/vxc-contrib-XXXXXX)
else
	dest=$(mktemp -d "$build/vxc-contrib-XXXXXX")
fi
trap 'rm -rf "$dest"' EXIT
chmod 0755 "$dest"

env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$build" install DESTDIR="$dest" >/dev/null
pc=$(find "$dest" -name vxcloud.pc | head -n1)
[ -n "$pc" ] || { echo "not ok - make install put no vxcloud.pc"; exit 1; }
export PKG_CONFIG_PATH=${pc%/*}
plugindir=$dest$(pkg-config --variable=plugindir vxcloud)
prefix=$(pkg-config --variable=prefix vxcloud)
vxcloud=$dest$prefix/sbin/vxcloud

# Out of tree: a copy of the example, nothing of the build tree on its paths.
cp -r "$src/contrib/example-plugin" "$dest/example"
unset MAKEFLAGS MFLAGS MAKELEVEL
make -s -C "$dest/example" clean
PKG_CONFIG_SYSROOT_DIR=$dest make -s -C "$dest/example" CFLAGS="-O2 -Werror"
make -s -C "$dest/example" install PLUGINDIR="$plugindir"
echo "ok 1 - example plugin built against the installed headers and installed"

cat >"$dest/node.conf" <<CONF
host = "h1";
plugin_dir = "$plugindir";
state_dir = "$dest/state";
network = "linuxbridge";
container = "example";
settings = { example = { verbose = true; }; };
CONF
cat >"$dest/spec.conf" <<'CONF'
hosts = ( { name = "h1"; tunnel = "192.0.2.1"; } );
networks = ( { name = "net"; vni = 10; cidr = "10.9.0.0/24"; gateway = "10.9.0.1"; } );
instances = ( { name = "i1"; kind = "container"; host = "h1"; network = "net"; address = "10.9.0.5"; } );
CONF

out=$("$vxcloud" --config "$dest/node.conf" --json plugins)
if grep -q '"driver":"example","concern":"compute"' <<<"$out"; then
	echo "ok 2 - the installed vxcloud lists the example driver"
else
	echo "not ok 2 - vxcloud plugins: $out"; exit 1
fi
if "$vxcloud" --config "$dest/node.conf" --spec "$dest/spec.conf" validate; then
	echo "ok 3 - the installed vxcloud opens the example driver for containers"
else
	echo "not ok 3 - validate failed"; exit 1
fi
