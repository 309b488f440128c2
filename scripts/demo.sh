#!/usr/bin/env bash
# The main job on the shipped trained models: compile a spec into a program with the trained
# compiler models/trained/C.gguf (made for the trained interpreter models/trained/S.gguf), then
# run the program on a few inputs, one "input -> output" line each. Needs a built paw
# (scripts/build.sh); scripts/quickstart.sh runs it after set-up and build.
# Usage: scripts/demo.sh [SPEC_FILE [INPUT...]]   (default: examples/specs/dates.txt and its inputs)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${PAW_BUILD_DIR:-$root/build}"
paw="$build/src/paw"
spec="${1:-$root/examples/specs/dates.txt}"
if (( $# > 1 )); then
  inputs=("${@:2}")
else
  inputs=("Delivered 2022/11/30" "Born 14-Feb-1990" "Arrived 7-Dec-2016" "The lease starts 30-Sep-2011"
          "Renewal due 2027/01/15")
fi
program="$build/demo/program.paw"
mkdir -p "$build/demo"

echo "== spec ($(basename "$spec")):"
sed 's/^/   /' "$spec"
echo
echo "== paw compile --spec-file $(basename "$spec") --compiler models/trained/C.gguf -o $program"
"$paw" compile --spec-file "$spec" --compiler "$root/models/trained/C.gguf" \
  --interpreter "$root/models/trained/S.gguf" -o "$program"
echo
echo "== paw run (interpreter models/trained/S.gguf)"
for input in "${inputs[@]}"; do
  printf '%s -> %s\n' "$input" "$("$paw" run "$program" "$input" --model "$root/models/trained/S.gguf")"
done
