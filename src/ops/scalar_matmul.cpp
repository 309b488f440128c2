// Scalar matmul: y[t, o] = W[o, :] · x[t, :] for any weight type dequantize_row supports.
// Each output row of W is dequantized once into a per-thread buffer and then dotted with
// every token of the batch, so the weight is read once per call whatever the batch size.
// Q4_0_X16 / Q8_0_X16 (interleaved rows, paw/tensor/interleave.hpp) read each row back in its
// stored type first.
#include <omp.h>

#include <cstring>
#include <string>

#include "ops/scalar.hpp"
#include "paw/tensor/interleave.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/util/error.hpp"

namespace paw::scalar {

float dot_f32(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

namespace {

// Per thread: one dequantized row (also used for F32 rows that are not 4-byte aligned), and for
// an interleaved layout the row's stored bytes (Q4_0 / Q8_0) after it.
size_t per_thread_bytes(DType type, int64_t n_in) {
  size_t n = ops_detail::align64(static_cast<size_t>(n_in) * sizeof(float));
  if (is_interleaved(type) && n_in % 32 == 0) n += ops_detail::align64(*row_bytes(stored_type(type), n_in));
  return n;
}

}  // namespace

size_t matmul_scratch_bytes(DType type, int64_t n_in, int64_t /*n_tokens*/, int n_threads) {
  return per_thread_bytes(type, n_in) * static_cast<size_t>(n_threads);
}

void matmul(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate,
            const OpContext& ctx) {
  const int64_t n_out = w.rows, n_in = w.cols;
  const auto& tr = traits(w.type);
  const auto stride = row_bytes(w.type, n_in);
  // Validate before the parallel region: exceptions must not escape an OpenMP block.
  const bool interleaved = is_interleaved(w.type);
  if (!(tr.can_dequantize || interleaved) || !stride)
    throw Error("matmul: weight type " + std::string(tr.name) + " with " + std::to_string(n_in) +
                    " columns is not supported",
                "ops::matmul", "use a weight type paw can dequantize, with rows a multiple of its block size");
  const int nt = ctx.n_threads > 0 ? ctx.n_threads : 1;
  const size_t per_thread = per_thread_bytes(w.type, n_in);
  ops_detail::check_scratch(ctx, per_thread * static_cast<size_t>(nt), "matmul");
  const bool direct = w.type == DType::F32 && reinterpret_cast<uintptr_t>(w.data) % alignof(float) == 0;

#pragma omp parallel num_threads(nt) if (nt > 1 && n_out >= 2 * nt)
  {
    uint8_t* mine = ctx.scratch + per_thread * static_cast<size_t>(omp_get_thread_num());
    float* row = reinterpret_cast<float*>(mine);
    uint8_t* stored_row = mine + ops_detail::align64(static_cast<size_t>(n_in) * sizeof(float));  // interleaved only
#pragma omp for schedule(static)
    for (int64_t o = 0; o < n_out; ++o) {
      const uint8_t* src = w.data + static_cast<size_t>(o) * *stride;
      const float* wr = row;
      if (direct) {
        wr = reinterpret_cast<const float*>(src);
      } else if (interleaved) {
        deinterleave_row(w, o, stored_row);
        dequantize_row(stored_type(w.type), stored_row, row, n_in);
      } else {
        dequantize_row(w.type, src, row, n_in);
      }
      for (int64_t t = 0; t < n_tokens; ++t) {
        const float s = dot_f32(wr, x + t * n_in, n_in);
        float& dst = y[t * n_out + o];
        dst = accumulate ? dst + s : s;
      }
    }
  }
}

}  // namespace paw::scalar
