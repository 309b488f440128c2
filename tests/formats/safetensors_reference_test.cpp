// Cross-check with an independent implementation: tests/reference/safetensors_ref.py
// (Debian python3 + torch, plain json/struct, no safetensors package) writes a file that
// paw must read to the same values, and reads a file paw wrote, comparing its bytes with
// torch's own float32 -> F16/BF16/F64 conversions of the source values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "paw/formats/safetensors.hpp"
#include "common/test_env.hpp"

using nlohmann::json;
using paw::SafetensorsFile;
using paw::STDType;

namespace {

std::string ref_script() { return paw::test::source_dir() + "/tests/reference/safetensors_ref.py"; }

json run_ref(const std::string& args) {
  std::string out;
  int rc = paw::test::run_command(paw::test::python() + " " + ref_script() + " " + args, &out);
  EXPECT_EQ(rc, 0) << "reference script failed: " << args;
  if (rc != 0) return json();
  return json::parse(out);
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace

TEST(SafetensorsReference, ReadsFileWrittenByTorchScript) {
  auto dir = paw::test::scratch_dir("st-ref-read");
  auto path = dir + "/ref.safetensors";
  json expect = run_ref("write " + path);
  ASSERT_TRUE(expect.is_object());

  auto f = SafetensorsFile::open(path);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.metadata().at("note"), expect["metadata"]["note"].get<std::string>());
  ASSERT_EQ(f.tensors().size(), expect["tensors"].size());
  for (const auto& [name, e] : expect["tensors"].items()) {
    SCOPED_TRACE(name);
    const auto& t = f.get(name);
    EXPECT_EQ(paw::st_dtype_name(t.dtype), e["dtype"].get<std::string>());
    EXPECT_EQ(t.shape, e["shape"].get<std::vector<int64_t>>());
    if (e.contains("f32_bits")) {
      auto values = f.to_f32(name);
      auto want = e["f32_bits"].get<std::vector<uint32_t>>();
      ASSERT_EQ(values.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(bits(values[i]), want[i]) << "element " << i;
    } else {
      auto want = e["ints"].get<std::vector<int64_t>>();
      size_t size = paw::st_dtype_size(t.dtype);
      ASSERT_EQ(t.data.size(), want.size() * size);
      for (size_t i = 0; i < want.size(); ++i) {
        int64_t v = 0;
        const uint8_t* p = t.data.data() + i * size;
        switch (t.dtype) {
          case STDType::I64: { int64_t x; std::memcpy(&x, p, 8); v = x; break; }
          case STDType::I32: { int32_t x; std::memcpy(&x, p, 4); v = x; break; }
          case STDType::I16: { int16_t x; std::memcpy(&x, p, 2); v = x; break; }
          case STDType::I8: v = static_cast<int8_t>(*p); break;
          case STDType::U8:
          case STDType::BOOL: v = *p; break;
          default: FAIL() << "unexpected dtype";
        }
        EXPECT_EQ(v, want[i]) << "element " << i;
      }
    }
  }
}

TEST(SafetensorsReference, TorchScriptReadsFileWrittenByPaw) {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  auto randoms = [&](size_t n, float scale) {
    std::vector<float> v(n);
    for (auto& x : v) x = nd(rng) * scale;
    return v;
  };
  // Awkward values for rounding: ties, subnormals, overflow to inf, signed zero.
  std::vector<float> tricky = {0.0f, -0.0f, 0.1f, 1.0f + std::ldexp(1.0f, -11), 1.0f + 3 * std::ldexp(1.0f, -11),
                               65519.0f, 65520.0f, 1e-8f, -3e-5f, 1.0f + std::ldexp(1.0f, -8), 3.0e38f, INFINITY, -INFINITY};

  paw::SafetensorsWriter w;
  w.set_metadata("format", "pt");
  w.set_metadata("paw", "test");
  json source;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, const std::vector<float>& v, STDType as) {
    w.add_f32(name, shape, v, as);
    std::vector<uint32_t> b;
    for (float x : v) b.push_back(bits(x));
    source[name]["f32_bits"] = b;
  };
  add("model.embed_tokens.weight", {6, 4}, randoms(24, 1.0f), STDType::F32);
  add("model.layers.0.mlp.up_proj.weight", {3, 5}, randoms(15, 50.0f), STDType::F16);
  add("model.layers.0.self_attn.q_proj.weight", {5, 3}, randoms(15, 1e3f), STDType::BF16);
  add("lm_head.weight", {2, 2}, randoms(4, 1.0f), STDType::F64);
  add("tricky.f16", {static_cast<int64_t>(tricky.size())}, tricky, STDType::F16);
  add("tricky.bf16", {static_cast<int64_t>(tricky.size())}, tricky, STDType::BF16);
  add("scalar", {}, {0.25f}, STDType::F32);
  add("empty", {0}, {}, STDType::F16);
  const int32_t ints[4] = {-7, 0, 1 << 30, INT32_MIN};
  w.add_tensor("position_ids", STDType::I32, {2, 2}, ints, sizeof ints);
  source["position_ids"]["ints"] = {-7, 0, 1 << 30, INT32_MIN};
  const uint8_t mask[3] = {1, 0, 1};
  w.add_tensor("mask", STDType::BOOL, {3}, mask, 3);
  source["mask"]["ints"] = {1, 0, 1};

  auto dir = paw::test::scratch_dir("st-ref-write");
  w.write(dir + "/paw.safetensors");
  std::ofstream(dir + "/source.json") << source.dump();

  json r = run_ref("read " + dir + "/paw.safetensors " + dir + "/source.json");
  ASSERT_TRUE(r.is_object());
  EXPECT_TRUE(r["padded_with_spaces"].get<bool>());
  EXPECT_EQ(r["header_len"].get<uint64_t>() % 8, 0u);
  EXPECT_TRUE(r["contiguous"].get<bool>());
  EXPECT_EQ(r["key_order"][0], "__metadata__");
  EXPECT_EQ(r["metadata"], (json{{"format", "pt"}, {"paw", "test"}}));
  EXPECT_EQ(r["tensors"].size(), source.size());
  for (const auto& [name, s] : source.items()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(r["tensors"].contains(name));
    EXPECT_TRUE(r["tensors"][name]["match"].get<bool>()) << r["tensors"][name].dump();
  }
  EXPECT_EQ(r["tensors"]["model.layers.0.mlp.up_proj.weight"]["dtype"], "F16");
  EXPECT_EQ(r["tensors"]["model.layers.0.mlp.up_proj.weight"]["shape"], (json{3, 5}));
  EXPECT_EQ(r["tensors"]["scalar"]["shape"], json::array());
  // Data order: element size descending, then name (the reference implementation's rule).
  EXPECT_EQ(r["data_order"], (json{"lm_head.weight", "model.embed_tokens.weight", "position_ids", "scalar",
                                   "empty", "model.layers.0.mlp.up_proj.weight",
                                   "model.layers.0.self_attn.q_proj.weight", "tricky.bf16", "tricky.f16", "mask"}));
}
