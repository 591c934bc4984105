#!/usr/bin/env bash
# realos-image.sh OUTDIR [FIXTURE]
#
# Builds, once, a disk image of Raspberry Pi OS's shape from real Debian 12 arm64 packages, for
# the tests that boot a real operating system diskless from piswarm's roots:
#
#   OUTDIR/realos.img   MBR (disk id 0x5049535a), partition 1 FAT32 "bootfs" (config.txt, a Pi
#                       OS cmdline.txt: root=PARTUUID=5049535a-02 rootwait resize
#                       init=/usr/lib/raspberrypi-sys-mods/firstboot, kernel8.img, initramfs8),
#                       partition 2 ext4 "rootfs" (Debian 12 arm64: systemd, udev, dbus,
#                       openssh-server, docker.io, NetworkManager, cloud-init, dphys-swapfile,
#                       apparmor, the kernel's modules; Pi OS's fstab, firstboot and ssh-off)
#   OUTDIR/VERSIONS     what went in
#
# The kernel, its modules and the initramfs are the QEMU fixture's (scripts/qemu-fixture.sh
# FIXTURE, default /var/cache/piswarm/qemu-fixture): Debian's arm64 kernel, not the Pi's. Where
# the image differs from Raspberry Pi OS is in docs/netboot-roots.md.
#
# Run as root on Debian 12. Built without mounting anything but binfmt_misc: mmdebstrap into a
# folder (arm64 maintainer scripts run through qemu-user-static, registered here for the build
# and unregistered after), mke2fs -d for the root, mtools for the FAT, sfdisk for the table.
# Cached: the Debian tree in OUTDIR/.cache/tree-KEY (KEY: the package list), the image until
# this script, the package list or the fixture changes (OUTDIR/.cache/recipe). Every output is
# made under a temporary name and renamed when complete.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR [FIXTURE]" >&2; exit 64; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
[ "$(id -u)" -eq 0 ] || { echo "error: run as root" >&2; exit 1; }

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$1
FIXTURE=${2:-/var/cache/piswarm/qemu-fixture}
mkdir -p "$OUT/.cache"
OUT=$(cd "$OUT" && pwd)
CACHE=$OUT/.cache

log() { echo "realos-image: $*" >&2; }

# What Raspberry Pi OS Bookworm (and the later Trixie images) run that matters to a diskless
# node: NetworkManager, cloud-init, a swap file, AppArmor (Debian's kernel enables it and Docker
# 20.10 then needs apparmor_parser).
PACKAGES=(systemd-sysv udev dbus openssh-server docker.io containerd runc iptables e2fsprogs iproute2
  kmod procps netbase network-manager cloud-init dphys-swapfile apparmor ca-certificates)
PARTUUID_DISK=5049535a

# Host tools, installed without starting any service, as scripts/install-deps.sh does.
"$HERE/install-deps.sh" mmdebstrap qemu-user-static mtools dosfstools e2fsprogs fdisk

bash "$HERE/qemu-fixture.sh" "$FIXTURE" >&2
KVER=$(sed -n 's/^kernel //p' "$FIXTURE/VERSIONS")
if [ -z "$KVER" ] || [ ! -d "$FIXTURE/modules/lib/modules/$KVER" ]; then
  echo "error: no kernel in $FIXTURE (scripts/qemu-fixture.sh makes it)" >&2
  exit 1
fi

TREE_KEY=$(printf '%s\n' bookworm arm64 "${PACKAGES[@]}" | sha256sum | cut -c1-16)
TREE=$CACHE/tree-$TREE_KEY
RECIPE=$( (cat "$0" "$FIXTURE/VERSIONS" "$FIXTURE/initrd.img"; echo "$TREE_KEY") | sha256sum | cut -c1-64)

if [ -f "$OUT/realos.img" ] && [ "$(cat "$CACHE/recipe" 2>/dev/null)" = "$RECIPE" ]; then
  log "cached: $OUT/realos.img"
  exit 0
fi

# --- the Debian tree (mmdebstrap, arm64 through qemu-user-static) -------------------------------
BINFMT=/proc/sys/fs/binfmt_misc
mounted_binfmt=0 registered=0
cleanup() {
  [ "$registered" -eq 1 ] && echo -1 >"$BINFMT/qemu-aarch64"
  [ "$mounted_binfmt" -eq 1 ] && umount "$BINFMT"
  rm -rf "$CACHE/tree.tmp" "$CACHE/image.tmp" "$OUT/realos.img.tmp"
  return 0
}
trap cleanup EXIT

if [ ! -d "$TREE" ]; then
  if [ ! -e "$BINFMT/register" ]; then
    mount -t binfmt_misc none "$BINFMT"
    mounted_binfmt=1
  fi
  if [ ! -e "$BINFMT/qemu-aarch64" ]; then
    # Debian's registration for qemu-user-static (magic, mask, interpreter), flags P and F: the
    # interpreter is opened now, so it works inside the chroot too.
    magic=$(sed -n 's/^magic //p' /usr/share/binfmts/qemu-aarch64)
    mask=$(sed -n 's/^mask //p' /usr/share/binfmts/qemu-aarch64)
    interpreter=$(sed -n 's/^interpreter //p' /usr/share/binfmts/qemu-aarch64)
    printf ':qemu-aarch64:M:0:%s:%s:%s:PF\n' "$magic" "$mask" "$interpreter" >"$BINFMT/register"
    registered=1
  fi
  log "mmdebstrap bookworm arm64 (${PACKAGES[*]})"
  rm -rf "$CACHE/tree.tmp"
  started=$SECONDS
  include=$(IFS=,; echo "${PACKAGES[*]}")
  # The hooks run in mmdebstrap's shell with the tree as $1.
  # shellcheck disable=SC2016
  mmdebstrap --mode=root --arch=arm64 --variant=minbase --include="$include" \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --customize-hook='rm -f "$1/etc/resolv.conf"' \
    --customize-hook='chroot "$1" apt-get clean' \
    bookworm "$CACHE/tree.tmp" "deb http://deb.debian.org/debian bookworm main" >&2
  log "mmdebstrap took $((SECONDS - started)) s"
  rm -rf "$CACHE"/tree-*
  mv "$CACHE/tree.tmp" "$TREE"
fi

# --- the root: the Debian tree made Pi-OS-shaped ------------------------------------------------
log "building realos.img"
I=$CACHE/image.tmp
rm -rf "$I"
mkdir -p "$I/boot"
R=$I/root
cp -a "$TREE" "$R"
mkdir -p "$R/usr/lib/modules"
cp -a "$FIXTURE/modules/lib/modules/$KVER" "$R/usr/lib/modules/$KVER"
mkdir -p "$R/boot/firmware"
echo raspberrypi >"$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\traspberrypi\n' >"$R/etc/hosts"
cat >"$R/etc/fstab" <<EOF
proc            /proc           proc    defaults          0       0
PARTUUID=$PARTUUID_DISK-01  /boot/firmware  vfat    defaults          0       2
PARTUUID=$PARTUUID_DISK-02  /               ext4    defaults,noatime  0       1
EOF
# Pi OS keeps no machine-id in the image: systemd makes one at first boot.
: >"$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id" "$R/etc/resolv.conf"
# Pi OS ships ssh off (sshswitch.service turns it on when the boot partition holds "ssh").
rm -f "$R/etc/systemd/system/multi-user.target.wants/ssh.service" "$R/etc/systemd/system/sshd.service"
# A stand-in for raspberrypi-sys-mods' firstboot (Bookworm's cmdline runs it as init=): on an
# SD card it resizes the root and gives the card new host keys. It marks that it ran.
mkdir -p "$R/usr/lib/raspberrypi-sys-mods"
cat >"$R/usr/lib/raspberrypi-sys-mods/firstboot" <<'EOF'
#!/bin/sh
# Stand-in for Raspberry Pi OS's firstboot: what it does to a node's identity.
mount -t proc proc /proc 2>/dev/null
# No udev yet, so no /dev/disk/by-partuuid for fstab's PARTUUID=: the boot partition is the
# root's partition 1, as Pi OS's own firstboot finds it.
root_dev=$(findmnt -n -o SOURCE /)
boot_dev=$(echo "$root_dev" | sed 's/[0-9]*$//')1
mount -o remount,rw "$root_dev" /
mkdir -p /boot/firmware
mount -t vfat "$boot_dev" /boot/firmware 2>/dev/null
echo "firstboot ran at $(date)" >>/var/lib/raspberrypi-sys-mods-firstboot-ran
rm -f /etc/ssh/ssh_host_*
ssh-keygen -A
sed -i 's| init=/usr/lib/raspberrypi-sys-mods/firstboot||' /boot/firmware/cmdline.txt 2>/dev/null
umount /boot/firmware 2>/dev/null
mount -o remount,ro "$root_dev" /
exec /sbin/init
EOF
chmod 0755 "$R/usr/lib/raspberrypi-sys-mods/firstboot"
# Raspberry Pi OS's cloud-init reads its NoCloud seed (user-data, meta-data, network-config)
# from the boot partition, whose label is bootfs (rpi-imager writes the files there).
mkdir -p "$R/etc/cloud/cloud.cfg.d"
cat >"$R/etc/cloud/cloud.cfg.d/99_raspberry-pi.cfg" <<'EOF'
datasource_list: [NoCloud, None]
datasource:
  NoCloud:
    fs_label: bootfs
EOF

ROOT_MIB=$(( $(du -sm "$R" | cut -f1) * 12 / 10 + 128 ))
mke2fs -q -F -t ext4 -L rootfs -d "$R" "$I/root.ext4" "${ROOT_MIB}M"

# --- the boot partition (FAT32, mtools) ---------------------------------------------------------
B=$I/boot
cp "$FIXTURE/vmlinuz" "$B/kernel8.img"
cp "$FIXTURE/initrd.img" "$B/initramfs8"
cat >"$B/config.txt" <<'EOF'
# Raspberry Pi OS's config.txt (the lines that matter here)
dtparam=audio=on
camera_auto_detect=1
display_auto_detect=1
auto_initramfs=1
dtoverlay=vc4-kms-v3d
max_framebuffers=2
disable_fw_kms_setup=1
arm_64bit=1
disable_overscan=1
arm_boost=1

[all]
EOF
# Bookworm's words (init=…firstboot) and Trixie's (resize) on one line: both must go on netboot.
echo "console=serial0,115200 console=tty1 root=PARTUUID=$PARTUUID_DISK-02 rootfstype=ext4 fsck.repair=yes rootwait quiet resize init=/usr/lib/raspberrypi-sys-mods/firstboot" >"$B/cmdline.txt"
echo "piswarm realos test image: Debian 12 arm64, Raspberry Pi OS's layout" >"$B/issue.txt"
BOOT_MIB=256
truncate -s "${BOOT_MIB}M" "$I/boot.fat"
mkfs.vfat -F 32 -n bootfs "$I/boot.fat" >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -s -i "$I/boot.fat" "$B"/* ::/

# --- the disk: MBR at sector 0, boot at 8192 (4 MiB), root after it -----------------------------
BOOT_START=8192
ROOT_START=$((BOOT_START + BOOT_MIB * 2048))
ROOT_SECTORS=$((ROOT_MIB * 2048))
IMG=$OUT/realos.img.tmp
rm -f "$IMG"
truncate -s $(((ROOT_START + ROOT_SECTORS) * 512)) "$IMG"
sfdisk -q "$IMG" <<EOF
label: dos
label-id: 0x$PARTUUID_DISK
unit: sectors

start=$BOOT_START, size=$((BOOT_MIB * 2048)), type=c
start=$ROOT_START, size=$ROOT_SECTORS, type=83
EOF
dd if="$I/boot.fat" of="$IMG" bs=1M seek=$((BOOT_START / 2048)) conv=notrunc,sparse status=none
dd if="$I/root.ext4" of="$IMG" bs=1M seek=$((ROOT_START / 2048)) conv=notrunc,sparse status=none

{
  echo "image realos.img $(du -h --apparent-size "$IMG" | cut -f1) (root ${ROOT_MIB} MiB, boot ${BOOT_MIB} MiB)"
  echo "kernel $KVER (the QEMU fixture's)"
  dpkg-query --admindir="$TREE/var/lib/dpkg" -W -f='${Package} ${Version}\n' "${PACKAGES[@]}" 2>/dev/null
} >"$OUT/VERSIONS.tmp"
mv "$IMG" "$OUT/realos.img"
mv "$OUT/VERSIONS.tmp" "$OUT/VERSIONS"
echo "$RECIPE" >"$CACHE/recipe"
rm -rf "$I"
log "done: $OUT/realos.img ($(du -h "$OUT/realos.img" | cut -f1) on disk)"
