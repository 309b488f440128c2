// libFuzzer target for the compiler reader (paw::compiler::Compiler::open) and one compile:
// any byte string must open or throw paw::Error. On top of the fuzzed GGUF reader this covers
// the compiler.* keys, the encoder binding (prefix rows, layer list), every mapper/bases shape
// and the adapter written from them. Seeds: fuzz/corpus/fuzz_compiler, a 62 KiB fixture compiler:
//   paw-fixture model --arch qwen3 --preset embedded --type q8_0 --seed 1 -o ei.gguf   (interpreter)
//   paw-fixture model --arch qwen3 --preset embedded --type q8_0 --seed 2 -o ee.gguf   (encoder)
//   paw-fixture compiler --encoder ee.gguf --interpreter ei.gguf --prefix-tokens 2 --n-bases 2 --rank 4 \
//     --modules q,v,down --adapter-type f32 -o embedded_r4_q_v_down.gguf
// and its experts twin (compiler.experts; 2 experts over the 2-layer interpreter):
//   paw-fixture compiler --encoder ee.gguf --interpreter ei.gguf --prefix-tokens 2 --n-bases 4 --rank 4 \
//     --modules q,v,down --adapter-type f32 --coef-activation softmax --experts dates,reviews \
//     -o embedded_r4_experts.gguf
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "paw/compiler/compiler.hpp"
#include "paw/util/error.hpp"

namespace {

// Compiler::open maps and hashes a file, so each input goes through one per-process file.
const std::string& input_path() {
  static const std::string p = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/paw-fuzz-compiler-" + std::to_string(::getpid()) + ".gguf";
  }();
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FILE* f = std::fopen(input_path().c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const paw::compiler::Compiler c = paw::compiler::Compiler::open(input_path());
    // Small compilers only: a huge declared shape would make one compile slow, not wrong.
    if (c.info().n_coefficients() < (1 << 16) && c.info().encoder_n_embd <= 1024) {
      paw::compiler::CompileOptions o;
      o.adapter_type = "f32";
      (void)c.compile("Answer yes or no.", o);
    }
  } catch (const paw::Error&) {
  }
  return 0;
}
