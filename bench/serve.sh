#!/usr/bin/env bash
# Benchmark: 'piswarm serve' watching N lab nodes (default 100) in a swarm.
#   - the rack page's render time on the server (its Server-Timing header), 50 requests;
#   - serve's resident memory after a minute of idling;
#   - the CPU of the background watching over 60 s idle: serve's own, and that of the ssh
#     processes it uses (its per-node session clients and the ControlMasters).
# Targets: render < 200 ms; RSS < 60 MB; watching < 5% of one core.
# NODES=30 SWARM=0 INTERVAL=2 BUILD=release|debug bench/serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n=${NODES:-100}
interval=${INTERVAL:-2}
build=${BUILD:-release}
scratch=.build-bench
if [ "$build" = release ]; then
  swift build -c release --scratch-path "$scratch" --product piswarm >/dev/null
  bin="$(pwd)/$scratch/release/piswarm"
else
  bin="$(pwd)/.build/debug/piswarm"
fi
hz=$(getconf CLK_TCK)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $build build; $n nodes; interval $interval s"

state=$(mktemp -d /tmp/piswarm-bench-serve.XXXXXX)
name="bsrv$$"
port=$((20000 + RANDOM % 30000))
serve_pid=""
cleanup() {
  status=$?
  [ "$status" -eq 0 ] || tail -n 20 "$state"/*.log >&2 || true
  if [ -n "$serve_pid" ]; then
    kill -TERM "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  PISWARM_STATE_DIR=$state "$bin" lab down --name "$name" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT
export PISWARM_STATE_DIR=$state
file=$("$bin" lab up --name "$name" --nodes "$n" --managers 3 2>"$state/lab.log" | tail -n 1)
if [ "${SWARM:-1}" = 1 ]; then
  start=$(date +%s.%N)
  # A second up finishes what the first left (joins that timed out on a loaded machine).
  "$bin" --file "$file" up >/dev/null 2>"$state/up.log" || "$bin" --file "$file" up >/dev/null 2>"$state/up2.log" || true
  printf 'piswarm up (twice at most) took %.0f s\n' "$(echo "$(date +%s.%N) - $start" | bc)"
fi

"$bin" --file "$file" serve --listen "127.0.0.1:$port" --interval "$interval" >"$state/serve.log" 2>&1 &
serve_pid=$!
start=$(date +%s.%N)
for _ in $(seq 1 600); do
  up=$(curl -s "http://127.0.0.1:$port/metrics" | grep -c '^piswarm_node_up{.*} 1$' || true)
  [ "$up" -ge "$n" ] && break
  sleep 0.5
done
printf 'all %d tiles up %.1f s after serve started\n' "$up" "$(echo "$(date +%s.%N) - $start" | bc)"
sleep 10
echo "in the swarm: $(curl -s "http://127.0.0.1:$port/metrics" | grep -c '^piswarm_node_swarm_state{.*state="ready"' || true) of $n nodes ready"

# Render time: the server's own measure, and curl's total.
for _ in $(seq 1 50); do
  curl -s -o /dev/null -D - -w 'total %{time_total}\n' "http://127.0.0.1:$port/" | tr -d '\r' |
    awk 'tolower($1) == "server-timing:" {split($2, a, "="); r=a[2]} $1 == "total" {print r, $2 * 1000}'
done | sort -n | awk '{r[NR]=$1; t[NR]=$2} END {printf "rack page (%d tiles): render median %.1f ms, p95 %.1f ms, max %.1f ms on the server; curl total median %.1f ms\n", '"$n"', r[int(NR/2)], r[int(NR*0.95)], r[NR], t[int(NR/2)]}'
size=$(curl -s "http://127.0.0.1:$port/" | wc -c)
echo "rack page size: $((size / 1024)) KiB"

ssh_ns() {  # CPU nanoseconds (schedstat) of every ssh process of this state directory: clients, and masters
  # (which rename themselves "ssh: STATE/ssh/… [mux]")
  local total=0 p
  for p in $(pgrep -x ssh || true); do
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "$state/ssh/" || continue
    total=$((total + $(awk '{print $1}' "/proc/$p/schedstat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
# serve's own CPU and that of the children it waited for (the short ssh of each swarm query).
serve_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$serve_pid/stat"; }
s0=$(serve_ticks); h0=$(ssh_ns); t0=$(date +%s.%N)
sleep "${IDLE:-60}"
s1=$(serve_ticks); h1=$(ssh_ns); t1=$(date +%s.%N)
wall=$(echo "$t1 - $t0" | bc)
serve_pct=$(echo "100 * ($s1 - $s0) / $hz / $wall" | bc -l)
ssh_pct=$(echo "100 * ($h1 - $h0) / 1000000000 / $wall" | bc -l)
printf 'idle %.0f s: serve (with its waited-for children) %.2f%% of one core; its ssh clients and masters %.2f%%; together %.2f%%\n' \
  "$wall" "$serve_pct" "$ssh_pct" "$(echo "$serve_pct + $ssh_pct" | bc -l)"
echo "serve resident memory: $(awk '/^VmRSS:/ {print int($2 / 1024)}' "/proc/$serve_pid/status") MB (VmRSS), peak $(awk '/^VmHWM:/ {print int($2 / 1024)}' "/proc/$serve_pid/status") MB"
echo "ssh processes of serve: $(pgrep -x ssh | while read -r p; do tr '\0' ' ' <"/proc/$p/cmdline" | grep -q "$state/ssh/" && echo "$p"; done | wc -l)"
