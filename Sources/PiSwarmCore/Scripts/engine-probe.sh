#!/bin/sh
# Reads, in one round trip, what EngineSetup.plan needs to know of a node's Docker. Prints
# KEY=VALUE lines; files come back in base64.
# Environment: BASE (piswarm's folder on the node), STORE (where piswarm's storage is mounted),
# DATA_ROOT (/var/lib/docker), DAEMON_PATH (daemon.json), CA_DIRS (the folders of
# /etc/docker/certs.d that hold the head registry's CA, space-separated; may be empty),
# DOCKER_SOCKET (dockerd's socket). Also dockerd's own /info (its swarm state), read here through
# its socket with curl so that a node costs the head one round trip; without curl, or without an
# answer, nothing is printed and the head asks the Engine API itself.
: "${BASE:?}" "${STORE:?}" "${DATA_ROOT:?}" "${DAEMON_PATH:?}" "${CA_DIRS?}" "${DOCKER_SOCKET:?}"
if command -v dockerd >/dev/null 2>&1; then echo docker=yes; else echo docker=no; fi
if command -v apt-get >/dev/null 2>&1; then echo apt=yes; fi
if [ -f "$DAEMON_PATH" ]; then echo "daemon_json=$(base64 -w0 "$DAEMON_PATH")"; fi
if [ -f /etc/fstab ]; then echo "fstab=$(base64 -w0 /etc/fstab)"; fi
mode=$(cat "$BASE/storage.mode" 2>/dev/null || true)
echo "storage_mode=$mode"
case $mode in
tmpfs:*) [ "$(stat -f -c %T "$DATA_ROOT" 2>/dev/null)" != tmpfs ] || echo storage_mounted=yes ;;
?*) mountpoint -q "$STORE" 2>/dev/null \
  && [ "$(stat -c %d "$STORE")" = "$(stat -c %d "$DATA_ROOT" 2>/dev/null)" ] \
  && echo storage_mounted=yes ;;
esac
if [ -n "$CA_DIRS" ]; then
  hashes=
  for dir in $CA_DIRS; do
    if [ -f "$dir/ca.crt" ]; then hash=$(sha256sum < "$dir/ca.crt"); hash=${hash%% *}; else hash=none; fi
    hashes="${hashes:+$hashes,}$hash"
  done
  echo "registry_ca=$hashes"
fi
if [ -S "$DOCKER_SOCKET" ] && command -v curl >/dev/null 2>&1 \
  && info=$(curl -sf --max-time 10 --unix-socket "$DOCKER_SOCKET" http://docker/info 2>/dev/null); then
  echo "engine_info=$(printf %s "$info" | base64 -w0)"
fi
true
