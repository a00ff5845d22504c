#!/bin/sh
exec "$(dirname "$0")/nat-run.sh" iptables
