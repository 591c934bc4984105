#!/usr/bin/env bash
# Benchmark: a trivial command ('true') on 10 and 30 lab nodes through 'piswarm exec', cold (no
# master yet: every node pays a full SSH login) and warm (through the ControlMasters), beside
# Debian's parallel-ssh (pssh) on the same nodes in the same run, and piswarm's peak memory.
# Targets: warm 30-node fan-out under 0.5 s and at least 3x faster than parallel-ssh; peak memory under 60 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-bench
swift build -c release --scratch-path "$scratch" --product piswarm >/dev/null
bin="$(pwd)/$scratch/release/piswarm"
state=$(mktemp -d /tmp/piswarm-bench-ssh.XXXXXX)
export PISWARM_STATE_DIR=$state
trap '"$bin" lab down --name bssh >/dev/null 2>&1 || true; rm -rf "$state"' EXIT
file=$("$bin" lab up --name bssh --nodes 30 2>/dev/null | tail -n 1)
key=$(dirname "$file")/id_ed25519
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(ssh -V 2>&1), $(parallel-ssh --version 2>&1 | head -1)"
close_masters() { for s in "$state"/ssh/root@*; do [ -S "$s" ] && ssh -O exit -o ControlPath="$s" x 2>/dev/null; done; true; }
export -f close_masters; export state
for n in 10 30; do
  target="node[01-$n]"
  sed -n 's/^    ip: //p' "$file" | head -n "$n" > "$state/hosts$n"
  hyperfine --runs 5 --warmup 0 -N --export-markdown "$state/cold$n.md" \
    --prepare "bash -c close_masters" \
    "$bin --file $file exec $target -- true" \
    "parallel-ssh -h $state/hosts$n -l root -p 32 -t 30 -x '-i $key -o UserKnownHostsFile=$state/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes' true" \
    2>/dev/null | grep -E "Time|±" || true
  "$bin" --file "$file" exec "$target" -- true >/dev/null 2>&1   # open the masters
  hyperfine --runs 20 --warmup 2 -N --export-markdown "$state/warm$n.md" \
    "$bin --file $file exec $target -- true" 2>/dev/null | grep -E "Time" || true
  echo "== $n nodes, cold (piswarm opens masters; parallel-ssh always connects afresh)"; cat "$state/cold$n.md"
  echo "== $n nodes, warm (piswarm through masters)"; cat "$state/warm$n.md"
done
/usr/bin/time -f "piswarm exec on 30 nodes (warm): peak memory (max RSS) %M KiB" "$bin" --file "$file" exec all -- true >/dev/null 2>"$state/time.txt" || true
tail -n 1 "$state/time.txt"
/usr/bin/time -f "piswarm exec on 30 nodes (cold): peak memory (max RSS) %M KiB" bash -c "close_masters; $bin --file $file exec all -- true" >/dev/null 2>"$state/time2.txt" || true
tail -n 1 "$state/time2.txt"
