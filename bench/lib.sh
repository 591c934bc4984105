# shellcheck shell=bash
# What the benchmarks share; sourced from the repository's root.

# The piswarm binary to measure: $PISWARM_BIN, else a release build in .build-bench.
piswarm_bin() {
  if [ -n "${PISWARM_BIN:-}" ]; then
    echo "$PISWARM_BIN"
    return
  fi
  swift build -c release --scratch-path .build-bench --product piswarm >/dev/null
  echo "$(pwd)/.build-bench/release/piswarm"
}
