#!/bin/bash
# The etcd client's watch through member failures, as an agent uses it
# (etcd-client-test follow: reconnect after each failure, resume after the
# last revision seen), on a three-member cluster (TLS, auth): the member
# the watch streams from killed -9, then the member it moved to cut from
# the underlay (no FIN, no RST: TCP keepalives must find out). Every change
# made meanwhile arrives, through another member.
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
. "$VXC_TOP_SRCDIR/tests/lib/etcd.sh"
vxt_require_root
etcd_require
probe=${VXC_TOP_BUILDDIR:?}/tests/e2e/etcd-client-test
[ -x "$probe" ] || vxt_bail "$probe not built (make check builds it)"
vxt_init etcdw
etcd_cluster_start 3
fout=$VXT_WORK/follow.out

vxt_bg vxt_ns etcdc "$probe" follow w/k 3 >"$fout"
follower=$VXT_BG_PID
vxt_wait_until 300 grep -q '^ready' "$fout" || vxt_bail "the follower did not start"

has_event() { grep -q "^event $1 " "$fout"; }
endpoint_of() { sed -n "s/^event $1 rev [0-9]* via //p" "$fout"; }
member_of() { # ENDPOINT: its member number (https://NET.20I:2379)
	local a=${1#https://}
	a=${a%:*}
	echo $((${a##*.} - 200))
}

# Puts through vxcloud's client (etcdctl 3.4 takes its whole timeout on a dead
# first endpoint).
put() {
	etcd_in_client "$probe" put w/k "$1" || vxt_bail "put $1 failed"
}
put v1
vxt_ok "the watch sees a put" vxt_wait_until 300 has_event v1
first=$(endpoint_of v1)
m=$(member_of "$first")
vxt_diag "streaming from member $m ($first)"

etcd_member_kill "$m"
put v2
vxt_ok "member $m killed -9: the change arrives through another member" \
	vxt_wait_until 600 has_event v2
second=$(endpoint_of v2)
vxt_ok "from another endpoint ($second)" test "$second" != "$first"
vxt_ok "the failure was reported to the caller" grep -q '^error ' "$fout"
etcd_member_start "$m"
etcd_wait_healthy

# Cut the member the watch now streams from: its veth on the fabric down.
c=$(member_of "$second")
errors_before=$(grep -c '^error ' "$fout")
ip -n "${P}-fabric" link set "e-$c" down || vxt_bail "cannot cut member $c"
put v3
vxt_ok "member $c cut from the underlay: the change arrives within 60 s" \
	vxt_wait_until 600 has_event v3
vxt_ok "through a member still connected" test "$(endpoint_of v3)" != "$second"
vxt_ok "the dead stream was noticed" test "$(grep -c '^error ' "$fout")" -gt "$errors_before"
ip -n "${P}-fabric" link set "e-$c" up
vxt_ok "every change arrived once, in order" \
	test "$(grep '^event' "$fout" | cut -d' ' -f2 | tr '\n' ' ')" = "v1 v2 v3 "
wait "$follower"
vxt_is "the follower ended after its three changes" "$?" 0
sed 's/^/# follow: /' "$fout"

vxt_done
