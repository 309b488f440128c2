// KV cache storage and prefix copy in/out.
#include "paw/model/kv_cache.hpp"

#include <cstdlib>
#include <cstring>
#include <string>

#include "paw/util/checked_math.hpp"
#include "paw/util/error.hpp"

namespace paw {

void KVCache::Free::operator()(uint8_t* p) const { std::free(p); }

KVCache::KVCache(const HParams& hp, int64_t n_ctx, DType type)
    : type_(type), n_ctx_(n_ctx), n_layer_(hp.n_layer) {
  if (type != DType::F16 && type != DType::F32)
    throw Error("KV cache type must be f16 or f32, not " + std::string(dtype_name(type)), "KVCache");
  if (n_ctx <= 0) throw Error("KV cache context must be positive", "KVCache");
  const size_t elem = type == DType::F16 ? 2 : 4;
  k_row_ = static_cast<size_t>(hp.k_dim()) * elem;
  v_row_ = static_cast<size_t>(hp.v_dim()) * elem;
  const auto per_layer = checked_mul(static_cast<uint64_t>(n_ctx), k_row_ + v_row_);
  const auto total = per_layer ? checked_mul(*per_layer, static_cast<uint64_t>(n_layer_)) : std::nullopt;
  if (!total) throw Error("KV cache size overflows", "KVCache", "use a smaller context");
  layer_bytes_ = *per_layer;
  bytes_ = *total;
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, (bytes_ + 63) / 64 * 64));
  if (!p)
    throw Error("cannot allocate a KV cache of " + std::to_string(bytes_) + " bytes", "KVCache",
                "use a smaller context or an f16 cache");
  data_.reset(p);
}

size_t KVCache::bytes_for(int64_t n) const {
  return static_cast<size_t>(n) * (k_row_ + v_row_) * static_cast<size_t>(n_layer_);
}

void KVCache::copy_out(int64_t n, std::span<uint8_t> dst) const {
  if (n < 0 || n > n_ctx_ || dst.size() != bytes_for(n))
    throw Error("KV copy-out of " + std::to_string(n) + " positions into " + std::to_string(dst.size()) +
                    " bytes (needs " + std::to_string(n >= 0 && n <= n_ctx_ ? bytes_for(n) : 0) + ")",
                "KVCache::copy_out");
  uint8_t* out = dst.data();
  for (int64_t l = 0; l < n_layer_; ++l) {
    std::memcpy(out, k_rows(l), static_cast<size_t>(n) * k_row_);
    out += static_cast<size_t>(n) * k_row_;
    std::memcpy(out, v_rows(l), static_cast<size_t>(n) * v_row_);
    out += static_cast<size_t>(n) * v_row_;
  }
}

void KVCache::copy_in(int64_t n, std::span<const uint8_t> src) {
  if (n < 0 || n > n_ctx_ || src.size() != bytes_for(n))
    throw Error("KV copy-in of " + std::to_string(n) + " positions from " + std::to_string(src.size()) +
                    " bytes (context " + std::to_string(n_ctx_) + ")",
                "KVCache::copy_in", "the saved prefix does not match this model, cache type or context");
  const uint8_t* in = src.data();
  for (int64_t l = 0; l < n_layer_; ++l) {
    std::memcpy(k_base(l), in, static_cast<size_t>(n) * k_row_);
    in += static_cast<size_t>(n) * k_row_;
    std::memcpy(v_base(l), in, static_cast<size_t>(n) * v_row_);
    in += static_cast<size_t>(n) * v_row_;
  }
}

}  // namespace paw
