# shellcheck shell=bash
# A private Docker engine for tests and the demo, sourced after harness.sh
# (tests) or on its own (contrib/demo.sh, which sets VXT_WORK itself):
#
#   vxd_start_dockerd DIR   dockerd with its socket, data root and exec root
#                           under DIR, its iptables/bridge/forwarding off;
#                           sets VXD_SOCK and VXD_PID; waits for /_ping
#   vxd_import_busybox      the image "busybox:latest" from busybox-static,
#                           imported through the Engine API (no registry)
#   vxd_api METHOD PATH [CURL_ARGS...]   one Engine API call (curl)
#   vxd_stop_dockerd        removes every container of this engine, stops
#                           dockerd by PID and waits for it and its
#                           containerd, unmounts and removes DIR
#
# dockerd runs in the root namespace (under `ip netns exec` it would not see
# the cgroup mounts); with --bridge=none and --iptables=false it changes no
# address, route or firewall rule there.

VXD_DIR=
VXD_SOCK=
VXD_PID=
VXD_API=v1.41

vxd_api() {
	local method=$1 path=$2
	shift 2
	curl -sS --max-time 60 --unix-socket "$VXD_SOCK" -X "$method" "$@" "http://docker/$VXD_API$path"
}

# vxd_cgroups_ro: prints the first read-only cgroup mount, if any. There no
# container can start (runc must make a cgroup): this machine is then
# itself a container without the right to make cgroups.
vxd_cgroups_ro() {
	awk '($3 == "cgroup" || $3 == "cgroup2") && $4 ~ /(^|,)ro(,|$)/ { print $2; exit }' \
		/proc/mounts
}

# vxd_require_cgroups: skips the test (exit 77, with the reason) where no
# container can start.
vxd_require_cgroups() {
	local ro
	ro=$(vxd_cgroups_ro)
	[ -z "$ro" ] && return 0
	echo "1..0 # SKIP no container can start here: cgroup filesystem $ro is read-only"
	exit 77
}

# _vxd_wait_engine WHAT LOG: tracks the engine just started (VXD_PID) for
# the harness's cleanup and waits until its socket answers /_ping.
_vxd_wait_engine() {
	local i
	if declare -F vxt_track_pid >/dev/null && [ -n "${VXT_WORK:-}" ]; then
		vxt_track_pid "$VXD_PID"
	fi
	for ((i = 0; i < 300; i++)); do
		[ "$(curl -s --max-time 2 --unix-socket "$VXD_SOCK" http://docker/_ping 2>/dev/null)" = OK ] &&
			return 0
		kill -0 "$VXD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "$1 did not come up; its log:" >&2
	tail -n 20 "$2" >&2
	return 1
}

# vxd_start_dockerd DIR
vxd_start_dockerd() {
	VXD_DIR=$1
	VXD_SOCK=$VXD_DIR/docker.sock
	mkdir -p "$VXD_DIR/data" "$VXD_DIR/exec" || return 1
	dockerd --iptables=false --ip6tables=false --bridge=none --ip-forward=false \
		--ip-masq=false --data-root "$VXD_DIR/data" --exec-root "$VXD_DIR/exec" \
		-H "unix://$VXD_SOCK" -p "$VXD_DIR/docker.pid" </dev/null \
		>"$VXD_DIR/dockerd.log" 2>&1 &
	VXD_PID=$!
	_vxd_wait_engine dockerd "$VXD_DIR/dockerd.log"
}

# vxd_restart_dockerd: stops dockerd by PID (its containers stop with it)
# and starts it again on the same directories.
vxd_restart_dockerd() {
	_vxd_end_pid "$VXD_PID" && vxd_start_dockerd "$VXD_DIR"
}

# vxd_import_busybox [NAME[:TAG] [OVERLAY]]: a root filesystem of
# busybox-static with its applets as symlinks (plus the files of directory
# OVERLAY, which replace the default page when they bring a
# srv/www/cgi-bin/index.cgi), tarred with fixed owner and times, imported
# as an image (POST /images/create?fromSrc=-).
vxd_import_busybox() {
	local ref=${1:-busybox:latest} overlay=${2:-} root="$VXD_DIR/rootfs" bb a id
	bb=$(command -v busybox) || return 1
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/srv/www" || return 1
	cp "$bb" "$root/bin/busybox" || return 1
	for a in $("$bb" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
	done
	echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
	echo "hello from busybox" >"$root/srv/www/index.html"
	if [ -n "$overlay" ]; then
		cp -a "$overlay/." "$root/" || return 1
		[ ! -e "$root/srv/www/cgi-bin/index.cgi" ] || rm -f "$root/srv/www/index.html"
	fi
	tar --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -C "$root" -cf - . |
		vxd_api POST "/images/create?fromSrc=-&repo=${ref%%:*}&tag=${ref#*:}" \
			-H 'Content-Type: application/x-tar' --data-binary @- >"$VXD_DIR/import.log" ||
		return 1
	# podman 4.3 names every import NAME:latest whatever the tag asked for:
	# tag the image explicitly (a no-op on dockerd).
	id=$(grep -oE '"status":"sha256:[0-9a-f]+' "$VXD_DIR/import.log" | cut -d'"' -f4) &&
		[ -n "$id" ] || return 1
	vxd_api POST "/images/$id/tag?repo=${ref%%:*}&tag=${ref#*:}" -o /dev/null -w '%{http_code}' |
		grep -q '^20'
}

# Ends PID (TERM, then KILL after 20 s) and waits until it is gone.
_vxd_end_pid() {
	local pid=$1 i
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	return 0
}

# Processes started for this engine (containerd, shims) name its exec root
# in their arguments: found by that path, ended by PID.
_vxd_pids_of_engine() {
	local f pid
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		if { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- "$VXD_DIR/exec"; then
			echo "$pid"
		fi
	done
}

vxd_stop_dockerd() {
	local ids id pid mnt
	[ -n "$VXD_DIR" ] || return 0
	if [ -n "$VXD_PID" ] && kill -0 "$VXD_PID" 2>/dev/null; then
		ids=$(vxd_api GET '/containers/json?all=1' 2>/dev/null | grep -oE '"Id":"[0-9a-f]+"' |
			cut -d'"' -f4) || true
		for id in $ids; do
			vxd_api DELETE "/containers/$id?force=1" >/dev/null 2>&1 || true
		done
		_vxd_end_pid "$VXD_PID"
	fi
	for pid in $(_vxd_pids_of_engine); do
		_vxd_end_pid "$pid"
	done
	# mounts under the data and exec roots (overlay, shm, netns), deepest first
	while read -r mnt; do
		umount -l "$mnt" 2>/dev/null || true
	done < <(awk -v d="$VXD_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r)
	rm -rf --one-file-system "$VXD_DIR"
	VXD_DIR=
	VXD_PID=
}

# ---------------------------------------------------------------------------
# Either engine: ENGINE is dockerd or podman (`podman system service`, the
# same API; its containers run without a daemon of their own).

VXD_ENGINE_KIND=
VXD_OTHER_SOCK= # a unix socket that is not a Docker API (for refusal tests)

# vxd_start_engine ENGINE DIR
vxd_start_engine() {
	VXD_ENGINE_KIND=$1
	case $1 in
	dockerd)
		vxd_start_dockerd "$2" || return 1
		VXD_OTHER_SOCK=$2/exec/containerd/containerd.sock
		;;
	podman)
		vxd_start_podman "$2" || return 1
		VXD_OTHER_SOCK=
		;;
	*) echo "unknown engine $1" >&2; return 1 ;;
	esac
}

vxd_restart_engine() {
	case $VXD_ENGINE_KIND in
	dockerd) vxd_restart_dockerd ;;
	*) return 1 ;;
	esac
}

vxd_stop_engine() {
	case $VXD_ENGINE_KIND in
	podman) vxd_stop_podman ;;
	*) vxd_stop_dockerd ;;
	esac
}

# ---------------------------------------------------------------------------
# podman's Docker-compatible API service, private like dockerd above: its
# own storage root, run root and configuration under DIR. runc (crun fails
# on these cgroups), cgroupfs, file events; the init for HostConfig.Init is
# catatonit when installed, else tini (docker-init).
VXD_PODMAN_ENV=()

vxd_start_podman() {
	local init=/usr/libexec/podman/catatonit
	VXD_DIR=$1
	VXD_SOCK=$VXD_DIR/podman.sock
	mkdir -p "$VXD_DIR/root" "$VXD_DIR/run" "$VXD_DIR/tmp" || return 1
	[ -x "$init" ] || init=$(command -v catatonit || command -v docker-init || echo /bin/false)
	cat >"$VXD_DIR/containers.conf" <<CONF
[containers]
init_path = "$init"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$VXD_DIR/events.log"
tmp_dir = "$VXD_DIR/tmp"
CONF
	cat >"$VXD_DIR/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$VXD_DIR/root"
runroot = "$VXD_DIR/run"
CONF
	VXD_PODMAN_ENV=(CONTAINERS_CONF="$VXD_DIR/containers.conf"
		CONTAINERS_STORAGE_CONF="$VXD_DIR/storage.conf")
	env "${VXD_PODMAN_ENV[@]}" podman --root "$VXD_DIR/root" --runroot "$VXD_DIR/run" \
		--tmpdir "$VXD_DIR/tmp" system service --time=0 "unix://$VXD_SOCK" </dev/null \
		>"$VXD_DIR/podman.log" 2>&1 &
	VXD_PID=$!
	_vxd_wait_engine "podman system service" "$VXD_DIR/podman.log"
}

# Containers first (through the API, their conmon processes go with them),
# then the service by PID, then anything still naming DIR (conmon), mounts.
vxd_stop_podman() {
	local ids id pid mnt
	[ -n "$VXD_DIR" ] || return 0
	if [ -n "$VXD_PID" ] && kill -0 "$VXD_PID" 2>/dev/null; then
		ids=$(vxd_api GET '/containers/json?all=1' 2>/dev/null | grep -oE '"Id":"[0-9a-f]+"' |
			cut -d'"' -f4) || true
		for id in $ids; do
			vxd_api DELETE "/containers/$id?force=1" >/dev/null 2>&1 || true
		done
		_vxd_end_pid "$VXD_PID"
	fi
	for pid in $(VXD_DIR_MATCH="$VXD_DIR/" _vxd_pids_naming); do
		_vxd_end_pid "$pid"
	done
	while read -r mnt; do
		umount -l "$mnt" 2>/dev/null || true
	done < <(awk -v d="$VXD_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r)
	rm -rf --one-file-system "$VXD_DIR"
	VXD_DIR=
	VXD_PID=
}

# PIDs (other than this shell) whose arguments hold $VXD_DIR_MATCH.
_vxd_pids_naming() {
	local f pid
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$pid" = $$ ] && continue
		if { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- "$VXD_DIR_MATCH"; then
			echo "$pid"
		fi
	done
}
