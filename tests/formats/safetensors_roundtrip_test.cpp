// SafetensorsWriter -> SafetensorsFile round trips, and the writer's byte layout checked
// against the reference implementation's conventions spelled out by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

#include "paw/formats/safetensors.hpp"
#include "paw/util/error.hpp"
#include "paw/util/mapped_file.hpp"
#include "common/test_env.hpp"

using paw::SafetensorsFile;
using paw::SafetensorsWriter;
using paw::STDType;

TEST(SafetensorsWrite, ExactBytesOfSmallFile) {
  // Expected bytes written out by hand from the format description: compact JSON,
  // __metadata__ first, tensors by element size (F32 before U8) then name, contiguous
  // offsets, space padding to a multiple of 8.
  SafetensorsWriter w;
  const float b_vals[2] = {1.0f, -2.0f};
  const uint8_t a_vals[3] = {1, 2, 3};
  w.add_tensor("a", STDType::U8, {3}, a_vals, 3);
  w.add_f32("c", {1}, std::span<const float>(b_vals, 1));
  w.add_f32("b", {2}, b_vals);
  w.set_metadata("format", "pt");
  std::string json =
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("c":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
      R"("a":{"dtype":"U8","shape":[3],"data_offsets":[12,15]}})";
  ASSERT_EQ(json.size(), 193u);
  std::string header = json + "       ";  // 193 -> 200
  std::vector<uint8_t> expect = {200, 0, 0, 0, 0, 0, 0, 0};
  expect.insert(expect.end(), header.begin(), header.end());
  expect.insert(expect.end(), {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0});  // b: 1.0f, -2.0f LE
  expect.insert(expect.end(), {0x00, 0x00, 0x80, 0x3f});                          // c: 1.0f
  expect.insert(expect.end(), {1, 2, 3});
  EXPECT_EQ(w.to_bytes(), expect);
}

TEST(SafetensorsWrite, RoundTripAllDtypesThroughFile) {
  std::mt19937 rng(42);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  std::vector<float> big(3 * 5 * 7);
  for (auto& v : big) v = nd(rng);

  SafetensorsWriter w;
  w.set_metadata("format", "pt");
  w.set_metadata("unicode", "h\xc3\xa9llo");
  w.add_f32("z.f32", {3, 5, 7}, big);
  w.add_f32("y.f64", {3, 5, 7}, big, STDType::F64);
  // Values exactly representable in F16 / BF16 survive the round trip unchanged.
  std::vector<float> halfable = {0.0f, -0.0f, 1.0f, -1.5f, 65504.0f, 0.000061035156f /* 2^-14 */, INFINITY};
  w.add_f32("x.f16", {7}, halfable, STDType::F16);
  std::vector<float> bfable = {1.0f, -3.140625f, std::ldexp(1.0f, 33), 0.0078125f};
  w.add_f32("w.bf16", {2, 2}, bfable, STDType::BF16);
  const int64_t ids[3] = {-5, 0, INT64_MAX};
  w.add_tensor("v.i64", STDType::I64, {3}, ids, sizeof ids);
  w.add_f32("u.scalar", {}, std::vector<float>{42.0f});
  w.add_f32("t.empty", {0, 4}, std::vector<float>{});

  auto dir = paw::test::scratch_dir("st-roundtrip");
  auto path = dir + "/model.safetensors";
  w.write(path);
  EXPECT_EQ(paw::read_file_to_string(path).size(), w.to_bytes().size());
  // The atomic writer leaves nothing else behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);

  auto f = SafetensorsFile::open(path);
  EXPECT_EQ(f.header_size() % 8, 0u);
  EXPECT_EQ(f.data_offset() % 8, 0u);
  EXPECT_EQ(f.metadata().size(), 2u);
  EXPECT_EQ(f.metadata().at("unicode"), "h\xc3\xa9llo");
  ASSERT_EQ(f.tensors().size(), 7u);

  EXPECT_EQ(f.to_f32("z.f32"), big);
  EXPECT_EQ(f.to_f32("y.f64"), big);
  EXPECT_EQ(f.get("y.f64").n_bytes(), big.size() * 8);
  auto h = f.to_f32("x.f16");
  ASSERT_EQ(h.size(), halfable.size());
  for (size_t i = 0; i < h.size(); ++i) {
    EXPECT_EQ(h[i], halfable[i]) << i;
    EXPECT_EQ(std::signbit(h[i]), std::signbit(halfable[i])) << i;
  }
  EXPECT_EQ(f.to_f32("w.bf16"), bfable);
  EXPECT_EQ(f.get("w.bf16").shape, (std::vector<int64_t>{2, 2}));
  int64_t back[3];
  const auto& v = f.get("v.i64");
  ASSERT_EQ(v.data.size(), sizeof back);
  std::memcpy(back, v.data.data(), sizeof back);
  EXPECT_EQ(back[2], INT64_MAX);
  EXPECT_EQ(back[0], -5);
  EXPECT_EQ(f.to_f32("u.scalar"), std::vector<float>{42.0f});
  EXPECT_EQ(f.get("t.empty").numel(), 0);

  // Tensors are packed from offset 0 to the end of the file, each aligned to its element
  // size: F64/I64 first, then F32, then F16/BF16.
  std::vector<const paw::SafetensorsTensor*> by_offset;
  for (const auto& t : f.tensors()) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->begin < b->begin || (a->begin == b->begin && a->end < b->end); });
  std::vector<std::string> order;
  uint64_t pos = 0;
  for (const auto* t : by_offset) {
    EXPECT_EQ(t->begin, pos) << t->name;
    EXPECT_EQ((f.data_offset() + t->begin) % paw::st_dtype_size(t->dtype), 0u) << t->name;
    pos = t->end;
    if (t->numel() > 0) order.push_back(t->name);
  }
  EXPECT_EQ(f.data_offset() + pos, f.file_size());
  EXPECT_EQ(order, (std::vector<std::string>{"v.i64", "y.f64", "u.scalar", "z.f32", "w.bf16", "x.f16"}));
}

TEST(SafetensorsWrite, RoundingToHalfAndBfloat) {
  // Hand-computed round-to-nearest-even results.
  SafetensorsWriter w;
  const float src[4] = {0.1f, 1.0f + std::ldexp(1.0f, -11) /* tie -> even 1.0 */,
                        1.0f + 3 * std::ldexp(1.0f, -11) /* tie -> up */, 65520.0f /* -> inf */};
  w.add_f32("h", {4}, src, STDType::F16);
  w.add_f32("b", {1}, std::span<const float>(src, 1), STDType::BF16);
  auto bytes = w.to_bytes();
  auto f = SafetensorsFile::parse(bytes, "mem");
  auto raw16 = [](const paw::SafetensorsTensor& t, size_t i) {
    return static_cast<uint16_t>(t.data[2 * i] | (t.data[2 * i + 1] << 8));
  };
  const auto& h = f.get("h");
  EXPECT_EQ(raw16(h, 0), 0x2E66);  // 0.1 -> 0.0999755859375
  EXPECT_EQ(raw16(h, 1), 0x3C00);
  EXPECT_EQ(raw16(h, 2), 0x3C02);
  EXPECT_EQ(raw16(h, 3), 0x7C00);
  EXPECT_EQ(raw16(f.get("b"), 0), 0x3DCD);  // 0x3DCCCCCD rounds up
}

TEST(SafetensorsWrite, RejectsBadInput) {
  SafetensorsWriter w;
  const float v[2] = {1, 2};
  w.add_f32("a", {2}, v);
  auto expect_error = [](auto fn, const char* fragment) {
    try {
      fn();
      ADD_FAILURE() << "no error, expected: " << fragment;
    } catch (const paw::Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error([&] { w.add_f32("a", {2}, v); }, "duplicate tensor name");
  expect_error([&] { w.add_f32("b", {3}, v); }, "got 8 bytes but the shape needs 12");
  expect_error([&] { w.add_f32("c", {-1}, v); }, "negative dimension");
  expect_error([&] { w.add_f32("__metadata__", {2}, v); }, "invalid tensor name");
  expect_error([&] { w.add_f32("d", {2}, v, STDType::I32); }, "cannot store float32 values as I32");
  w.add_f32("bad\xff", {2}, v);
  expect_error([&] { w.to_bytes(); }, "cannot encode the header");
}
