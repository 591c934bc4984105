#!/usr/bin/env bash
# Benchmark: the no-op `piswarm up` on a settled lab swarm. NODES lab nodes (default 100, 3
# managers) are made and formed into a swarm by `up`; after SETTLE seconds (default 60) for the
# joins to settle, RUNS (default 6) more `up`s, each timed, each expected to say "no changes".
# Target: under 3 s at 100 nodes. Beside it, `exec all -- true` (one SSH round trip a node, the
# floor of any read). PISWARM_BIN overrides the binary (default: a release build).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
bin=$(piswarm_bin)
nodes=${NODES:-100}
state=$(mktemp -d /tmp/piswarm-bench-noop.XXXXXX)
export PISWARM_STATE_DIR=$state
lab="bno$$"
trap '"$bin" lab down --name "$lab" >/dev/null 2>&1 || true; rm -rf "$state"' EXIT
seconds() { date +%s.%N; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; load $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(seconds)
file=$("$bin" lab up --name "$lab" --nodes "$nodes" --managers 3 2>/dev/null | tail -n 1)
printf 'lab up --nodes %d: %.1f s\n' "$nodes" "$(echo "$(seconds) - $t0" | bc)"
t0=$(seconds)
"$bin" --file "$file" up >/dev/null 2>"$state/up.log" || { echo "error: up failed:" >&2; tail -20 "$state/up.log" >&2; exit 1; }
printf 'up (forms the swarm): %.1f s\n' "$(echo "$(seconds) - $t0" | bc)"
sleep "${SETTLE:-60}"
echo "load before the no-ops: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 1; i <= ${RUNS:-6}; i++)); do
  /usr/bin/time -f "no-op up: %e s (user %U s, system %S s, max RSS %M KiB)" "$bin" --file "$file" up \
    >"$state/noop.out" 2>"$state/noop.err" || { echo "error: the no-op up failed" >&2; cat "$state/noop.err" >&2; exit 1; }
  tail -n 1 "$state/noop.err"
  cat "$state/noop.out" "$state/noop.err" | grep -q '^no changes' || { echo "error: the no-op up changed something:" >&2; cat "$state/noop.out" >&2; exit 1; }
done
/usr/bin/time -f "exec all -- true: %e s" "$bin" --file "$file" exec all -- true 2>&1 >/dev/null | tail -n 1
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
