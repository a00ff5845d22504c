#!/bin/sh
# ha-router.sh with ARP suppression (linuxbridge neigh_proxy) on every host.
HA_NEIGH_PROXY=true exec "$(dirname "$0")/ha-router.sh"
