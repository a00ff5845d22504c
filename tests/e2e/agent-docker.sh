#!/bin/bash
# vxcloudd follows Docker's event stream (compute ops events_open and
# events_read, ABI 1.6). One simulated host, cmp, runs web1 and web2 as
# containers of a private dockerd (compute driver "docker") and its agent
# with --interval 600, so no periodic pass can do the repairs below; no
# `vxcloud apply` ever runs.
# Checks: the agent converges the host; a container restarted through the
# Engine API (POST /containers/web1/restart: a new network namespace,
# without its NIC) is re-plugged by a pass for that instance alone, started
# by the engine's event, and web2 reaches it over HTTP again; `vxcloud
# status` shows the repair and its cause; a dockerd restart (the stream
# ends, the containers come back under their restart policy) is followed by
# a new stream and every container re-plugged; events of another host's
# container and of one vxcloud does not own are filtered out. Prints the time from the
# restart call to web1 answering again.
set -u
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
. "$VXC_TOP_SRCDIR/tests/lib/docker.sh"
vxt_require_root
ENGINE=${VXD_ENGINE:-dockerd}
vxt_require_cmd "$ENGINE" curl busybox tar nsenter
vxd_require_cgroups
[ -f "$VXT_BUILDDIR/plugins/compute/docker/.libs/docker.so" ] || {
	echo "1..0 # SKIP needs the docker compute driver built"
	exit 77
}
# (the podman run gets names of its own: `make -j check` runs both at once)
if [ "$ENGINE" = podman ]; then vxt_init agentpd; else vxt_init agentdk; fi
AGENT=$VXT_BUILDDIR/core/vxcloudd
AGENT_PID=
stop_agent() {
	[ -n "$AGENT_PID" ] || return 0
	kill -TERM "$AGENT_PID" 2>/dev/null
	vxt_wait_until 100 eval "! kill -0 $AGENT_PID"
	AGENT_PID=
}
trap 'stop_agent; vxd_stop_engine; vxt_cleanup' EXIT
trap 'stop_agent; vxd_stop_engine; vxt_cleanup; trap - EXIT; exit 130' INT
trap 'stop_agent; vxd_stop_engine; vxt_cleanup; trap - EXIT; exit 143' TERM
vxt_add_host cmp 10.43.0.2/24
vxd_start_engine "$ENGINE" "$VXT_WORK/engine" || vxt_bail "cannot start $ENGINE"
SETTINGS=()
[ "$ENGINE" = podman ] && SETTINGS=(docker.ulimit_nofile=1024 docker.ulimit_nproc=1024)
vxd_import_busybox busybox:latest || vxt_bail "cannot import the busybox image"

SERVE='mkdir -p /www && echo \"hello from $NAME\" >/www/index.html && exec httpd -f -p 9898 -h /www'
cat >"$VXT_WORK/cloud.conf" <<EOF
hosts = ( { name = "cmp"; tunnel = "10.43.0.2"; } );
networks = (
  { name = "green"; vni = 43; cidr = "10.44.0.0/24"; gateway = "10.44.0.1"; mtu = 1450; }
);
instances = (
  { name = "web1"; kind = "container"; host = "cmp"; network = "green";
    address = "10.44.0.11"; image = "busybox"; environment = [ "NAME=web1" ];
    command = [ "sh", "-c", "$SERVE" ]; },
  { name = "web2"; kind = "container"; host = "cmp"; network = "green";
    address = "10.44.0.12"; image = "busybox"; environment = [ "NAME=web2" ];
    command = [ "sh", "-c", "$SERVE" ]; }
);
EOF
vxt_node_conf cmp container=docker docker.socket="$VXD_SOCK" docker.pull=never \
	docker.stop_timeout_ms=2000 docker.restart=unless-stopped log_level=warning \
	"${SETTINGS[@]}" >/dev/null

ct_pid() { vxd_api GET "/containers/$1/json" | grep -oE '"Pid":[0-9]+' | cut -d: -f2; }
ct_get() { # FROM ADDR: the last line of ADDR:9898/ fetched inside container FROM
	local pid
	pid=$(ct_pid "$1")
	[ -n "$pid" ] && [ "$pid" != 0 ] || return 1
	nsenter --net="/proc/$pid/ns/net" -- \
		sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | busybox nc -w 2 $2 9898" | tail -n 1
}
web1_answers() { [ "$(ct_get web2 10.44.0.11)" = "hello from web1" ]; }
web2_answers() { [ "$(ct_get web1 10.44.0.12)" = "hello from web2" ]; }
status() { vxt_vxcloud cmp status "$@"; }
in_sync() { status 2>/dev/null | grep -q '^agent: pid'; }
repairs() { # KIND NAME: the agent's repair count for that object
	status 2>/dev/null | awk -v k="$1" -v n="$2" '$1 == k && $2 == n { print $6 }'
}
log() { cat "$VXT_WORK/cmp/agent.log"; }
now_ms() { date +%s%3N; }

# ---- convergence, then the agent follows the engine ---------------------
vxt_bg vxt_ns cmp "$AGENT" --config "$VXT_WORK/cmp/vxcloud.conf" --interval 600 -v \
	2>>"$VXT_WORK/cmp/agent.log"
AGENT_PID=$VXT_BG_PID
vxt_ok "the agent starts" vxt_wait_until 100 test -S "$VXT_WORK/cmp/state/agent.sock"
vxt_ok "the agent converges the host" vxt_wait_until 300 in_sync
vxt_ok "web2 reaches web1 over HTTP" vxt_wait_until 150 web1_answers
vxt_ok "web1 reaches web2 over HTTP" vxt_wait_until 150 web2_answers
vxt_ok "the agent follows the docker driver's events" \
	vxt_wait_until 100 eval "log | grep -q 'docker: following the engine.s events'"
vxt_ok "status says so" eval "status | grep -q '^events: docker: following'"
vxt_ok "status --json too" eval \
	"status --json | grep -q '\"events\":\[{\"driver\":\"docker\",\"following\":true}\]'"

# Containers that are not this host's: one labelled for another host (same
# instance name), one without labels. Their events must not reach the agent.
foreign() { # NAME LABELS_JSON
	vxd_api POST "/containers/create?name=$1" -H 'Content-Type: application/json' -d \
		"{\"Image\":\"busybox\",\"Cmd\":[\"sleep\",\"600\"],\"Labels\":$2,
		  \"HostConfig\":{\"NetworkMode\":\"none\",\"Init\":true,
		  \"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":1024,\"Hard\":1024},
		    {\"Name\":\"nproc\",\"Soft\":1024,\"Hard\":1024}]}}" >/dev/null &&
		vxd_api POST "/containers/$1/start" -o /dev/null -w '%{http_code}' | grep -q 204
}
vxt_ok "a container of another host (same instance name) runs" foreign elsewhere-web1 \
	'{"vxcloud.owner":"vxcloud","vxcloud.instance":"web1","vxcloud.host":"elsewhere"}'
vxt_ok "a container vxcloud does not own runs" foreign plain '{}'
for c in elsewhere-web1 plain; do
	vxt_is "$c restarted through the API" \
		"$(vxd_api POST "/containers/$c/restart?t=1" -o /dev/null -w '%{http_code}')" 204
done

# ---- a restart through the Engine API -----------------------------------
n=$(repairs instance web1)
lines=$(log | wc -l)
pid_before=$(ct_pid web1)
t0=$(now_ms)
code=$(vxd_api POST "/containers/web1/restart?t=1" -o /dev/null -w '%{http_code}')
t_api=$(now_ms)
vxt_is "POST /containers/web1/restart is accepted" "$code" 204
vxt_ok "web1 runs in a new process (a new network namespace)" \
	test "$(ct_pid web1)" != "$pid_before"
# Polled every 0.1 s at most 200 times: far below the 600 s periodic pass.
answered=0
for ((i = 0; i < 200; i++)); do
	if web1_answers; then
		answered=1
		break
	fi
	sleep 0.1
done
t1=$(now_ms)
vxt_is "web1 answers again after its restart, without a CLI run" "$answered" 1
vxt_diag "restart call took $((t_api - t0)) ms; from the restart call to web1 answering" \
	"again: $((t1 - t0)) ms (from the call's return: $((t1 - t_api)) ms)"
vxt_ok "the agent counts the repair of web1 in its status" \
	vxt_wait_until 100 eval '[ "$(repairs instance web1)" -gt "$n" ]'
vxt_ok "the agent got the engine's start event for web1" vxt_wait_until 100 \
	eval "log | grep -q '^vxcloudd: instance web1: engine event: docker: container [^:]*web1: start'"
# The restart also deletes the NIC's host end (the old namespace goes):
# that netlink event and the engine's event mark the same object; either
# may come first, and the pass checks web1 alone.
vxt_diag "what marked web1 first after the restart: $(log | tail -n +$((lines + 1)) |
	grep -m1 -E '^vxcloudd: instance web1: ' | sed 's/^vxcloudd: instance web1: //')"
# The restart deletes the NIC's host end too; that netlink event waits (up
# to 500 ms) for the engine's, so the engine's event starts the pass and the
# agent never starts the container under the engine's own restart.
vxt_ok "the engine's event started the pass that re-plugged web1" eval \
	"log | tail -n +$((lines + 1)) | grep -qE '^vxcloudd: repair \(docker: container [^:]*web1: start'"
vxt_ok "no event of the foreign containers reached the agent (they came first)" \
	eval "! log | grep -E 'engine event: .*(elsewhere-web1|plain)'"
vxt_ok "a pass for web1 alone repaired it, not a full pass" eval \
	"log | tail -n +$((lines + 1)) |
		grep -E '^vxcloudd: pass [0-9]+ \(drift: .*\): 1 object checked, [1-9]'"
vxt_ok "no full pass ran since (the periodic one is 600 s away)" eval \
	"! log | tail -n +$((lines + 1)) | grep '^vxcloudd: pass ' | grep -q 'full,'"
vxt_ok "vxcloud status is the agent's and shows web1 ok with its repairs" \
	eval "status | grep -E '^instance +web1 ' | grep -qw ok"
vxt_ok "status: the last pass was a drift pass, and the host matches the spec" \
	eval "status | grep -q '^last pass: .* cause drift' && status | grep -q '^host cmp matches'"

# ---- dockerd restarts: the stream ends, a new one follows ----------------
# (podman's containers do not depend on its API service: dockerd only)
if [ "$ENGINE" = dockerd ]; then
	n1=$(repairs instance web1)
	n2=$(repairs instance web2)
	vxd_restart_dockerd || vxt_bail "cannot restart dockerd"
	vxt_ok "the agent notices the stream ended and follows the new one" \
		vxt_wait_until 200 eval "log | grep -q 'docker: following the engine.s events again'"
	vxt_ok "status says the agent follows the new stream" \
		vxt_wait_until 100 eval "status | grep -q '^events: docker: following'"
	vxt_ok "web1 answers again after dockerd restarted" vxt_wait_until 200 web1_answers
	vxt_ok "web2 answers again after dockerd restarted" vxt_wait_until 200 web2_answers
	vxt_ok "both repairs are counted" vxt_wait_until 100 eval \
		'[ "$(repairs instance web1)" -gt "$n1" ] && [ "$(repairs instance web2)" -gt "$n2" ]'
fi

# ---- SIGTERM leaves the host as it is; destroy removes the containers ----
stop_agent
# filters {"label":["vxcloud.owner=vxcloud","vxcloud.host=cmp"],"status":["running"]}
ours=%7B%22label%22%3A%5B%22vxcloud.owner%3Dvxcloud%22%2C%22vxcloud.host%3Dcmp%22%5D%2C
ours+=%22status%22%3A%5B%22running%22%5D%7D
vxt_is "after SIGTERM both containers of this host still run" \
	"$(vxd_api GET "/containers/json?filters=$ours" |
		grep -oE '"Names":\["/[^"]*' | cut -d/ -f2 | sort | tr '\n' ' ')" "web1 web2 "
vxt_ok "vxcloud destroy" vxt_vxcloud cmp destroy
vxt_is "no container of this host is left; the foreign ones run on" \
	"$(vxd_api GET '/containers/json?all=1' | grep -oE '"Names":\["/[^"]*' | cut -d/ -f2 |
		sort | tr '\n' ' ')" "elsewhere-web1 plain "
[ "$VXT_FAILED" = 0 ] || log | tail -n 60 | sed 's/^/# agent: /'
vxt_done
