// Independent check of the writer: tests/reference/gguf_dump.py (a plain Python reader written
// from the GGUF spec, standard library + numpy) parses a file paw wrote; its JSON must match
// what the test put in, and llama.cpp's layout rules (contiguous padded offsets, zero
// padding) must hold.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "paw/formats/gguf.hpp"
#include "common/test_env.hpp"

using json = nlohmann::json;
using paw::DType;
using paw::GGUFType;
using paw::GGUFValue;

namespace {

// Compares one JSON value from the Python dump with the GGUFValue the test wrote.
::testing::AssertionResult matches(const GGUFValue& v, const json& j, const std::string& path) {
  auto fail = [&] { return ::testing::AssertionFailure() << path << ": python saw " << j.dump() << ", wrote " << v.to_display(); };
  switch (v.type()) {
    case GGUFType::UINT8: case GGUFType::UINT16: case GGUFType::UINT32: case GGUFType::UINT64:
      if (!j.is_number_integer() || j.get<uint64_t>() != v.as_u64()) return fail();
      break;
    case GGUFType::INT8: case GGUFType::INT16: case GGUFType::INT32: case GGUFType::INT64:
      if (!j.is_number_integer() || j.get<int64_t>() != v.as_i64()) return fail();
      break;
    case GGUFType::FLOAT32: case GGUFType::FLOAT64: {
      double x = v.as_f64();
      if (std::isnan(x)) {
        if (j != "nan") return fail();
      } else if (std::isinf(x)) {
        if (j != (x > 0 ? "inf" : "-inf")) return fail();
      } else if (!j.is_number() || j.get<double>() != x || std::signbit(j.get<double>()) != std::signbit(x)) {
        return fail();
      }
      break;
    }
    case GGUFType::BOOL:
      if (!j.is_boolean() || j.get<bool>() != v.as_bool()) return fail();
      break;
    case GGUFType::STRING:
      if (!j.is_string() || j.get<std::string>() != v.as_string()) return fail();
      break;
    case GGUFType::ARRAY: {
      if (!j.is_object() || j["elem_type"] != std::string(paw::gguf_type_name(v.elem_type()))) return fail();
      const auto& a = v.as_array();
      if (j["values"].size() != a.size()) return fail();
      for (size_t i = 0; i < a.size(); ++i) {
        auto r = matches(a[i], j["values"][i], path + "[" + std::to_string(i) + "]");
        if (!r) return r;
      }
      break;
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(GGUFPython, IndependentReaderAgreesWithWriter) {
  std::vector<std::pair<std::string, GGUFValue>> kv = {
      {"general.architecture", GGUFValue::string("qwen3")},
      {"u8", GGUFValue::u8(200)},
      {"i8", GGUFValue::i8(-100)},
      {"u16", GGUFValue::u16(60000)},
      {"i16", GGUFValue::i16(-30000)},
      {"u32", GGUFValue::u32(4000000000u)},
      {"i32", GGUFValue::i32(-2000000000)},
      {"u64", GGUFValue::u64(UINT64_MAX)},
      {"i64", GGUFValue::i64(INT64_MIN)},
      {"f32", GGUFValue::f32(0.1f)},
      {"f32.negzero", GGUFValue::f32(-0.0f)},
      {"f32.nan", GGUFValue::f32(std::numeric_limits<float>::quiet_NaN())},
      {"f64", GGUFValue::f64(-1e300)},
      {"f64.inf", GGUFValue::f64(-std::numeric_limits<double>::infinity())},
      {"bool", GGUFValue::boolean(true)},
      {"str.empty", GGUFValue::string("")},
      {"str.unicode", GGUFValue::string("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80")},
      {"str.nul", GGUFValue::string(std::string("a\0b\n", 4))},
      {"arr.str", GGUFValue::string_array({"", "\xC4\xA0hello", "<|endoftext|>"})},
      {"arr.i32", GGUFValue::i32_array({-1, 0, 151643})},
      {"arr.f32", GGUFValue::f32_array({1.5f, -1e-8f})},
      {"arr.empty", GGUFValue::array(GGUFType::UINT64, {})},
      {"arr.nested", GGUFValue::array(GGUFType::ARRAY, {GGUFValue::i32_array({1, 2}), GGUFValue::string_array({}),
                                                        GGUFValue::array(GGUFType::BOOL, {GGUFValue::boolean(false)})})},
  };
  paw::GGUFWriter w;
  for (const auto& [k, v] : kv) w.set(k, v);

  const float f32_vals[6] = {1.0f, -2.5f, 0.125f, 3e10f, -0.0f, 7.0f};
  w.add_tensor("token_embd.weight", DType::F32, {3, 2}, f32_vals, sizeof f32_vals);
  // f16 bit patterns and their values, from the IEEE binary16 definition.
  const uint16_t f16_bits[4] = {0x3C00, 0xC000, 0x3800, 0x7BFF};
  const double f16_vals[4] = {1.0, -2.0, 0.5, 65504.0};
  w.add_tensor("blk.0.attn_norm.weight", DType::F16, {4}, f16_bits, sizeof f16_bits);
  std::vector<uint8_t> q(3 * 2 * 18, 0x11);
  w.add_tensor("blk.0.attn_q.weight", DType::Q4_0, {64, 3}, q.data(), q.size());
  std::vector<uint8_t> k6(210, 0x22);
  w.add_tensor("blk.0.ffn_down.weight", DType::Q6_K, {256}, k6.data(), k6.size());

  std::string path = paw::test::scratch_dir("gguf-python") + "/w.gguf";
  w.write(path);

  std::string out;
  std::string cmd = paw::test::python() + " " + paw::test::source_dir() + "/tests/reference/gguf_dump.py " + path;
  ASSERT_EQ(paw::test::run_command(cmd, &out), 0) << cmd;
  json d = json::parse(out);

  EXPECT_EQ(d["version"], 3);
  EXPECT_EQ(d["alignment"], 32);
  EXPECT_EQ(d["n_kv"], kv.size());
  EXPECT_EQ(d["data_offset"].get<uint64_t>() % 32, 0u);
  EXPECT_TRUE(d["layout_ok"].get<bool>()) << "offsets not contiguous/padded or padding not zero";

  ASSERT_EQ(d["kv"].size(), kv.size());
  for (size_t i = 0; i < kv.size(); ++i) {
    const json& e = d["kv"][i];
    EXPECT_EQ(e["key"], kv[i].first);
    EXPECT_EQ(e["type"], std::string(paw::gguf_type_name(kv[i].second.type()))) << kv[i].first;
    EXPECT_TRUE(matches(kv[i].second, e["value"], kv[i].first));
  }

  // Expected directory, sizes by hand from ggml's block layouts: f32 24 B, f16 8 B,
  // q4_0 3 rows * 2 blocks * 18 B = 108 B, q6_K one block of 210 B; each padded to 32.
  struct Want {
    const char* name;
    std::vector<int64_t> ne;
    const char* type;
    uint64_t offset, n_bytes;
  };
  std::vector<Want> want = {
      {"token_embd.weight", {3, 2}, "f32", 0, 24},
      {"blk.0.attn_norm.weight", {4}, "f16", 32, 8},
      {"blk.0.attn_q.weight", {64, 3}, "q4_0", 64, 108},
      {"blk.0.ffn_down.weight", {256}, "q6_K", 192, 210},
  };
  ASSERT_EQ(d["tensors"].size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const json& t = d["tensors"][i];
    SCOPED_TRACE(want[i].name);
    EXPECT_EQ(t["name"], want[i].name);
    EXPECT_EQ(t["ne"].get<std::vector<int64_t>>(), want[i].ne);
    EXPECT_EQ(t["type"], want[i].type);
    EXPECT_EQ(t["offset"].get<uint64_t>(), want[i].offset);
    EXPECT_EQ(t["n_bytes"].get<uint64_t>(), want[i].n_bytes);
  }
  EXPECT_EQ(d["file_size"].get<uint64_t>(), d["data_offset"].get<uint64_t>() + 192 + 224);

  auto f32_seen = d["tensors"][0]["values"].get<std::vector<double>>();
  ASSERT_EQ(f32_seen.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(f32_seen[i], static_cast<double>(f32_vals[i]));
  auto f16_seen = d["tensors"][1]["values"].get<std::vector<double>>();
  ASSERT_EQ(f16_seen.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(f16_seen[i], f16_vals[i]);
}
