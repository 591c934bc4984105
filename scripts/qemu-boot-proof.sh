#!/usr/bin/env bash
# qemu-boot-proof.sh [FIXTURE_DIR]
#
# Proves the netboot end-to-end path under TCG: a diskless aarch64 QEMU VM gets its address from
# dnsmasq (DHCP, fixed by MAC), mounts its root over NFSv3 from nfs-ganesha, boots to sshd, and is
# reached with ssh against a pinned host key. Everything runs in a network namespace made for the
# run (a bridge, the VM's tap, dnsmasq, ganesha, a private rpcbind, the ssh client), with no route
# out. ganesha and its rpcbind also get a mount namespace with a private /run and /var/lib/nfs,
# and a PID namespace, so they can't meet another ganesha or rpcbind on this machine.
#
# FIXTURE_DIR defaults to /var/cache/piswarm/qemu-fixture and is built by qemu-fixture.sh when
# missing. Run as root. Everything started here is stopped by PID, and the namespace and the work
# folder removed, on exit, failure or interrupt.
#
# Environment: PROOF_KEEP=1 keeps the work folder; PROOF_TIMEOUT (s, default 180) bounds the
# wait for SSH; PROOF_SMP (default 1) sets the VM's CPUs; PROOF_IP=static writes the static
# ip=CLIENT::GW:MASK:HOST:eth0:off form instead of ip=dhcp; PROOF_RPCBIND=0 skips the private rpcbind
# (ganesha 4.3 then exits: "Cannot register NFS V3 on UDP"); PROOF_BAD_ROOT=1 points nfsroot= at
# a missing path (the initramfs must print FAILED and power off, and this script fail fast);
# PROOF_APPEND adds words to the kernel command line (e.g. quiet).
#
# Inputs a test can give instead of the defaults: PROOF_ROOT (a node root to export as it is, its
# identity already written; needs PROOF_SSH_KEY, the private key its authorized_keys accepts, and
# its /etc/ssh/ssh_host_ed25519_key.pub is the pinned key), PROOF_CMDLINE (the node's cmdline.txt
# line; its nfsroot=SERVER:PATH gives the head's address, SERVER/24 on the bridge, and the
# export's pseudo path; with nfsroot=PATH set PROOF_HEAD_IP; console=ttyAMA0 is appended), PROOF_MAC, PROOF_VM_IP (the address DHCP
# gives; default the static ip= of the line, else .10 of the subnet).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
FIX=${1:-/var/cache/piswarm/qemu-fixture}
TIMEOUT=${PROOF_TIMEOUT:-180}
SMP=${PROOF_SMP:-1}
[ "$(id -u)" -eq 0 ] || { echo "error: run as root" >&2; exit 1; }

log() { printf '%s qemu-boot-proof: %s\n' "$(date +%T.%N | cut -c1-12)" "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

if [ ! -f "$FIX/vmlinuz" ] || [ ! -f "$FIX/initrd.img" ] || [ ! -d "$FIX/rootfs" ]; then
  log "building the fixture in $FIX"
  "$HERE/qemu-fixture.sh" "$FIX"
fi

# --- names unique to this run -------------------------------------------------------------------
RUN=qbp$$$(printf '%04x' $((RANDOM)))
NS=$RUN
MAC=${PROOF_MAC:-$(printf '52:54:00:%02x:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)))}
VM_HOST=vm-$RUN
if [ -n "${PROOF_CMDLINE:-}" ]; then
  # The caller's cmdline.txt line decides the head's address and the export's path; the head's
  # bridge gets HEAD/24.
  CMDLINE=$PROOF_CMDLINE
  case " $CMDLINE " in *" console=ttyAMA0"*) ;; *) CMDLINE="$CMDLINE console=ttyAMA0" ;; esac
  # shellcheck disable=SC2086 # the line is split into words on purpose
  nfsroot=$(printf '%s\n' $CMDLINE | sed -n 's/^nfsroot=//p' | tail -n1)
  case $nfsroot in
    *:/*) HEAD_IP=${nfsroot%%:*} EXPORT_PSEUDO=${nfsroot#*:} ;;
    /*) # no server: the VM takes DHCP's next-server (dnsmasq's own address)
      HEAD_IP=${PROOF_HEAD_IP:?nfsroot= names no server: set PROOF_HEAD_IP} EXPORT_PSEUDO=$nfsroot ;;
    *) echo "error: PROOF_CMDLINE needs nfsroot=[SERVER:]/PATH" >&2; exit 64 ;;
  esac
  EXPORT_PSEUDO=${EXPORT_PSEUDO%%,*}
  SUBNET=${HEAD_IP%.*}
  # shellcheck disable=SC2086
  ipstatic=$(printf '%s\n' $CMDLINE | sed -n 's/^ip=\([0-9][0-9.]*\):.*/\1/p' | tail -n1)
  VM_IP=${PROOF_VM_IP:-${ipstatic:-$SUBNET.10}}
  EXPORT_PSEUDO=${EXPORT_PSEUDO//%s/$VM_IP} # as the kernel and the initramfs do
  if ip -4 -o addr show | grep -q " ${SUBNET//./\\.}\."; then
    echo "warning: a host interface is in $SUBNET.0/24; the run's namespace is separate, go on" >&2
  fi
else
  # A /24 in 10.233.0.0/16 that no host address or route uses (the namespace has no way out, but
  # stay clear of the host anyway).
  SUBNET=
  for _ in $(seq 1 50); do
    x=$((RANDOM % 254 + 1))
    if ! ip -4 -o addr show | grep -q " 10\.233\.$x\." && ! ip -4 route show | grep -q "^10\.233\.$x\."; then
      SUBNET=10.233.$x
      break
    fi
  done
  [ -n "$SUBNET" ] || { echo "error: no free 10.233.X.0/24" >&2; exit 1; }
  HEAD_IP=$SUBNET.1
  VM_IP=${PROOF_VM_IP:-$SUBNET.10}
  EXPORT_PSEUDO=/srv/piswarm/$RUN/$VM_HOST
  if [ "${PROOF_IP:-dhcp}" = static ]; then
    IPARG="ip=$VM_IP::$HEAD_IP:255.255.255.0:$VM_HOST:eth0:off"
  else
    IPARG=ip=dhcp
  fi
  NFSROOT_PATH=$EXPORT_PSEUDO
  [ "${PROOF_BAD_ROOT:-0}" = 1 ] && NFSROOT_PATH=$EXPORT_PSEUDO/missing
  CMDLINE="console=ttyAMA0 root=/dev/nfs nfsroot=$HEAD_IP:$NFSROOT_PATH,nfsvers=3,tcp rw $IPARG rootwait${PROOF_APPEND:+ $PROOF_APPEND}"
fi
if [ -n "${PROOF_ROOT:-}" ]; then
  [ -d "$PROOF_ROOT" ] || { echo "error: PROOF_ROOT $PROOF_ROOT is not a folder" >&2; exit 64; }
  [ -f "${PROOF_SSH_KEY:-}" ] || { echo "error: PROOF_ROOT needs PROOF_SSH_KEY, the private key its authorized_keys accepts" >&2; exit 64; }
  [ -f "$PROOF_ROOT/etc/ssh/ssh_host_ed25519_key.pub" ] || { echo "error: $PROOF_ROOT has no /etc/ssh/ssh_host_ed25519_key.pub" >&2; exit 64; }
fi
WORK=$(mktemp -d "/tmp/$RUN.XXXXXX")

QEMU_PID='' DNSMASQ_PID='' GANESHA_PID='' NS_MADE=0 STATUS=1
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  for pid in $QEMU_PID $DNSMASQ_PID; do
    kill -TERM "$pid" 2>/dev/null
  done
  # unshare blocks SIGTERM while it waits for its child: stop the child, PID 1 of ganesha's PID
  # namespace, which stops ganesha and rpcbind; unshare then exits. If that takes more than 3 s,
  # SIGKILL to unshare kills its child (--kill-child), and with it the whole PID namespace.
  if [ -n "$GANESHA_PID" ]; then
    read -r ns_init _ 2>/dev/null <"/proc/$GANESHA_PID/task/$GANESHA_PID/children"
    [ -n "${ns_init:-}" ] && kill -TERM "$ns_init" 2>/dev/null
  fi
  for pid in $QEMU_PID $DNSMASQ_PID $GANESHA_PID; do
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  [ "$NS_MADE" -eq 1 ] && ip netns del "$NS" 2>/dev/null
  if [ "${PROOF_KEEP:-0}" = 1 ]; then
    log "work folder kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  if [ "$STATUS" -ne 0 ] || [ "$rc" -ne 0 ]; then log "FAILED"; fi
  exit $((rc ? rc : STATUS))
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

dump_logs() {
  log "--- console (tail) ---"
  tail -n 40 "$WORK/console.log" >&2 2>/dev/null
  log "--- ganesha (tail) ---"
  tail -n 20 "$WORK/ganesha.log" >&2 2>/dev/null
  log "--- dnsmasq (tail) ---"
  tail -n 10 "$WORK/dnsmasq.log" >&2 2>/dev/null
}
die() { log "error: $*"; dump_logs; exit 1; }

T0=$(now)
log "run $RUN: namespace $NS, $SUBNET.0/24, head $HEAD_IP, vm $VM_IP ($MAC), work $WORK"
log "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- the node's root, with a test identity --------------------------------------------------------
if [ -n "${PROOF_ROOT:-}" ]; then
  ROOT=$(cd "$PROOF_ROOT" && pwd)
  install -m 0600 "$PROOF_SSH_KEY" "$WORK/id_ed25519"
  printf '%s %s\n' "$VM_IP" "$(cut -d' ' -f1-2 "$ROOT/etc/ssh/ssh_host_ed25519_key.pub")" >"$WORK/known_hosts"
  log "exporting $ROOT as it is"
else
  ROOT=$WORK/root
  cp -a "$FIX/rootfs" "$ROOT"
  printf '%s\n' "$VM_HOST" >"$ROOT/etc/hostname"
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$ROOT/etc/machine-id"
  echo >>"$ROOT/etc/machine-id"
  ssh-keygen -q -t ed25519 -N '' -C "$VM_HOST" -f "$ROOT/etc/ssh/ssh_host_ed25519_key"
  ssh-keygen -q -t ed25519 -N '' -C "proof-$RUN" -f "$WORK/id_ed25519"
  install -m 0600 "$WORK/id_ed25519.pub" "$ROOT/root/.ssh/authorized_keys"
  printf '%s %s\n' "$VM_IP" "$(cut -d' ' -f1-2 "$ROOT/etc/ssh/ssh_host_ed25519_key.pub")" >"$WORK/known_hosts"
  log "root copied and identity written ($(du -sh "$ROOT" | cut -f1)) in $(since "$T0") s"
fi

# --- network namespace: bridge + tap -------------------------------------------------------------
NS_MADE=1
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add br0 type bridge
ip -n "$NS" addr add "$HEAD_IP/24" dev br0
ip -n "$NS" link set br0 up
ip -n "$NS" tuntap add dev tap0 mode tap
ip -n "$NS" link set tap0 master br0
ip -n "$NS" link set tap0 up
NSENTER=(nsenter "--net=/run/netns/$NS" --)

# --- nfs-ganesha (+ private rpcbind) in its own mount and PID namespaces ------------------------
cat >"$WORK/ganesha.conf" <<EOF
NFS_CORE_PARAM {
  Protocols = 3, 4;
  NFS_Port = 2049;
  MNT_Port = 20048;
  Enable_NLM = false;
  Enable_RQUOTA = false;
  Mount_Path_Pseudo = true;
}
NFSV4 {
  Graceless = true;
  Only_Numeric_Owners = true;
}
EXPORT {
  Export_Id = 1;
  Path = "$ROOT";
  Pseudo = "$EXPORT_PSEUDO";
  Access_Type = RW;
  Squash = No_Root_Squash;
  Protocols = 3, 4;
  Transports = TCP, UDP;
  SecType = sys;
  FSAL { Name = VFS; }
}
LOG {
  Default_Log_Level = EVENT;
}
EOF
cat >"$WORK/ganesha-ns.sh" <<'EOF'
#!/bin/bash
# PID 1 of ganesha's PID namespace, in a private mount namespace. Its death takes rpcbind and
# ganesha with it.
set -euo pipefail
WORK=$1 RPCBIND=$2
# The new mount namespace copied every /run/netns/* mount, which would keep those namespaces
# alive; these copies live only in this namespace (propagation is private).
awk '$5 ~ "^/run/netns/" { print $5 }' /proc/self/mountinfo | while read -r m; do umount -l "$m" || true; done
mount -t tmpfs -o mode=0755 piswarm-run /run
mount -t tmpfs -o mode=0755 piswarm-nfs /var/lib/nfs
mkdir -p /run/ganesha /run/rpcbind /var/lib/nfs/ganesha
chown _rpc /run/rpcbind 2>/dev/null || true
if [ "$RPCBIND" = 1 ]; then
  rpcbind -f -w &
  for _ in $(seq 1 50); do [ -S /run/rpcbind.sock ] && break; sleep 0.1; done
  [ -S /run/rpcbind.sock ] || { echo "rpcbind did not start" >&2; exit 1; }
fi
ganesha.nfsd -F -f "$WORK/ganesha.conf" -L "$WORK/ganesha.log" -p /run/ganesha/ganesha.pid &
ganesha=$!
# As PID 1 this script gets only the signals it handles: SIGTERM stops ganesha, then rpcbind.
trap 'kill -TERM "$ganesha" 2>/dev/null; wait "$ganesha"; kill -TERM $(jobs -p) 2>/dev/null; wait; exit 0' TERM
wait
EOF
chmod +x "$WORK/ganesha-ns.sh"
"${NSENTER[@]}" unshare --mount --propagation private --pid --fork --kill-child --mount-proc \
  "$WORK/ganesha-ns.sh" "$WORK" "${PROOF_RPCBIND:-1}" >"$WORK/ganesha-ns.out" 2>&1 &
GANESHA_PID=$!
T_NFS=$(now)
for _ in $(seq 1 100); do
  "${NSENTER[@]}" bash -c "exec 3<>/dev/tcp/$HEAD_IP/2049" 2>/dev/null && break
  kill -0 "$GANESHA_PID" 2>/dev/null || { cat "$WORK/ganesha-ns.out" >&2; die "ganesha exited"; }
  sleep 0.1
done
"${NSENTER[@]}" bash -c "exec 3<>/dev/tcp/$HEAD_IP/2049" 2>/dev/null || die "ganesha is not listening on $HEAD_IP:2049"
log "ganesha listening on $HEAD_IP:2049 after $(since "$T_NFS") s"
if [ "${PROOF_RPCBIND:-1}" = 1 ]; then
  "${NSENTER[@]}" rpcinfo -p "$HEAD_IP" | sed 's/^/  rpcinfo: /' >&2 || log "rpcinfo failed"
fi
if command -v nfs-ls >/dev/null; then
  "${NSENTER[@]}" nfs-ls "nfs://$HEAD_IP$EXPORT_PSEUDO/etc/ssh?version=3" 2>&1 | sed 's/^/  nfs-ls: /' >&2 || true
fi

# --- dnsmasq: DHCP only, the VM's address fixed by its MAC --------------------------------------
"${NSENTER[@]}" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --bind-interfaces \
  --interface=br0 --except-interface=lo --dhcp-range="$SUBNET.100,$SUBNET.200,255.255.255.0,12h" \
  --dhcp-host="$MAC,$VM_IP,$VM_HOST,infinite" --dhcp-authoritative --no-ping --log-dhcp \
  --dhcp-leasefile="$WORK/dnsmasq.leases" --pid-file="$WORK/dnsmasq.pid" \
  --log-facility="$WORK/dnsmasq.log" &
DNSMASQ_PID=$!

# --- the VM ---------------------------------------------------------------------------------------
T_VM=$(now)
"${NSENTER[@]}" qemu-system-aarch64 -M virt -cpu cortex-a72 -smp "$SMP" -m 512 \
  -display none -monitor none -serial "file:$WORK/console.log" -no-reboot \
  -kernel "$FIX/vmlinuz" -initrd "$FIX/initrd.img" -append "$CMDLINE" \
  -netdev tap,id=net0,ifname=tap0,script=no,downscript=no \
  -device virtio-net-pci,netdev=net0,mac="$MAC",romfile= \
  </dev/null >"$WORK/qemu.out" 2>&1 &
QEMU_PID=$!
log "qemu started (pid $QEMU_PID): $CMDLINE"

# ssh uses the first value it is given for an option: the known_hosts file goes first.
ssh_with() { # ssh_with KNOWN_HOSTS ARGS...
  local known=$1
  shift
  "${NSENTER[@]}" ssh -F /dev/null -o UserKnownHostsFile="$known" -i "$WORK/id_ed25519" \
    -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o GlobalKnownHostsFile=/dev/null -o HostKeyAlgorithms=ssh-ed25519 -o ConnectTimeout=3 \
    -o LogLevel=ERROR "root@$VM_IP" "$@"
}
T_SSH=
marks=("piswarm-initramfs: loading modules" "piswarm-initramfs: eth0 is" "piswarm-initramfs: mounted"
  "piswarm-init: " "sshd started" "Server listening")
declare -A seen
while :; do
  kill -0 "$QEMU_PID" 2>/dev/null || { cat "$WORK/qemu.out" >&2; die "qemu exited before SSH came up"; }
  for m in "${marks[@]}"; do
    if [ -z "${seen[$m]:-}" ] && grep -qF "$m" "$WORK/console.log" 2>/dev/null; then
      seen[$m]=$(since "$T_VM")
      log "console: '$m' by ${seen[$m]} s"
    fi
  done
  if grep -q "piswarm-initramfs: FAILED" "$WORK/console.log" 2>/dev/null; then die "the initramfs failed"; fi
  if "${NSENTER[@]}" timeout 0.5 bash -c "exec 3<>/dev/tcp/$VM_IP/22" 2>/dev/null; then
    if ssh_with "$WORK/known_hosts" true 2>"$WORK/ssh.err"; then
      T_SSH=$(since "$T_VM")
      break
    fi
  fi
  [ "$(since "$T_VM" | cut -d. -f1)" -lt "$TIMEOUT" ] || die "no SSH after $TIMEOUT s"
  sleep 0.25
done
log "SSH up $T_SSH s after qemu started"

echo "=== ssh root@$VM_IP (pinned ed25519 host key) ==="
ssh_with "$WORK/known_hosts" "hostname; cat /proc/cmdline; mount | grep ' / '; cat /etc/machine-id 2>/dev/null; uname -r"
# Writes land in the export.
ssh_with "$WORK/known_hosts" "echo $RUN >/var/tmp/written-by-vm && sync"
[ "$(cat "$ROOT/var/tmp/written-by-vm" 2>/dev/null)" = "$RUN" ] || die "a file the VM wrote is not in the export"
rm -f "$ROOT/var/tmp/written-by-vm"
echo "a file written in the VM is in the export: ok"
T_CMD=$(now)
ssh_with "$WORK/known_hosts" true
echo "=== timings ==="
echo "boot to SSH: $T_SSH s (qemu start to first successful login)"
for m in "${marks[@]}"; do echo "  console '$m': ${seen[$m]:-?} s"; done
echo "one more fresh ssh login: $(since "$T_CMD") s"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; vcpus $SMP (TCG)"
# A key the VM doesn't have must be refused: the pin is real.
ssh-keygen -q -t ed25519 -N '' -f "$WORK/other_host_key"
printf '%s %s\n' "$VM_IP" "$(cut -d' ' -f1-2 "$WORK/other_host_key.pub")" >"$WORK/known_hosts.wrong"
if ssh_with "$WORK/known_hosts.wrong" true 2>/dev/null; then
  die "ssh accepted a host key other than the pinned one"
fi
echo "a wrong pinned key is refused: ok"

# Clean shutdown through the node's init (poweroff -> SIGUSR2 to PID 1); QEMU exits by itself.
T_OFF=$(now)
ssh_with "$WORK/known_hosts" poweroff || true
for _ in $(seq 1 100); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$QEMU_PID" 2>/dev/null; then log "the VM did not power off within 10 s"; else
  wait "$QEMU_PID" 2>/dev/null || true
  QEMU_PID=
  echo "poweroff from ssh: qemu exited after $(since "$T_OFF") s"
fi
echo "total: $(since "$T0") s"
STATUS=0
