#!/bin/sh
exec "$(dirname "$0")/e2e-nat.sh" iptables
