#pragma once
// The KV cache of one session: per layer, K rows [n_ctx, n_head_kv * head_dim_k] and V rows
// [n_ctx, n_head_kv * head_dim_v], position-major, F16 (default) or F32. Position-major rows
// make "positions 0..n" one contiguous block per layer and tensor, so prefixes copy out and
// in with a few memcpys.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "paw/model/hparams.hpp"
#include "paw/tensor/dtype.hpp"

namespace paw {

class KVCache {
 public:
  KVCache(const HParams& hp, int64_t n_ctx, DType type);

  DType type() const { return type_; }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_layer() const { return n_layer_; }
  size_t k_row_bytes() const { return k_row_; }
  size_t v_row_bytes() const { return v_row_; }
  size_t total_bytes() const { return bytes_; }

  uint8_t* k_row(int64_t layer, int64_t pos) { return k_base(layer) + static_cast<size_t>(pos) * k_row_; }
  uint8_t* v_row(int64_t layer, int64_t pos) { return v_base(layer) + static_cast<size_t>(pos) * v_row_; }
  const uint8_t* k_rows(int64_t layer) const { return const_cast<KVCache*>(this)->k_base(layer); }
  const uint8_t* v_rows(int64_t layer) const { return const_cast<KVCache*>(this)->v_base(layer); }

  // Size of positions [0, n) of every layer in the copy format: for each layer, its K rows
  // [0, n) then its V rows [0, n), in the cache's type.
  size_t bytes_for(int64_t n) const;
  // Copy positions [0, n) out / in (span sizes must equal bytes_for(n)); throws paw::Error.
  void copy_out(int64_t n, std::span<uint8_t> dst) const;
  void copy_in(int64_t n, std::span<const uint8_t> src);

 private:
  uint8_t* k_base(int64_t layer) { return data_.get() + static_cast<size_t>(layer) * layer_bytes_; }
  uint8_t* v_base(int64_t layer) { return k_base(layer) + static_cast<size_t>(n_ctx_) * k_row_; }

  struct Free {
    void operator()(uint8_t* p) const;
  };
  DType type_;
  int64_t n_ctx_, n_layer_;
  size_t k_row_, v_row_, layer_bytes_, bytes_;
  std::unique_ptr<uint8_t, Free> data_;
};

}  // namespace paw
