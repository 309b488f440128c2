#pragma once
// Merging LoRA deltas into a dense base weight (for `paw export-lora`) and dequantizing the
// adapter's matrices (tests, export, reference paths).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "paw/adapter/lora.hpp"

namespace paw {

// All rows × cols values of a view as F32, row-major. Throws paw::Error when the type has
// no dequantizer.
std::vector<float> dequantize_matrix(const MatrixView& m);

// Returns W + Σ_i scales[i] · B_i·A_i for W [n_out rows, n_in cols] row-major. scales[i] is
// the whole factor (user scale · pair_factor). Throws paw::Error when a pair's shape does
// not match [n_out, n_in] or the spans differ in length.
std::vector<float> merge_lora_into(const float* w, int64_t n_out, int64_t n_in,
                                   std::span<const LoraPair* const> pairs,
                                   std::span<const float> scales);

// The same for every active adapter that has a pair for `base_name` (scale =
// ActiveAdapter::scale · pair_factor); adapters without one are skipped.
std::vector<float> merge_adapters_into(const float* w, int64_t n_out, int64_t n_in,
                                       const std::string& base_name,
                                       std::span<const ActiveAdapter> adapters);

}  // namespace paw
