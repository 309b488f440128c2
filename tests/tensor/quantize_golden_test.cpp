// Bit-exactness against ggml itself: SHA-256 digests of what ggml's reference quantizers
// (quantize_row_{q4_0,q4_1,q5_0,q5_1,q8_0,q4_K,q5_K,q6_K,q8_K}_ref) output for the
// deterministic rows of golden_input.hpp. The digests were computed by compiling ggml's
// ggml-quants.c (ggml-org/ggml d99724f2) on these inputs — an external reference, not paw's
// own output. A mismatch means a paw-quantized GGUF would differ from llama-quantize's.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "golden_input.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/util/sha256.hpp"

namespace paw {
namespace {

std::string digest_of(DType type) {
  Sha256 h;
  for (int r = 0; r < test::kGoldenRows; ++r) {
    const auto x = test::golden_row(r);
    std::vector<uint8_t> out(*row_bytes(type, 4096));
    if (type == DType::Q8_K) {
      quantize_row_q8_K(x.data(), reinterpret_cast<block_q8_K*>(out.data()), 4096);
    } else {
      quantize_row(type, x.data(), out.data(), 4096);
    }
    h.update(out.data(), out.size());
  }
  return h.hex_digest();
}

TEST(QuantizeGolden, MatchesGgmlReferenceQuantizers) {
  const struct {
    DType type;
    const char* sha256;
  } cases[] = {
      {DType::Q4_0, "d6db43288b7a4a3d95ba0152694dba668c26582583864b66e7b41d1ec7fb87fe"},
      {DType::Q4_1, "8001afd4ced4be08a4200d5ba9cc3e19440be8d2f621bde86b7d7208375562d5"},
      {DType::Q5_0, "f011dfd4e48b9d78660852846249a0abbadcec07dc9363299bf5e105f175ab78"},
      {DType::Q5_1, "4e29b5ed94e237ebf1e399cdb0411585949973cc3aa5e6674f3d72950d52ab67"},
      {DType::Q8_0, "d402a9c1a266e652244cda9f54aaf269f9a6a60dd301b844d09c0568233b61d1"},
      {DType::Q4_K, "059f6606c9fbd05966061f3e15fa9a57cfd414a516a4f1681ddcda8f813702ca"},
      {DType::Q5_K, "7eba2e5dd99081b51cc7add18ad9d143bcd040d21649babbfd0117b5b6bb62ce"},
      {DType::Q6_K, "791bbb7959024bf78efe59cb743aba13ecc98a6202d4729a824250162eb4207e"},
      {DType::Q8_K, "1cd91b12a3a37d8e244f065343893a52efb5f7aefbcdc4a7287876fd4a2cd9d7"},
  };
  for (const auto& c : cases) EXPECT_EQ(digest_of(c.type), c.sha256) << dtype_name(c.type);
}

}  // namespace
}  // namespace paw
