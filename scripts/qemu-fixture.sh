#!/usr/bin/env bash
# qemu-fixture.sh OUTDIR
#
# Builds, once, everything an end-to-end test needs to boot a diskless aarch64 VM (QEMU, TCG)
# whose root is an NFS export:
#
#   OUTDIR/vmlinuz       Debian 12 arm64 kernel (an uncompressed, EFI-signed arm64 Image)
#   OUTDIR/modules/      its modules tree (lib/modules/VERSION, with modules.dep made here)
#   OUTDIR/initrd.img    busybox initramfs: parses a Pi-style cmdline.txt, loads virtio-net and
#                        NFS modules, DHCP or static address, mounts the NFS root, switch_root
#   OUTDIR/rootfs/       arm64 root tree (busybox + OpenSSH sshd and its libraries), no identity
#   OUTDIR/VERSIONS      package versions that went in
#
# Run as root on Debian 12. Idempotent: every output is built into a temporary name and renamed
# when complete; an output that exists is kept (delete it to rebuild). Downloaded .debs are
# cached in OUTDIR/.cache/debs. No per-node input: hostname, host keys, authorized_keys and
# machine-id are written into each node's copy of rootfs/ by whoever exports it.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR" >&2; exit 64; }
[ $# -eq 1 ] || usage
[ "$(id -u)" -eq 0 ] || { echo "error: run as root" >&2; exit 1; }

OUT=$1
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# One run at a time per OUTDIR (tests that boot the fixture start in parallel): the others
# wait, then find it built.
exec 9>"$OUT/.lock"
flock 9
CACHE=$OUT/.cache
DEBS=$CACHE/debs
mkdir -p "$DEBS"

log() { echo "qemu-fixture: $*" >&2; }

# Host tools, installed without starting any service (policy-rc.d), as scripts/install-deps.sh does.
HOST_DEBS=(qemu-system-arm nfs-ganesha nfs-ganesha-vfs libnfs-utils rpcbind dnsmasq-base cpio
  busybox-static openssh-client binutils kmod iproute2 util-linux)
install_host_debs() {
  local missing=() p
  for p in "${HOST_DEBS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing: ${missing[*]}"
  local policy=/usr/sbin/policy-rc.d made=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# piswarm: no service starts while packages install\nexit 101\n' >"$policy"
    chmod +x "$policy"
    made=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null || { [ $made -eq 1 ] && rm -f "$policy"; return 1; }
  [ $made -eq 1 ] && rm -f "$policy"
  return 0
}
install_host_debs

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  log "adding the arm64 architecture to dpkg and updating apt's lists"
  dpkg --add-architecture arm64
  apt-get -o DPkg::Lock::Timeout=600 update -qq
fi

# download PACKAGE... : fetches PACKAGE:arm64 into the cache unless a .deb for it is there.
download() {
  local need=() p
  for p in "$@"; do
    compgen -G "$DEBS/${p}_*_arm64.deb" >/dev/null || need+=("$p:arm64")
  done
  [ ${#need[@]} -eq 0 ] && return 0
  log "downloading ${need[*]}"
  (cd "$DEBS" && apt-get -o APT::Sandbox::User=root -o DPkg::Lock::Timeout=600 download -qq "${need[@]}")
}
deb_of() { compgen -G "$DEBS/${1}_*_arm64.deb" | head -n1; }

# --- kernel -------------------------------------------------------------------------------------
KPKG=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null \
  | sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*-arm64\)\(:arm64\)\?$/\1/p' | head -n1)
[ -n "$KPKG" ] || { echo "error: cannot resolve linux-image-arm64:arm64 to a kernel package" >&2; exit 1; }
KVER=${KPKG#linux-image-}
download "$KPKG" busybox-static

if [ ! -d "$OUT/modules/lib/modules/$KVER" ] || [ ! -f "$OUT/vmlinuz" ]; then
  log "extracting $KPKG"
  # A new kernel (the index moved on) needs an initramfs with its own modules.
  rm -rf "$OUT/modules.tmp" "$OUT/modules" "$OUT/initrd.img" "$OUT"/config-*
  dpkg-deb -x "$(deb_of "$KPKG")" "$OUT/modules.tmp"
  depmod -b "$OUT/modules.tmp" -F "$OUT/modules.tmp/boot/System.map-$KVER" "$KVER"
  cp "$OUT/modules.tmp/boot/vmlinuz-$KVER" "$OUT/vmlinuz.tmp"
  cp "$OUT/modules.tmp/boot/config-$KVER" "$OUT/config-$KVER"
  rm -rf "$OUT/modules.tmp/boot" "$OUT/modules.tmp/usr"
  mv "$OUT/modules.tmp" "$OUT/modules"
  mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
fi
MODDIR=$OUT/modules/lib/modules/$KVER

# --- busybox ------------------------------------------------------------------------------------
BB=$CACHE/busybox-arm64
if [ ! -x "$BB" ]; then
  rm -rf "$CACHE/bb.tmp"
  dpkg-deb -x "$(deb_of busybox-static)" "$CACHE/bb.tmp"
  cp "$CACHE/bb.tmp/bin/busybox" "$BB.tmp"
  rm -rf "$CACHE/bb.tmp"
  mv "$BB.tmp" "$BB"
fi
# The arm64 binary can't run here; the host's busybox-static (same Debian build and config)
# lists the applets and where they go.
applet_paths() { busybox --list-full | grep -v -e '^linuxrc$' -e '^sbin/init$'; }
install_busybox() { # install_busybox ROOT
  local root=$1 p
  mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin"
  cp "$BB" "$root/bin/busybox"
  while read -r p; do
    [ -e "$root/$p" ] || [ -L "$root/$p" ] || ln -s /bin/busybox "$root/$p"
  done < <(applet_paths)
}

# --- initramfs ----------------------------------------------------------------------------------
# Modules in load order (dependencies first), from modules.dep. virtio_pci and virtio_net are
# modules in Debian's arm64 kernel, and so is all of NFS: the kernel's own nfsroot and ip= can't
# work (CONFIG_IP_PNP is off too), the initramfs does both.
WANTED_MODULES=(virtio_pci virtio_net sunrpc grace lockd nfs_acl nfs nfsv3 virtio_blk crc32c_generic ext4)
module_order() {
  local seen=" " m line deps i d out=()
  for m in "${WANTED_MODULES[@]}"; do
    line=$(grep -E "/$m\.ko:" "$MODDIR/modules.dep") || { echo "error: module $m not in modules.dep" >&2; return 1; }
    read -r -a deps <<<"${line#*:}"
    for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
      d=${deps[i]}
      case $seen in *" $d "*) ;; *) out+=("$d"); seen="$seen$d " ;; esac
    done
    d=${line%%:*}
    case $seen in *" $d "*) ;; *) out+=("$d"); seen="$seen$d " ;; esac
  done
  printf '%s\n' "${out[@]}"
}

write_initramfs_init() { # write_initramfs_init FILE
  cat >"$1" <<'EOF'
#!/bin/busybox sh
# piswarm e2e initramfs: boots a Pi-style NFS-root command line on a QEMU virt machine.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

say() { echo "piswarm-initramfs: $*"; }
fail() {
  say "FAILED: $*"
  say "powering off"
  sync
  poweroff -f
  sleep 5
  echo o >/proc/sysrq-trigger
}
# A kernel panic (e.g. if init dies) reboots at once; run QEMU with -no-reboot and it exits.
echo -1 >/proc/sys/kernel/panic

root='' nfsroot='' ipcfg='' init=/sbin/init mode=ro
for arg in $(cat /proc/cmdline); do
  case $arg in
    root=*) root=${arg#root=} ;;
    nfsroot=*) nfsroot=${arg#nfsroot=} ;;
    ip=*) ipcfg=${arg#ip=} ;;
    init=*) init=${arg#init=} ;;
    rw) mode=rw ;;
    ro) mode=ro ;;
  esac
done
case $root in
  /dev/nfs) [ -n "$nfsroot" ] || fail "no nfsroot= on the command line" ;;
  PARTUUID=* | /dev/*) ;;
  *) fail "root=$root: only root=/dev/nfs, root=PARTUUID=DISKID-NN and root=/dev/DEVICE are supported" ;;
esac

say "loading modules"
while read -r m; do
  insmod "/lib/modules/$m" || fail "insmod $m"
done </modules.order

# A disk root (a burned card as a virtio disk): PARTUUID=DISKID-NN is the MBR's disk id
# (bytes 440-443) and the partition number. The OS on the card configures its own network.
if [ "$root" != /dev/nfs ]; then
  dev='' i=0
  while [ -z "$dev" ]; do
    case $root in
      PARTUUID=*)
        want=${root#PARTUUID=}
        number=${want##*-}
        number=${number#0}
        for d in /sys/block/vd* /sys/block/sd* /sys/block/mmcblk*; do
          [ -e "$d" ] || continue
          name=${d##*/}
          id=$(hexdump -s 440 -n 4 -e '1/4 "%08x"' "/dev/$name" 2>/dev/null)
          [ "$id" = "${want%-*}" ] || continue
          case $name in mmcblk*) dev=/dev/${name}p$number ;; *) dev=/dev/$name$number ;; esac
        done
        ;;
      *) dev=$root ;;
    esac
    [ -n "$dev" ] && [ -b "$dev" ] && break
    dev=''
    i=$((i + 1))
    [ $i -gt 100 ] && fail "no disk for root=$root after 10 s"
    sleep 0.1
  done
  mkdir -p /newroot
  mount -t ext4 -o "$mode" "$dev" /newroot || fail "mount -t ext4 -o $mode $dev"
  say "mounted $dev ($mode)"
else

dev=eth0
i=0
while [ ! -e /sys/class/net/$dev ]; do
  i=$((i + 1))
  [ $i -gt 50 ] && fail "no network interface $dev after 5 s"
  sleep 0.1
done
ip link set lo up

# ip= : dhcp (or on/any/both/bootp/empty) or CLIENT:SERVER:GW:MASK:HOST:DEV:AUTOCONF[:DNS...]
client='' server='' gw='' mask='' host='' autoconf=dhcp
case $ipcfg in
  "" | dhcp | on | any | both | bootp | rarp) ;;
  off | none) fail "ip=$ipcfg: an NFS root needs the network" ;;
  *)
    oldifs=$IFS
    IFS=:
    set -- $ipcfg
    IFS=$oldifs
    client=$1 server=$2 gw=$3 mask=$4 host=$5
    [ -n "$6" ] && dev=$6
    autoconf=${7:-off}
    [ -n "$client" ] || autoconf=dhcp
    ;;
esac
[ -e /sys/class/net/$dev ] || fail "ip=: no interface $dev"
ip link set "$dev" up
if [ "$autoconf" = dhcp ] || [ "$autoconf" = on ] || [ "$autoconf" = any ] || [ "$autoconf" = both ] || [ "$autoconf" = bootp ]; then
  say "DHCP on $dev"
  udhcpc -i "$dev" -f -q -n -t 10 -T 1 -s /udhcpc.script 2>&1 || fail "no DHCP lease on $dev"
  . /run/dhcp.env
  client=$ip
else
  case $mask in
    *.*)
      bits=0
      for o in $(echo "$mask" | tr . ' '); do
        case $o in 255) bits=$((bits + 8)) ;; 254) bits=$((bits + 7)) ;; 252) bits=$((bits + 6)) ;;
          248) bits=$((bits + 5)) ;; 240) bits=$((bits + 4)) ;; 224) bits=$((bits + 3)) ;;
          192) bits=$((bits + 2)) ;; 128) bits=$((bits + 1)) ;; esac
      done
      mask=$bits ;;
    "") mask=24 ;;
  esac
  ip addr add "$client/$mask" dev "$dev" || fail "ip addr add $client/$mask dev $dev"
  [ -n "$gw" ] && { ip route add default via "$gw" dev "$dev" || fail "ip route add default via $gw"; }
fi
[ -n "$host" ] && hostname "$host"
say "$dev is $client"

# nfsroot=[SERVER:]PATH[,OPTIONS]; without SERVER, the DHCP server (next-server, then server id).
case $nfsroot in
  *:*) nfsserver=${nfsroot%%:*} rest=${nfsroot#*:} ;;
  *) nfsserver=${server:-${siaddr:-$serverid}} rest=$nfsroot ;;
esac
[ -n "$nfsserver" ] && [ "$nfsserver" != 0.0.0.0 ] || fail "nfsroot=$nfsroot names no server and DHCP gave none"
path=${rest%%,*}
opts=${rest#"$path"}
opts=${opts#,}
case $path in *%s*) path=$(echo "$path" | sed "s/%s/$client/g") ;; esac
# busybox mount hands the options to the kernel as text: the kernel wants the server's address
# (addr=); nolock because the client runs no rpc.statd.
case ",$opts," in *,lock,*) ;; *) opts="nolock${opts:+,$opts}" ;; esac
opts="$mode,addr=$nfsserver,$opts"
mkdir -p /newroot
i=0
until mount -t nfs -o "$opts" "$nfsserver:$path" /newroot; do
  i=$((i + 1))
  [ $i -ge 5 ] && fail "mount -t nfs -o $opts $nfsserver:$path"
  say "NFS mount failed, retrying"
  sleep 1
done
say "mounted $nfsserver:$path ($opts)"
fi
# init may be a link (Debian's /sbin/init -> /lib/systemd/systemd): follow it inside the new
# root, where the kernel will, not in this initramfs.
target=$init
i=0
while [ -L "/newroot$target" ] && [ $i -lt 20 ]; do
  i=$((i + 1))
  link=$(readlink "/newroot$target")
  case $link in /*) target=$link ;; *) target=$(dirname "$target")/$link ;; esac
done
[ -x "/newroot$target" ] || { umount /newroot; fail "$init is missing or not executable in the NFS root"; }

[ -d /newroot/dev ] && mount --move /dev /newroot/dev
umount /sys
umount /proc
exec switch_root /newroot "$init"
EOF
  chmod 0755 "$1"
}

write_udhcpc_script() { # write_udhcpc_script FILE
  cat >"$1" <<'EOF'
#!/bin/sh
# udhcpc hook for the initramfs: configures the interface and records the lease.
case $1 in
  deconfig)
    ip addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound | renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do ip route add default via "$r" dev "$interface" && break; done
    mkdir -p /run
    {
      echo "ip='$ip'"
      echo "siaddr='$siaddr'"
      echo "serverid='$serverid'"
      [ -n "$hostname" ] && echo "dhcphost='$hostname'"
    } >/run/dhcp.env
    ;;
esac
exit 0
EOF
  chmod 0755 "$1"
}

# The initramfs is made again when what goes into it changes (its scripts, its modules).
INITRD_RECIPE=$( (declare -f write_initramfs_init write_udhcpc_script; module_order) | sha256sum | cut -c1-64)
if [ "$(cat "$CACHE/initrd-recipe" 2>/dev/null)" != "$INITRD_RECIPE" ]; then rm -f "$OUT/initrd.img"; fi
if [ ! -f "$OUT/initrd.img" ]; then
  log "building initrd.img"
  T=$OUT/initrd.tmp
  rm -rf "$T"
  mkdir -p "$T"/{proc,sys,dev,run,newroot,lib/modules,etc}
  install_busybox "$T"
  mapfile -t mods < <(module_order)
  for m in "${mods[@]}"; do
    mkdir -p "$T/lib/modules/$(dirname "$m")"
    cp "$MODDIR/$m" "$T/lib/modules/$m"
  done
  printf '%s\n' "${mods[@]}" >"$T/modules.order"
  write_initramfs_init "$T/init"
  write_udhcpc_script "$T/udhcpc.script"
  (cd "$T" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$OUT/initrd.img.tmp"
  rm -rf "$T"
  mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"
  echo "$INITRD_RECIPE" >"$CACHE/initrd-recipe"
fi

# --- root tree ----------------------------------------------------------------------------------
# sshd's libraries: these packages hold the dependency closure of sshd and sftp-server on
# bookworm; only the files the binaries need (by ELF NEEDED, transitively) are copied.
SSH_PKGS=(openssh-server openssh-sftp-server libc6 libssl3 libcrypt1 zlib1g libpam0g libselinux1
  libaudit1 libcap-ng0 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libcom-err2 libkrb5support0
  libkeyutils1 libpcre2-8-0 libsystemd0 liblzma5 libzstd1 liblz4-1 libgcrypt20 libgpg-error0
  libwrap0 libnsl2 libtirpc3 libcap2)

write_root_init() { # write_root_init FILE
  cat >"$1" <<'EOF'
#!/bin/sh
# piswarm e2e node: PID 1 of the NFS-rooted test VM. The network is already configured by the
# initramfs. `poweroff` (SIGUSR2) and `reboot` (SIGTERM) from a shell work.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec </dev/console >/dev/console 2>&1
say() { echo "piswarm-init: $*"; }
stop() { say "$1"; kill "$sshd" 2>/dev/null; sync; "$1" -f; }
trap 'stop poweroff' USR2
trap 'stop reboot' TERM
trap 'stop halt' USR1

mount -t proc proc /proc
mount -t sysfs sysfs /sys
grep -q ' /dev ' /proc/mounts || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
[ -s /etc/hostname ] && hostname "$(cat /etc/hostname)"
ip link set lo up
mkdir -p /run/sshd
chmod 0755 /run/sshd
say "$(hostname) up, $(ip -4 -o addr show scope global | awk '{print $2, $4}' | tr '\n' ' ')"

sshd=
while :; do
  if ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1; then
    /usr/sbin/sshd -D -e &
    sshd=$!
    say "sshd started (pid $sshd)"
    wait "$sshd"
    say "sshd exited with status $?; restarting in 2 s"
  else
    say "no /etc/ssh/ssh_host_*_key: the node's identity was not written; waiting"
  fi
  sleep 2 &
  wait $!
done
EOF
  chmod 0755 "$1"
}

# copy_needed STAGE ROOT FILE... : copies into ROOT the shared libraries FILE... need, from STAGE.
copy_needed() {
  local stage=$1 root=$2 queue=() done_=" " f so dir found
  shift 2
  queue=("$@")
  while [ ${#queue[@]} -gt 0 ]; do
    f=${queue[0]}
    queue=("${queue[@]:1}")
    while read -r so; do
      case $done_ in *" $so "*) continue ;; esac
      done_="$done_$so "
      found=
      for dir in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib usr/lib; do
        if [ -e "$stage/$dir/$so" ]; then found=$dir/$so; break; fi
      done
      [ -n "$found" ] || { echo "error: $so (needed by ${f#"$stage"/}) is in none of the downloaded packages; add its package to SSH_PKGS" >&2; return 1; }
      mkdir -p "$root/$(dirname "$found")"
      cp -L "$stage/$found" "$root/$found"
      queue+=("$stage/$found")
    done < <(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  done
}

if [ ! -d "$OUT/rootfs" ]; then
  log "building rootfs/"
  download "${SSH_PKGS[@]}"
  S=$CACHE/stage
  rm -rf "$S"
  mkdir -p "$S"
  for p in "${SSH_PKGS[@]}"; do dpkg-deb -x "$(deb_of "$p")" "$S"; done

  R=$OUT/rootfs.tmp
  rm -rf "$R"
  mkdir -p "$R"/{dev,proc,sys,run,tmp,mnt,home,root/.ssh,etc/ssh,var/log,var/tmp,usr/lib/openssh,lib}
  chmod 1777 "$R/tmp" "$R/var/tmp"
  chmod 0700 "$R/root" "$R/root/.ssh"
  ln -s /run "$R/var/run"
  install_busybox "$R"
  write_root_init "$R/sbin/init"
  cp "$S/usr/sbin/sshd" "$R/usr/sbin/sshd"
  cp "$S/usr/lib/openssh/sftp-server" "$R/usr/lib/openssh/sftp-server"
  copy_needed "$S" "$R" "$R/usr/sbin/sshd" "$R/usr/lib/openssh/sftp-server"
  interp=$(readelf -l "$R/usr/sbin/sshd" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
  mkdir -p "$R/$(dirname "$interp")"
  cp -L "$S/$interp" "$R/$interp"
  cp -L "$S/$interp" "$R/lib/aarch64-linux-gnu/$(basename "$interp")"

  cat >"$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
  cat >"$R/etc/group" <<'EOF'
root:x:0:
tty:x:5:
nogroup:x:65534:
EOF
  # `*`, not `!`: with UsePAM no, sshd refuses even key logins to an account whose password
  # starts with `!` (locked); `*` matches no password, so only keys get in.
  cat >"$R/etc/shadow" <<'EOF'
root:*:20000:0:99999:7:::
sshd:*:20000:0:99999:7:::
nobody:*:20000:0:99999:7:::
EOF
  chmod 0640 "$R/etc/shadow"
  printf '/bin/sh\n' >"$R/etc/shells"
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$R/etc/nsswitch.conf"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$R/etc/hosts"
  printf 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n' >"$R/etc/profile"
  cat >"$R/etc/os-release" <<'EOF'
PRETTY_NAME="piswarm e2e test root (Debian GNU/Linux 12 arm64 userland)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
VARIANT_ID=piswarm-e2e
EOF
  cat >"$R/etc/ssh/sshd_config" <<'EOF'
# piswarm e2e node: key logins only. The host key and /root/.ssh/authorized_keys are the
# node's identity, written into each node's root by whoever exports it.
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
MaxStartups 100:30:200
PidFile /run/sshd.pid
SetEnv PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
  rm -rf "$S"
  mv "$R" "$OUT/rootfs"
fi

# --- versions -----------------------------------------------------------------------------------
{
  echo "kernel $KVER"
  for f in "$DEBS"/*.deb; do echo "$(dpkg-deb -f "$f" Package) $(dpkg-deb -f "$f" Version)"; done
  echo "qemu $(dpkg-query -W -f='${Version}' qemu-system-arm)"
  echo "nfs-ganesha $(dpkg-query -W -f='${Version}' nfs-ganesha)"
  echo "initramfs modules: $(module_order | xargs -n1 basename | tr '\n' ' ')"
} >"$OUT/VERSIONS.tmp"
mv "$OUT/VERSIONS.tmp" "$OUT/VERSIONS"
log "done: $OUT (vmlinuz, initrd.img $(du -h "$OUT/initrd.img" | cut -f1), rootfs $(du -sh "$OUT/rootfs" | cut -f1))"
