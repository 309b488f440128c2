// GGUF writer -> reader round trips: every metadata value type (nested and empty arrays,
// empty and Unicode strings), tensors of several weight types, alignment and padding rules,
// atomic file write + mmap open.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>

#include "paw/formats/gguf.hpp"
#include "paw/util/error.hpp"
#include "common/test_env.hpp"

using paw::DType;
using paw::GGUFFile;
using paw::GGUFType;
using paw::GGUFValue;
using paw::GGUFWriter;

namespace {

// Deep equality by type and content; floats compared by bit pattern so NaN payloads count.
::testing::AssertionResult same(const GGUFValue& a, const GGUFValue& b, const std::string& path = "value") {
  if (a.type() != b.type())
    return ::testing::AssertionFailure() << path << ": type " << paw::gguf_type_name(a.type()) << " vs "
                                         << paw::gguf_type_name(b.type());
  switch (a.type()) {
    case GGUFType::STRING:
      if (a.as_string() != b.as_string()) return ::testing::AssertionFailure() << path << ": string differs";
      break;
    case GGUFType::BOOL:
      if (a.as_bool() != b.as_bool()) return ::testing::AssertionFailure() << path << ": bool differs";
      break;
    case GGUFType::FLOAT32:
    case GGUFType::FLOAT64: {
      double x = a.as_f64(), y = b.as_f64();
      if (std::memcmp(&x, &y, sizeof x) != 0) return ::testing::AssertionFailure() << path << ": " << x << " vs " << y;
      break;
    }
    case GGUFType::ARRAY: {
      if (a.elem_type() != b.elem_type()) return ::testing::AssertionFailure() << path << ": element type differs";
      const auto &ea = a.as_array(), &eb = b.as_array();
      if (ea.size() != eb.size())
        return ::testing::AssertionFailure() << path << ": size " << ea.size() << " vs " << eb.size();
      for (size_t i = 0; i < ea.size(); ++i) {
        auto r = same(ea[i], eb[i], path + "[" + std::to_string(i) + "]");
        if (!r) return r;
      }
      break;
    }
    case GGUFType::INT8: case GGUFType::INT16: case GGUFType::INT32: case GGUFType::INT64:
      if (a.as_i64() != b.as_i64()) return ::testing::AssertionFailure() << path << ": integer differs";
      break;
    default:
      if (a.as_u64() != b.as_u64()) return ::testing::AssertionFailure() << path << ": integer differs";
  }
  return ::testing::AssertionSuccess();
}

std::vector<std::pair<std::string, GGUFValue>> every_value_type() {
  std::vector<std::pair<std::string, GGUFValue>> kv;
  kv.emplace_back("t.u8", GGUFValue::u8(255));
  kv.emplace_back("t.i8", GGUFValue::i8(-128));
  kv.emplace_back("t.u16", GGUFValue::u16(65535));
  kv.emplace_back("t.i16", GGUFValue::i16(-32768));
  kv.emplace_back("t.u32", GGUFValue::u32(0xFFFFFFFFu));
  kv.emplace_back("t.i32", GGUFValue::i32(std::numeric_limits<int32_t>::min()));
  kv.emplace_back("t.u64", GGUFValue::u64(UINT64_MAX));
  kv.emplace_back("t.i64", GGUFValue::i64(INT64_MIN));
  kv.emplace_back("t.f32", GGUFValue::f32(-1.5e-20f));
  kv.emplace_back("t.f32.inf", GGUFValue::f32(std::numeric_limits<float>::infinity()));
  kv.emplace_back("t.f32.nan", GGUFValue::f32(std::numeric_limits<float>::quiet_NaN()));
  kv.emplace_back("t.f64", GGUFValue::f64(3.141592653589793));
  kv.emplace_back("t.true", GGUFValue::boolean(true));
  kv.emplace_back("t.false", GGUFValue::boolean(false));
  kv.emplace_back("t.str", GGUFValue::string("hello"));
  kv.emplace_back("t.str.empty", GGUFValue::string(""));
  kv.emplace_back("t.str.unicode", GGUFValue::string("h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x99\x82"));
  kv.emplace_back("t.str.nul", GGUFValue::string(std::string("a\0b", 3)));
  kv.emplace_back("t.arr.empty.u8", GGUFValue::array(GGUFType::UINT8, {}));
  kv.emplace_back("t.arr.empty.str", GGUFValue::string_array({}));
  kv.emplace_back("t.arr.empty.arr", GGUFValue::array(GGUFType::ARRAY, {}));
  kv.emplace_back("t.arr.str", GGUFValue::string_array({"a", "", "\xC4\xA0the", "<|im_end|>"}));
  kv.emplace_back("t.arr.i32", GGUFValue::i32_array({1, -2, 2147483647}));
  kv.emplace_back("t.arr.f32", GGUFValue::f32_array({0.5f, -0.0f, 1e30f}));
  kv.emplace_back("t.arr.bool", GGUFValue::array(GGUFType::BOOL, {GGUFValue::boolean(true), GGUFValue::boolean(false)}));
  kv.emplace_back("t.arr.u64", GGUFValue::array(GGUFType::UINT64, {GGUFValue::u64(0), GGUFValue::u64(UINT64_MAX)}));
  kv.emplace_back("t.arr.i8", GGUFValue::array(GGUFType::INT8, {GGUFValue::i8(-1)}));
  kv.emplace_back("t.arr.u16", GGUFValue::array(GGUFType::UINT16, {GGUFValue::u16(7)}));
  kv.emplace_back("t.arr.f64", GGUFValue::array(GGUFType::FLOAT64, {GGUFValue::f64(-2.5)}));
  kv.emplace_back("t.arr.nested",
                  GGUFValue::array(GGUFType::ARRAY,
                                   {GGUFValue::array(GGUFType::INT16, {GGUFValue::i16(1), GGUFValue::i16(2)}),
                                    GGUFValue::array(GGUFType::INT16, {}),
                                    GGUFValue::string_array({"x", ""})}));
  kv.emplace_back("t.arr.nested3",
                  GGUFValue::array(GGUFType::ARRAY, {GGUFValue::array(GGUFType::ARRAY, {GGUFValue::i32_array({9})})}));
  return kv;
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

struct TensorSpec {
  std::string name;
  DType type;
  std::vector<int64_t> ne;
  size_t n_bytes;  // hand-computed from ggml's block sizes
};

// Byte sizes below are computed by hand from ggml's block layouts, not from row_bytes().
std::vector<TensorSpec> tensor_specs() {
  return {
      {"f32.w", DType::F32, {4, 3}, 4 * 3 * 4},
      {"f16.w", DType::F16, {8, 2}, 8 * 2 * 2},
      {"bf16.w", DType::BF16, {5}, 5 * 2},
      {"q8_0.w", DType::Q8_0, {64, 2}, 2 * 2 * 34},
      {"q4_0.w", DType::Q4_0, {32, 1, 1, 2}, 2 * 18},
      {"q4_1.w", DType::Q4_1, {32, 3}, 3 * 20},
      {"q6_K.w", DType::Q6_K, {256, 1}, 210},
      {"q4_K.w", DType::Q4_K, {256}, 144},
      {"q2_K.w", DType::Q2_K, {256}, 84},  // known to paw but not computable: still loads
      {"i32.w", DType::I32, {3}, 12},
      {"empty.w", DType::F32, {0, 3}, 0},
  };
}

GGUFWriter make_writer(uint32_t alignment) {
  GGUFWriter w;
  w.set("general.architecture", GGUFValue::string("test"));
  if (alignment != 32) w.set_alignment(alignment);
  for (auto& [k, v] : every_value_type()) w.set(k, v);
  uint32_t seed = 1;
  for (const auto& t : tensor_specs()) {
    auto data = random_bytes(t.n_bytes, seed++);
    w.add_tensor(t.name, t.type, t.ne, data.data(), data.size());
  }
  return w;
}

void check_file(const GGUFFile& f, uint64_t alignment, size_t total_size) {
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), alignment);
  EXPECT_EQ(f.data_offset() % alignment, 0u);
  EXPECT_EQ(f.get_string("general.architecture"), "test");

  auto expected_kv = every_value_type();
  size_t base = alignment != 32 ? 2 : 1;  // general.architecture (+ general.alignment) come first
  ASSERT_EQ(f.metadata().size(), expected_kv.size() + base);
  for (size_t i = 0; i < expected_kv.size(); ++i) {
    EXPECT_EQ(f.metadata()[base + i].first, expected_kv[i].first);
    EXPECT_TRUE(same(f.metadata()[base + i].second, expected_kv[i].second, expected_kv[i].first));
  }

  auto specs = tensor_specs();
  ASSERT_EQ(f.tensors().size(), specs.size());
  uint64_t expect_offset = 0;
  uint32_t seed = 1;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& t = f.tensors()[i];
    SCOPED_TRACE(specs[i].name);
    EXPECT_EQ(t.name, specs[i].name);
    EXPECT_EQ(t.type, specs[i].type);
    EXPECT_EQ(t.ne, specs[i].ne);
    EXPECT_EQ(t.n_bytes, specs[i].n_bytes);
    // llama.cpp requires offsets to be the running sum of alignment-padded sizes.
    EXPECT_EQ(t.offset, expect_offset);
    EXPECT_EQ(t.file_offset, f.data_offset() + expect_offset);
    auto data = random_bytes(specs[i].n_bytes, seed++);
    if (!data.empty()) {
      EXPECT_EQ(std::memcmp(t.data, data.data(), data.size()), 0);
    }
    // Padding after each tensor is zero.
    uint64_t padded = (t.n_bytes + alignment - 1) / alignment * alignment;
    for (uint64_t k = t.n_bytes; k < padded; ++k) EXPECT_EQ(t.data[k], 0) << "padding byte " << k;
    expect_offset += padded;
    EXPECT_EQ(f.find_tensor(specs[i].name), &t);
  }
  EXPECT_EQ(f.data_offset() + expect_offset, total_size);
  EXPECT_EQ(f.find_tensor("missing"), nullptr);

  const auto* q2 = f.find_tensor("q2_K.w");
  ASSERT_NE(q2, nullptr);
  EXPECT_EQ(paw::dtype_name(q2->type), "q2_K");

  const auto* q4 = f.find_tensor("q4_0.w");
  EXPECT_EQ(q4->n_elements(), 64);
  EXPECT_EQ(q4->rows(), 2);
}

}  // namespace

TEST(GGUFRoundTrip, EveryValueTypeAndSeveralTensorTypes) {
  auto bytes = make_writer(32).to_bytes();
  auto f = GGUFFile::parse(bytes, "mem.gguf");
  check_file(f, 32, bytes.size());
  EXPECT_EQ(f.path(), "mem.gguf");
  EXPECT_EQ(f.file_size(), bytes.size());
  // The header says v3 and holds the counts.
  EXPECT_EQ(std::memcmp(bytes.data(), "GGUF\x03\0\0\0", 8), 0);
}

TEST(GGUFRoundTrip, CustomAlignmentIsWrittenAndHonoured) {
  auto bytes = make_writer(64).to_bytes();
  auto f = GGUFFile::parse(bytes, "mem64.gguf");
  check_file(f, 64, bytes.size());
  EXPECT_EQ(f.get("general.alignment").type(), GGUFType::UINT32);
  EXPECT_EQ(f.get_u64("general.alignment"), 64u);
  for (const auto& t : f.tensors()) EXPECT_EQ(t.offset % 64, 0u);
}

TEST(GGUFRoundTrip, AtomicWriteThenMmapOpen) {
  namespace fs = std::filesystem;
  std::string dir = paw::test::scratch_dir("gguf-roundtrip");
  std::string path = dir + "/model.gguf";
  auto w = make_writer(32);
  w.write(path);
  // Exactly one file: no temp files left behind.
  size_t n_files = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++n_files;
  }
  EXPECT_EQ(n_files, 1u);
  auto expect = w.to_bytes();
  EXPECT_EQ(fs::file_size(path), expect.size());
  auto f = GGUFFile::open(path);
  EXPECT_EQ(f.path(), path);
  check_file(f, 32, expect.size());
  // A copy shares the mapping: tensor pointers stay valid after the original goes away.
  GGUFFile copy = f;
  f = GGUFFile::parse(expect, "other");
  EXPECT_EQ(copy.tensors()[0].data[0], expect[copy.tensors()[0].file_offset]);
}

TEST(GGUFRoundTrip, SetReplacesInPlaceAndLookupsWork) {
  GGUFWriter w;
  w.set("a", GGUFValue::u32(1));
  w.set("b", GGUFValue::string("x"));
  w.set("a", GGUFValue::f64(2.5));
  auto bytes = w.to_bytes();
  auto f = GGUFFile::parse(bytes, "kv.gguf");
  ASSERT_EQ(f.metadata().size(), 2u);
  EXPECT_EQ(f.metadata()[0].first, "a");
  EXPECT_DOUBLE_EQ(f.get_f64("a"), 2.5);
  EXPECT_EQ(f.get_string("b"), "x");
  EXPECT_EQ(f.get_string_or("c", "dflt"), "dflt");
  EXPECT_EQ(f.get_u64_or("c", 9), 9u);
  EXPECT_DOUBLE_EQ(f.get_f64_or("c", 1.5), 1.5);
  EXPECT_EQ(f.find("c"), nullptr);
  EXPECT_TRUE(f.tensors().empty());
  EXPECT_EQ(f.alignment(), 32u);
  // Missing required key and wrong type name the file and the key.
  try {
    f.get_u64("c");
    FAIL();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("kv.gguf"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("missing metadata key 'c'"), std::string::npos);
  }
  try {
    f.get_u64_or("b", 0);  // present but a string: not silently defaulted
    FAIL();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("kv.gguf (key 'b')"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("string, not an integer"), std::string::npos) << e.what();
  }
}

TEST(GGUFRoundTrip, WriterRefusesWhatLlamaCppWouldNotRead) {
  GGUFWriter w;
  float x[32] = {};
  std::string name64(64, 'n');
  EXPECT_THROW(w.add_tensor(name64, DType::F32, {1}, x, 4), paw::Error);          // GGML_MAX_NAME
  EXPECT_NO_THROW(w.add_tensor(std::string(63, 'n'), DType::F32, {1}, x, 4));
  EXPECT_THROW(w.add_tensor(std::string(63, 'n'), DType::F32, {1}, x, 4), paw::Error);  // duplicate
  EXPECT_THROW(w.add_tensor("", DType::F32, {1}, x, 4), paw::Error);
  EXPECT_THROW(w.add_tensor("d0", DType::F32, {}, x, 0), paw::Error);
  EXPECT_THROW(w.add_tensor("d5", DType::F32, {1, 1, 1, 1, 1}, x, 4), paw::Error);
  EXPECT_THROW(w.add_tensor("neg", DType::F32, {-1}, x, 0), paw::Error);
  EXPECT_THROW(w.add_tensor("size", DType::F32, {2}, x, 4), paw::Error);
  EXPECT_THROW(w.add_tensor("blk", DType::Q8_0, {16}, x, 17), paw::Error);  // not whole blocks
  EXPECT_THROW(w.set_alignment(0), paw::Error);
  EXPECT_THROW(w.set_alignment(48), paw::Error);
  EXPECT_THROW(w.set("general.alignment", GGUFValue::u64(64)), paw::Error);  // must be u32
  EXPECT_THROW(w.set("", GGUFValue::u8(1)), paw::Error);
}

TEST(GGUFRoundTrip, ManyTensorsAndLargeArraysStayConsistent) {
  // A vocabulary-sized string array and 300 tensors (a 28-layer model's worth).
  GGUFWriter w;
  std::vector<std::string> vocab;
  for (int i = 0; i < 5000; ++i) vocab.push_back("tok" + std::to_string(i));
  w.set("tokenizer.ggml.tokens", GGUFValue::string_array(vocab));
  std::vector<uint8_t> blob(34 * 2);
  for (int i = 0; i < 300; ++i) {
    blob[0] = static_cast<uint8_t>(i);
    w.add_tensor("blk." + std::to_string(i) + ".w", DType::Q8_0, {32, 2}, blob.data(), blob.size());
  }
  auto bytes = w.to_bytes();
  auto f = GGUFFile::parse(bytes, "big.gguf");
  EXPECT_EQ(f.get("tokenizer.ggml.tokens").as_string_array(), vocab);
  ASSERT_EQ(f.tensors().size(), 300u);
  for (int i = 0; i < 300; ++i) {
    const auto* t = f.find_tensor("blk." + std::to_string(i) + ".w");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->offset, static_cast<uint64_t>(i) * 96);  // 68 bytes padded to 96
    EXPECT_EQ(t->data[0], static_cast<uint8_t>(i));
  }
}
