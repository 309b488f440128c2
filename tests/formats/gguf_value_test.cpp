// GGUFValue: typed accessors, conversions between integer widths, type errors, display.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "paw/formats/gguf.hpp"
#include "paw/util/error.hpp"

using paw::GGUFType;
using paw::GGUFValue;

TEST(GGUFValue, TypeNamesFollowTheSpecOrder) {
  EXPECT_EQ(paw::gguf_type_name(GGUFType::UINT8), "u8");
  EXPECT_EQ(paw::gguf_type_name(GGUFType::STRING), "string");
  EXPECT_EQ(paw::gguf_type_name(GGUFType::ARRAY), "array");
  EXPECT_EQ(paw::gguf_type_name(GGUFType::FLOAT64), "f64");
  // Ids are the spec's: the enum is written to files as-is.
  EXPECT_EQ(static_cast<uint32_t>(GGUFType::BOOL), 7u);
  EXPECT_EQ(static_cast<uint32_t>(GGUFType::UINT64), 10u);
}

TEST(GGUFValue, IntegerAccessorsConvertWhenTheValueFits) {
  EXPECT_EQ(GGUFValue::u8(200).as_u64(), 200u);
  EXPECT_EQ(GGUFValue::u8(200).as_i64(), 200);
  EXPECT_EQ(GGUFValue::i8(-5).as_i64(), -5);
  EXPECT_EQ(GGUFValue::i32(7).as_u64(), 7u);
  EXPECT_EQ(GGUFValue::u64(UINT64_MAX).as_u64(), UINT64_MAX);
  EXPECT_EQ(GGUFValue::i64(INT64_MIN).as_i64(), INT64_MIN);
  EXPECT_EQ(GGUFValue::boolean(true).as_u64(), 1u);
  EXPECT_DOUBLE_EQ(GGUFValue::u32(3).as_f64(), 3.0);
  EXPECT_DOUBLE_EQ(GGUFValue::i16(-3).as_f64(), -3.0);
  EXPECT_TRUE(GGUFValue::u16(1).is_integer());
  EXPECT_FALSE(GGUFValue::boolean(true).is_integer());
  EXPECT_TRUE(GGUFValue::f32(1).is_float());
  EXPECT_FALSE(GGUFValue::u8(1).is_float());
}

TEST(GGUFValue, OutOfRangeAndWrongTypeThrowPawError) {
  EXPECT_THROW(GGUFValue::i32(-1).as_u64(), paw::Error);
  EXPECT_THROW(GGUFValue::u64(uint64_t{1} << 63).as_i64(), paw::Error);
  EXPECT_THROW(GGUFValue::string("x").as_u64(), paw::Error);
  EXPECT_THROW(GGUFValue::f32(1).as_i64(), paw::Error);
  EXPECT_THROW(GGUFValue::u8(1).as_string(), paw::Error);
  EXPECT_THROW(GGUFValue::u8(1).as_bool(), paw::Error);
  EXPECT_THROW(GGUFValue::boolean(true).as_f64(), paw::Error);
  EXPECT_THROW(GGUFValue::string("x").as_array(), paw::Error);
  EXPECT_THROW(GGUFValue::i32_array({1}).as_string_array(), paw::Error);
  EXPECT_THROW(GGUFValue::string_array({"a"}).as_int_array(), paw::Error);
  EXPECT_THROW(GGUFValue::string_array({"a"}).as_float_array(), paw::Error);
  try {
    GGUFValue::u32(1).as_string();
    FAIL();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("u32, not string"), std::string::npos) << e.what();
  }
}

TEST(GGUFValue, ArraysKeepElementTypeAndConvert) {
  auto s = GGUFValue::string_array({"a", "", "ü"});
  EXPECT_EQ(s.type(), GGUFType::ARRAY);
  EXPECT_EQ(s.elem_type(), GGUFType::STRING);
  EXPECT_EQ(s.as_string_array(), (std::vector<std::string>{"a", "", "ü"}));

  auto i = GGUFValue::i32_array({-1, 2});
  EXPECT_EQ(i.as_int_array(), (std::vector<int64_t>{-1, 2}));
  EXPECT_EQ(i.as_float_array(), (std::vector<float>{-1.0f, 2.0f}));

  auto f = GGUFValue::f32_array({0.5f, -2.25f});
  EXPECT_EQ(f.as_float_array(), (std::vector<float>{0.5f, -2.25f}));

  // Mixed element types are refused up front.
  EXPECT_THROW(GGUFValue::array(GGUFType::UINT8, {GGUFValue::u8(1), GGUFValue::u16(2)}), paw::Error);
  // Nested arrays are allowed by the format.
  auto nested = GGUFValue::array(GGUFType::ARRAY, {GGUFValue::i32_array({1}), GGUFValue::string_array({})});
  EXPECT_EQ(nested.as_array().size(), 2u);
  EXPECT_EQ(nested.as_array()[1].elem_type(), GGUFType::STRING);
}

TEST(GGUFValue, F32IsHeldExactly) {
  float v = 0.1f;
  EXPECT_EQ(static_cast<float>(GGUFValue::f32(v).as_f64()), v);
  EXPECT_EQ(GGUFValue::f32(v).as_f64(), static_cast<double>(v));
}

TEST(GGUFValue, DisplayIsShortAndReadable) {
  EXPECT_EQ(GGUFValue::u32(42).to_display(), "42");
  EXPECT_EQ(GGUFValue::i8(-3).to_display(), "-3");
  EXPECT_EQ(GGUFValue::boolean(false).to_display(), "false");
  EXPECT_EQ(GGUFValue::f32(0.1f).to_display(), "0.1");     // shortest round-trip form of the float
  EXPECT_EQ(GGUFValue::f64(1e-300).to_display(), "1e-300");
  EXPECT_EQ(GGUFValue::string("a\"b\n").to_display(), "\"a\\\"b\\n\"");
  EXPECT_EQ(GGUFValue::i32_array({1, 2, 3}).to_display(), "[1, 2, 3]");
  EXPECT_EQ(GGUFValue::i32_array({}).to_display(), "[]");

  std::vector<int32_t> many(100);
  for (int k = 0; k < 100; ++k) many[k] = k;
  EXPECT_EQ(GGUFValue::i32_array(many).to_display(4), "[0, 1, 2, 3, ... (100 total)]");
  EXPECT_EQ(GGUFValue::string_array({"x", "y", "z"}).to_display(2), "[\"x\", \"y\", ... (3 total)]");
  EXPECT_EQ(GGUFValue::i32_array({1, 2}).to_display(0), "[... (2 total)]");

  auto nested = GGUFValue::array(GGUFType::ARRAY, {GGUFValue::i32_array({1, 2}), GGUFValue::i32_array({})});
  EXPECT_EQ(nested.to_display(), "[[1, 2], []]");

  // Long strings (chat templates) are cut, never inside a UTF-8 sequence.
  std::string longs;
  for (int k = 0; k < 150; ++k) longs += "é";  // 300 bytes
  std::string shown = GGUFValue::string(longs).to_display();
  EXPECT_NE(shown.find("... (300 bytes)"), std::string::npos);
  EXPECT_LT(shown.size(), 230u);
  size_t body = shown.find("\"...");
  ASSERT_NE(body, std::string::npos);
  EXPECT_EQ((body - 1) % 2, 0u);  // whole two-byte characters only
}
