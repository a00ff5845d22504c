#!/bin/bash
# The seed's steps 1-5 end to end with web1 and web2 as Docker containers
# (compute driver "docker" against a private dockerd this test starts; or
# podman's API service with VXD_ENGINE=podman, see e2e-docker-podman.sh), on
# simulated hosts: net127 (router with SNAT and a floating IP), compute1
# (web1) and compute2 (web2), and a client on the provider network.
# Checks: HTTP between web1 and web2 over VXLAN, the client fetches web1's
# page through its floating IP, web2 reaches the client through SNAT (seen
# as the router's external address), a second apply changes nothing, and
# destroy on every host leaves every host as found and no container.
set -u
. "${VXC_TOP_SRCDIR:?}/tests/lib/harness.sh"
. "$VXC_TOP_SRCDIR/tests/lib/docker.sh"
vxt_require_root
ENGINE=${VXD_ENGINE:-dockerd}
vxt_require_cmd "$ENGINE" curl busybox tar
vxd_require_cgroups
NAT=
for n in nftables iptables; do
	if [ -f "$VXT_BUILDDIR/plugins/nat/$n/.libs/$n.so" ]; then
		NAT=$n
		break
	fi
done
[ -f "$VXT_BUILDDIR/plugins/compute/docker/.libs/docker.so" ] && [ -n "$NAT" ] || {
	echo "1..0 # SKIP needs the docker compute driver and a NAT driver built"
	exit 77
}
# (the podman run gets names of its own: `make -j check` runs both at once)
if [ "$ENGINE" = podman ]; then vxt_init e2epod; else vxt_init; fi
trap 'vxd_stop_engine; vxt_cleanup' EXIT
trap 'vxd_stop_engine; vxt_cleanup; trap - EXIT; exit 130' INT
trap 'vxd_stop_engine; vxt_cleanup; trap - EXIT; exit 143' TERM
vxt_add_host net127 10.0.0.127/24
vxt_add_host compute1 10.0.0.1/24
vxt_add_host compute2 10.0.0.2/24
vxt_add_client 200.160.0.100/24 200.160.0.1/24
vxd_start_engine "$ENGINE" "$VXT_WORK/engine" || vxt_bail "cannot start $ENGINE"
SETTINGS=()
[ "$ENGINE" = podman ] && SETTINGS=(docker.ulimit_nofile=1024 docker.ulimit_nproc=1024)
vxd_import_busybox busybox:latest || vxt_bail "cannot import the busybox image"

# The client serves /cgi-bin/who: the address a request came from.
www=$VXT_WORK/www
mkdir -p "$www/cgi-bin"
printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR"\n' \
	>"$www/cgi-bin/who"
chmod -R a+rX "$www"
chmod 0755 "$www/cgi-bin/who"
vxt_bg vxt_ns client busybox httpd -f -p 8080 -h "$www"

SERVE='mkdir -p /www && echo \"hello from $NAME\" >/www/index.html && exec httpd -f -p 9898 -h /www'
cat >"$VXT_WORK/cloud.conf" <<EOF
hosts = (
  { name = "net127";   tunnel = "10.0.0.127"; },
  { name = "compute1"; tunnel = "10.0.0.1"; },
  { name = "compute2"; tunnel = "10.0.0.2"; }
);
provider = {
  bridge = "br-provider"; uplink = "uplink";
  cidr = "200.160.0.0/24"; gateway = "200.160.0.1";
  range = [ "200.160.0.4", "200.160.0.100" ];
};
networks = (
  { name = "private"; vni = 100; cidr = "192.168.100.0/24"; gateway = "192.168.100.1"; mtu = 1450; }
);
routers = (
  { name = "router"; host = "net127"; external = "200.160.0.4"; networks = [ "private" ]; snat = true; }
);
instances = (
  { name = "web1"; kind = "container"; host = "compute1"; network = "private";
    address = "192.168.100.6"; image = "busybox"; environment = [ "NAME=web1" ];
    command = [ "sh", "-c", "$SERVE" ]; },
  { name = "web2"; kind = "container"; host = "compute2"; network = "private";
    address = "192.168.100.7"; image = "busybox"; environment = [ "NAME=web2" ];
    command = [ "sh", "-c", "$SERVE" ]; }
);
floating_ips = ( { address = "200.160.0.6"; router = "router"; target = "web1"; } );
EOF

HOSTS=(net127 compute1 compute2)
for h in "${HOSTS[@]}"; do
	vxt_node_conf "$h" nat="$NAT" container=docker docker.socket="$VXD_SOCK" \
		docker.pull=never docker.stop_timeout_ms=2000 "${SETTINGS[@]}" >/dev/null
	declare "before_$h=$(vxt_snapshot "$h")"
done

in_ct() { # NAME CMD...: CMD in the network namespace of container NAME
	local pid
	pid=$(vxd_api GET "/containers/$1/json" | grep -oE '"Pid":[0-9]+' | cut -d: -f2)
	[ -n "$pid" ] && [ "$pid" != 0 ] || return 1
	shift
	nsenter --net="/proc/$pid/ns/net" -- "$@"
}
client_get() { # ADDR PORT PATH: the body's last line, fetched by the client
	vxt_ns client sh -c "printf 'GET $3 HTTP/1.0\r\n\r\n' | busybox nc -w 5 $1 $2" |
		tail -n 1
}
ct_get() { # FROM ADDR PORT PATH
	local from=$1
	shift
	in_ct "$from" sh -c "printf 'GET $3 HTTP/1.0\r\n\r\n' | busybox nc -w 5 $1 $2" |
		tail -n 1
}
is_page() { # WANT CMD...
	local want=$1
	shift
	[ "$("$@")" = "$want" ]
}

for h in "${HOSTS[@]}"; do
	vxt_ok "apply on $h" vxt_vxcloud "$h" apply
done
vxt_ok "web1 (compute1) fetches web2's page (compute2) over VXLAN" \
	vxt_wait_until 150 is_page "hello from web2" ct_get web1 192.168.100.7 9898 /
vxt_ok "web2 fetches web1's page" \
	vxt_wait_until 150 is_page "hello from web1" ct_get web2 192.168.100.6 9898 /
vxt_ok "web1 reaches its gateway, the router on net127" \
	in_ct web1 ping -c 2 -W 5 192.168.100.1
vxt_ok "the client fetches web1's page through floating IP 200.160.0.6" \
	vxt_wait_until 150 is_page "hello from web1" client_get 200.160.0.6 9898 /
vxt_is "web2 reaches the client through SNAT, as the router's external address" \
	"$(ct_get web2 200.160.0.100 8080 /cgi-bin/who | grep -oE '[0-9.]{7,}')" "200.160.0.4"
for h in "${HOSTS[@]}"; do
	vxt_ok "apply again on $h: no changes" grep -q "^no changes" \
		<<<"$(vxt_vxcloud "$h" apply 2>&1 | tail -n 1)"
done
web2_json() { vxd_api GET /containers/web2/json; }
vxt_ok "containers carry their host's label" grep -q '"vxcloud.host":"compute2"' \
	<<<"$(web2_json)"

for h in "${HOSTS[@]}"; do
	vxt_ok "destroy on $h" vxt_vxcloud "$h" destroy
done
for h in "${HOSTS[@]}"; do
	v="before_$h"
	vxt_is "$h is as it was before" "$(vxt_snapshot "$h")" "${!v}"
done
vxt_is "no container is left" "$(vxd_api GET '/containers/json?all=1' | grep -c '"Id"')" 0
vxt_done
