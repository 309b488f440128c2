#pragma once
// Helpers for the ops tests: deterministic random data, quantized weight matrices, and an
// aligned scratch buffer sized the way callers size it.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "paw/ops/kernels.hpp"
#include "paw/tensor/dtype.hpp"
#include "paw/tensor/interleave.hpp"
#include "paw/tensor/quantize.hpp"

namespace paw::test {

inline std::vector<float> random_floats(size_t n, uint64_t seed, float std = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, std);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// A weight matrix [rows, cols] quantized to `type`, plus its dequantized values (what any
// correct kernel must multiply by).
struct TestMatrix {
  std::vector<uint8_t> bytes;
  std::vector<float> values;  // dequantized, [rows, cols]
  MatrixView view;
};

inline TestMatrix make_matrix(DType type, int64_t rows, int64_t cols, uint64_t seed, size_t misalign = 0);

// An interleaved layout (Q4_0_X16 by default, or Q8_0_X16): rows interleaved from a random
// matrix of the stored type; values are that matrix's.
inline TestMatrix make_interleaved(int64_t rows, int64_t cols, uint64_t seed, DType x16 = DType::Q4_0_X16) {
  TestMatrix q = make_matrix(stored_type(x16), rows, cols, seed);
  TestMatrix m;
  m.bytes.resize(interleaved_bytes(x16, rows, cols));
  interleave(q.view, m.bytes.data());
  m.values = std::move(q.values);
  m.view = MatrixView{x16, rows, cols, m.bytes.data()};
  return m;
}

// A weight matrix of any type make_matrix or make_interleaved builds.
inline TestMatrix make_any(DType type, int64_t rows, int64_t cols, uint64_t seed) {
  return is_interleaved(type) ? make_interleaved(rows, cols, seed, type) : make_matrix(type, rows, cols, seed);
}

inline TestMatrix make_matrix(DType type, int64_t rows, int64_t cols, uint64_t seed, size_t misalign) {
  TestMatrix m;
  const auto src = random_floats(static_cast<size_t>(rows * cols), seed, 0.5f);
  const size_t rb = *row_bytes(type, cols);
  m.bytes.resize(rb * rows + misalign);
  for (int64_t r = 0; r < rows; ++r) quantize_row(type, src.data() + r * cols, m.bytes.data() + misalign + r * rb, cols);
  m.values.resize(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    dequantize_row(type, m.bytes.data() + misalign + r * rb, m.values.data() + r * cols, cols);
  m.view = MatrixView{type, rows, cols, m.bytes.data() + misalign};
  return m;
}

struct Scratch {
  explicit Scratch(size_t bytes) : n(bytes), p(static_cast<uint8_t*>(std::aligned_alloc(64, (bytes + 64) / 64 * 64))) {}
  ~Scratch() { std::free(p); }
  OpContext ctx(int threads) const { return OpContext{threads, p, n}; }
  size_t n;
  uint8_t* p;
};

// y = W·x through kt.matmul with scratch sized as callers size it; y starts filled with `init`
// (so that accumulate adds to it and an overwrite is visible).
inline std::vector<float> run_matmul(const KernelTable& kt, const MatrixView& w, const std::vector<float>& x, int64_t T,
                                     int threads, bool accumulate, float init) {
  Scratch s(kt.matmul_scratch_bytes(w.type, w.cols, T, threads));
  std::vector<float> y(static_cast<size_t>(T * w.rows), init);
  kt.matmul(w, x.data(), y.data(), T, accumulate, s.ctx(threads));
  return y;
}

// y [T, n_out] is exactly w [n_out, n_in] · x [T, n_in] in double precision: for integer data
// whose partial sums all stay below 2^24, where no kernel may round anything.
inline void expect_exact_products(const std::vector<float>& y, const std::vector<float>& w, const std::vector<float>& x,
                                  int64_t T, int64_t n_out, int64_t n_in, const std::string& tag) {
  for (int64_t t = 0; t < T; ++t)
    for (int64_t o = 0; o < n_out; ++o) {
      double want = 0;
      for (int64_t i = 0; i < n_in; ++i) want += static_cast<double>(w[o * n_in + i]) * x[t * n_in + i];
      ASSERT_EQ(y[t * n_out + o], want) << tag << " t=" << t << " o=" << o;
    }
}

}  // namespace paw::test
