#!/bin/sh
# `piswarm facts`: prints KEY=VALUE lines that NodeFacts.parse reads. Every command may be
# missing on a node, so each line stands alone.
echo "arch=$(uname -m)"
if [ -r /proc/device-tree/model ]; then
  echo "model=$(tr -d '\000' < /proc/device-tree/model)"
elif [ -r /sys/class/dmi/id/product_name ]; then
  echo "model=$(cat /sys/class/dmi/id/product_name)"
fi
# shellcheck source=/dev/null
[ -r /etc/os-release ] && echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
echo "kernel=$(uname -r)"
awk '/^MemTotal:/ {print "memory_total_kb=" $2} /^MemAvailable:/ {print "memory_available_kb=" $2}' /proc/meminfo
# What the root is on: a card or USB disk partition (boot: sd), an NFS export (netboot).
echo "root=$(findmnt -n -o SOURCE,FSTYPE / 2>/dev/null | tr -s ' ')"
df -Pk / 2>/dev/null | awk 'NR==2 {print "disk_total_kb=" $2; print "disk_available_kb=" $4}'
[ -r /sys/class/thermal/thermal_zone0/temp ] && awk '{printf "cpu_temp_c=%.1f\n", $1/1000}' /sys/class/thermal/thermal_zone0/temp
command -v vcgencmd >/dev/null 2>&1 && echo "throttled=$(vcgencmd get_throttled | cut -d= -f2)" \
  && echo "bootloader_config=$(vcgencmd bootloader_config 2>/dev/null | grep '=' | tr '\n' ';')"
# The MTU of the interface the default route (else eth0) goes out of: doctor compares it with the head's.
dev=$(ip -o route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
[ -r "/sys/class/net/${dev:-eth0}/mtu" ] && echo "mtu=$(cat "/sys/class/net/${dev:-eth0}/mtu")"
echo "uptime_s=$(cut -d' ' -f1 /proc/uptime)"
command -v docker >/dev/null 2>&1 && echo "docker=$(docker version --format '{{.Server.Version}}' 2>/dev/null)" \
  && echo "swarm=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)"
true
