#!/bin/bash
# Conformance of the compute driver "docker" through the vxcloud command,
# against a private engine this test starts (dockerd; podman's API service
# with VXD_ENGINE=podman, see compute-docker-podman.sh), on one simulated
# host h1 with one tenant network:
#   - create: web1 and web2 run the spec's image, command and environment
#     with networking off, an init, a memory limit and ownership labels;
#     their NIC has the spec's MAC, address, MTU and default route; each
#     fetches the other's page over it;
#   - apply again: "no changes";
#   - a changed environment, command or image: plan says which, apply makes
#     a new container with the same MAC and address;
#   - a container restarted through the API, and every container after the
#     engine restarts: status says "running, not plugged", apply re-plugs;
#   - a stopped container: status shows its exit code, apply starts it;
#   - bad cases, each with its message: socket missing, a file that is no
#     socket, a socket that is no Docker API, image absent with
#     pull = "never", a failing pull, an API error (quoted), a container with
#     our name that vxcloud does not own (left untouched, never listed, never
#     removed);
#   - destroy: no container of ours, no veth; h1 as it was.
set -u
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
. "$VXC_TOP_SRCDIR/tests/lib/docker.sh"
vxt_require_root
ENGINE=${VXD_ENGINE:-dockerd}
vxt_require_cmd "$ENGINE" curl busybox tar
vxd_require_cgroups
[ -f "$VXT_BUILDDIR/plugins/compute/docker/.libs/docker.so" ] || {
	echo "1..0 # SKIP compute/docker not built (libcurl or jansson missing)"
	exit 77
}
# (the podman run gets names of its own: `make -j check` runs both at once)
if [ "$ENGINE" = podman ]; then vxt_init cdpod; else vxt_init; fi
trap 'vxd_stop_engine; vxt_cleanup' EXIT
trap 'vxd_stop_engine; vxt_cleanup; trap - EXIT; exit 130' INT
trap 'vxd_stop_engine; vxt_cleanup; trap - EXIT; exit 143' TERM
vxt_add_host h1 192.0.2.1/24
vxd_start_engine "$ENGINE" "$VXT_WORK/engine" || vxt_bail "cannot start $ENGINE"
vxd_import_busybox busybox:latest || vxt_bail "cannot import the busybox image"
vxd_import_busybox busybox:v2 || vxt_bail "cannot import the busybox:v2 image"

# The page each server serves says its GREETING (from the environment).
serve_on() { # PORT: the command's shell text, quoted for the spec
	printf 'mkdir -p /www && echo \\"$GREETING\\" >/www/index.html && exec httpd -f -p %s -h /www' "$1"
}

# spec WEB1_ENV WEB1_IMAGE WEB1_PORT [EXTRA_INSTANCES]
spec() {
	cat >"$VXT_WORK/cloud.conf" <<EOF
hosts = ( { name = "h1"; tunnel = "192.0.2.1"; } );
provider = { bridge = "br-prov"; cidr = "203.0.113.0/24"; gateway = "203.0.113.1"; };
networks = ( { name = "blue"; vni = 1001; cidr = "10.0.0.0/24"; gateway = "10.0.0.1";
  mtu = 1400; } );
instances = (
  { name = "web1"; kind = "container"; host = "h1"; network = "blue"; address = "10.0.0.5";
    image = "$2"; command = [ "sh", "-c", "$(serve_on "$3")" ];
    environment = [ "GREETING=$1" ]; memory = 64; },
  { name = "web2"; kind = "container"; host = "h1"; network = "blue"; address = "10.0.0.6";
    image = "busybox"; command = [ "sh", "-c", "$(serve_on 9898)" ];
    environment = [ "GREETING=hello from web2" ]; }
  ${4:-}
);
EOF
}
web3() { # IMAGE [MORE SETTINGS]: a third instance
	printf ',{ name = "web3"; kind = "container"; host = "h1"; network = "blue"; '
	printf 'address = "10.0.0.7"; image = "%s"; %s }' "$1" "${2:-}"
}

VXD_SETTINGS=()
[ "$ENGINE" = podman ] && VXD_SETTINGS=(docker.ulimit_nofile=1024 docker.ulimit_nproc=1024)
conf() { # [SETTING=VALUE...] over the defaults of this test
	vxt_node_conf h1 container=docker docker.socket="$VXD_SOCK" docker.pull=never \
		docker.stop_timeout_ms=2000 "${VXD_SETTINGS[@]}" "$@" >/dev/null
}

ct_json() { vxd_api GET "/containers/$1/json"; }
inspect() { # NAME FIELD: the first "FIELD":value of its inspect reply
	ct_json "$1" | grep -oE "\"$2\":(\"[^\"]*\"|[0-9a-z]+)" | head -n 1 | cut -d: -f2- |
		tr -d '"'
}
has() { # NAME TEXT: its inspect reply holds TEXT
	ct_json "$1" | grep -qF -- "$2"
}
running() { # NAME: the container runs
	[ "$(inspect "$1" Running)" = true ]
}
has_re() { # NAME ERE: its inspect reply matches ERE
	ct_json "$1" | grep -qE -- "$2"
}
in_ct() { # NAME CMD...: CMD in the network namespace of container NAME
	local pid
	pid=$(inspect "$1" Pid)
	[ -n "$pid" ] && [ "$pid" != 0 ] || return 1
	shift
	nsenter --net="/proc/$pid/ns/net" -- "$@"
}
http_get() { # FROM ADDR PORT: the page, fetched inside container FROM
	in_ct "$1" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | busybox nc -w 5 $2 $3" | tail -n 1
}
answers() { # FROM ADDR PORT WANT
	[ "$(http_get "$1" "$2" "$3")" = "$4" ]
}
nic_of() { # NAME: "MAC ADDR/LEN mtu MTU via GW" of eth0 in the container
	local mac addr mtu gw
	mac=$(in_ct "$1" cat /sys/class/net/eth0/address) || return 1
	mtu=$(in_ct "$1" cat /sys/class/net/eth0/mtu)
	addr=$(in_ct "$1" ip -o -4 addr show dev eth0 | awk '{print $4}')
	gw=$(in_ct "$1" ip -4 route show default | awk '{print $3}')
	echo "$mac $addr mtu $mtu via $gw"
}
ours() { # IDs of the containers labelled for host h1
	vxd_api GET '/containers/json?all=1&filters=%7B%22label%22%3A%5B%22vxcloud.host%3Dh1%22%5D%7D' |
		grep -oE '"Id":"[0-9a-f]+"' | cut -d'"' -f4 | sort
}
out_of() { # CMD...: its stdout and stderr, whatever its exit code
	"$@" 2>&1
	return 0
}
last_line() { out_of "$@" | tail -n 1; }
# says DESC TEXT CMD...: the output of CMD (any exit code) holds TEXT;
# says_re: matches the extended regular expression. Shown when not.
_says() {
	local opt=$1 desc=$2 want=$3 out
	shift 3
	out=$("$@" 2>&1)
	if grep -q "$opt" -- "$want" <<<"$out"; then
		vxt_pass "$desc"
	else
		vxt_flunk "$desc" "wanted: $want" "$out"
	fi
}
says() { _says -F "$@"; }
plan_says() { # DESC TEXT: plan exits 6 (would change) and says TEXT
	local rc=0
	vxt_vxcloud h1 plan >/dev/null 2>&1 || rc=$?
	if [ "$rc" = 6 ]; then
		_says -F "$1" "$2" vxt_vxcloud h1 plan
	else
		vxt_flunk "$1" "plan exited $rc, not 6" "$(out_of vxt_vxcloud h1 plan)"
	fi
}
says_re() { _says -E "$@"; }

conf
spec "hello from web1" busybox 9898
before=$(vxt_snapshot h1)

# ---- create --------------------------------------------------------------
vxt_ok "apply creates web1 and web2" vxt_vxcloud h1 apply
vxt_is "web1 runs" "$(inspect web1 Running)" true
web1_mac=$(vxt_ns h1 ip -o link show vi-web1 >/dev/null && in_ct web1 cat /sys/class/net/eth0/address)
vxt_is "web1's NIC: its address, the network's MTU, the default route" \
	"$(nic_of web1)" "$web1_mac 10.0.0.5/24 mtu 1400 via 10.0.0.1"
vxt_ok "its MAC is the spec's (derived, locally administered)" \
	grep -qE '^02:' <<<"$web1_mac"
vxt_ok "its host end joins the tenant bridge" \
	grep -q 'master vb-blue' <<<"$(vxt_ns h1 ip -o link show vi-web1)"
vxt_ok "... marked as vxcloud's" grep -q 'alias vxcloud:instance:web1' \
	<<<"$(vxt_ns h1 ip -d link show vi-web1)"
vxt_ok "the container's own networking is off" has web1 '"NetworkMode":"none"'
vxt_ok "... with an init process" has web1 '"Init":true'
vxt_ok "... the memory limit" has web1 '"Memory":67108864'
vxt_ok "... and ownership labels" has web1 '"vxcloud.instance":"web1"'
vxt_ok "web2 fetches web1's page (the environment reached the command)" \
	vxt_wait_until 150 answers web2 10.0.0.5 9898 "hello from web1"
vxt_ok "web1 fetches web2's page" vxt_wait_until 150 answers web1 10.0.0.6 9898 "hello from web2"
vxt_ok "a second apply changes nothing" grep -q "^no changes" <<<"$(last_line vxt_vxcloud h1 apply)"
vxt_ok "plan agrees (exit 0)" vxt_vxcloud h1 plan
vxt_ok "status agrees (exit 0)" vxt_vxcloud h1 status
says_re "the API version is negotiated from GET /version (1.41 for both engines here)" \
	"compute/docker: $VXD_SOCK: .*, API v1\.41" vxt_vxcloud h1 -vv plan

# An instance named like the start of another container's ID: the engine
# resolves such a name as an ID prefix; it must not pass for that container.
web2_id=$(inspect web2 Id)
pfx=${web2_id:0:4}
spec "hello from web1" busybox 9898 ",{ name = \"$pfx\"; kind = \"container\"; host = \"h1\";
  network = \"blue\"; address = \"10.0.0.9\"; image = \"busybox\";
  command = [ \"sleep\", \"1000\" ]; }"
says "an instance named $pfx (web2's ID starts so) gets a container of its own" \
	"instance $pfx: create container $pfx (not there yet)" vxt_vxcloud h1 apply
named() { # NAME: the /containers/json entry of the container of exactly that name
	vxd_api GET "/containers/json?all=1&filters=%7B%22name%22%3A%5B%22%5E%2F%3F$1%24%22%5D%7D"
}
vxt_ok "... labelled for it" grep -qF "\"vxcloud.instance\":\"$pfx\"" <<<"$(named "$pfx")"
vxt_is "web2 untouched" "$(inspect web2 Id) $(inspect web2 Running)" "$web2_id true"
spec "hello from web1" busybox 9898
vxt_ok "dropped from the spec, it goes" vxt_vxcloud h1 apply
vxt_is "web2 still untouched" "$(inspect web2 Id) $(inspect web2 Running)" "$web2_id true"

# ---- changes recreate ----------------------------------------------------
id1=$(inspect web1 Id)
spec "changed env" busybox 9898
plan_says "plan: a changed environment recreates web1" \
	"instance web1: remove container web1 (environment changed)"
vxt_is "plan touched nothing" "$(inspect web1 Id)" "$id1"
vxt_ok "apply recreates web1" vxt_vxcloud h1 apply
id2=$(inspect web1 Id)
vxt_ok "web1 is a new container" test -n "$id2" -a "$id2" != "$id1"
vxt_ok "it serves the new environment" vxt_wait_until 150 answers web2 10.0.0.5 9898 "changed env"
vxt_is "same MAC and address" "$(nic_of web1 | cut -d' ' -f1-2)" "$web1_mac 10.0.0.5/24"
vxt_is "web2 was not touched" "$(inspect web2 Running)" true

spec "changed env" busybox 8080
plan_says "plan: a changed command recreates web1" "remove container web1 (command changed)"
vxt_ok "apply" vxt_vxcloud h1 apply
vxt_ok "web1 serves on its new port" vxt_wait_until 150 answers web2 10.0.0.5 8080 "changed env"

spec "changed env" busybox:v2 8080
plan_says "plan: a changed image recreates web1" "remove container web1 (image changed)"
vxt_ok "apply" vxt_vxcloud h1 apply
# (podman shows the reference fully qualified: docker.io/library/busybox:v2)
vxt_ok "web1 runs busybox:v2" has_re web1 '"Image":"([^"]*/)?busybox:v2"'
vxt_ok "and answers" vxt_wait_until 150 answers web2 10.0.0.5 8080 "changed env"
vxt_is "same MAC and address" "$(nic_of web1 | cut -d' ' -f1-2)" "$web1_mac 10.0.0.5/24"
vxt_ok "apply again: no changes" grep -q "^no changes" <<<"$(last_line vxt_vxcloud h1 apply)"

# The tag moves to another image: same reference, another image behind it.
# (A fresh import: podman 4.3 also moves "latest" to each import, which
# recreates web2 too; what counts here is web1.)
vxd_import_busybox busybox:moved || vxt_bail "cannot import busybox:moved"
vxd_api POST '/images/busybox:moved/tag?repo=busybox&tag=v2' >/dev/null
plan_says "plan: the image behind busybox:v2 changed: recreate" \
	"remove container web1 (image behind busybox:v2 changed)"
vxt_ok "apply" vxt_vxcloud h1 apply
vxt_ok "web1 answers" vxt_wait_until 150 answers web2 10.0.0.5 8080 "changed env"
vxt_ok "apply again: no changes" grep -q "^no changes" <<<"$(last_line vxt_vxcloud h1 apply)"

# ---- containers that come back -------------------------------------------
vxd_api POST '/containers/web1/restart?t=1' >/dev/null
vxt_ok "web1 restarted through the API runs" \
	vxt_wait_until 100 running web1
vxt_ok "status: web1 running, not plugged" \
	grep -q "web1 running, not plugged" <<<"$(out_of vxt_vxcloud h1 status)"
vxt_fail "status exits non-zero" vxt_vxcloud h1 status
vxt_ok "apply plugs it again" vxt_vxcloud h1 apply
vxt_ok "web1 answers again" vxt_wait_until 150 answers web2 10.0.0.5 8080 "changed env"
vxt_is "with its MAC and address" "$(nic_of web1 | cut -d' ' -f1-2)" "$web1_mac 10.0.0.5/24"

# The old namespace kept alive by a process outside the container keeps the
# old pair, host end included: plugged means the peer is in the new one.
vxt_bg nsenter --net="/proc/$(inspect web1 Pid)/ns/net" -- sleep 600
holder=$VXT_BG_PID
vxt_wait_until 50 test -e "/proc/$holder/ns/net"
vxd_api POST '/containers/web1/restart?t=1' >/dev/null
vxt_ok "web1 restarted while its old namespace is held open runs" \
	vxt_wait_until 100 running web1
vxt_ok "its old host end is still there" vxt_ns h1 ip link show vi-web1
says "status: web1 running, not plugged all the same" "web1 running, not plugged" \
	vxt_vxcloud h1 status
vxt_ok "apply plugs it into its new namespace" vxt_vxcloud h1 apply
vxt_ok "web1 answers again" vxt_wait_until 150 answers web2 10.0.0.5 8080 "changed env"
kill "$holder" 2>/dev/null

vxd_api POST '/containers/web2/stop?t=1' >/dev/null
says_re "status: web2 stopped, with its exit code" \
	"start container web2 \((exited|stopped), exit code [0-9]+\)" \
	vxt_vxcloud h1 status
vxt_ok "apply starts web2" vxt_vxcloud h1 apply
vxt_ok "web2 answers again" vxt_wait_until 150 answers web1 10.0.0.6 9898 "hello from web2"

if [ "$ENGINE" = dockerd ]; then
	vxd_restart_engine || vxt_bail "cannot restart dockerd"
	vxt_ok "after dockerd restarts, the restart policy brings web1 back" \
		vxt_wait_until 100 running web1
	vxt_ok "... and web2" vxt_wait_until 100 running web2
	st=$(out_of vxt_vxcloud h1 status)
	vxt_ok "status: both running, not plugged" grep -q "web1 running, not plugged" <<<"$st"
	vxt_ok "... web2 too" grep -q "web2 running, not plugged" <<<"$st"
	vxt_ok "apply plugs them" vxt_vxcloud h1 apply
	vxt_ok "web2 fetches web1's page" vxt_wait_until 150 answers web2 10.0.0.5 8080 "changed env"
fi

# ---- bad cases -------------------------------------------------------------
conf docker.socket="$VXT_WORK/no-such.sock"
# (apply lists what the driver owns first: the message names the driver)
says "socket missing: refused, naming the socket" \
	"list owned objects: socket $VXT_WORK/no-such.sock: No such file or directory (is dockerd" \
	vxt_vxcloud h1 apply
conf docker.socket="$VXT_WORK/h1/vxcloud.conf"
says "a file that is no socket: said so" \
	"docker: list owned objects: $VXT_WORK/h1/vxcloud.conf is not a socket" \
	vxt_vxcloud h1 apply
if [ -S "${VXD_OTHER_SOCK:-}" ]; then
	conf docker.socket="$VXD_OTHER_SOCK"
	says "a socket that is no Docker API: said so" \
		"docker: list owned objects: $VXD_OTHER_SOCK is not a Docker Engine API" \
		vxt_vxcloud h1 apply
fi
conf

conf docker.pull=sometimes
says "a bad pull setting: refused by the driver, naming the node config" \
	"$VXT_WORK/h1/vxcloud.conf:" vxt_vxcloud h1 validate
says "... with the values it takes" \
	'compute/docker: pull = "sometimes": must be "never", "if-missing" or "always"' \
	vxt_vxcloud h1 validate
conf docker.restart=never
says "a bad restart policy: refused" \
	'compute/docker: restart = "never": must be "no", "on-failure", "always" or' \
	vxt_vxcloud h1 validate
conf docker.stop_timeout_ms=-5
says "an out-of-range setting: refused by the schema" \
	"settings.docker.stop_timeout_ms: -5 is out of range 0..600000" vxt_vxcloud h1 validate
conf

spec "changed env" busybox:v2 8080 ',{ name = "web3"; kind = "container"; host = "h1";
  network = "blue"; address = "10.0.0.7"; command = [ "sleep", "1000" ]; }'
says "an instance without an image: refused" \
	"docker: instance web3: the docker driver needs an image" vxt_vxcloud h1 apply
spec "changed env" busybox:v2 8080 "$(web3 nosuch:1)"
says "image absent with pull = never: refused" \
	'docker: instance web3: image nosuch:1 is not on the engine and pull = "never"' \
	vxt_vxcloud h1 apply
# A registry on a closed port of the loopback: the pull fails at once,
# and nothing leaves the machine.
spec "changed env" busybox:v2 8080 "$(web3 127.0.0.1:1/nosuch:1)"
conf docker.pull=if-missing
says_re "a pull that fails: refused with the engine's reason" \
	'docker: instance web3: (pull 127.0.0.1:1/nosuch:1 failed|pull: HTTP [0-9]+): "' \
	vxt_vxcloud h1 apply
conf
# An image reference the engine refuses (repository names are lowercase).
spec "changed env" busybox:v2 8080 "$(web3 BusyBox 'command = [ "sleep", "1000" ];')"
says_re "an API error: the engine's message quoted" \
	'docker: instance web3: inspect image: HTTP [0-9]+: ".*must be lowercase' \
	vxt_vxcloud h1 apply
vxt_is "no web3 container was left" "$(ct_json web3 | grep -c '"Id"')" 0

foreign=$(vxd_api POST '/containers/create?name=web3' -H 'Content-Type: application/json' \
	-d '{"Image":"busybox","Cmd":["sleep","100000"],"HostConfig":{"NetworkMode":"none","Init":true,
	"Ulimits":[{"Name":"nofile","Soft":1024,"Hard":1024},{"Name":"nproc","Soft":1024,"Hard":1024}]}}' |
	grep -oE '"Id":"[0-9a-f]+"' | cut -d'"' -f4)
vxd_api POST "/containers/$foreign/start" >/dev/null
spec "changed env" busybox:v2 8080 "$(web3 busybox 'command = [ "sleep", "1000" ];')"
refused="docker: instance web3: container name web3 is in use by container ${foreign:0:12}"
says "a container named web3 that vxcloud does not own: refused" \
	"$refused, which vxcloud does not own; refusing to touch it" \
	vxt_vxcloud h1 apply
vxt_is "... and left untouched" "$(inspect web3 Id) $(inspect web3 Running)" "$foreign true"
vxt_fail "status does not take it for one of ours" grep -q stale \
	<<<"$(out_of vxt_vxcloud h1 status)"

# ---- a run killed half-way -------------------------------------------------
# SIGKILL while containers are being made: the next apply finishes the job.
extra=
for k in 1 2 3 4 5 6; do
	extra="$extra,{ name = \"k$k\"; kind = \"container\"; host = \"h1\"; network = \"blue\";
  address = \"10.0.0.2$k\"; image = \"busybox\"; command = [ \"sleep\", \"1000\" ]; }"
done
spec "changed env" busybox:v2 8080 "$extra"
exists() { named "$1" | grep -q '"Id"'; }
vxt_bg nsenter --net="/run/netns/${P}-h1" -- "$VXT_BUILDDIR/core/vxcloud" \
	--config "$VXT_WORK/h1/vxcloud.conf" apply >"$VXT_WORK/killed.log" 2>&1
run=$VXT_BG_PID
vxt_wait_until 300 exists k2
kill -KILL "$run" 2>/dev/null
wait "$run" 2>/dev/null
vxt_fail "killed after making k2, before making k6" exists k6
vxt_fail "status: the host differs" vxt_vxcloud h1 status
vxt_ok "the next apply completes it" vxt_vxcloud h1 apply
vxt_ok "... and a second one has nothing to do" grep -q "^no changes" \
	<<<"$(last_line vxt_vxcloud h1 apply)"
vxt_ok "k6 is plugged" grep -q "10.0.0.26/24" <<<"$(nic_of k6)"

# ---- destroy ---------------------------------------------------------------
spec "changed env" busybox:v2 8080
vxt_ok "destroy" vxt_vxcloud h1 destroy
vxt_is "no container of ours is left" "$(ours)" ""
vxt_is "the foreign container is still there, running" \
	"$(inspect web3 Id) $(inspect web3 Running)" "$foreign true"
vxt_is "destroy leaves h1 as it was (no veth)" "$(vxt_snapshot h1)" "$before"
vxt_ok "destroy again: nothing to do" grep -q "^0 changes made" <<<"$(last_line vxt_vxcloud h1 destroy)"
vxd_api DELETE "/containers/$foreign?force=1" >/dev/null
vxt_done
