#!/bin/bash
# The etcd client (core/etcd*.c) against a real single-member etcd with TLS
# client certificates and auth on (tests/lib/etcd.sh): every API call
# (get/list/compare-and-put/delete/leases/watch), a watch from a compacted
# revision (-ERANGE), and the refusals: wrong password, no user, no client
# certificate, no CA, a stranger's certificate (-EACCES), nobody listening
# (-ECONNREFUSED).
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
. "$VXC_TOP_SRCDIR/tests/lib/etcd.sh"
vxt_require_root
etcd_require
probe=${VXC_TOP_BUILDDIR:?}/tests/e2e/etcd-client-test
[ -x "$probe" ] || vxt_bail "$probe not built (make check builds it)"
vxt_init etcdc
etcd_cluster_start 1

client() {
	etcd_in_client "$probe" "$@"
}

out=$(client api 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# api: /'
vxt_is "client API checks all pass" "$rc" 0
vxt_ok "client API ran its checks" grep -q '^1\.\.[1-9]' <<<"$out"

# Compaction needs root's rights: etcdctl (setup only).
for v in 1 2 3; do
	etcd_ctl put "${ETCD_PREFIX}c/k" "$v" >/dev/null || vxt_bail "etcdctl put failed"
done
rev=$(etcd_ctl get "${ETCD_PREFIX}c/k" -w json | grep -o '"revision":[0-9]*' | head -1)
rev=${rev#*:}
etcd_ctl compaction "$rev" >/dev/null || vxt_bail "etcdctl compaction failed"
vxt_ok "a watch from a compacted revision says -ERANGE with the compact revision" \
	client compacted c/k $((rev - 2))

vxt_ok "wrong password: -EACCES" \
	etcd_in_client env ETCD_PASSWORD=not-it "$probe" errno EACCES
vxt_ok "no user: -EACCES" etcd_in_client env ETCD_USER= "$probe" errno EACCES
vxt_ok "no client certificate: -EACCES (TLS)" \
	etcd_in_client env ETCD_CERT= ETCD_KEY= "$probe" errno EACCES
vxt_ok "no CA (server certificate untrusted): -EACCES" \
	etcd_in_client env ETCD_CA= "$probe" errno EACCES
vxt_ok "a certificate of another CA: -EACCES" \
	etcd_in_client env ETCD_CERT="$ETCD_ROGUE_CERT" ETCD_KEY="$ETCD_ROGUE_KEY" \
	"$probe" errno EACCES
vxt_ok "nobody listening: -ECONNREFUSED" \
	etcd_in_client env ETCD_ENDPOINTS="https://$ETCD_NET.200:2999" "$probe" errno ECONNREFUSED
vxt_ok "the right credentials still work" etcd_in_client "$probe" failover f/k

# Expired tokens: turning auth off and on drops every token etcd gave out,
# as their TTL running out would; the handle must log in again by itself.
cat >"$VXT_WORK/drop-tokens" <<SH
#!/bin/sh
set -e
export ETCDCTL_API=3
ctl="etcdctl --endpoints $ETCD_ENDPOINTS --cacert $ETCD_CA --cert $ETCD_CERT --key $ETCD_KEY"
\$ctl --user "root:$ETCD_ROOT_PASSWORD" auth disable >/dev/null
\$ctl auth enable >/dev/null
SH
chmod 0700 "$VXT_WORK/drop-tokens"
out=$(etcd_in_client "$probe" reauth "$VXT_WORK/drop-tokens" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# reauth: /'
vxt_is "get and watch log in again after their token was dropped" "$rc" 0

vxt_done
