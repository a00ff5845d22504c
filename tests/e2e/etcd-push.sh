#!/bin/bash
# vxcloud push / pull against a real three-member etcd cluster (TLS client
# certificates, auth on; tests/lib/etcd.sh), from two simulated hosts that
# play two operators, each with its own record of the revision it saw.
#
# Checks: pull of an empty store; push prints the revision and stores the
# file byte for byte; a push from a machine that never saw the store, or
# that saw an older revision, is refused (exit 5, the store unchanged);
# pull then push works, --revision N, --force; a spec that fails
# validation (bad field, a driver the host lacks, @include) changes
# nothing in etcd; validate reads the spec from etcd; a member killed -9
# and push/pull go on through the others; wrong credentials are refused.
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
. "$VXC_TOP_SRCDIR/tests/lib/etcd.sh"
vxt_require_root
etcd_require
vxt_init etcdp
vxt_add_host h1 10.44.0.1/24
vxt_add_host h2 10.44.0.2/24
etcd_cluster_start 3

for h in h1 h2; do
	vxt_node_conf "$h" spec= >/dev/null
	# 3 s per request: elections after a kill -9 are asked again for 3 x that
	etcd_node_conf_group timeout_ms=3000 >>"$VXT_WORK/$h/vxcloud.conf"
done

spec() { # VERSION [MTU]: a small valid spec, different per version
	cat <<CONF
# version $1
hosts = ( { name = "h1"; tunnel = "10.44.0.1"; }, { name = "h2"; tunnel = "10.44.0.2"; } );
networks = ( { name = "blue"; vni = 44; cidr = "10.45.0.0/24"; gateway = "10.45.0.1";
  mtu = ${2:-1400}; } );
instances = (
  { name = "b$1"; kind = "container"; host = "h1"; network = "blue"; address = "10.45.0.1$1"; }
);
CONF
}
for v in 1 2 3 4; do spec "$v" >"$VXT_WORK/v$v.conf"; done

vx() { # HOST ARGS...: vxcloud on HOST; stdout, stderr and exit code in files
	local h=$1
	shift
	rc=0
	vxt_vxcloud "$h" "$@" >"$VXT_WORK/out" 2>"$VXT_WORK/err" || rc=$?
}
stored() { # the spec in etcd and its revision, through etcdctl (root)
	etcd_ctl get "${ETCD_PREFIX}spec" --print-value-only
}
stored_rev() {
	local r
	r=$(etcd_ctl get "${ETCD_PREFIX}spec" -w json | grep -o '"mod_revision":[0-9]*')
	printf '%s\n' "${r#*:}"
}
same_as() { # FILE: the stored spec is FILE's text
	[ "$(stored)" = "$(cat "$1")" ]
}

vx h1 pull
vxt_is "pull of an empty store exits 1" "$rc" 1
vxt_ok "and says there is no spec" grep -q "no spec in etcd under ${ETCD_PREFIX}spec" \
	"$VXT_WORK/err"

vx h1 push "$VXT_WORK/v1.conf"
vxt_is "first push succeeds" "$rc" 0
r1=$(cat "$VXT_WORK/out")
vxt_ok "push prints the new revision" grep -Eqx '[0-9]+' <<<"$r1"
vxt_is "the store holds the file" "$(stored)" "$(cat "$VXT_WORK/v1.conf")"
vxt_is "at the printed revision" "$(stored_rev)" "$r1"
vxt_is "the revision is recorded" "$(cat "$VXT_WORK/h1/state/etcd-revision")" "$r1"

vx h1 pull -o "$VXT_WORK/pulled.conf"
vxt_is "pull -o exits 0" "$rc" 0
vxt_ok "pull -o writes the stored spec byte for byte" cmp "$VXT_WORK/pulled.conf" \
	"$VXT_WORK/v1.conf"
vxt_ok "pull names the revision on stderr" grep -qx "revision $r1" "$VXT_WORK/err"
vx h1 pull
vxt_ok "pull prints the spec on stdout" cmp "$VXT_WORK/out" "$VXT_WORK/v1.conf"

vx h2 push "$VXT_WORK/v2.conf"
vxt_is "a push from a machine that never pulled is refused with exit 5" "$rc" 5
vxt_ok "naming the stored revision" grep -q "spec in the store is revision $r1" \
	"$VXT_WORK/err"
vxt_ok "the store is unchanged" same_as "$VXT_WORK/v1.conf"

vx h2 pull >/dev/null
vx h2 push "$VXT_WORK/v2.conf"
vxt_is "after a pull, push succeeds" "$rc" 0
r2=$(cat "$VXT_WORK/out")
vxt_ok "with a newer revision" test "$r2" -gt "$r1"

vx h1 push "$VXT_WORK/v3.conf"
vxt_is "a stale push (last saw an older revision) exits 5" "$rc" 5
vxt_ok "the message: store revision, seen revision, what to do" grep -q \
	"spec in the store is revision $r2, you last saw $r1: pull it and merge, or push --force" \
	"$VXT_WORK/err"
vxt_ok "a stale push changes nothing" same_as "$VXT_WORK/v2.conf"
vxt_is "nor the revision" "$(stored_rev)" "$r2"

vx h1 push --revision "$r1" "$VXT_WORK/v3.conf"
vxt_is "push --revision of an old revision exits 5" "$rc" 5
vx h1 push --revision "$r2" "$VXT_WORK/v3.conf"
vxt_is "push --revision of the current one succeeds" "$rc" 0
r3=$(cat "$VXT_WORK/out")
vxt_ok "the store holds the third version" same_as "$VXT_WORK/v3.conf"

vx h2 push --force "$VXT_WORK/v4.conf"
vxt_is "push --force over a newer revision succeeds" "$rc" 0
r4=$(cat "$VXT_WORK/out")
vxt_ok "the store holds the fourth version" same_as "$VXT_WORK/v4.conf"
vxt_ok "at a newer revision" test "$r4" -gt "$r3"

# Refused specs change nothing, even with --force.
spec 5 1460 | sed 's/10.45.0.15/10.46.0.15/' >"$VXT_WORK/bad.conf"
vx h2 push --force "$VXT_WORK/bad.conf"
vxt_is "an invalid spec: exit 3" "$rc" 3
vxt_ok "the error names file, line and field" grep -q "bad.conf:4: networks\[0\].mtu" \
	"$VXT_WORK/err"
vxt_ok "every problem in one run" grep -q "10.46.0.15" "$VXT_WORK/err"
vx h2 --spec "$VXT_WORK/bad.conf" validate
vxt_ok "push's messages are validate's" cmp <(grep -v '^vxcloud: nothing' "$VXT_WORK/err") \
	<(vxt_vxcloud h2 --spec "$VXT_WORK/bad.conf" validate 2>&1 >/dev/null |
		grep -v '^vxcloud: nothing')
spec 5 | sed 's/kind = "container"/kind = "vm"/' >"$VXT_WORK/novm.conf"
vx h1 push --force "$VXT_WORK/novm.conf"
vxt_is "a spec this host lacks a driver for: exit 3" "$rc" 3
printf '@include "v1.conf"\n' >"$VXT_WORK/incl.conf"
vx h1 push --force "$VXT_WORK/incl.conf"
vxt_is "a spec with @include (no file next to it in etcd): exit 3" "$rc" 3
vxt_ok "refused specs changed nothing in etcd" same_as "$VXT_WORK/v4.conf"
vxt_is "nor its revision" "$(stored_rev)" "$r4"

vx h1 validate
vxt_is "validate reads the spec from etcd" "$rc" 0
vxt_ok "and names it by key and revision" grep -q "etcd:${ETCD_PREFIX}spec@$r4: valid" \
	"$VXT_WORK/out"

vx h1 plan
vxt_is "plan with the spec from etcd: changes to make (exit 6)" "$rc" 6
vxt_ok "plan names the spec by key and revision" grep -q \
	"^plan for host h1 (spec etcd:${ETCD_PREFIX}spec@$r4):" "$VXT_WORK/out"
vxt_ok "and plans instance b4 of that revision" grep -q "b4" "$VXT_WORK/out"
vx h1 --spec "$VXT_WORK/v1.conf" validate
vxt_ok "--spec FILE still reads the file" grep -q "v1.conf: valid" "$VXT_WORK/out"

# One member killed -9: the others answer.
etcd_member_kill 1
vx h2 pull -o "$VXT_WORK/p2.conf"
vxt_is "pull with member 1 dead" "$rc" 0
vxt_ok "gets the spec" cmp "$VXT_WORK/p2.conf" "$VXT_WORK/v4.conf"
vx h2 push "$VXT_WORK/v1.conf"
vxt_is "push with member 1 dead" "$rc" 0
r5=$(cat "$VXT_WORK/out")
vxt_ok "stored through the others" same_as "$VXT_WORK/v1.conf"
etcd_member_start 1
etcd_wait_healthy
etcd_member_kill 2
vx h2 push "$VXT_WORK/v2.conf"
vxt_is "push with member 2 dead (1 back)" "$rc" 0 || cat "$VXT_WORK/err"
vxt_ok "a newer revision" test "$(cat "$VXT_WORK/out")" -gt "$r5"
etcd_member_start 2
etcd_wait_healthy

# Credentials: etcd enforces them.
sed 's|^\(  password_file = \).*|\1"'"$VXT_WORK"'/wrong-password";|' "$VXT_WORK/h1/vxcloud.conf" \
	>"$VXT_WORK/wrong.conf"
echo not-the-password >"$VXT_WORK/wrong-password"
before=$(stored_rev)
rc=0
vxt_ns h1 "$VXT_BUILDDIR/core/vxcloud" --config "$VXT_WORK/wrong.conf" push --force \
	"$VXT_WORK/v3.conf" >/dev/null 2>"$VXT_WORK/err" || rc=$?
vxt_is "a wrong password: push exits 1" "$rc" 1
vxt_ok "saying etcd refused it" grep -q "authentication failed" "$VXT_WORK/err"
grep -v '^  \(cert\|key\) = ' "$VXT_WORK/h1/vxcloud.conf" >"$VXT_WORK/nocert.conf"
rc=0
vxt_ns h1 "$VXT_BUILDDIR/core/vxcloud" --config "$VXT_WORK/nocert.conf" pull \
	>/dev/null 2>"$VXT_WORK/err" || rc=$?
vxt_is "no client certificate: pull exits 1" "$rc" 1
vxt_is "refused pushes changed nothing" "$(stored_rev)" "$before"

# Usage.
vx h1 push
vxt_is "push without FILE: usage, exit 2" "$rc" 2
vx h1 pull --force
vxt_is "pull --force: usage, exit 2" "$rc" 2
vx h1 push --force --revision 3 "$VXT_WORK/v1.conf"
vxt_is "--force with --revision: exit 2" "$rc" 2
vx h1 --spec "$VXT_WORK/v1.conf" push --revision x "$VXT_WORK/v1.conf"
vxt_is "--revision x: exit 2" "$rc" 2

vxt_done
