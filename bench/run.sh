#!/usr/bin/env bash
# Runs every benchmark; results go to stdout, to be recorded in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")"
for bench in validate.sh lab.sh ssh.sh swarm.sh noop.sh stack.sh roots.sh files.sh storm.sh serve.sh burn.sh; do
  echo "== $bench"
  ./"$bench"
done
