#!/usr/bin/env bash
# Set up, build, and run paw's main job on the embedded default shipped in models/:
#  1. `paw info` on models/paw-tiny-qwen3.gguf — a tiny random-weight Qwen3-architecture
#     model that carries the real Qwen3 tokenizer;
#  2. `paw tokenize` of a sentence with it (ids identical to Hugging Face's);
#  3. `paw run` of the shipped example program models/example-triage.paw (a .paw bundle in
#     the reference layout: Qwen3 prompt template + a Q4_0 LoRA adapter) on that model.
# The weights are random until a trained tiny interpreter ships, so step 3's output is noise:
# it shows the whole run path (bundle validation, cache import, prefix KV cache, LoRA,
# greedy decoding), not a useful answer.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh" --no-npm
"$root/scripts/build.sh"
paw="${PAW_BUILD_DIR:-$root/build}/src/paw"
model="$root/models/paw-tiny-qwen3.gguf"
"$paw" info "$model"
echo
text="${1:-Classify urgency: the server is down! <|im_end|>}"
echo "== paw tokenize: $text"
"$paw" tokenize --tokenizer "$model" "$text"
echo
echo "== paw run models/example-triage.paw (random weights: the output is noise)"
"$paw" run "$root/models/example-triage.paw" "The database is down and customers cannot log in" \
  --model "$model" --max-tokens 16 --json
