#!/bin/sh
# `piswarm image capture`: runs on the node. MODE=probe prints KEY=VALUE lines about the disk
# the node boots from (CaptureProbe.parse reads them); MODE=stream writes that disk's bytes, up to
# the end of its last partition, on stdout, and nothing else there. DISK is the disk the probe
# found: the stream refuses any other. FREEZE=1 holds the disk's filesystems still during the
# copy (read-only remount, else fsfreeze) and releases them however the copy ends.
: "${MODE:?}"
: "${DISK?}"
: "${FREEZE?}"

# The whole disk under the root filesystem, by sysfs (a partition's parent folder is its disk):
# by the root's device number, which also names /dev/root; an NFS or overlay root has none.
source=$(findmnt -n -o SOURCE / 2>/dev/null || awk '$2 == "/" {print $1}' /proc/mounts | tail -n1)
number=$(findmnt -n -o MAJ:MIN / 2>/dev/null | tr -d ' ')
if [ -n "$number" ] && [ -e "/sys/dev/block/$number" ]; then
  sys=$(readlink -f "/sys/dev/block/$number")
elif [ "${source#/dev/}" != "$source" ] && [ -e "/sys/class/block/${source#/dev/}" ]; then
  sys=$(readlink -f "/sys/class/block/${source#/dev/}")
else
  echo "root=$source"
  echo "error=the root filesystem ($source) is not on a local disk: nothing to capture"
  exit 3
fi
if [ -e "$sys/partition" ]; then sys=$(dirname "$sys"); fi
disk=/dev/$(basename "$sys")
sector=512
disk_bytes=$(($(cat "$sys/size") * sector))
# The end of the last partition: what a card holds (a resized root reaches the disk's end).
end=0
for part in "$sys"/*/partition; do
  [ -e "$part" ] || continue
  folder=$(dirname "$part")
  last=$((($(cat "$folder/start") + $(cat "$folder/size")) * sector))
  if [ "$last" -gt "$end" ]; then end=$last; fi
done
if [ "$end" -eq 0 ] || [ "$end" -gt "$disk_bytes" ]; then end=$disk_bytes; fi
# The disk's mounted filesystems (a partition's device name starts with the disk's), each once:
# its first mount, not the bind mounts after it.
mounts=$(awk -v d="$disk" 'index($1, d) == 1 && !seen[$1]++ {print $2}' /proc/mounts | tr '\n' ' ')

if [ "$MODE" = probe ]; then
  echo "root=$source"
  echo "disk=$disk"
  echo "disk_bytes=$disk_bytes"
  echo "bytes=$end"
  echo "mounts=$mounts"
  if command -v fsfreeze >/dev/null 2>&1; then echo "fsfreeze=yes"; else echo "fsfreeze=no"; fi
  exit 0
fi

if [ "$DISK" != "$disk" ]; then
  echo "capture: the node boots from $disk now, not $DISK" >&2
  exit 3
fi
held=""
release() {
  for entry in $held; do
    how=${entry%%:*}
    point=${entry#*:}
    if [ "$how" = frozen ]; then fsfreeze -u "$point" 2>/dev/null; else mount -o remount,rw "$point" 2>/dev/null; fi
  done
  held=""
}
trap release EXIT
trap 'release; exit 130' HUP INT TERM PIPE
sync
if [ "$FREEZE" = 1 ]; then
  # The root last: freezing it first would hold the remounts of the others.
  # /proc/mounts escapes white space in mount points (\040): the list splits on it safely.
  # shellcheck disable=SC2086
  for point in $(printf '%s\n' $mounts | sort -r); do
    if mount -o remount,ro "$point" 2>/dev/null; then
      held="$held remounted:$point"
      echo "capture: $point remounted read-only" >&2
    elif command -v fsfreeze >/dev/null 2>&1 && fsfreeze -f "$point" 2>/dev/null; then
      held="$held frozen:$point"
      echo "capture: $point frozen (fsfreeze)" >&2
    else
      echo "capture: $point can be neither remounted read-only nor frozen: copied live" >&2
    fi
  done
fi
dd if="$disk" bs=4M iflag=count_bytes count="$end" status=none
status=$?
release
exit $status
