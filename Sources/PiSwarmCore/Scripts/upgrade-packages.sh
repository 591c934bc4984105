#!/bin/sh
# `piswarm upgrade --packages`: the distribution's upgrade on a node piswarm has drained.
# Prints key=value lines on stdout (apt's own output goes to stderr):
#   upgraded=N     packages apt upgraded (or would upgrade, simulated)
#   reboot=yes|no  whether /run/reboot-required asks for a restart (Debian's and Raspberry Pi
#                  OS's packages create it: a kernel, libc, systemd)
# PISWARM_APT is full-upgrade (refresh the package lists, finish an interrupted dpkg run, then
# upgrade with the configuration files the node has) or simulate (apt-get --simulate: nothing
# changes; what the tests use on lab nodes, which share the head's /usr).
: "${PISWARM_APT:?}"
set -eu
if ! command -v apt-get >/dev/null 2>&1; then
  echo "no apt-get on this node: piswarm upgrades the packages of Debian-family systems (Raspberry Pi OS, Debian, Ubuntu)" >&2
  exit 3
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
case "$PISWARM_APT" in
  full-upgrade)
    apt-get -q update >&2
    dpkg --configure -a >&2
    apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold full-upgrade >"$log"
    ;;
  simulate)
    apt-get -q -s full-upgrade >"$log"
    ;;
  *)
    echo "PISWARM_APT must be full-upgrade or simulate, not $PISWARM_APT" >&2
    exit 2
    ;;
esac
cat "$log" >&2
upgraded=$(sed -n 's/^\([0-9][0-9]*\) upgraded,.*/\1/p' "$log" | tail -n 1)
echo "upgraded=${upgraded:-0}"
if [ -f /run/reboot-required ]; then
  echo "reboot=yes"
else
  echo "reboot=no"
fi
