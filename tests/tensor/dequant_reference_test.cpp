// dequantize_row against an independent Python/numpy decoder (tests/reference/ref_dequant.py)
// written from the published block layouts: random blocks of every type, compared bit for
// bit.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "paw/tensor/quantize.hpp"
#include "tensor_test_util.hpp"
#include "common/test_env.hpp"

namespace paw {
namespace {

struct Case {
  DType type;
  std::vector<size_t> f16_fields;  // byte offsets of fp16 scales inside one block
};

// Random block bytes, with every fp16 scale field replaced by a finite value (half of the
// blocks get any finite pattern incl. subnormals and zeros, half a moderate one) so the
// decoded values are finite and comparable bit for bit.
std::vector<uint8_t> random_row(const Case& c, int64_t n, std::mt19937& rng) {
  const auto& tr = traits(c.type);
  const size_t bytes = static_cast<size_t>(n / tr.block_size) * tr.type_size;
  std::vector<uint8_t> row(bytes);
  for (auto& b : row) b = static_cast<uint8_t>(rng());
  switch (c.type) {
    case DType::F32:  // any finite float
      for (size_t off = 0; off < bytes; off += 4) {
        uint32_t u = static_cast<uint32_t>(rng());
        if ((u & 0x7F800000u) == 0x7F800000u) u &= 0xBFFFFFFFu;
        test::put_u32(row, off, u);
      }
      break;
    case DType::F16:
      for (size_t off = 0; off < bytes; off += 2) test::put_u16(row, off, test::random_finite_f16(rng));
      break;
    case DType::BF16:
      for (size_t off = 0; off < bytes; off += 2) {
        uint16_t h = static_cast<uint16_t>(rng());
        if ((h & 0x7F80) == 0x7F80) h &= 0xBFFF;  // no Inf/NaN exponent
        test::put_u16(row, off, h);
      }
      break;
    default:
      for (size_t blk = 0; blk * tr.type_size < bytes; ++blk)
        for (size_t f : c.f16_fields)
          test::put_u16(row, blk * tr.type_size + f,
                        blk % 2 ? test::random_sane_f16(rng) : test::random_finite_f16(rng));
  }
  return row;
}

TEST(DequantReference, MatchesNumpyBitForBit) {
  const std::vector<Case> cases = {
      {DType::F32, {}},       {DType::F16, {}},       {DType::BF16, {}},
      {DType::Q8_0, {0}},     {DType::Q4_0, {0}},     {DType::Q4_1, {0, 2}},
      {DType::Q5_0, {0}},     {DType::Q5_1, {0, 2}},  {DType::Q4_K, {0, 2}},
      {DType::Q5_K, {0, 2}},  {DType::Q6_K, {208}},
  };
  const int64_t n = 2048;  // 64 legacy blocks or 8 super-blocks per type
  std::mt19937 rng(7);
  const std::string dir = test::scratch_dir("dequant-ref");
  std::ofstream manifest(dir + "/manifest.txt");
  std::vector<std::vector<float>> ours;
  for (const auto& c : cases) {
    const std::string name(dtype_name(c.type));
    const auto row = random_row(c, n, rng);
    test::write_file(dir + "/" + name + ".bin", row.data(), row.size());
    manifest << name << " " << n << " " << dir << "/" << name << ".bin " << dir << "/" << name
             << ".out\n";
    // Decode from an odd address: rows inside mapped files need not be aligned for structs.
    std::vector<uint8_t> shifted(row.size() + 1);
    std::memcpy(shifted.data() + 1, row.data(), row.size());
    std::vector<float> y(n);
    dequantize_row(c.type, shifted.data() + 1, y.data(), n);
    ours.push_back(std::move(y));
  }
  manifest.close();

  const std::string cmd = test::python() + " " +
                          test::quoted(test::source_dir() + "/tests/reference/ref_dequant.py") +
                          " " + test::quoted(dir + "/manifest.txt");
  ASSERT_EQ(test::run_command(cmd), 0) << cmd;

  for (size_t k = 0; k < cases.size(); ++k) {
    const std::string name(dtype_name(cases[k].type));
    const auto ref = test::read_file_as<float>(dir + "/" + name + ".out");
    ASSERT_EQ(ref.size(), static_cast<size_t>(n)) << name;
    int mismatches = 0;
    for (int64_t i = 0; i < n && mismatches < 5; ++i) {
      if (test::bits_of(ours[k][i]) != test::bits_of(ref[i])) {
        ++mismatches;
        ADD_FAILURE() << name << " element " << i << ": paw " << ours[k][i] << " numpy " << ref[i];
      }
    }
  }
}

}  // namespace
}  // namespace paw
