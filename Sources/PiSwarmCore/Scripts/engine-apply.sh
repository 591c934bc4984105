#!/bin/sh
# Applies EngineSetup's plan on a node: installs Docker, moves its storage, writes fstab, the
# systemd drop-in and daemon.json. It checks what it can before it stops anything, stops dockerd
# only for a storage step or a changed daemon.json, writes every file through a temporary file
# and a rename, and, when the node was in a swarm, waits for it to be back (a manager: until the
# swarm answers) before it returns. It knows two service managers: systemd, and SysV init
# (/etc/init.d/docker). Prints step=… lines as it goes, error=… on failure, done=yes at the end.
#
# Environment (EngineSetup.applyEnvironment):
#   STEP     keep | migrate | grow | resize | repair
#   KIND     root | loopfile | device | tmpfs;  ARG: the size in bytes, or the device
#   FORMAT   1: a device without ext4 may be formatted
#   INSTALL  1: install docker.io with apt-get
#   DAEMON, FSTAB, DROPIN   new daemon.json, /etc/fstab, systemd drop-in, in base64 (empty: keep)
#   MODE     the storage mode as cluster.yml says it (written to BASE/storage.mode)
#   STOP     1: dockerd stops while this runs;  ROLE: manager | worker
#   BASE, STORE, IMAGE, DAEMON_PATH, DROPIN_PATH   where piswarm's files are on the node
#   REGISTRY_CA  the head registry's CA certificate in base64 (empty: keep), written as ca.crt
#                into each folder of CA_DIRS (space-separated), the /etc/docker/certs.d/HOST:PORT
set -eu
: "${STEP:?}" "${KIND:?}" "${ARG?}" "${FORMAT:?}" "${INSTALL:?}" "${DAEMON?}" "${FSTAB?}" "${MODE:?}" "${STOP:?}" \
  "${ROLE:?}" "${DROPIN?}" "${BASE:?}" "${STORE:?}" "${IMAGE:?}" "${DAEMON_PATH:?}" "${DROPIN_PATH:?}" \
  "${REGISTRY_CA?}" "${CA_DIRS?}"
fail() { echo "error=$*"; exit 3; }
is_systemd() { [ -d /run/systemd/system ]; }
docker_running() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
docker_stop() {
  if is_systemd; then
    systemctl stop docker.socket docker.service 2>/dev/null || true
    systemctl stop containerd.service 2>/dev/null || true
  elif [ -x /etc/init.d/docker ]; then
    /etc/init.d/docker stop >/dev/null 2>&1 || true
  fi
  i=0
  while docker_running; do i=$((i + 1)); [ $i -le 300 ] || fail "dockerd did not stop within 30 s"; sleep 0.1; done
}
docker_start() {
  if is_systemd; then
    systemctl start containerd.service 2>/dev/null || true
    systemctl start docker.service || fail "dockerd did not start; see 'journalctl -u docker' on the node"
  elif [ -x /etc/init.d/docker ]; then
    /etc/init.d/docker start >/dev/null 2>&1 || fail "dockerd did not start; see /var/log/docker.log on the node"
  else
    fail "the node has neither systemd nor /etc/init.d/docker: piswarm cannot start dockerd"
  fi
  i=0
  until docker_running; do i=$((i + 1)); [ $i -le 600 ] || fail "dockerd does not answer 60 s after its start"; sleep 0.1; done
}
write() { # PATH BASE64: through a temporary file and a rename, only when it changes
  # A file that is itself a mount point (a bind mount, as containers and some images have for
  # /etc/hosts or /etc/fstab) cannot be renamed over: its temporary file goes to /run.
  if mountpoint -q "$1" 2>/dev/null; then new=$(mktemp /run/piswarm-write.XXXXXX); else new=$(mktemp "$1.piswarm-XXXXXX"); fi
  printf '%s' "$2" | base64 -d > "$new"
  if cmp -s "$new" "$1"; then rm -f "$new"; return 0; fi
  sync "$new"
  if mountpoint -q "$1" 2>/dev/null; then cat "$new" > "$1"; rm -f "$new"; else chmod 0644 "$new"; mv -f "$new" "$1"; fi
}
on_store() { # TARGET: whether TARGET is on piswarm's storage (a folder may be a mount point of something else)
  if [ "$KIND" = tmpfs ]; then [ "$(stat -f -c %T "$1" 2>/dev/null)" = tmpfs ]
  else mountpoint -q "$STORE" && [ "$(stat -c %d "$STORE")" = "$(stat -c %d "$1" 2>/dev/null)" ]; fi
}
copy_into() { # SOURCE TARGET: what SOURCE holds, with owners, modes and links
  [ -d "$1" ] && cp -a "$1/." "$2/"
  return 0
}

# Checks first: nothing stops when one fails.
if [ "$KIND" = device ] && { [ "$STEP" = migrate ] || [ "$STEP" = repair ]; }; then
  [ -b "$ARG" ] || fail "$ARG is not a block device on this node; check docker_storage in cluster.yml"
  where=$(findmnt -rn -o TARGET -S "$ARG" 2>/dev/null | head -n 1)
  [ -z "$where" ] || [ "$where" = "$STORE" ] || fail "$ARG is mounted at $where; unmount it or choose another device"
  type=$(blkid -o value -s TYPE "$ARG" 2>/dev/null || true)
  [ "$type" = ext4 ] || [ "$FORMAT" = 1 ] || fail "$ARG holds ${type:-no filesystem}, not ext4: run 'piswarm up --format' to format it (this erases it)"
fi
swarm=inactive
if docker_running; then swarm=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo inactive); fi
stopped=0
# A failure once dockerd is stopped must not leave the node without it; a lost connection
# (SIGHUP, SIGPIPE at the next output) becomes a failure too, so that this runs. dockerd comes
# back only on its own storage, mounted again if need be, never on what the root holds.
trap '' HUP PIPE
recover() {
  if [ "$KIND" != tmpfs ] && [ "$KIND" != root ] && [ -f "$BASE/storage.mode" ]; then
    mountpoint -q "$STORE" || mount "$STORE" 2>/dev/null || true
    for t in /var/lib/docker /var/lib/containerd; do on_store "$t" || mount "$t" 2>/dev/null || true; done
  fi
  if [ "$KIND" = root ] || [ ! -f "$BASE/storage.mode" ] || on_store /var/lib/docker; then
    docker_start >/dev/null 2>&1 || true
  else
    echo "error=dockerd left stopped: its storage is not mounted; run 'piswarm up' again" >&2
  fi
}
on_exit() {
  status=$?
  if [ $status -ne 0 ] && [ $stopped = 1 ] && ! docker_running; then recover; fi
}
trap on_exit EXIT
if [ "$STOP" = 1 ]; then docker_stop; stopped=1; fi

if [ "$INSTALL" = 1 ]; then
  echo "step=install"
  # No service starts during the install (policy-rc.d): dockerd starts once, on its storage.
  policy=/usr/sbin/policy-rc.d made=0
  if [ ! -e $policy ]; then printf '#!/bin/sh\nexit 101\n' > $policy; chmod +x $policy; made=1; fi
  out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io 2>&1) || {
    out=$(DEBIAN_FRONTEND=noninteractive apt-get update -q 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io 2>&1) || {
      [ $made = 0 ] || rm -f $policy
      fail "apt-get install docker.io failed: $(printf '%s' "$out" | tail -n 1)"
    }
  }
  [ $made = 0 ] || rm -f $policy
  docker_stop; stopped=1
fi

case $STEP in
migrate | repair)
  echo "step=storage"
  mkdir -p "$BASE"
  if [ "$KIND" = tmpfs ]; then
    for d in /var/lib/docker /var/lib/containerd; do
      mkdir -p "$d"
      on_store "$d" && continue
      mkdir -p "$BASE/incoming"
      mount -t tmpfs -o size="$ARG",mode=0711 piswarm-incoming "$BASE/incoming"
      copy_into "$d" "$BASE/incoming"
      mount -t tmpfs -o size="$ARG",mode=0711 tmpfs "$d"
      copy_into "$BASE/incoming" "$d"
      umount "$BASE/incoming"
    done
  else
    # The loopfile is a raw copy of /var/lib/docker, the swarm's CA and raft keys included:
    # readable by root alone.
    if [ "$KIND" = loopfile ] && [ ! -f "$IMAGE" ]; then
      rm -f "$IMAGE.new"
      (umask 077 && truncate -s "$ARG" "$IMAGE.new")
      mkfs.ext4 -q -F -m 0 -L piswarm-docker "$IMAGE.new" >/dev/null
      mv "$IMAGE.new" "$IMAGE"
    fi
    [ "$KIND" != loopfile ] || chmod 0600 "$IMAGE"
    if [ "$KIND" = device ] && [ "$FORMAT" = 1 ] && [ "$(blkid -o value -s TYPE "$ARG" 2>/dev/null || true)" != ext4 ]; then
      echo "step=format $ARG"
      mkfs.ext4 -q -F -L piswarm-docker "$ARG" >/dev/null
    fi
    mkdir -p "$STORE"
    if ! mountpoint -q "$STORE"; then
      if [ "$KIND" = loopfile ]; then mount -o loop,noatime "$IMAGE" "$STORE"; else mount -o noatime "$ARG" "$STORE"; fi
    fi
    for name in docker containerd; do
      target=/var/lib/$name
      mkdir -p "$target"
      on_store "$target" && continue
      if [ ! -d "$STORE/$name" ]; then
        rm -rf "$STORE/$name.new"; mkdir -m 0711 "$STORE/$name.new"
        copy_into "$target" "$STORE/$name.new"
        mv "$STORE/$name.new" "$STORE/$name"
      fi
      mount --bind "$STORE/$name" "$target"
    done
  fi ;;
grow)
  # Offline: an online resize needs CAP_SYS_RESOURCE, which containers and some sandboxes lack.
  echo "step=storage"
  umount /var/lib/containerd 2>/dev/null || true
  umount /var/lib/docker 2>/dev/null || true
  umount "$STORE"
  chmod 0600 "$IMAGE"
  truncate -s "$ARG" "$IMAGE"
  e2fsck -f -p "$IMAGE" >/dev/null 2>&1 || [ $? -le 1 ] || fail "e2fsck $IMAGE found errors it could not repair; run e2fsck -f $IMAGE on the node"
  resize2fs "$IMAGE" >/dev/null 2>&1 || fail "resize2fs $IMAGE failed"
  mount -o loop,noatime "$IMAGE" "$STORE"
  for name in docker containerd; do mount --bind "$STORE/$name" "/var/lib/$name"; done
  ;;
resize)
  echo "step=storage"
  mount -o remount,size="$ARG" /var/lib/docker
  mount -o remount,size="$ARG" /var/lib/containerd ;;
esac
[ -z "$FSTAB" ] || write /etc/fstab "$FSTAB"
if is_systemd; then
  if [ -n "$DROPIN" ]; then mkdir -p "${DROPIN_PATH%/*}"; write "$DROPIN_PATH" "$DROPIN"; else rm -f "$DROPIN_PATH"; fi
  systemctl daemon-reload
fi
if [ "$KIND" = root ]; then rm -f "$BASE/storage.mode"; else
  mkdir -p "$BASE"; write "$BASE/storage.mode" "$(printf '%s\n' "$MODE" | base64 -w0)"; fi
if [ -n "$DAEMON" ]; then mkdir -p "${DAEMON_PATH%/*}"; write "$DAEMON_PATH" "$DAEMON"; fi
if [ -n "$REGISTRY_CA" ]; then
  echo "step=registry CA"
  for dir in $CA_DIRS; do mkdir -p "$dir"; write "$dir/ca.crt" "$REGISTRY_CA"; done
fi

if [ $stopped = 1 ]; then
  echo "step=start"
  docker_start
  if [ "$swarm" = active ]; then
    i=0
    until [ "$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = active ]; do
      i=$((i + 1)); [ $i -le 600 ] || fail "the node has not rejoined its swarm 60 s after dockerd started"; sleep 0.1; done
    if [ "$ROLE" = manager ]; then
      i=0
      until docker node ls -q >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -le 900 ] || fail "the swarm has no leader 90 s after this manager's dockerd started"; sleep 0.2; done
    fi
  fi
fi
echo done=yes
