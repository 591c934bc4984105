#!/usr/bin/env bash
# Benchmark: 'piswarm lab up' for 10 and 30 nodes: wall time from nothing to every node
# answering SSH and Docker (and the base image loaded), and the memory of an idle node
# (proportional set size summed over every process of the node's PID namespace, plus its
# launcher), read 20 s after 'up' returned. Targets: 30 nodes in under 30 s; under 80 MB per idle node.
# Comparison in the same run: the shell prototype's per-node cost is not repeated here; the
# floor is starting the same daemons by hand, measured as 'dockerd alone' below.
# NODES (default "10 30"), PISWARM_BIN (default: a release build in .build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
bin=$(piswarm_bin)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r), $(/usr/sbin/dockerd --version)"

pss_of_namespace() {  # sum of Pss (kB) of every live process in PID namespace $1
  local ns=$1 total=0 p v
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] || continue
    v=$(awk '/^Pss:/ {print $2}' "$p/smaps_rollup" 2>/dev/null || echo 0)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

for n in ${NODES:-10 30}; do
  state=$(mktemp -d /tmp/piswarm-bench-lab.XXXXXX)
  name="b$(($$ % 100000))-$n"  # unique to this run (at most 11 characters)
  start=$(date +%s.%N)
  PISWARM_STATE_DIR=$state "$bin" lab up --name "$name" --nodes "$n" >/dev/null 2>"$state/up.log"
  end=$(date +%s.%N)
  sleep 20
  sum=0
  for launcher in $(PISWARM_STATE_DIR=$state python3 -c "import json,sys; print(' '.join(str(v) for v in json.load(open('$state/labs/$name/lab.json'))['launchers'].values()))"); do
    pid1=$(awk '{print $1}' "/proc/$launcher/task/$launcher/children")
    ns=$(readlink "/proc/$pid1/ns/pid")
    node=$(pss_of_namespace "$ns")
    launcher_pss=$(awk '/^Pss:/ {print $2}' "/proc/$launcher/smaps_rollup")
    sum=$((sum + node + launcher_pss))
  done
  printf 'lab up --nodes %d: %.1f s wall; idle memory per node (PSS): %d MB; total %d MB; load %s\n' \
    "$n" "$(echo "$end - $start" | bc)" "$((sum / n / 1024))" "$((sum / 1024))" "$(cut -d' ' -f1-3 /proc/loadavg)"
  PISWARM_STATE_DIR=$state "$bin" lab down --name "$name" >/dev/null 2>&1
  rm -rf "$state"
done
