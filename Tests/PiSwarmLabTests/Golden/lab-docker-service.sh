#!/bin/sh
# piswarm lab node: its docker service (SysV style), start | stop | status.
pidfile=/run/docker.pid
running() { pid=$(cat "$pidfile" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
case "${1:-}" in
start)
  running && exit 0
  rm -f "$pidfile"
  # Swarm tasks use the images the node has (no registry is reachable from a lab) unless
  # /etc/default/docker says otherwise (DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=0: they pull).
  DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1
  # shellcheck source=/dev/null
  if [ -r /etc/default/docker ]; then . /etc/default/docker; fi
  export DOCKER_SERVICE_PREFER_OFFLINE_IMAGE
  (setsid sh -c '/usr/sbin/dockerd --config-file /etc/docker/daemon.json >>/var/log/dockerd.log 2>&1' </dev/null >/dev/null 2>&1 &)
  ;;
stop)
  running || exit 0
  kill -TERM "$pid"
  i=0
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 300 ] || { echo "dockerd (pid $pid) did not stop within 30 s" >&2; exit 1; }
    sleep 0.1
  done
  ;;
status) running ;;
*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
