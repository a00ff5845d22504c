#!/bin/bash
# The reconciler on one simulated host: plan changes nothing, apply, apply
# again changes nothing and says so, status matches, an invalid spec changes
# nothing, a held lock refuses a --no-wait run, and destroy leaves the host
# namespace exactly as it was.
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
vxt_require_root
vxt_init
vxt_add_host h1 10.31.0.1/24
vxt_add_host h2 10.31.0.2/24

cat >"$VXT_WORK/cloud.conf" <<'CONF'
hosts = ( { name = "h1"; tunnel = "10.31.0.1"; }, { name = "h2"; tunnel = "10.31.0.2"; } );
networks = ( { name = "blue"; vni = 31; cidr = "10.32.0.0/24"; gateway = "10.32.0.1"; mtu = 1400; } );
instances = (
  { name = "b1"; kind = "container"; host = "h1"; network = "blue"; address = "10.32.0.11";
    command = [ "sleep", "600" ]; },
  { name = "b2"; kind = "container"; host = "h2"; network = "blue"; address = "10.32.0.12"; }
);
CONF
vxt_node_conf h1 >/dev/null
before=$(vxt_snapshot h1)

vxt_ok "validate" vxt_vxcloud h1 validate
plan_rc=0
vxt_vxcloud h1 plan >"$VXT_WORK/plan.out" || plan_rc=$?
vxt_is "plan exits 6 when the host differs from the spec" "$plan_rc" 6
vxt_is "plan changes nothing" "$(vxt_snapshot h1)" "$before"
vxt_ok "plan names the bridge it would create" grep -q "create bridge vb-blue" "$VXT_WORK/plan.out"

vxt_ok "apply" vxt_vxcloud h1 apply
applied=$(vxt_snapshot h1)
vxt_ok "instance b1 has its address" \
	sh -c "nsenter --net='$(vxt_netns_dir h1)/vxi-b1' ip -4 -o addr show dev eth0 | grep -q 10.32.0.11/24"
out=$(vxt_vxcloud h1 apply)
vxt_ok "a second apply says there is nothing to change" grep -q "^no changes: host h1 matches the spec" <<<"$out"
vxt_is "a second apply changes nothing" "$(vxt_snapshot h1)" "$applied"
vxt_ok "status: every object ok" vxt_vxcloud h1 status
json=$(vxt_vxcloud h1 --json plan)
vxt_ok "plan --json: nothing to change" grep -q '"changed":false,"changes":\[\]' <<<"$json"

# A broken spec: refused with file, line and field, and nothing changes.
cp "$VXT_WORK/cloud.conf" "$VXT_WORK/good.conf"
sed -i 's/mtu = 1400/mtu = 1460/; s/10.32.0.12/10.33.0.12/' "$VXT_WORK/cloud.conf"
rc=0
vxt_vxcloud h1 apply >"$VXT_WORK/bad.out" 2>&1 || rc=$?
vxt_is "an invalid spec exits 3" "$rc" 3
vxt_ok "the MTU error names file, line and field" \
	grep -q "cloud.conf:2: networks\[0\].mtu" "$VXT_WORK/bad.out"
vxt_ok "the address error is reported in the same run" grep -q "10.33.0.12" "$VXT_WORK/bad.out"
vxt_is "an invalid spec changes nothing" "$(vxt_snapshot h1)" "$applied"
cp "$VXT_WORK/good.conf" "$VXT_WORK/cloud.conf"

# One run at a time: a held lock refuses a --no-wait run. The lock lives
# outside the state directory (its content names the directory).
lockf=$(for f in /run/lock/vxcloud/*.lock; do
	[ "$(cut -d' ' -f2- "$f" 2>/dev/null)" = "$VXT_WORK/h1/state" ] && echo "$f"
done | head -n1)
vxt_ok "the lock file names its state directory" test -n "$lockf"
exec 9>>"$lockf"
flock -n 9
rc=0
vxt_vxcloud h1 --no-wait apply >/dev/null 2>&1 || rc=$?
vxt_is "a held lock makes a --no-wait run exit 5" "$rc" 5
# Deleting the state directory under a held lock frees nothing.
mv "$VXT_WORK/h1/state" "$VXT_WORK/h1/state.moved"
rc=0
vxt_vxcloud h1 --no-wait apply >/dev/null 2>&1 || rc=$?
vxt_is "a state directory deleted under a held lock still refuses a second run" "$rc" 5
rm -rf "$VXT_WORK/h1/state"
mv "$VXT_WORK/h1/state.moved" "$VXT_WORK/h1/state"
exec 9>&-

vxt_ok "destroy" vxt_vxcloud h1 destroy
vxt_is "destroy leaves the host exactly as it was" "$(vxt_snapshot h1)" "$before"
out=$(vxt_vxcloud h1 destroy)
vxt_ok "destroy again finds nothing" grep -q "^0 changes made" <<<"$out"
vxt_done
