#!/bin/bash
# Failover gaps of a router (or, with "lb", a load balancer) with copies on
# two simulated hosts: runs tests/e2e/ha-router.sh (ha-lb.sh) N times
# (default 3) and prints, for each event and each request loop (router:
# client -> floating IP, instance -> SNAT -> client; lb: client -> the
# balancer's floating IP -> haproxy -> members), the
# longest gap in ms (min / median / max over the runs) and its ratio to the
# baseline of the same run: the longest gap of the same loop while nothing
# happens (the loop's own pace on this machine). Target: gaps <= 1000 ms.
# Resolution: a request gives up after 0.3 s, so a gap is a multiple of
# about that plus the time to detect (3 adverts of 100 ms).
#
# As root, from the build tree:
#   VXC_TEST_PREFIX=vha VXC_TOP_SRCDIR=... VXC_TOP_BUILDDIR=... \
#     tests/bench/bench-ha.sh [N] [router|lb]
set -u
runs=${1:-3}
case ${2:-router} in
router) suite=ha-router.sh ;;
lb) suite=ha-lb.sh ;;
*) echo "usage: bench-ha.sh [N] [router|lb]"; exit 2 ;;
esac
build=${VXC_TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
src=${VXC_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export VXC_TOP_BUILDDIR=$build VXC_TOP_SRCDIR=$src
[ "$(id -u)" -eq 0 ] || { echo "bench-ha: needs root"; exit 77; }
out=$(mktemp -d /tmp/bench-ha.XXXXXX)
trap 'rm -rf "$out"' EXIT
for ((i = 1; i <= runs; i++)); do
	HA_GAP_MAX_MS=60000 bash "$src/tests/e2e/$suite" >"$out/run$i" 2>&1
	rc=$?
	[ $rc -eq 77 ] && { echo "bench-ha: skipped ($(head -n1 "$out/run$i"))"; exit 77; }
	echo "$suite run $i: exit $rc, $(grep -c '^not ok' "$out/run$i") failed checks"
	grep -A2 '^not ok' "$out/run$i" | sed 's/^/    /'
	# a run that failed without a failed check (it ended early): its last words
	[ $rc -ne 0 ] && ! grep -q '^not ok' "$out/run$i" && tail -n 8 "$out/run$i" | sed 's/^/    /'
	grep -E '^# gap ' "$out/run$i" | awk -v r="$i" '{ print r, $3, $4, $5 }' >>"$out/gaps"
	grep -E '^# dup ' "$out/run$i" | awk -v r="$i" '{ print r, $3, $4, $5 }' >>"$out/dups"
done
printf '%-18s %-5s %24s %11s %s\n' event loop "gap ms min/median/max" "max/base" \
	"duplicated replies"
awk '
	FNR == NR { d[$2 " " $3] += $4; next }
	{
		k = $2 " " $3
		if (!(k in seen)) { seen[k] = 1; keys[++n] = k }
		g[k] = g[k] " " $4
		if ($2 == "steady" && $4 > base[$3]) base[$3] = $4
	}
	END {
		for (x = 1; x <= n; x++) {
			k = keys[x]
			m = split(substr(g[k], 2), v, " ")
			for (i = 2; i <= m; i++)
				for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
					t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
				}
			split(k, e, " ")
			ratio = base[e[2]] ? sprintf("%.1f", v[m] / base[e[2]]) : "-"
			printf "%-18s %-5s %8d /%6d /%6d %11s %s\n", e[1], e[2], v[1],
				v[int((m + 1) / 2)], v[m], ratio, (k in d) ? d[k] : "-"
		}
	}' "$out/dups" "$out/gaps"
