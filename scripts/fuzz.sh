#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 60) on its seed
# corpus (fuzz/corpus/<target>, plus test fixtures). Crashes fail the script.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-60}"
build="$root/build-fuzz"
if [[ ! -f $build/CMakeCache.txt ]]; then
  CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPAW_FUZZ=ON -DPAW_BUILD_TESTS=OFF -DPAW_BUILD_BENCH=OFF
fi
# Build only the fuzz targets (the CLI and tools are not needed here).
targets=()
for src in "$root"/fuzz/fuzz_*.cpp; do targets+=(--target "$(basename "${src%.cpp}")"); done
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
shopt -s nullglob
for bin in "$build"/fuzz/fuzz_*; do
  [[ -x $bin && -f $bin ]] || continue
  name="$(basename "$bin")"
  seeds="$root/fuzz/corpus/$name"
  work="$build/corpus-work/$name"
  mkdir -p "$work"
  echo "fuzz: $name for ${secs}s"
  args=("$work")
  [[ -d $seeds ]] && args+=("$seeds")
  "$bin" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "${args[@]}" 2>&1 | tail -n 4
done
