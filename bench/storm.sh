#!/usr/bin/env bash
# Benchmark: a boot storm. N emulated Pis (pi-bootrom; a third each Pi 3B+ known by MAC, Pi 4 and
# Pi 5 known by serial), each in a network namespace of its own on one bridge, power on at the
# same moment and read a Raspberry Pi OS-sized boot set over TFTP in their ROM's order, with its
# options (tsize, blksize 1024 on Pi 4/5) and its 30 s per file (TFTP_FILE_TIMEOUT), from:
#   piswarm   dnsmasq with the configuration and hook `piswarm netboot apply` rendered
#   untuned   the same without this benchmark's tuning: dnsmasq's defaults, every event a process
#   tuned     the same dnsmasq and tree, tuned by hand: no hook, no log-dhcp, tftp-max 1000
#   hpa       dnsmasq for DHCP only, and tftpd-hpa (Debian) serving the same tree
# Reports per setup: boards booted, time until all booted, per-board p50/p95/max (power-on to
# the last required file), the slowest single file, failures by file, and the head's CPU (the
# servers and, for piswarm, every hook process they started). Target: N of N boot, no file over
# 30 s, all within 30 s of power-on.
# NODES (default 100), SETUPS (default "piswarm tuned hpa"); PISWARM_BIN and BOOTROM_BIN
# override the binaries (default: a release build, as the other benchmarks). ROM: "multi"
# (default) runs every board in one pi-bootrom process (`--boards`: one thread, one event loop,
# each board's sockets in its own namespace), so that the emulated boards cost the machine little
# and the head gets its cores, as on a rack where each board has its own CPU; "single" runs one
# process per board (the way before; each TFTP block wakes a process). Root; everything runs in
# namespaces it makes (no route out) and is removed at the end, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${NODES:-100}
setups=${SETUPS:-piswarm tuned hpa}
rom=${ROM:-multi}
case $rom in
  multi | single) ;;
  *) echo "error: ROM=$rom: use multi or single" >&2; exit 64 ;;
esac
if [ -n "${PISWARM_BIN:-}" ]; then
  bin=$PISWARM_BIN
  bootrom=${BOOTROM_BIN:-$(dirname "$bin")/pi-bootrom}
else
  scratch=.build-bench
  swift build -c release --scratch-path "$scratch" --product piswarm >/dev/null
  swift build -c release --scratch-path "$scratch" --product pi-bootrom >/dev/null
  bin="$(pwd)/$scratch/release/piswarm"
  bootrom="$(pwd)/$scratch/release/pi-bootrom"
fi
for tool in dnsmasq in.tftpd ip nsenter python3; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing; run 'make deps' as root" >&2; exit 1; }
done

id=$(printf '%04x' $((RANDOM % 65536)))
head_ns="pstorm-$id-h"
work=$(mktemp -d /var/tmp/piswarm-bench-storm.XXXXXX)
chmod 755 "$work"
pids=()
namespaces=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  for group in "${cgroup:-}" "${board_cgroup:-}"; do
    [ -n "$group" ] && [ -d "$group" ] && { rmdir "$group" 2>/dev/null || sleep 1; rmdir "$group" 2>/dev/null || true; }
  done
  if [ -n "${KEEP:-}" ]; then echo "kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r), $(dnsmasq --version | head -1)"

# The boot set, sized as Raspberry Pi OS's (random bytes: nothing compresses or dedups).
fw=$work/firmware
mkdir -p "$fw/overlays"
while read -r name size; do
  head -c "$size" /dev/urandom >"$fw/$name"
done <<'EOF'
bootcode.bin 52480
start.elf 2981376
fixup.dat 7314
start4.elf 2260000
fixup4.dat 5456
bcm2710-rpi-3-b-plus.dtb 35330
bcm2711-rpi-4-b.dtb 55793
bcm2712-rpi-5-b.dtb 77911
overlays/overlay_map.dtb 5255
kernel8.img 9400000
kernel_2712.img 9700000
initramfs8 11300000
initramfs_2712 11300000
EOF
chmod -R a+rX "$fw"

# The cluster: a /22 so that the pool for the serial-only boards has room.
subnet=10.231
{
  echo "name: storm"
  echo "head:"
  echo "  interface: br0"
  echo "  address: $subnet.0.1/22"
  echo "  lan: dhcp"
  echo "  dhcp_range: $subnet.2.1-$subnet.3.250"
  echo "  tftp_root: $work/tftp"
  echo "  nfs_root: /srv/piswarm/nfs"
  echo "  dnsmasq_conf: $work/dnsmasq.conf"
  echo "nodes:"
  for i in $(seq 1 "$nodes"); do
    case $((i % 3)) in
      1) printf '  - {name: n%03d, ip: %s.1.%d, mac: "b8:27:eb:00:%02x:%02x", model: pi3b+}\n' "$i" "$subnet" "$i" $((i / 256)) $((i % 256)) ;;
      2) printf '  - {name: n%03d, ip: %s.1.%d, serial: "%08x", model: pi4}\n' "$i" "$subnet" "$i" $((0x4a000000 + i)) ;;
      0) printf '  - {name: n%03d, ip: %s.1.%d, serial: "%08x", model: pi5}\n' "$i" "$subnet" "$i" $((0x5a000000 + i)) ;;
    esac
  done
} >"$work/cluster.yml"
export PISWARM_STATE_DIR=$work/state PISWARM_FILE=$work/cluster.yml
"$bin" netboot apply --files-only --no-roots --firmware "$fw" --dnsmasq-option no-ping >/dev/null 2>"$work/apply.log"
files=$(find "$work/tftp" -mindepth 2 | wc -l)
echo "tree: $(find "$work/tftp" -mindepth 1 -maxdepth 1 | wc -l) folders, $files entries; boot set per board: Pi 3B+ $(du -bcL "$fw"/{bootcode.bin,start.elf,fixup.dat,bcm2710*,kernel8.img,initramfs8} | tail -1 | cut -f1) B, Pi 4 $(du -bcL "$fw"/{start4.elf,fixup4.dat,bcm2711*,kernel8.img,initramfs8} | tail -1 | cut -f1) B, Pi 5 $(du -bcL "$fw"/{bcm2712*,kernel_2712.img,initramfs_2712} | tail -1 | cut -f1) B"

# The network: a bridge inside a head namespace, one namespace per board.
ip netns add "$head_ns"
namespaces+=("$head_ns")
ip -n "$head_ns" link set lo up
ip -n "$head_ns" link add br0 type bridge
ip -n "$head_ns" addr add "$subnet.0.1/22" dev br0
ip -n "$head_ns" link set br0 up
boards=()
for i in $(seq 1 "$nodes"); do
  ns="pstorm-$id-$i"
  ip netns add "$ns"
  namespaces+=("$ns")
  case $((i % 3)) in
    1) mac=$(printf 'b8:27:eb:00:%02x:%02x' $((i / 256)) $((i % 256))) model=pi3 serial=$(printf '%08x' $((0x3a000000 + i))) ;;
    2) mac=$(printf 'dc:a6:32:00:%02x:%02x' $((i / 256)) $((i % 256))) model=pi4 serial=$(printf '%08x' $((0x4a000000 + i))) ;;
    0) mac=$(printf '2c:cf:67:00:%02x:%02x' $((i / 256)) $((i % 256))) model=pi5 serial=$(printf '%08x' $((0x5a000000 + i))) ;;
  esac
  ip -n "$head_ns" link add "s$i" type veth peer name eth0 address "$mac" netns "$ns"
  ip -n "$head_ns" link set "s$i" master br0 up
  ip -n "$ns" link set eth0 up
  boards+=("$ns $model $serial")
  echo "$ns eth0 $model $serial $mac" >>"$work/boards"
done

# The head's CPU: every server process and all it starts (transfer processes, hooks) runs in a
# cpuacct cgroup of this run's own.
cgroup=/sys/fs/cgroup/cpuacct/pstorm-$id
mkdir "$cgroup"
head_cpu() { echo "scale=2; $(cat "$cgroup/cpuacct.usage") / 1000000000" | bc; }
# The emulated boards' CPU (every pi-bootrom process), in a cgroup of their own.
board_cgroup=/sys/fs/cgroup/cpuacct/pstorm-$id-b
mkdir "$board_cgroup"
board_cpu() { echo "scale=2; $(cat "$board_cgroup/cpuacct.usage") / 1000000000" | bc; }
# shellcheck disable=SC2016 # $$ is the inner shell's, which then becomes the board process
in_boards() { sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$board_cgroup" "$@"; }

start_server() {  # start_server NAME COMMAND...: in the head namespace and the head's cgroup
  local name=$1
  shift
  # shellcheck disable=SC2016 # $$ is the inner shell's, which then becomes the server
  # nice -10: the head's servers do not share their CPU with the boards on a real rack, here
  # they do (and with whatever else runs on the machine); the same for every setup.
  sh -c 'echo $$ >"$0/cgroup.procs" && exec nice -n -10 "$@"' "$cgroup" nsenter --net="/run/netns/$head_ns" "$@" \
    >"$work/$name.out" 2>&1 &
  pids+=($!)
  sleep 1
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "error: $name did not start: $(cat "$work/$name.out")" >&2; exit 1; }
}

run_storm() {
  local setup=$1 out=$work/out-$1
  mkdir -p "$out"
  local servers=()
  case $setup in
    piswarm)
      start_server dnsmasq dnsmasq -k --pid-file= --conf-file="$work/dnsmasq.conf"
      servers+=("${pids[-1]}")
      ;;
    untuned)
      # As piswarm rendered it before this benchmark: dnsmasq's defaults (tftp-max 50), and a
      # hook that starts piswarm for every event.
      printf '#!/bin/sh\nexec %s --state-dir %s netboot hook -- "$@"\n' "$bin" "$PISWARM_STATE_DIR" >"$work/hook-all"
      chmod 755 "$work/hook-all"
      grep -v -e '^tftp-max' -e '^dhcp-lease-max' -e '^dhcp-script' "$work/dnsmasq.conf" >"$work/untuned.conf"
      echo "dhcp-script=$work/hook-all" >>"$work/untuned.conf"
      start_server dnsmasq dnsmasq -k --pid-file= --conf-file="$work/untuned.conf"
      servers+=("${pids[-1]}")
      ;;
    tuned)
      grep -v -e '^dhcp-script' -e '^script-arp' -e '^log-dhcp' -e '^tftp-max' -e '^dhcp-lease-max' "$work/dnsmasq.conf" >"$work/tuned.conf"
      printf 'tftp-max=1000\ndhcp-lease-max=2000\n' >>"$work/tuned.conf"
      start_server dnsmasq dnsmasq -k --pid-file= --conf-file="$work/tuned.conf"
      servers+=("${pids[-1]}")
      ;;
    hpa)
      # dnsmasq for DHCP only; tftpd-hpa for TFTP. tftpd-hpa has no per-MAC root: a rule maps a
      # name without a folder to the folder of the asking address (by-ip/IP, linked to the
      # board's MAC folder), as dnsmasq's tftp-unique-root=mac does; names with a folder (the
      # serial) are served from the root. Names are made absolute: the links in the tree point
      # out of it, so no chroot.
      grep -v -e '^dhcp-script' -e '^script-arp' -e '^log-dhcp' -e '^enable-tftp' -e '^tftp-' -e '^dhcp-lease-max' \
        "$work/dnsmasq.conf" >"$work/dhcp.conf"
      printf 'dhcp-lease-max=2000\n' >>"$work/dhcp.conf"
      mkdir -p "$work/tftp-by-ip"
      grep '^dhcp-host=' "$work/dnsmasq.conf" | while IFS=, read -r mac ip _; do
        mac=${mac#dhcp-host=}
        ln -sfn "$work/tftp/${mac//:/-}" "$work/tftp-by-ip/$ip"
      done
      printf 'r ^([^/]+)$ %s/\\i/\\1\nr ^([^/].*)$ %s/\\1\n' "$work/tftp-by-ip" "$work/tftp" >"$work/tftpd.map"
      start_server dnsmasq dnsmasq -k --pid-file= --conf-file="$work/dhcp.conf"
      servers+=("${pids[-1]}")
      start_server tftpd in.tftpd --foreground --listen --address "$subnet.0.1:69" --map-file "$work/tftpd.map" \
        --user nobody --blocksize 1468 "$work/tftp" "$work/tftp-by-ip"
      servers+=("${pids[-1]}")
      ;;
  esac
  local load cpu_before cpu_after s
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  local at
  at=$(echo "$(date +%s.%N) + 4" | bc)
  local clients=()
  if [ "$rom" = multi ]; then
    # One process for every board: it enters each board's namespace to make its sockets. Real
    # time (SCHED_FIFO 1): one thread stands for 100 boards' CPUs and must run as soon as a packet
    # is there, not after whatever else runs on the machine (100 processes got that share by
    # number). It sleeps in poll(2) whenever no socket is ready, so it cannot hog a core; at the
    # servers' nice -10 instead, under a load of 12-21 from other work, 74 of 100 booted.
    in_boards chrt --fifo 1 "$bootrom" --boards "$work/boards" --out "$out" --collect 2 --timeout 1 --file-timeout 30 --start-at "$at" \
      --no-hash 2>"$work/bootrom-$setup.err" &
    clients+=($!)
    pids+=($!)
  else
    for board in "${boards[@]}"; do
      read -r ns model serial <<<"$board"
      in_boards nsenter --net="/run/netns/$ns" "$bootrom" --interface eth0 --model "$model" --serial "$serial" --collect 2 \
        --timeout 1 --file-timeout 30 --start-at "$at" --no-hash >"$out/$ns.json" 2>/dev/null &
      clients+=($!)
      pids+=($!)
    done
  fi
  cpu_before=$(head_cpu)
  local boards_before boards_after
  boards_before=$(board_cpu)
  local host_before host_after
  host_before=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat)
  for c in "${clients[@]}"; do wait "$c" || true; done
  host_after=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat)
  boards_after=$(board_cpu)
  sleep 2 # the hook's queue
  cpu_after=$(head_cpu)
  for s in "${servers[@]}"; do kill "$s" 2>/dev/null || true; done
  for s in "${servers[@]}"; do wait "$s" 2>/dev/null || true; done
  echo "== $setup: $nodes boards (ROM=$rom); load before: $load"
  python3 - "$out" "$at" "$(echo "$cpu_after - $cpu_before" | bc)" "$(echo "($host_after - $host_before) / $(getconf CLK_TCK)" | bc)" "$work" \
    "$(echo "$boards_after - $boards_before" | bc)" <<'PY'
import json, os, sys, collections
out, at, cpu, host, work, boards_cpu = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
sizes = {}
for root, _, names in os.walk(work + "/firmware"):
    for n in names:
        sizes[os.path.relpath(os.path.join(root, n), work + "/firmware")] = os.path.getsize(os.path.join(root, n))
reports, failures, slowest, wrong = [], collections.Counter(), (0, ""), 0
for name in sorted(os.listdir(out)):
    try:
        r = json.load(open(os.path.join(out, name)))
    except Exception:
        failures["no report"] += 1
        continue
    reports.append(r)
    if r.get("error"):
        failures["dhcp: " + r["error"]] += 1
    for f in r.get("files", []):
        base = f["name"].split("/", 1)[1] if f["name"].split("/")[0] == r["serial"] else f["name"]
        if f.get("seconds", 0) > slowest[0] and f["status"] == "ok":
            slowest = (f["seconds"], base)
        if f["status"].startswith("error"):
            failures[base + ": " + ("timed out" if "timed out" in f["status"] else f["status"])] += 1
        if f["status"] == "ok" and base in sizes and f["bytes"] != sizes[base]:
            wrong += 1
booted = sorted(r["bootSeconds"] for r in reports if r.get("booted"))
def pct(p):
    return booted[min(len(booted) - 1, int(round(p / 100 * (len(booted) - 1))))] if booted else float("nan")
n = len(reports) + failures["no report"]
print(f"booted: {len(booted)} of {n}; all booted after: {booted[-1] if len(booted) == n else 'never'} s" if booted else f"booted: 0 of {n}")
print(f"per board (power-on to last required file): p50 {pct(50):.1f} s, p95 {pct(95):.1f} s, max {pct(100):.1f} s")
dhcp = sorted(r["dhcpSeconds"] for r in reports if r.get("dhcpSeconds"))
if dhcp:
    print(f"DHCP done: p50 {dhcp[len(dhcp)//2]:.1f} s, max {dhcp[-1]:.1f} s")
print(f"slowest file: {slowest[1]} {slowest[0]:.1f} s; files with wrong sizes: {wrong}")
print("failures by file: " + (", ".join(f"{k} x{v}" for k, v in failures.most_common()) or "none"))
print(f"head CPU (servers + hooks): {cpu} s; boards (pi-bootrom): {boards_cpu} s; whole machine during the storm: {host} CPU-s")
PY
  if [ "$rom" = multi ]; then grep -h 'datagrams in' "$work/bootrom-$setup.err" || true; fi
  if [ "$setup" = piswarm ]; then
    # What the rendered hook recorded (it starts no piswarm: one record per event in its spool).
    local records
    records=$(cat "$PISWARM_STATE_DIR"/netboot/hook-events.[01] 2>/dev/null | tr '\0' '\n' | grep -cx piswarm-hook-1 || true)
    echo "hook: $records events in its spool"
  fi
}

for setup in $setups; do
  run_storm "$setup"
done
