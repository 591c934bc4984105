#!/usr/bin/env bash
# Benchmark: burning a 4 GiB image with 1.5 GiB used (MBR, 256 MiB FAT32, ext4 holding 1.5 GiB
# of incompressible files) to a card, in the same run three ways, each onto a fresh card (a
# loop device on a sparse file, discarded before each run):
#   dd bs=4M oflag=direct, then cmp image card   (the seeds' way)
#   bmaptool copy with the image's .bmap          (Debian's bmap-tools; it checks the bmap's
#                                                  checksums as it writes; making the .bmap is
#                                                  the publisher's job and not timed)
#   piswarm burn (write, then read back and compare)
# Target: piswarm's write phase at least as fast as bmaptool's; burn + verify under 0.6x dd + cmp.
# The image is in the page cache for all three. PISWARM_BIN overrides the binary (default: a
# release build, as the other benchmarks).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
bin=$(piswarm_bin)
command -v bmaptool >/dev/null || { echo "error: bmaptool missing (apt-get install bmap-tools)" >&2; exit 1; }
work=$(mktemp -d /var/tmp/piswarm-bench-burn.XXXXXX)
loop=''
cleanup() {
  [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export PISWARM_STATE_DIR=$work/state PISWARM_FILE=$work/cluster.yml MTOOLS_SKIP_CHECK=1

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r), $(bmaptool --version 2>&1)"

# The image: 1.5 GiB of random files in a 3836 MiB ext4, a FAT32 boot partition, an MBR.
mkdir -p "$work/tree"
for i in 1 2 3 4 5 6; do head -c 256M /dev/urandom >"$work/tree/data$i"; done
mke2fs -q -F -t ext4 -L rootfs -d "$work/tree" "$work/root.ext4" 3836M
rm -rf "$work/tree"
truncate -s 256M "$work/boot.fat"
mkfs.vfat -F 32 -n bootfs "$work/boot.fat" >/dev/null
echo "console=serial0,115200 root=PARTUUID=5049535a-02 rootwait" >"$work/cmdline.txt"
mcopy -i "$work/boot.fat" "$work/cmdline.txt" ::/
img=$work/bench.img
truncate -s 4G "$img"
printf 'label: dos\nlabel-id: 0x5049535a\nunit: sectors\n\nstart=8192, size=524288, type=c\nstart=532480, type=83\n' | sfdisk -q "$img"
dd if="$work/boot.fat" of="$img" bs=1M seek=4 conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$img" bs=1M seek=260 conv=notrunc,sparse status=none
rm -f "$work/boot.fat" "$work/root.ext4"
bmaptool create -o "$work/bench.bmap" "$img" 2>/dev/null
cat "$img" >/dev/null
echo "image: $(du -h --apparent-size "$img" | cut -f1) ($(du -h "$img" | cut -f1) allocated)"

ssh-keygen -q -t ed25519 -N '' -f "$work/id_ed25519"
printf 'name: bench\nhead:\n  interface: lo\n  address: 10.99.0.1/24\n  lan: none\nssh:\n  key: %s\nnodes:\n  - name: bench01\n    ip: 10.99.0.11\n    boot: sd\n' \
  "$work/id_ed25519" >"$work/cluster.yml"

truncate -s 4G "$work/card"
loop=$(losetup --find --show "$work/card")
fresh() { blkdiscard -f "$loop"; sync; }
seconds() { date +%s.%N; }

fresh
t0=$(seconds)
dd if="$img" of="$loop" bs=4M oflag=direct status=none
t1=$(seconds)
cmp "$img" "$loop"
t2=$(seconds)
dd_write=$(echo "$t1 - $t0" | bc)
dd_cmp=$(echo "$t2 - $t1" | bc)

fresh
t0=$(seconds)
bmaptool -q copy --bmap "$work/bench.bmap" "$img" "$loop"
t1=$(seconds)
bmap=$(echo "$t1 - $t0" | bc)

fresh
t0=$(seconds)
"$bin" burn bench01 --device "$loop" --image "$img" --force --yes --json >"$work/burn.json" 2>"$work/burn.err"
t1=$(seconds)
burn=$(echo "$t1 - $t0" | bc)
write=$(sed -n 's/.*"writeSeconds" : \([0-9.]*\).*/\1/p' "$work/burn.json")
verify=$(sed -n 's/.*"verifySeconds" : \([0-9.]*\).*/\1/p' "$work/burn.json")
written=$(sed -n 's/.*"written" : \([0-9]*\).*/\1/p' "$work/burn.json")

printf '%-44s %8s\n' "way" "seconds"
printf '%-44s %8.2f\n' "dd bs=4M oflag=direct (write)" "$dd_write"
printf '%-44s %8.2f\n' "cmp image card" "$dd_cmp"
printf '%-44s %8.2f\n' "dd + cmp" "$(echo "$dd_write + $dd_cmp" | bc)"
printf '%-44s %8.2f\n' "bmaptool copy (write, bmap checksums)" "$bmap"
printf '%-44s %8.2f\n' "piswarm burn: write ($((written / 1048576)) MiB)" "$write"
printf '%-44s %8.2f\n' "piswarm burn: read back + compare" "$verify"
printf '%-44s %8.2f\n' "piswarm burn: whole command (with identity)" "$burn"
printf 'burn + verify / (dd + cmp) = %.2f (target < 0.6); write / bmaptool = %.2f (target <= 1)\n' \
  "$(echo "($write + $verify) / ($dd_write + $dd_cmp)" | bc -l)" "$(echo "$write / $bmap" | bc -l)"
