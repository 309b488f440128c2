#!/usr/bin/env bash
# Set up, build, and run paw's main job on the embedded default model shipped in models/.
# At this stage of the project the main job is inspecting and tokenizing with a model file:
# `paw info` on models/paw-tiny-qwen3.gguf (a tiny random-weight Qwen3-architecture model
# carrying the real Qwen3 tokenizer) and `paw tokenize` of a sentence with it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh" --no-npm
"$root/scripts/build.sh"
paw="${PAW_BUILD_DIR:-$root/build}/src/paw"
model="$root/models/paw-tiny-qwen3.gguf"
"$paw" info "$model"
echo
text="${1:-Classify urgency: the server is down! <|im_end|>}"
echo "tokenize: $text"
"$paw" tokenize --tokenizer "$model" "$text"
