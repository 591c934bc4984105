#!/bin/sh
# Checks on a node before anything changes on it, in one round trip: prints KEY=VALUE lines that
# Preflight.evaluate reads. Environment: BASE (piswarm's folder on the node).
: "${BASE:?}"
echo "arch=$(uname -m)"
if [ -d /sys/module/vxlan ] || grep -qw '^vxlan' /proc/modules 2>/dev/null || modprobe -n vxlan >/dev/null 2>&1; then echo vxlan=yes; else echo vxlan=no; fi
if [ -d /sys/module/ip_vs ] || [ -e /proc/net/ip_vs ] || modprobe -n ip_vs >/dev/null 2>&1; then echo ipvs=yes; else echo ipvs=no; fi
if [ -r /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
  echo memory_cgroup=yes
else
  awk '$1 == "memory" {print "memory_cgroup=" ($4 == 1 ? "yes" : "no")}' /proc/cgroups 2>/dev/null
fi
echo "time=$(date +%s.%N)"
if command -v dockerd >/dev/null 2>&1; then echo docker=yes; else echo docker=no; fi
if command -v apt-get >/dev/null 2>&1; then echo apt=yes; fi
root=/var/lib/docker; [ -d "$root" ] || root=/var/lib
echo "data_root=$root"
echo "data_root_fs=$(stat -f -c %T "$root" 2>/dev/null)"
df -Pk "$root" 2>/dev/null | awk 'NR == 2 {print "data_root_free_kb=" $4}'
base=$BASE; [ -d "$base" ] || base=/var/lib
df -Pk "$base" 2>/dev/null | awk 'NR == 2 {print "base_free_kb=" $4}'
true
