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

# The firmware folder DIR of the netboot files benchmarks (files.sh, files-ab.sh): every Pi
# model's boot file names, each file holding its name, and an overlays folder; world-readable.
files_firmware() {
  mkdir -p "$1/overlays"
  for name in bootcode.bin start.elf fixup.dat start4.elf fixup4.dat kernel8.img kernel_2712.img \
    bcm2710-rpi-3-b-plus.dtb bcm2711-rpi-4-b.dtb bcm2712-rpi-5-b.dtb overlays/overlay_map.dtb; do
    echo "$name" >"$1/$name"
  done
  chmod -R a+rX "$1"
}
