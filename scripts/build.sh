#!/usr/bin/env bash
# Configures and builds paw into build/ (Release, Ninja). Extra args go to cmake configure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${PAW_BUILD_DIR:-$root/build}"
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build "$build" -j "$(nproc)"
