#!/bin/sh
exec "$(dirname "$0")/e2e-lb.sh" nftables
