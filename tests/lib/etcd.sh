# shellcheck shell=bash
# vxcloud test harness: an etcd cluster on the simulated underlay.
#
# Sourced after tests/lib/harness.sh, once vxt_init has made the fabric:
#
#   . "$VXC_TOP_SRCDIR/tests/lib/harness.sh"
#   . "$VXC_TOP_SRCDIR/tests/lib/etcd.sh"
#   vxt_require_root
#   etcd_require
#   vxt_init mytest
#   vxt_add_host h1 10.43.0.1/24
#   etcd_cluster_start 3            # members on 10.43.0.201-203 (the first host's /24)
#   vxt_node_conf h1 spec= >/dev/null && etcd_node_conf_group >>"$VXT_WORK/h1/vxcloud.conf"
#   etcd_ctl get --prefix /vxcloud/  # etcdctl as root, for setup and checks only
#   etcd_ctl_as "vxcloud:$ETCD_PASSWORD" put /other x   # as the limited user
#   etcd_in_client curl ...          # any command in the client namespace
#   etcd_member_kill 2; etcd_wait_healthy  # a quorum left: wait for a leader
#   etcd_member_start 2; etcd_wait_healthy
#   etcd_cluster_stop                # then etcd_member_start 1..N, etcd_wait_healthy
#
# Layout: member I (1-based) is etcd in its own namespace ${P}-etcdI, whose
# "underlay" veth is on the fabric bridge with address $ETCD_NET.(200+I);
# ${P}-etcdc ($ETCD_NET.200) is a client namespace for etcdctl (etcd_ctl,
# etcd_curl), so nothing runs in or changes the root namespace. ETCD_NET
# (three octets) defaults to the /24 of the first simulated host's tunnel
# address, else 10.0.0, so agents on the hosts reach the members by their
# underlay addresses.
#
# Security: clients talk TLS (server certificates made by openssl at test
# time, signed by a CA of the run) and must present a client certificate
# signed by that CA (--client-cert-auth); auth is on: a root user, and a
# `vxcloud` user whose role may read and write only keys under
# $ETCD_PREFIX (default /vxcloud/). Peers talk plain HTTP on the fabric.
#
# Exports: ETCD_ENDPOINTS (comma separated https URLs), ETCD_ENDPOINT_LIST
# (array), ETCD_CA, ETCD_CERT, ETCD_KEY (the client certificate, without a
# CN: etcd 3.4's JSON gateway refuses certificates that carry one),
# ETCD_USER=vxcloud, ETCD_PASSWORD, ETCD_PASSWORD_FILE, ETCD_ROOT_PASSWORD, ETCD_ROGUE_CERT/ETCD_ROGUE_KEY/ETCD_ROGUE_CA (a
# certificate from another CA, for refusal tests), ETCD_PIDS (space
# separated, member order; ETCD_PID[I] too), ETCD_PREFIX.
#
# Every etcd runs through vxt_bg, so the harness's cleanup trap ends it
# (by PID, start time checked) even when the test fails half way.

ETCD_PREFIX=${ETCD_PREFIX:-/vxcloud/}
ETCD_N=0
ETCD_DIR=
ETCD_PIDS=
declare -a ETCD_PID=()
declare -a ETCD_ENDPOINT_LIST=()
# Raft timing: a bit slower than etcd's defaults (100/1000 ms) so a loaded
# 2-core machine does not hold an election every few seconds.
ETCD_HEARTBEAT_MS=${ETCD_HEARTBEAT_MS:-200}
ETCD_ELECTION_MS=${ETCD_ELECTION_MS:-2000}

# etcd_require: exit 77 (skip) unless etcd, etcdctl and openssl are installed.
etcd_require() {
	vxt_require_cmd etcd etcdctl openssl curl
}

_etcd_ns() {
	printf '%s-etcd%s' "$P" "$1"
}

# _etcd_addr I: member I's address (I = c: the client namespace).
_etcd_addr() {
	if [ "$1" = c ]; then
		printf '%s.200' "$ETCD_NET"
	else
		printf '%s.%d' "$ETCD_NET" $((200 + $1))
	fi
}

# A namespace on the fabric bridge holding ADDR/24 on "underlay".
_etcd_plug() {
	local i=$1 ns f="${P}-fabric"
	ns=$(_etcd_ns "$i")
	[ -e "/run/netns/$f" ] || vxt_bail "etcd.sh: no fabric (call vxt_init first)"
	_vxt_nsadd "$ns"
	ip -n "$f" link add "e-$i" type veth peer name underlay netns "$ns" &&
		ip -n "$f" link set "e-$i" master fabric up &&
		ip -n "$ns" addr add "$(_etcd_addr "$i")/24" dev underlay &&
		ip -n "$ns" link set underlay up ||
		vxt_bail "cannot plug etcd namespace $ns into the fabric"
}

_etcd_net_default() {
	local first
	if [ ${#VXT_HOSTS[@]} -gt 0 ]; then
		first=${VXT_TUNNEL[${VXT_HOSTS[0]}]}
		printf '%s\n' "${first%.*}"
	else
		printf '10.0.0\n'
	fi
}

# _etcd_cert DIR NAME SUBJECT [SAN]: DIR/NAME.pem and DIR/NAME-key.pem,
# signed by the CA in DIR (ca.pem, ca-key.pem).
_etcd_cert() {
	local d=$1 name=$2 subj=$3 san=${4:-} ext
	ext="$d/$name.ext"
	{
		echo "basicConstraints = CA:FALSE"
		echo "keyUsage = digitalSignature, keyEncipherment"
		echo "extendedKeyUsage = serverAuth, clientAuth"
		[ -z "$san" ] || echo "subjectAltName = $san"
	} >"$ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/$name-key.pem" -subj "$subj" -out "$d/$name.csr" 2>/dev/null &&
		openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" \
			-CAcreateserial -days 2 -extfile "$ext" -out "$d/$name.pem" 2>/dev/null ||
		vxt_bail "openssl: cannot make the $name certificate"
}

_etcd_ca() { # DIR: a self-signed CA in DIR/ca.pem, DIR/ca-key.pem
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$1/ca-key.pem" -subj "/CN=vxcloud test CA $P" -out "$1/ca.pem" \
		2>/dev/null || vxt_bail "openssl: cannot make a CA in $1"
}

_etcd_pki() {
	local i san="IP:127.0.0.1"
	_etcd_ca "$ETCD_DIR/pki"
	for ((i = 1; i <= ETCD_N; i++)); do
		san+=",IP:$(_etcd_addr "$i")"
	done
	# The members' certificate doubles as the client certificate of
	# etcd's own JSON gateway; its CN names no user, so a request without
	# a token gets no rights.
	_etcd_cert "$ETCD_DIR/pki" member "/CN=etcd-member" "$san"
	# No CN: etcd 3.4 answers 400 to a JSON gateway request whose client
	# certificate has one (it would not be used as the user); the user
	# comes from the token of /v3/auth/authenticate.
	_etcd_cert "$ETCD_DIR/pki" client "/O=vxcloud test client"
	# The same subject from another CA: what a stranger's certificate is.
	_etcd_ca "$ETCD_DIR/rogue"
	_etcd_cert "$ETCD_DIR/rogue" client "/O=vxcloud test client"
	ETCD_CA=$ETCD_DIR/pki/ca.pem
	ETCD_CERT=$ETCD_DIR/pki/client.pem
	ETCD_KEY=$ETCD_DIR/pki/client-key.pem
	ETCD_ROGUE_CA=$ETCD_DIR/rogue/ca.pem
	ETCD_ROGUE_CERT=$ETCD_DIR/rogue/client.pem
	ETCD_ROGUE_KEY=$ETCD_DIR/rogue/client-key.pem
	export ETCD_CA ETCD_CERT ETCD_KEY ETCD_ROGUE_CA ETCD_ROGUE_CERT ETCD_ROGUE_KEY
}

_etcd_initial_cluster() {
	local i out=
	for ((i = 1; i <= ETCD_N; i++)); do
		out+="${out:+,}m$i=http://$(_etcd_addr "$i"):2380"
	done
	printf '%s\n' "$out"
}

# _etcd_run I STATE: starts member I (STATE new or existing), tracked.
_etcd_run() {
	local i=$1 addr pki=$ETCD_DIR/pki
	addr=$(_etcd_addr "$i")
	vxt_bg vxt_ns "etcd$i" etcd --name "m$i" --data-dir "$ETCD_DIR/m$i" \
		--listen-client-urls "https://$addr:2379" \
		--advertise-client-urls "https://$addr:2379" \
		--listen-peer-urls "http://$addr:2380" \
		--initial-advertise-peer-urls "http://$addr:2380" \
		--initial-cluster "$(_etcd_initial_cluster)" \
		--initial-cluster-state "$2" --initial-cluster-token "$P" \
		--heartbeat-interval "$ETCD_HEARTBEAT_MS" --election-timeout "$ETCD_ELECTION_MS" \
		--cert-file "$pki/member.pem" --key-file "$pki/member-key.pem" \
		--trusted-ca-file "$pki/ca.pem" --client-cert-auth \
		--logger zap --log-outputs stderr 2>>"$ETCD_DIR/m$i.log"
	ETCD_PID[$i]=$VXT_BG_PID
	_etcd_export_pids
}

_etcd_export_pids() {
	local i
	ETCD_PIDS=
	for ((i = 1; i <= ETCD_N; i++)); do
		ETCD_PIDS+="${ETCD_PIDS:+ }${ETCD_PID[$i]:-}"
	done
	export ETCD_PIDS
}

# etcd_ctl ARGS...: etcdctl (v3) as root against every member, from the
# client namespace. Setup and checks only; vxcloud never uses etcdctl.
etcd_ctl() {
	ETCDCTL_API=3 nsenter --net="/run/netns/$(_etcd_ns c)" -- etcdctl \
		--endpoints "$ETCD_ENDPOINTS" --cacert "$ETCD_CA" --cert "$ETCD_CERT" \
		--key "$ETCD_KEY" --user "root:$ETCD_ROOT_PASSWORD" --command-timeout 5s "$@"
}

# etcd_ctl_as USER:PASSWORD ARGS...: etcdctl as another user (no root).
etcd_ctl_as() {
	local who=$1
	shift
	ETCDCTL_API=3 nsenter --net="/run/netns/$(_etcd_ns c)" -- etcdctl \
		--endpoints "$ETCD_ENDPOINTS" --cacert "$ETCD_CA" --cert "$ETCD_CERT" \
		--key "$ETCD_KEY" --user "$who" --command-timeout 5s "$@"
}

# etcd_in_client CMD...: CMD in the client namespace (on the fabric).
etcd_in_client() {
	nsenter --net="/run/netns/$(_etcd_ns c)" -- "$@"
}

# etcd_member_healthy I: member I answers (through its own endpoint).
etcd_member_healthy() {
	ETCDCTL_API=3 nsenter --net="/run/netns/$(_etcd_ns c)" -- etcdctl \
		--endpoints "https://$(_etcd_addr "$1"):2379" --cacert "$ETCD_CA" \
		--cert "$ETCD_CERT" --key "$ETCD_KEY" --user "root:$ETCD_ROOT_PASSWORD" \
		--command-timeout 2s endpoint health >/dev/null 2>&1
}

# etcd_healthy: every running member answers and the cluster has a leader.
etcd_healthy() {
	local i
	for ((i = 1; i <= ETCD_N; i++)); do
		[ -n "${ETCD_PID[$i]:-}" ] || continue
		etcd_member_healthy "$i" || return 1
	done
}

_etcd_wait_healthy() {
	vxt_wait_until 600 etcd_healthy || {
		local i
		for ((i = 1; i <= ETCD_N; i++)); do
			tail -n 5 "$ETCD_DIR/m$i.log" 2>/dev/null | sed "s/^/# m$i: /"
		done
		vxt_bail "etcd: the cluster did not become healthy in 60 s"
	}
}

# Root and the prefix-limited vxcloud user, then auth on. etcd 3.4 only
# lets auth be enabled once root exists; before that nobody needs a
# password, so this runs without --user.
_etcd_auth_setup() {
	local -a ctl=(env ETCDCTL_API=3 nsenter --net="/run/netns/$(_etcd_ns c)" -- etcdctl
		--endpoints "$ETCD_ENDPOINTS" --cacert "$ETCD_CA" --cert "$ETCD_CERT" --key "$ETCD_KEY"
		--command-timeout 10s)
	"${ctl[@]}" user add "root:$ETCD_ROOT_PASSWORD" >/dev/null &&
		"${ctl[@]}" role add vxcloud >/dev/null &&
		"${ctl[@]}" role grant-permission vxcloud --prefix=true readwrite "$ETCD_PREFIX" \
			>/dev/null &&
		"${ctl[@]}" user add "vxcloud:$ETCD_PASSWORD" >/dev/null &&
		"${ctl[@]}" user grant-role vxcloud vxcloud >/dev/null &&
		"${ctl[@]}" auth enable >/dev/null 2>>"$ETCD_DIR/setup.log" ||
		vxt_bail "etcd: cannot set up users and auth"
}

_etcd_password() {
	od -An -tx1 -N12 /dev/urandom | tr -d ' \n'
}

# etcd_cluster_start N: N members (N >= 1), TLS and auth on; waits until
# the cluster is healthy (bounded, 60 s) and exports the ETCD_* variables.
etcd_cluster_start() {
	local n=${1:?usage: etcd_cluster_start N} i
	[ "$n" -ge 1 ] && [ "$n" -le 9 ] || vxt_bail "etcd_cluster_start: N must be 1..9"
	[ -n "$VXT_WORK" ] || vxt_bail "etcd_cluster_start: call vxt_init first"
	ETCD_N=$n
	ETCD_NET=${ETCD_NET:-$(_etcd_net_default)}
	ETCD_DIR=$VXT_WORK/etcd
	mkdir -p "$ETCD_DIR"
	ETCD_ROOT_PASSWORD=$(_etcd_password)
	ETCD_PASSWORD=$(_etcd_password)
	ETCD_USER=vxcloud
	ETCD_PASSWORD_FILE=$ETCD_DIR/password
	(umask 077 && printf '%s\n' "$ETCD_PASSWORD" >"$ETCD_PASSWORD_FILE")
	export ETCD_USER ETCD_PASSWORD ETCD_PASSWORD_FILE ETCD_ROOT_PASSWORD ETCD_PREFIX ETCD_NET
	ETCD_ENDPOINT_LIST=()
	for ((i = 1; i <= n; i++)); do
		ETCD_ENDPOINT_LIST+=("https://$(_etcd_addr "$i"):2379")
	done
	ETCD_ENDPOINTS=$(
		IFS=,
		printf '%s' "${ETCD_ENDPOINT_LIST[*]}"
	)
	export ETCD_ENDPOINTS
	_etcd_pki
	_etcd_plug c
	for ((i = 1; i <= n; i++)); do
		_etcd_plug "$i"
	done
	for ((i = 1; i <= n; i++)); do
		_etcd_run "$i" new
	done
	_etcd_wait_healthy_noauth
	_etcd_auth_setup
	_etcd_wait_healthy
	vxt_diag "etcd: $n member(s) at $ETCD_ENDPOINTS (pids $ETCD_PIDS)"
}

# Before auth: health without a user.
_etcd_healthy_noauth() {
	ETCDCTL_API=3 nsenter --net="/run/netns/$(_etcd_ns c)" -- etcdctl \
		--endpoints "$ETCD_ENDPOINTS" --cacert "$ETCD_CA" --cert "$ETCD_CERT" \
		--key "$ETCD_KEY" --command-timeout 2s endpoint health >/dev/null 2>&1
}

_etcd_wait_healthy_noauth() {
	vxt_wait_until 600 _etcd_healthy_noauth || {
		local i
		for ((i = 1; i <= ETCD_N; i++)); do
			tail -n 5 "$ETCD_DIR/m$i.log" 2>/dev/null | sed "s/^/# m$i: /"
		done
		vxt_bail "etcd: the cluster did not come up in 60 s"
	}
}

_etcd_wait_gone() { # PID
	local i
	for ((i = 0; i < 100; i++)); do
		_vxt_starttime "$1" >/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# etcd_member_kill I [SIGNAL]: kills member I (default KILL) by its PID and
# waits until it is gone.
etcd_member_kill() {
	local i=$1 sig=${2:-KILL} pid=${ETCD_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null
	_etcd_wait_gone "$pid" || {
		kill -KILL "$pid" 2>/dev/null
		_etcd_wait_gone "$pid"
	}
	ETCD_PID[$i]=
	_etcd_export_pids
}

# etcd_member_start I: restarts member I on its data dir and waits until it
# answers (bounded, 60 s). Needs a quorum to come back healthy: when every
# member was stopped, start them all and then call etcd_wait_healthy.
etcd_member_start() {
	local i=$1
	[ -z "${ETCD_PID[$i]:-}" ] || return 0
	_etcd_run "$i" existing
}

# etcd_wait_healthy: waits (bounded) until every running member answers.
etcd_wait_healthy() {
	_etcd_wait_healthy
}

# etcd_cluster_stop: every member ended by its PID (TERM, then KILL).
etcd_cluster_stop() {
	local i
	for ((i = 1; i <= ETCD_N; i++)); do
		etcd_member_kill "$i" TERM
	done
}

# etcd_node_conf_group [KEY=VALUE...]: prints the node config's etcd group
# for this cluster (the vxcloud user, TLS client certificate, password
# file); KEY=VALUE pairs override or add settings (lease_ttl_s=3, ...).
etcd_node_conf_group() {
	local -A kv=([prefix]=$ETCD_PREFIX [ca]=$ETCD_CA [cert]=$ETCD_CERT [key]=$ETCD_KEY
		[user]=$ETCD_USER [password_file]=$ETCD_PASSWORD_FILE)
	local -a order=(prefix ca cert key user password_file)
	local a k ep
	for a in "$@"; do
		k=${a%%=*}
		case " ${order[*]} " in *" $k "*) ;; *) order+=("$k") ;; esac
		kv[$k]=${a#*=}
	done
	printf 'etcd = {\n  endpoints = ['
	local sep=' '
	for ep in "${ETCD_ENDPOINT_LIST[@]}"; do
		printf '%s"%s"' "$sep" "$ep"
		sep=', '
	done
	printf ' ];\n'
	for k in "${order[@]}"; do
		[ -n "${kv[$k]}" ] || continue
		printf '  %s = %s;\n' "$k" "$(_vxt_conf_value "${kv[$k]}")"
	done
	printf '};\n'
}
