// ModelLoadOptions::interleave: the Q4_0 and Q8_0 matrices the forward pass multiplies get a
// Q4_0_X16 / Q8_0_X16 copy (WeightRef::kernel) made once at load; the file pages they came
// from are dropped from the resident set as each copy is made, so the process's memory stays
// about the file's size throughout. `view` keeps pointing at the file for lookups, exports and training.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "model/model_builder.hpp"
#include "paw/ops/kernels.hpp"
#include "paw/tensor/interleave.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {
constexpr size_t kSliceBytes = size_t{1} << 20;  // source bytes per slice
}  // namespace

void Model::interleave_weights(const std::function<void(const uint8_t*, size_t)>& release) {
  // The scalar table reads interleaved rows back one by one: the copy would only cost time there.
  if (&kernels() == &scalar_kernels()) return;
  // What to take out of the mapping: every Q4_0 / Q8_0 linear (and the tied head, whose rows
  // ForwardRun::embed reads back from the copy), and then also the F32 vectors used in place
  // (norm weights): left there, each would keep the file pages around it mapped.
  struct Item {
    WeightRef* ref;
    bool matrix;
  };
  std::vector<Item> items;
  for_each_weight(hp_.arch, w_, [&](WeightRef& r, const TensorSpec& spec) {
    if (spec.kind == TensorKind::Linear && r.present() && interleavable(r.view)) items.push_back({&r, true});
  });
  if (!w_.output.present() && w_.token_embd.present() && interleavable(w_.token_embd.view))
    items.push_back({&w_.token_embd, true});
  if (items.empty()) return;  // no Q4_0 / Q8_0 matrix: everything stays in place
  for_each_weight(hp_.arch, w_, [&](WeightRef& r, const TensorSpec& spec) {
    const bool in_place = r.f32 && reinterpret_cast<const uint8_t*>(r.f32) == r.view.data;
    if (spec.kind == TensorKind::Vector && r.present() && in_place) items.push_back({&r, false});
  });
  // In file order: a fault maps the file pages around it (whole large folios on current
  // kernels), so reading one tensor maps the ends of its neighbours; releasing from the start
  // of the previous item to the end of each one drops those too as the pass goes, and the
  // resident set never holds more than a few MB of the file.
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.ref->view.data < b.ref->view.data; });
  const uint8_t* prev = items.front().ref->view.data;
  for (const Item& it : items) {
    WeightRef& r = *it.ref;
    const MatrixView& m = r.view;
    const size_t stride = *row_bytes(m.type, m.cols);
    const size_t src_bytes = stride * static_cast<size_t>(m.rows);
    if (it.matrix) {
      const DType x16 = interleaved_type(m.type);
      const size_t n = paw::interleaved_bytes(x16, m.rows, m.cols);
      auto* mem = static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64));
      if (!mem)
        throw Error("cannot allocate " + std::to_string(n) + " bytes to interleave '" + r.name + "'", path_,
                    "load with ModelLoadOptions::interleave = false (paw: --no-interleave)");
      storage_->interleaved.emplace_back(mem);
      // In slices of whole 16-row groups (each group's bytes depend on its rows only), each
      // slice's file pages released once copied: the copy never sits beside the whole source
      // (the tied head alone is 87 MB in Qwen3-0.6B Q4_0).
      const size_t group_bytes = paw::interleaved_bytes(x16, 16, m.cols);
      const int64_t slice_rows = std::max<int64_t>(16, static_cast<int64_t>(kSliceBytes / stride) / 16 * 16);
      const int64_t n_slices = (m.rows + slice_rows - 1) / slice_rows;
#pragma omp parallel for schedule(dynamic, 1)
      for (int64_t i = 0; i < n_slices; ++i) {
        const int64_t r0 = i * slice_rows;
        const int64_t nr = std::min(slice_rows, m.rows - r0);
        const uint8_t* src = m.data + static_cast<size_t>(r0) * stride;
        paw::interleave(MatrixView{m.type, nr, m.cols, src}, mem + static_cast<size_t>(r0 / 16) * group_bytes);
        release(src, static_cast<size_t>(nr) * stride);
      }
      r.kernel = MatrixView{x16, m.rows, m.cols, mem};
      interleaved_bytes_ += n;
      if (r.linear >= 0) linears_[static_cast<size_t>(r.linear)].kernel = r.kernel;
    } else {
      const auto n = static_cast<size_t>(m.rows * m.cols);
      r.f32 = storage_->owned.emplace_back(r.f32, r.f32 + n).data();
    }
    release(prev, static_cast<size_t>(m.data + src_bytes - prev));
    prev = m.data;
  }
}

}  // namespace paw
