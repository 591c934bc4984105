#!/usr/bin/env bash
# Benchmark: `piswarm netboot apply --files-only --no-roots` for 1,000 nodes (each by MAC and by
# serial: 2,000 TFTP folders, each with its own cmdline.txt and config.txt and links to the
# firmware). First run (empty TFTP root and state) and the no-op run after it, with hyperfine;
# peak memory (max RSS) of a first run. Targets: first run under 2 s, no-op under 0.3 s, under
# 100 MB. NODES (default 1000); PISWARM_BIN overrides the binary (default: a release build).
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${NODES:-1000}
# shellcheck source=bench/lib.sh
. bench/lib.sh
bin=$(piswarm_bin)
work=$(mktemp -d /var/tmp/piswarm-bench-files.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
files_firmware "$work/firmware"
python3 bench/gen-cluster.py "$nodes" |
  sed "s|^  lan: dhcp|  lan: dhcp\n  tftp_root: $work/tftp\n  dnsmasq_conf: $work/dnsmasq.conf|" >"$work/cluster.yml"
export PISWARM_FILE=$work/cluster.yml PISWARM_STATE_DIR=$work/state
apply=("$bin" netboot apply --files-only --no-roots --firmware "$work/firmware")
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r); load $(cut -d' ' -f1-3 /proc/loadavg)"
df -T "$work" | awk 'NR == 2 {print "filesystem: " $2}'
"${apply[@]}" >/dev/null 2>&1
echo "first run: $(find "$work/tftp" -mindepth 2 | wc -l) entries in $(find "$work/tftp" -mindepth 1 -maxdepth 1 | wc -l) folders"
# Each first run starts from nothing, but the previous run's tree is moved aside, not removed:
# ext4 without a journal (this machine's root) skips inodes freed in the last 60-360 s when it
# allocates (fs/ext4/ialloc.c, recently_deleted), so removing 3,000 inodes just before a run
# makes that run pay for scanning past them, which no user's first run does. Removed at the end.
mkdir -p "$work/old"
hyperfine --runs "${RUNS:-5}" -N \
  --prepare "sh -c 'd=$work/old/\$\$; mkdir \$d && mv $work/tftp $work/state $work/dnsmasq.conf \$d/ 2>/dev/null; true'" \
  --export-markdown "$work/first.md" "${apply[*]}" >/dev/null 2>&1
hyperfine --warmup 1 --runs 10 -N --export-markdown "$work/noop.md" "${apply[*]}" >/dev/null 2>&1
echo "first run:"
tail -1 "$work/first.md"
echo "no-op run:"
tail -1 "$work/noop.md"
mkdir -p "$work/old/last" && mv "$work/tftp" "$work/state" "$work/dnsmasq.conf" "$work/old/last/"
/usr/bin/time -f "peak memory of a first run (max RSS): %M KiB, %e s" "${apply[@]}" >/dev/null 2>"$work/time.log" || true
tail -1 "$work/time.log"
/usr/bin/time -f "peak memory of a no-op run (max RSS): %M KiB, %e s" "${apply[@]}" >/dev/null 2>"$work/time.log" || true
tail -1 "$work/time.log"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
