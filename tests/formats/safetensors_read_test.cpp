// safetensors reader on hand-built files: values decoded from hand-computed bytes, and a
// corpus of broken files each rejected with its own specific message.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "paw/formats/safetensors.hpp"
#include "paw/util/error.hpp"
#include "safetensors_bytes.hpp"
#include "common/test_env.hpp"

using paw::SafetensorsFile;
using paw::STDType;
using paw::test::st_file;

namespace {

// Parses and returns the error, failing the test if parsing succeeds.
paw::Error parse_error(const std::vector<uint8_t>& bytes) {
  try {
    SafetensorsFile::parse(bytes, "bad.safetensors");
  } catch (const paw::Error& e) {
    return e;
  }
  ADD_FAILURE() << "parse succeeded";
  return paw::Error("");
}

}  // namespace

TEST(SafetensorsRead, DecodesHandBuiltFile) {
  // F16 0x3C00 = 1.0, 0xC000 = -2.0, 0x0001 = 2^-24 (smallest subnormal);
  // BF16 0x4049 = 3.140625; F64 -0.5; F32 1.5.
  std::vector<uint8_t> data;
  paw::test::put_f32(data, 1.5f);               // a [0,4)
  for (uint16_t h : {0x3C00, 0xC000, 0x0001}) paw::test::put_u16(data, h);  // h [4,10)
  paw::test::put_u16(data, 0x4049);             // bf [10,12)
  paw::test::put_f64(data, -0.5);               // d [12,20)
  std::string header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
      R"("h":{"dtype":"F16","shape":[3],"data_offsets":[4,10]},)"
      R"("bf":{"shape":[1,1],"dtype":"BF16","data_offsets":[10,12],"extra":"ignored"},)"
      R"("d":{"dtype":"F64","shape":[1],"data_offsets":[12,20]}}  )";
  auto bytes = st_file(header, data);
  auto f = SafetensorsFile::parse(bytes, "x.safetensors");
  EXPECT_EQ(f.header_size(), header.size());
  EXPECT_EQ(f.data_offset(), 8 + header.size());
  EXPECT_EQ(f.metadata().at("format"), "pt");
  ASSERT_EQ(f.tensors().size(), 4u);
  EXPECT_EQ(f.tensors()[0].name, "a");  // sorted by name
  EXPECT_EQ(f.tensors()[1].name, "bf");

  const auto& a = f.get("a");
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.numel(), 1);
  EXPECT_EQ(a.file_offset, 8 + header.size());
  EXPECT_EQ(f.to_f32("a"), std::vector<float>{1.5f});
  EXPECT_EQ(f.to_f32("h"), (std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24)}));
  EXPECT_EQ(f.to_f32("bf"), std::vector<float>{3.140625f});
  EXPECT_EQ(f.to_f32("d"), std::vector<float>{-0.5f});
  EXPECT_EQ(f.get("bf").shape, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(f.get("h").file_offset, 8 + header.size() + 4);
  EXPECT_EQ(f.find("missing"), nullptr);
}

TEST(SafetensorsRead, EmptyTensorsAndNoMetadata) {
  // Zero-element tensors occupy no bytes and may share an offset with anything.
  std::vector<uint8_t> data;
  paw::test::put_f32(data, 7.0f);
  auto bytes = st_file(R"({"e":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]},)"
                       R"("v":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                       R"("z":{"dtype":"I8","shape":[2,0],"data_offsets":[4,4]}})",
                       data);
  auto f = SafetensorsFile::parse(bytes, "x");
  EXPECT_TRUE(f.metadata().empty());
  EXPECT_EQ(f.get("e").numel(), 0);
  EXPECT_TRUE(f.to_f32("e").empty());
  EXPECT_EQ(f.to_f32("v"), std::vector<float>{7.0f});
}

TEST(SafetensorsRead, F64BeyondFloatRangeBecomesInfinity) {
  std::vector<uint8_t> data;
  for (double d : {1e300, -1e300, 3.4028234663852886e38 /* FLT_MAX */, 1e-50}) paw::test::put_f64(data, d);
  auto bytes = st_file(R"({"d":{"dtype":"F64","shape":[4],"data_offsets":[0,32]}})", data);
  auto f = SafetensorsFile::parse(bytes, "x");
  auto v = f.to_f32("d");
  EXPECT_EQ(v[0], INFINITY);
  EXPECT_EQ(v[1], -INFINITY);
  EXPECT_EQ(v[2], 3.4028234663852886e38f);
  EXPECT_EQ(v[3], 0.0f);
}

TEST(SafetensorsRead, ConversionRefusesNonFloatDtypes) {
  auto bytes = st_file(R"({"f8":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]},)"
                       R"("i":{"dtype":"I32","shape":[1],"data_offsets":[2,6]}})",
                       std::vector<uint8_t>(6, 0));
  auto f = SafetensorsFile::parse(bytes, "q.safetensors");
  EXPECT_EQ(f.get("f8").dtype, STDType::F8_E4M3);
  try {
    f.to_f32("f8");
    FAIL();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("F8 checkpoints are recognised but not supported"), std::string::npos) << e.what();
    EXPECT_NE(e.where().find("tensor 'f8'"), std::string::npos);
  }
  try {
    f.to_f32("i");
    FAIL();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("dtype I32 cannot be converted"), std::string::npos) << e.what();
  }
  try {
    f.get("nope");
    FAIL();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'nope' not found"), std::string::npos) << e.what();
    EXPECT_EQ(e.where(), "q.safetensors");
  }
}

TEST(SafetensorsRead, OpenMapsFileAndNamesMissingPath) {
  auto dir = paw::test::scratch_dir("st-open");
  std::vector<uint8_t> data;
  paw::test::put_f32(data, -3.0f);
  auto bytes = st_file(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", data);
  std::ofstream(dir + "/m.safetensors", std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  auto f = SafetensorsFile::open(dir + "/m.safetensors");
  EXPECT_EQ(f.path(), dir + "/m.safetensors");
  EXPECT_EQ(f.to_f32("t"), std::vector<float>{-3.0f});
  EXPECT_THROW(SafetensorsFile::open(dir + "/absent.safetensors"), paw::Error);

  std::ofstream(dir + "/empty.safetensors").close();
  try {
    SafetensorsFile::open(dir + "/empty.safetensors");
    FAIL();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("too small"), std::string::npos) << e.what();
  }
}

// ---- broken-file corpus: each file has one defect and one specific message -------------

struct BrokenCase {
  const char* label;
  std::vector<uint8_t> bytes;
  const char* what_fragment;   // in Error::what()
  const char* where_fragment;  // in Error::where()
};

std::vector<BrokenCase> broken_cases() {
  auto f32x2 = std::vector<uint8_t>(8, 0);
  auto tensor = [](const std::string& body) { return R"({"w":{)" + body + "}}"; };
  std::vector<uint8_t> huge_len = {0, 0, 0, 0, 0, 1, 0, 0};  // 2^40
  std::vector<uint8_t> past_end = {100, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
  auto valid = st_file(tensor(R"("dtype":"F32","shape":[2],"data_offsets":[0,8])"), f32x2);
  auto truncated_data = std::vector<uint8_t>(valid.begin(), valid.end() - 3);
  return {
      {"too short", {1, 2, 3}, "too small for a safetensors header", "bad.safetensors at byte offset 0"},
      {"header past end", past_end, "runs past the end of the file", "at byte offset 0"},
      {"header length huge", huge_len, "exceeds the cap", "at byte offset 0"},
      {"data truncated", truncated_data, "out of range", "tensor 'w', field 'data_offsets'"},
      {"bad json", st_file(R"({"w":{"dtype":"F32",)"), "not valid JSON", "at byte offset"},
      {"not an object", st_file("[1,2]"), "does not start with '{'", "at byte offset 8"},
      {"empty header", st_file(""), "does not start with '{'", "at byte offset 8"},
      {"trailing garbage", st_file(R"({} x)"), "not valid JSON", "at byte offset"},
      {"invalid utf8", st_file("{\"w\xff\":1}"), "not valid JSON", "at byte offset"},
      {"number overflow", st_file(R"({"w":{"dtype":"F32","shape":[1e999],"data_offsets":[0,4]}})"), "not valid JSON",
       "JSON header"},
      {"offsets out of range", st_file(tensor(R"("dtype":"F32","shape":[2],"data_offsets":[8,16])"), f32x2),
       "out of range: the data section holds 8 bytes", "tensor 'w', field 'data_offsets'"},
      {"overlapping",
       st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
               R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
               f32x2),
       "overlap tensor 'a'", "tensor 'b', field 'data_offsets'"},
      {"size mismatch", st_file(tensor(R"("dtype":"F32","shape":[3],"data_offsets":[0,8])"), f32x2),
       "size mismatch: data_offsets span 8 bytes but shape [3] of F32 needs 12", "tensor 'w', field 'data_offsets'"},
      {"unknown dtype", st_file(tensor(R"("dtype":"F12","shape":[2],"data_offsets":[0,8])"), f32x2),
       "unknown dtype 'F12'", "tensor 'w', field 'dtype'"},
      {"lower-case dtype", st_file(tensor(R"("dtype":"f32","shape":[2],"data_offsets":[0,8])"), f32x2),
       "unknown dtype 'f32'", "field 'dtype'"},
      {"duplicate tensor",
       st_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
               R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
               f32x2),
       "duplicate tensor name 'w'", "bad.safetensors: JSON header"},
      {"duplicate field", st_file(tensor(R"("dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8])"), f32x2),
       "duplicate key 'dtype'", "JSON header"},
      {"negative dim", st_file(tensor(R"("dtype":"F32","shape":[-2],"data_offsets":[0,8])"), f32x2),
       "shape entry -2 is not a non-negative integer", "tensor 'w', field 'shape'"},
      {"fractional dim", st_file(tensor(R"("dtype":"F32","shape":[2.0],"data_offsets":[0,8])"), f32x2),
       "is not a non-negative integer", "field 'shape'"},
      {"shape overflow",
       st_file(tensor(R"("dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8])"), f32x2),
       "overflows", "tensor 'w', field 'shape'"},
      {"bytes overflow",
       st_file(tensor(R"("dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8])"), f32x2),
       "needs more than 2^64", "field 'data_offsets'"},
      {"shape not array", st_file(tensor(R"("dtype":"F32","shape":2,"data_offsets":[0,8])"), f32x2),
       "shape is not an array", "field 'shape'"},
      {"missing dtype", st_file(tensor(R"("shape":[2],"data_offsets":[0,8])"), f32x2), "missing field 'dtype'",
       "tensor 'w', field 'dtype'"},
      {"missing offsets", st_file(tensor(R"("dtype":"F32","shape":[2])"), f32x2), "missing field 'data_offsets'",
       "field 'data_offsets'"},
      {"offsets arity", st_file(tensor(R"("dtype":"F32","shape":[2],"data_offsets":[0])"), f32x2),
       "is not [begin, end]", "field 'data_offsets'"},
      {"negative offset", st_file(tensor(R"("dtype":"F32","shape":[2],"data_offsets":[-8,0])"), f32x2),
       "is not [begin, end]", "field 'data_offsets'"},
      {"begin after end", st_file(tensor(R"("dtype":"F32","shape":[0],"data_offsets":[8,0])"), f32x2),
       "begin 8 is after end 0", "field 'data_offsets'"},
      {"entry not object", st_file(R"({"w":[1,2]})"), "header entry is a array, not an object", "tensor 'w'"},
      {"metadata not string", st_file(R"({"__metadata__":{"k":1}})"), "value for key 'k' is a number",
       "field '__metadata__'"},
      {"metadata not object", st_file(R"({"__metadata__":[]})"), "must be an object of strings",
       "field '__metadata__'"},
      {"deep nesting", st_file("{\"w\":" + std::string(100, '[') + std::string(100, ']') + "}"),
       "nests deeper than 64 levels", "at byte offset 8"},
  };
}

TEST(SafetensorsRead, BrokenFileCorpus) {
  for (const auto& c : broken_cases()) {
    SCOPED_TRACE(c.label);
    paw::Error e = parse_error(c.bytes);
    EXPECT_NE(e.what_failed().find(c.what_fragment), std::string::npos) << "what: " << e.what();
    EXPECT_NE(e.where().find(c.where_fragment), std::string::npos) << "where: " << e.where();
    EXPECT_NE(e.where().find("bad.safetensors"), std::string::npos) << e.where();
    EXPECT_FALSE(e.hint().empty()) << e.what();
  }
}

TEST(SafetensorsRead, DtypeTable) {
  // Element sizes from the safetensors format description.
  EXPECT_EQ(paw::st_dtype_size(STDType::BOOL), 1u);
  EXPECT_EQ(paw::st_dtype_size(STDType::BF16), 2u);
  EXPECT_EQ(paw::st_dtype_size(STDType::U32), 4u);
  EXPECT_EQ(paw::st_dtype_size(STDType::I64), 8u);
  EXPECT_EQ(paw::st_dtype_size(STDType::F8_E5M2), 1u);
  for (const char* n : {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2"}) {
    auto t = paw::st_dtype_from_name(n);
    ASSERT_TRUE(t) << n;
    EXPECT_EQ(paw::st_dtype_name(*t), n);
  }
  EXPECT_EQ(paw::st_dtype_to_paw(STDType::BF16), paw::DType::BF16);
  EXPECT_FALSE(paw::st_dtype_to_paw(STDType::U8).has_value());
}
