#!/bin/sh
# `piswarm serve`: one sample of the node every INTERVAL seconds, as KEY=VALUE lines ended by a
# line holding only "." (NodeSample.parse reads them). Runs for as long as the SSH session lasts,
# so the head pays one session per node, not one per sample; each round uses shell builtins but
# for sleep (and df every DISK_EVERY rounds, vcgencmd on a Pi).
: "${INTERVAL:?}"
: "${DISK_EVERY:?}"
round=0
# Docker's version, storage driver and backing filesystem, once per session.
if command -v docker >/dev/null 2>&1; then
  echo "docker_engine=$(docker info --format '{{.ServerVersion}} {{.Driver}} {{range .DriverStatus}}{{if eq (index . 0) "Backing Filesystem"}}{{index . 1}}{{end}}{{end}}' 2>/dev/null)"
fi
while :; do
  while read -r key value _; do
    case "$key" in
      MemTotal:) echo "memory_total_kb=$value" ;;
      MemAvailable:) echo "memory_available_kb=$value" ;;
    esac
  done < /proc/meminfo
  if [ $((round % DISK_EVERY)) -eq 0 ]; then
    disk=$(df -Pk / 2>/dev/null | { read -r _; read -r _ total _ available _; echo "$total $available"; })
  fi
  case "$disk" in
    *[0-9]\ [0-9]*) echo "disk_total_kb=${disk% *}" && echo "disk_available_kb=${disk#* }" ;;
  esac
  if [ -r /sys/class/thermal/thermal_zone0/temp ]; then
    read -r millidegrees < /sys/class/thermal/thermal_zone0/temp && echo "cpu_temp_mc=$millidegrees"
  fi
  command -v vcgencmd >/dev/null 2>&1 && throttled=$(vcgencmd get_throttled) && echo "throttled=${throttled#*=}"
  read -r up _ < /proc/uptime && echo "uptime_s=$up"
  # dockerd writes its pid file without a line feed: read fails at the end but sets pid.
  pid=
  [ -r /var/run/docker.pid ] && read -r pid < /var/run/docker.pid
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    echo "dockerd=running"
  else
    echo "dockerd=stopped"
  fi
  echo .
  round=$((round + 1))
  sleep "$INTERVAL"
done
