#!/bin/bash
# Every built plugin exports exactly one symbol, its descriptor, and loads
# cleanly (no unresolved symbols, accepted by the loader). TAP output.
set -uo pipefail
build=${VXC_TOP_BUILDDIR:?}
mapfile -t plugins < <(find "$build/plugins" -path '*/.libs/*.so' -type f | sort)
# The loader refuses plugins below a directory others can write, such as
# /tmp: as root in /run, otherwise in the build tree (skipped when that is
# below such a directory).
if [ "$(id -u)" -eq 0 ]; then
	dir=$(mktemp -d /run/vxc-abi-XXXXXX)
else
	dir=$(mktemp -d "$build/tests/unit/vxc-abi-XXXXXX")
fi
trap 'rm -rf "$dir"' EXIT
chmod 0755 "$dir"
printf 'plugin_dir = "%s";\n' "$dir" >"$dir/probe.conf"
if why=$("$build/core/vxcloud" --config "$dir/probe.conf" --json plugins 2>&1 |
	grep -o 'which holds plugin directory[^"]*'); then
	echo "1..0 # SKIP the build tree is below a directory others can write ($why)"
	exit 77
fi
rm -f "$dir/probe.conf"
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)) fail=$((fail + 1)); echo "not ok $n - $*"; }

if [ ${#plugins[@]} -eq 0 ]; then
	echo "1..0 # SKIP no plugin was built"
	exit 0
fi
for so in "${plugins[@]}"; do
	name=${so##*/}
	exports=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^_' | sort | tr '\n' ' ')
	if [ "$exports" = "vxc_plugin_descriptor " ]; then
		ok "$name exports only vxc_plugin_descriptor"
	else
		notok "$name exports: $exports"
	fi
	install -m 0755 "$so" "$dir/$name"
done
printf 'plugin_dir = "%s";\nstate_dir = "%s/state";\n' "$dir" "$dir" >"$dir/node.conf"
out=$("$build/core/vxcloud" --config "$dir/node.conf" --json plugins)
rc=$?
if [ $rc -eq 0 ]; then ok "the loader accepts all ${#plugins[@]} plugins"; else notok "vxcloud plugins exited $rc: $out"; fi
for so in "${plugins[@]}"; do
	name=${so##*/}
	if grep -q "\"file\":\"$dir/$name\",\"driver\":\"${name%.so}\"" <<<"$out"; then
		ok "vxcloud plugins lists driver ${name%.so}"
	else
		notok "vxcloud plugins does not list ${name%.so}: $out"
	fi
done

# The shipped node config is valid against the drivers built here.
conf=$build/etc/vxcloud.conf
if [ -f "$conf" ]; then
	{ cat "$conf"; printf 'plugin_dir = "%s";\nstate_dir = "%s/state";\n' "$dir" "$dir"; } \
		>"$dir/shipped.conf"
	if out=$("$build/core/vxcloud" --config "$dir/shipped.conf" --host compute1 \
		--spec "${VXC_TOP_SRCDIR:?}/etc/examples/seed.conf" validate 2>&1); then
		ok "etc/vxcloud.conf validates with the built drivers"
	else
		notok "etc/vxcloud.conf: $out"
	fi
fi
echo "1..$n"
[ $fail -eq 0 ]
