#!/usr/bin/env bash
# Set up, build, and run paw's main job on the shipped trained models (scripts/demo.sh):
# compile a spec (examples/specs/dates.txt) into a program with the trained compiler
# models/trained/C.gguf, then run the program with the trained interpreter
# models/trained/S.gguf on a few inputs. The README shows what it prints.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh" --no-npm
"$root/scripts/build.sh"
"$root/scripts/demo.sh" "$@"
