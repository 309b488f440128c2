#pragma once
// Fixture files of the compiler tests, written once per process with paw-fixture: an
// interpreter (tiny qwen3, 3 layers), another interpreter of the same shape, an encoder (tiny-hd
// qwen3, 2 layers, head_dim 128), a compiler for the first interpreter (K = 4 prefix tokens, 3
// bases, rank 32, alpha 16), its control (the spec withheld) and a softmax-routing twin.
#include <stdexcept>
#include <string>

#include "common/test_env.hpp"

namespace paw::test {

struct CompilerFixture {
  std::string dir, interp, other_interp, encoder, compiler, control, softmax;
};

inline const CompilerFixture& compiler_fixture() {
  static const CompilerFixture f = [] {
    CompilerFixture x;
    x.dir = scratch_dir("compiler_fixture");
    const std::string fx = tool_path("paw-fixture");
    x.interp = x.dir + "/interp.gguf";
    x.other_interp = x.dir + "/other.gguf";
    x.encoder = x.dir + "/encoder.gguf";
    x.compiler = x.dir + "/compiler.gguf";
    x.control = x.dir + "/control.gguf";
    auto run = [](const std::string& cmd) {
      if (run_command(cmd) != 0) throw std::runtime_error("fixture command failed: " + cmd);
    };
    run(fx + " model --arch qwen3 --preset tiny --seed 1 -o " + x.interp);
    run(fx + " model --arch qwen3 --preset tiny --seed 9 -o " + x.other_interp);
    run(fx + " model --arch qwen3 --preset tiny-hd --seed 2 -o " + x.encoder);
    const std::string common = " compiler --encoder " + x.encoder + " --interpreter " + x.interp +
                               " --prefix-tokens 4 --n-bases 3 --rank 32 --alpha 16 --seed 3";
    run(fx + common + " -o " + x.compiler);
    run(fx + common + " --control -o " + x.control);
    x.softmax = x.dir + "/softmax.gguf";
    run(fx + common + " --coef-activation softmax -o " + x.softmax);
    return x;
  }();
  return f;
}

}  // namespace paw::test
