#!/bin/bash
# The whole `vxcloud` command at scale, as an operator runs it: one router
# host holding N floating IPs (nat/nftables), and one compute host holding M
# instances (compute/netns). Every figure is the median of R runs of the
# whole process (started through nsenter, as the baselines are), measured in
# this run; ratios are against N = 10 or against a baseline of the same run.
# Nothing here passes or fails.
#
#   VXC_TEST_PREFIX=vxa tests/bench/bench-cli.sh [-r R] [-m "M..."] [N...]
#     N  floating IPs (default 10 1000 10000; add 100000 for the top of the curve)
#     M  instances for create vs destroy (default 10 100 1000)
#     R  runs per figure (default 5)
#
# For each N on the router host:
#   create     apply on an empty host (every link, address, route, NAT map)
#   no-change  apply again; "validate" is the same process stopping after
#              the spec is parsed and checked (that part is owned by the
#              spec code: no-change minus validate is the drivers' part)
#   add one    apply a spec with one more floating IP (then the spec of N
#              again, not timed)
#   nft add    baseline: one `nft add element` process adding the same DNAT
#              map element in the router namespace (then removed, not timed)
#   destroy    destroy everything again
#   cpu        the CPU time (user + system) of the no-change apply and of add
#              one: on a shared machine the elapsed times swing with the other
#              load, the CPU a process itself uses much less
set -euo pipefail
top=${VXC_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
[ -f "$top/tests/lib/harness.sh" ] || top=$(cd "$(dirname "$0")/../.." && pwd)
export VXC_TOP_BUILDDIR=${VXC_TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/lib/harness.sh"
[ "$(id -u)" = 0 ] || { echo "bench-cli: needs root" >&2; exit 77; }
command -v nft >/dev/null || { echo "bench-cli: needs nft for the baseline" >&2; exit 77; }

runs=5
inst_counts="10 100 1000"
while getopts r:m: o; do
	case $o in
	r) runs=$OPTARG ;;
	m) inst_counts=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
fip_counts=${*:-10 1000 10000}

# ---- specs ---------------------------------------------------------------

# ip4 N BASE: the Nth address after BASE (an integer), dotted.
ip4() {
	local a=$(($2 + $1))
	printf '%d.%d.%d.%d' $((a >> 24 & 255)) $((a >> 16 & 255)) $((a >> 8 & 255)) $((a & 255))
}

# write_spec FILE NFIPS NINST: the router on net127 holds NFIPS floating IPs
# whose targets are instances on compute1; NINST instances in all (>= NFIPS).
write_spec() {
	local f=$1 nf=$2 ni=$3
	awk -v nf="$nf" -v ni="$ni" '
	function ip(base, i,   a) { a = base + i
		return sprintf("%d.%d.%d.%d", int(a / 16777216) % 256, int(a / 65536) % 256,
			int(a / 256) % 256, a % 256) }
	BEGIN {
		print "hosts = ( { name = \"net127\"; tunnel = \"10.0.0.127\"; },"
		print "          { name = \"compute1\"; tunnel = \"10.0.0.1\"; } );"
		print "provider = { bridge = \"br-provider\"; uplink = \"uplink\";"
		print "  cidr = \"100.64.0.0/10\"; gateway = \"100.64.0.1\";"
		print "  range = [ \"100.64.0.4\", \"100.127.255.254\" ]; };"
		print "networks = ( { name = \"private\"; vni = 100; cidr = \"172.16.0.0/12\";"
		print "  gateway = \"172.16.0.1\"; mtu = 1450; } );"
		print "routers = ( { name = \"router\"; host = \"net127\"; external = \"100.64.0.4\";"
		print "  networks = [ \"private\" ]; snat = true; } );"
		print "instances = ("
		# 172.16.0.0 = 2886729728, 100.64.0.0 = 1681915904
		for (i = 0; i < ni; i++)
			printf "  { name = \"i%d\"; kind = \"container\"; host = \"compute1\"; " \
				"network = \"private\"; address = \"%s\"; }%s\n", i,
				ip(2886729728, 16 + i), i + 1 < ni ? "," : ""
		print ");"
		print "floating_ips = ("
		for (i = 0; i < nf; i++)
			printf "  { address = \"%s\"; router = \"router\"; target = \"i%d\"; }%s\n",
				ip(1681915904, 16 + i), i, i + 1 < nf ? "," : ""
		print ");"
	}' >"$f"
}

# ---- timing --------------------------------------------------------------

T=0 # the last time measured, in ms
C=0 # the CPU time (user + system) of that command, in ms

# timed HOST CMD...: runs CMD in HOST's namespace (nsenter, as vxt_vxcloud
# does) and sets T; stdout is dropped, a failure stops the benchmark.
timed() {
	local h=$1 t0 t1 cpu TIMEFORMAT='%3U %3S'
	shift
	t0=$EPOCHREALTIME
	# bash's time reports the children's rusage; the command's own stderr
	# goes to fd 3, the original stderr
	cpu=$({ time nsenter --net="/run/netns/${P}-$h" -- "$@" >/dev/null 2>&3; } 3>&2 2>&1) ||
		vxt_bail "bench-cli: '$*' on $h failed"
	t1=$EPOCHREALTIME
	T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) * 1000 }')
	C=$(awk -v u="${cpu% *}" -v s="${cpu#* }" 'BEGIN { printf "%.1f", (u + s) * 1000 }')
}

vxc() { # vxc HOST SPEC ARGS...: the vxcloud command on HOST with SPEC
	local h=$1 s=$2
	shift 2
	timed "$h" "$VXT_BUILDDIR/core/vxcloud" --config "$VXT_WORK/$h/vxcloud.conf" \
		--spec "$s" "$@"
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
	printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# ---- the router host -----------------------------------------------------

declare -A M_CREATE M_NOCHG M_VALID M_ADD M_NFT M_DESTROY M_CNOCHG M_CADD

bench_fips() {
	local n=$1 spec=$VXT_WORK/fip-$n.conf spec1=$VXT_WORK/fip-$n+1.conf rns k
	local -a create=() nochg=() valid=() add=() nft=() destroy=() cnochg=() cadd=()
	local extra dnat
	write_spec "$spec" "$n" $((n + 1))
	write_spec "$spec1" $((n + 1)) $((n + 1))
	rns=$VXT_WORK/net127/netns/vxr-router
	extra=$(ip4 $((16 + n)) 1681915904)
	dnat=$(ip4 $((16 + n)) 2886729728)
	for ((k = 0; k < runs; k++)); do
		vxc net127 "$spec" apply && create+=("$T")
		vxc net127 "$spec" apply && nochg+=("$T") && cnochg+=("$C")
		vxc net127 "$spec" validate && valid+=("$T")
		vxc net127 "$spec1" apply && add+=("$T") && cadd+=("$C")
		vxc net127 "$spec" apply
		T=0
		timed net127 nsenter --net="$rns" -- nft add element ip vxcloud fip_dnat \
			"{ $extra : $dnat }" && nft+=("$T")
		nsenter --net="$rns" -- nft delete element ip vxcloud fip_dnat "{ $extra }"
		vxc net127 "$spec" destroy && destroy+=("$T")
	done
	M_CREATE[$n]=$(median <<<"${create[*]}")
	M_NOCHG[$n]=$(median <<<"${nochg[*]}")
	M_VALID[$n]=$(median <<<"${valid[*]}")
	M_ADD[$n]=$(median <<<"${add[*]}")
	M_NFT[$n]=$(median <<<"${nft[*]}")
	M_DESTROY[$n]=$(median <<<"${destroy[*]}")
	M_CNOCHG[$n]=$(median <<<"${cnochg[*]}")
	M_CADD[$n]=$(median <<<"${cadd[*]}")
	printf '%-7s %9s %9s %9s %9s %9s %9s %7s %7s %7s %8s %8s %7s\n' "$n" "${M_CREATE[$n]}" \
		"${M_NOCHG[$n]}" "${M_VALID[$n]}" "${M_ADD[$n]}" "${M_NFT[$n]}" \
		"${M_DESTROY[$n]}" "$(ratio "${M_ADD[$n]}" "${M_ADD[${first_n}]}")" \
		"$(ratio "${M_ADD[$n]}" "${M_NFT[$n]}")" \
		"$(ratio "${M_DESTROY[$n]}" "${M_CREATE[$n]}")" "${M_CNOCHG[$n]}" "${M_CADD[$n]}" \
		"$(ratio "${M_CADD[$n]}" "${M_CADD[${first_n}]}")"
}

# ---- the compute host ----------------------------------------------------

bench_instances() {
	local m=$1 spec=$VXT_WORK/inst-$m.conf k
	local -a create=() destroy=() nochg=()
	write_spec "$spec" 0 "$m"
	for ((k = 0; k < runs; k++)); do
		vxc compute1 "$spec" apply && create+=("$T")
		vxc compute1 "$spec" apply && nochg+=("$T")
		vxc compute1 "$spec" destroy && destroy+=("$T")
	done
	local c d u
	c=$(median <<<"${create[*]}")
	u=$(median <<<"${nochg[*]}")
	d=$(median <<<"${destroy[*]}")
	printf '%-7s %9s %9s %9s %9s %9s\n' "$m" "$c" "$u" "$d" "$(ratio "$d" "$c")" \
		"$(awk -v c="$c" -v m="$m" 'BEGIN { printf "%.3f", c / m }')"
}

vxt_init
vxt_add_host net127 10.0.0.127/24
vxt_add_host compute1 10.0.0.1/24
vxt_node_conf net127 log_level=warning nat=nftables >/dev/null
vxt_node_conf compute1 log_level=warning nat=nftables >/dev/null

first_n=${fip_counts%% *}
echo "vxcloud, the whole command (ms, median of $runs runs, nsenter included everywhere)"
echo
echo "router host: one router holding N floating IPs (nat/nftables)"
printf '%-7s %9s %9s %9s %9s %9s %9s %7s %7s %7s %8s %8s %7s\n' N create no-change validate \
	"add one" "nft add" destroy "add/N$first_n" add/nft dst/cre "cpu noch" "cpu add" \
	"c/N$first_n"
for n in $fip_counts; do
	bench_fips "$n"
done
echo
echo "compute host: M instances (compute/netns: a namespace and a veth each)"
printf '%-7s %9s %9s %9s %9s %9s\n' M create no-change destroy dst/cre "ms/inst"
for m in $inst_counts; do
	bench_instances "$m"
done
echo
echo "targets: no-change at N = 10000 <= 50 ms; add one at N = 10000 <= 3x N = 10;"
echo "         destroy <= create; every column linear in N (compare N to 10 N)"
