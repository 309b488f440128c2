#pragma once
// Shared by `paw run`, `paw test` and `paw info`: the flags that pick a base model and open a
// program (or the base interpreter) through the public API.
#include <CLI/CLI.hpp>
#include <string>

#include "cli/model_args.hpp"
#include "paw/paw.hpp"

namespace paw::cli {

struct ProgramFlags {
  std::string model;            // --model FILE (else $PAW_MODEL, else the cache's base_models/)
  bool offline = false;         // --offline (also $PAW_OFFLINE=1): nothing is downloaded
  bool no_prefix_cache = false; // --no-prefix-cache: never read or write prefix_kv_cache.bin
  int threads = 0;              // -t N: threads per evaluation (0 = one per physical core)
  int64_t max_tokens = -1;      // --max-tokens N (-1: until EOS or the context is full)
  bool no_interleave = false;   // --no-interleave: Q4_0/Q8_0 weights used in place (InterpreterOptions)
  std::string kv_type = "f16";  // --kv-type f16|f32 (f32 = exact mode)
};

// Adds --model, --offline, --no-prefix-cache, -t/--threads, --max-tokens, --no-interleave, --kv-type to `cmd`.
void add_program_flags(CLI::App* cmd, ProgramFlags& f);

// Opens PROGRAM (a .paw file, a bundle folder or a cached id) on the base model the flags or
// its runtime manifest name.
Program open_program_from_flags(const std::string& ref, const ProgramFlags& f);
// The adapter-free base interpreter: `base` is "qwen3" or "gpt2".
Program open_base_from_flags(const std::string& base, const ProgramFlags& f);

}  // namespace paw::cli
