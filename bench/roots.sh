#!/usr/bin/env bash
# Benchmark: adding 10 node roots from a ~1 GB base (a real tree of many files copied from /usr)
# with piswarm's methods -- btrfs snapshot, overlay on ext4, reflink on xfs -- beside the seeds'
# way (`rsync -xa` full copies) in the same run, each on a loop-mounted filesystem this script
# makes and removes. Reports time and disk per node (df deltas; btrfs also `filesystem du`).
# Target: under 1 s and under 10 MB of disk per node where copy-on-write is available.
# PISWARM_BIN overrides the binary (default: a release build as the other benchmarks).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
bin=$(piswarm_bin)
work=$(mktemp -d /var/tmp/piswarm-bench-roots.XXXXXX)
export PISWARM_STATE_DIR=$work/state
loops=()
mounts=()
cleanup() {
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    m=${mounts[$i]}
    # Whatever piswarm mounted below this filesystem (overlays, then lowers), deepest first.
    awk -v m="$m/" 'index($5, m) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r p; do umount "$p" || true; done
    mountpoint -q "$m" && umount "$m"
  done
  for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
target_bytes=${BASE_BYTES:-1073741824}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r), $(rsync --version | head -1)"

# 1. A ~1 GB base: the first files of /usr (in find order) up to the target size.
mkdir -p "$work/tree"
{ find /usr -xdev -type f -size -64M -printf '%s %P\n' || true; } |
  awk -v t="$target_bytes" '{s += $1; if (s > t) exit; sub(/^[0-9]+ /, ""); print}' >"$work/list"
tar -C /usr -cf - --files-from "$work/list" | tar -C "$work/tree" -xf -
mkdir -p "$work/tree/etc/ssh" "$work/tree/lib/modules/6.6.51+rpt-rpi-v8"
echo 'PRETTY_NAME="piswarm bench base"' >"$work/tree/etc/os-release"
echo 0123456789abcdef0123456789abcdef >"$work/tree/etc/machine-id"
files=$(find "$work/tree" -type f | wc -l)
bytes=$(du -sb "$work/tree" | cut -f1)
echo "base: $files files, $((bytes / 1048576)) MiB"

# 2. A disk image of Raspberry Pi OS's shape around it, imported by piswarm.
root_mib=$((bytes * 13 / 10 / 1048576 + 64))
truncate -s 64M "$work/boot.fat" && mkfs.vfat -F 32 "$work/boot.fat" >/dev/null
echo kernel >"$work/kernel8.img" && MTOOLS_SKIP_CHECK=1 mcopy -i "$work/boot.fat" "$work/kernel8.img" ::/
mkfs.ext4 -q -d "$work/tree" "$work/root.ext4" "${root_mib}M"
img=$work/bench.img
truncate -s $(((8192 + 131072) * 512 + root_mib * 1048576)) "$img"
printf 'label: dos\nstart=8192, size=131072, type=c\nstart=139264, type=83\n' | sfdisk -q "$img"
dd if="$work/boot.fat" of="$img" bs=1M seek=4 conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$img" bs=1M seek=68 conv=notrunc,sparse status=none
rm -f "$work/root.ext4" "$work/boot.fat"
start=$(date +%s.%N)
"$bin" image import "$img" --name bench >/dev/null
echo "import of the ${root_mib} MiB root: $(echo "$(date +%s.%N) - $start" | bc) s"
rm -f "$img"
ssh-keygen -q -t ed25519 -N '' -f "$work/key"

# A loop-mounted filesystem of TYPE at $work/nfs-TYPE.
make_fs() {
  local type=$1 size=$2 dir=$work/nfs-$1
  truncate -s "$size" "$work/$type.img"
  local dev
  dev=$(losetup --find --show "$work/$type.img")
  loops+=("$dev")
  case $type in
    btrfs) mkfs.btrfs -q "$dev" >/dev/null 2>&1 ;;
    xfs) mkfs.xfs -q -m reflink=1 "$dev" ;;
    ext4) mkfs.ext4 -q "$dev" ;;
  esac
  mkdir -p "$dir" && mount "$dev" "$dir"
  mounts+=("$dir")
}

cluster() { # NFS_ROOT
  cat >"$work/cluster.yml" <<YAML
name: bench
head: { interface: eth1, address: 10.42.0.250/24, nfs_root: $1 }
ssh: { key: $work/key }
defaults: { image: bench }
nodes:
  - { name: "node[00-10]", ip: 10.42.0.100+, mac: "b8:27:eb:00:01:00+" }
YAML
}

used() { sync; [ "$2" = btrfs ] && btrfs filesystem sync "$1" >/dev/null; df --output=used -B1 "$1" | tail -1; }

printf '\n| filesystem | method | base, once | time per node | disk per node (df) | exclusive per node |\n|---|---|---:|---:|---:|---:|\n'
run() { # TYPE METHOD
  local type=$1 method=$2 dir=$work/nfs-$1
  cluster "$dir"
  local t0 t1 t2 u0 u1 excl="-"
  t0=$(date +%s.%N)
  "$bin" --file "$work/cluster.yml" root make node00 --method "$method" >/dev/null 2>"$work/$type-$method.log" ||
    { cat "$work/$type-$method.log" >&2; return 1; }
  t1=$(date +%s.%N)
  u0=$(used "$dir" "$type")
  "$bin" --file "$work/cluster.yml" root make "node[01-10]" --method "$method" >/dev/null 2>"$work/$type-$method.log" ||
    { cat "$work/$type-$method.log" >&2; return 1; }
  t2=$(date +%s.%N)
  u1=$(used "$dir" "$type")
  if [ "$type" = btrfs ]; then
    excl=$(btrfs filesystem du -s --raw "$dir/node05" | awk 'NR == 2 {printf "%.0f KiB", $2 / 1024}')
  fi
  printf '| %s | %s | %.1f s | %.3f s | %.2f MiB | %s |\n' "$type" "$method" "$(echo "$t1 - $t0" | bc)" \
    "$(echo "($t2 - $t1) / 10" | bc -l)" "$(echo "($u1 - $u0) / 10 / 1048576" | bc -l)" "$excl"
  "$bin" --file "$work/cluster.yml" root rm node{00..10} >/dev/null
}

# RUNS picks some, e.g. RUNS="btrfs:snapshot ext4:overlay".
for spec in ${RUNS:-btrfs:snapshot btrfs:reflink ext4:overlay xfs:reflink xfs:overlay}; do
  [ -d "$work/nfs-${spec%%:*}" ] || make_fs "${spec%%:*}" 16G
  run "${spec%%:*}" "${spec#*:}"
done
[ -d "$work/nfs-ext4" ] || make_fs ext4 16G

# The seeds' way, on the same ext4: 10 full copies of the base with rsync -xa.
base=$work/nfs-ext4/rsync-base
mkdir -p "$base" && mount -o loop,ro "$PISWARM_STATE_DIR/images/bench/root.ext4" "$base"
mounts+=("$base")
u0=$(used "$work/nfs-ext4" ext4)
t0=$(date +%s.%N)
for n in $(seq -w 1 10); do rsync -xa "$base/" "$work/nfs-ext4/rsync-$n/"; done
t1=$(date +%s.%N)
u1=$(used "$work/nfs-ext4" ext4)
printf '| ext4 | rsync -xa (seeds) | - | %.3f s | %.2f MiB | - |\n' "$(echo "($t1 - $t0) / 10" | bc -l)" \
  "$(echo "($u1 - $u0) / 10 / 1048576" | bc -l)"
