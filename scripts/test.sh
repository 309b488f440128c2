#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a passing test suite:
# set-up (idempotent), build, then every default test (ctest). Long runs carry the label
# "slow" and are excluded here; run them with: ctest --test-dir build -L slow
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
ctest --test-dir "${PAW_BUILD_DIR:-$root/build}" -j "$(nproc)" --output-on-failure -LE slow --timeout 900
