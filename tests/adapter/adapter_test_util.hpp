#pragma once
// Helpers shared by the adapter tests: hand-built adapter GGUFs and error matching.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "paw/formats/gguf.hpp"
#include "paw/util/error.hpp"

namespace paw::test {

// A GGUFWriter with the llama.cpp adapter keys already set (callers override or drop them).
inline GGUFWriter adapter_writer(const std::string& arch = "qwen3", float alpha = 16.0f) {
  GGUFWriter w;
  w.set("general.architecture", GGUFValue::string(arch));
  w.set("general.type", GGUFValue::string("adapter"));
  w.set("adapter.type", GGUFValue::string("lora"));
  w.set("adapter.lora.alpha", GGUFValue::f32(alpha));
  return w;
}

// Adds an F32 tensor of rows × cols (row-major) with ne = [cols, rows].
inline void add_f32(GGUFWriter& w, const std::string& name, int64_t rows, int64_t cols, const std::vector<float>& v) {
  w.add_tensor(name, DType::F32, {cols, rows}, v.data(), v.size() * sizeof(float));
}

// Runs fn, expects a paw::Error whose full message contains every needle.
inline void expect_error(const std::function<void()>& fn, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "expected paw::Error containing '" << (needles.empty() ? "" : needles[0]) << "'";
  } catch (const paw::Error& e) {
    const std::string msg = e.what();
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "'" << n << "' not in: " << msg;
  }
}

}  // namespace paw::test
