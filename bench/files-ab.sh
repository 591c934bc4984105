#!/usr/bin/env bash
# Benchmark: two piswarm binaries' `netboot apply --files-only --no-roots` for NODES nodes (default
# 1000), alternated run by run so that both see the same load of a shared disk: one tree per
# binary, a first run each, then ROUNDS (default 6) no-op runs each, in turn; wall, user and
# system time of each run (/usr/bin/time). NEW (default: a release build) and OLD (required)
# are the binaries. The layout is bench/files.sh's.
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${NODES:-1000}
# shellcheck source=bench/lib.sh
. bench/lib.sh
new=${NEW:-$(piswarm_bin)}
old=${OLD:?OLD=path of the binary to compare with}
work=$(mktemp -d /var/tmp/piswarm-bench-files-ab.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
files_firmware "$work/firmware"
for side in new old; do
  mkdir -p "$work/$side"
  python3 bench/gen-cluster.py "$nodes" |
    sed "s|^  lan: dhcp|  lan: dhcp\n  tftp_root: $work/$side/tftp\n  dnsmasq_conf: $work/$side/dnsmasq.conf|" >"$work/$side/cluster.yml"
done
run() { # SIDE BINARY LABEL
  PISWARM_FILE=$work/$1/cluster.yml PISWARM_STATE_DIR=$work/$1/state /usr/bin/time -f "$3: %e s wall, %U s user, %S s system" \
    "$2" netboot apply --files-only --no-roots --firmware "$work/firmware" >/dev/null
}
echo "machine: $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
run new "$new" "new first"
run old "$old" "old first"
for _ in $(seq "${ROUNDS:-6}"); do
  run new "$new" "new no-op"
  run old "$old" "old no-op"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
