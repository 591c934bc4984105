#!/usr/bin/env bash
# Benchmark: 'piswarm validate' on a 2,000-node cluster file (target: under 0.5 s).
# Compares with a plain YAML parse of the same file by Python's PyYAML (C loader if present),
# which checks nothing: the cost of reading the file at all.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${CONFIG:-release}
scratch=.build-bench
swift build -c "$config" --scratch-path "$scratch" --product piswarm >/dev/null
bin="$scratch/$config/piswarm"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen-cluster.py 2000 > "$work/cluster.yml"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"
echo "file: $(wc -l < "$work/cluster.yml") lines, $(wc -c < "$work/cluster.yml") bytes, 2000 nodes"
hyperfine --warmup 3 --runs 20 -N --export-markdown "$work/result.md" \
  "$bin validate --file $work/cluster.yml" \
  "python3 -c 'import yaml; yaml.load(open(\"$work/cluster.yml\"), Loader=getattr(yaml, \"CSafeLoader\", yaml.SafeLoader))'"
cat "$work/result.md"
/usr/bin/time -f "peak memory (max RSS): %M KiB" "$bin" validate --file "$work/cluster.yml" >/dev/null
