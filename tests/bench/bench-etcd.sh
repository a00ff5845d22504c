#!/bin/bash
# The spec through etcd: a three-member cluster (TLS, auth;
# tests/lib/etcd.sh) and bench-etcd (N watchers, one per simulated host,
# INSTANCES instances in the spec, REPS one-object changes); then the
# whole `vxcloud push` of that spec (validation included) against one
# `etcdctl put` of the same file, medians of 5. As root, from the build tree:
#   VXC_TEST_PREFIX=vxe VXC_TOP_SRCDIR=.. VXC_TOP_BUILDDIR=. \
#       bash ../tests/bench/bench-etcd.sh [N [INSTANCES [REPS]]]
set -u
VXC_TOP_SRCDIR=${VXC_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
VXC_TOP_BUILDDIR=${VXC_TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export VXC_TOP_SRCDIR VXC_TOP_BUILDDIR
. "$VXC_TOP_SRCDIR/tests/lib/harness.sh"
. "$VXC_TOP_SRCDIR/tests/lib/etcd.sh"
vxt_require_root
etcd_require
N=${1:-20}
INSTANCES=${2:-1000}
REPS=${3:-10}
bench=$VXT_BUILDDIR/tests/bench/bench-etcd
[ -x "$bench" ] || vxt_bail "$bench not built (make -C tests/bench bench-etcd)"
vxt_init etcdb
vxt_add_host op 10.60.0.250/24
etcd_cluster_start 3

etcd_in_client "$bench" "$N" "$INSTANCES" "$REPS" || vxt_bail "bench-etcd failed"

# The operator's side: vxcloud push (read, validate, compare-and-swap)
# against etcdctl put of the same bytes.
vxt_node_conf op spec= >/dev/null
etcd_node_conf_group >>"$VXT_WORK/op/vxcloud.conf"
etcd_ctl get "${ETCD_PREFIX}bench/spec" --print-value-only >"$VXT_WORK/spec.conf"
now() { local t=${EPOCHREALTIME/./}; printf '%s\n' "$t"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
push_us=() put_us=()
for i in 1 2 3 4 5; do
	t=$(now)
	vxt_vxcloud op push --force "$VXT_WORK/spec.conf" >/dev/null || vxt_bail "push failed"
	push_us+=($(($(now) - t)))
	t=$(now)
	etcd_ctl put "${ETCD_PREFIX}spec" <"$VXT_WORK/spec.conf" >/dev/null ||
		vxt_bail "etcdctl put failed"
	put_us+=($(($(now) - t)))
done
p=$(printf '%s\n' "${push_us[@]}" | median)
q=$(printf '%s\n' "${put_us[@]}" | median)
awk -v p="$p" -v q="$q" -v n="$INSTANCES" 'BEGIN {
	printf "vxcloud push of %d instances  %8.1f ms   %.2fx etcdctl put (%.1f ms)\n",
		n, p / 1000, p / q, q / 1000 }'
