// ModelLoadOptions::interleave: the Q4_0 and Q8_0 matrices the forward pass multiplies get a
// Q4_0_X16 / Q8_0_X16 copy (WeightRef::kernel) made once at load; the file pages they came from are
// dropped from the resident set as each copy is made, so the process's memory stays about the
// file's size throughout. `view` keeps pointing at the file for lookups, exports and training.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>

#include "model/model_builder.hpp"
#include "paw/ops/kernels.hpp"
#include "paw/tensor/interleave.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

constexpr size_t kSliceBytes = size_t{1} << 20;  // source bytes per slice

// fn(ref) for every tensor of `kind` in the binding table of `arch`, in table order.
template <class F>
void for_each_of_kind(Arch arch, ModelWeights& w, TensorKind kind, F&& fn) {
  for (const TensorSpec& spec : tensor_specs(arch)) {
    if (spec.kind != kind) continue;
    if (spec.per_layer())
      for (LayerWeights& l : w.layers) fn(l.*spec.layer_field);
    else
      fn(w.*spec.model_field);
  }
}

}  // namespace

void Model::interleave_weights(const std::function<void(const uint8_t*, size_t)>& release) {
  // The scalar table reads interleaved rows back one by one: the copy would only cost time there.
  if (std::string_view(kernels().name) == "scalar") return;
  // Span of every source byte copied: released once more at the end, because reading one
  // tensor maps file pages around each fault (whole large folios on current kernels),
  // neighbours' pages already released among them. Pages still used in place (other weight
  // types) are only dropped from the resident set; they fault back in when read.
  const uint8_t* lo = nullptr;
  const uint8_t* hi = nullptr;
  const auto note = [&](const uint8_t* p, size_t n) {
    if (!lo || p < lo) lo = p;
    if (!hi || p + n > hi) hi = p + n;
  };
  const auto copy = [&](WeightRef& r) {
    const MatrixView& m = r.view;
    const DType x16 = interleaved_type(m.type);
    if (!r.present() || x16 == DType::F32 || m.cols % 32 != 0 || m.rows <= 0) return;
    const size_t n = paw::interleaved_bytes(x16, m.rows, m.cols);
    auto* mem = static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64));
    if (!mem)
      throw Error("cannot allocate " + std::to_string(n) + " bytes to interleave '" + r.name + "'", path_,
                  "load with ModelLoadOptions::interleave = false (paw: --no-interleave)");
    storage_->interleaved.emplace_back(mem);
    // In slices of whole 16-row groups (each group's bytes depend on its rows only), each
    // slice's file pages released once copied: the copy never sits beside the whole source,
    // so peak memory stays about the file's size (the tied head alone is 87 MB in Qwen3-0.6B).
    const size_t stride = *row_bytes(m.type, m.cols);
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
    note(m.data, static_cast<size_t>(m.rows) * stride);
    r.kernel = MatrixView{x16, m.rows, m.cols, mem};
    interleaved_bytes_ += n;
    if (r.linear >= 0) linears_[static_cast<size_t>(r.linear)].kernel = r.kernel;
  };
  for_each_of_kind(hp_.arch, w_, TensorKind::Linear, copy);
  if (!w_.output.present()) copy(w_.token_embd);  // the tied head; ForwardRun::embed reads its rows back
  if (interleaved_bytes_ == 0) return;  // no Q4_0 / Q8_0 matrix: everything stays in place
  // Norm weights used in place would keep a large folio of the file mapped around each of them
  // (tens of MB over a model): copy them too, so that the forward pass never touches the file.
  const auto detach = [&](WeightRef& r) {
    if (!r.present() || !r.f32 || reinterpret_cast<const uint8_t*>(r.f32) != r.view.data) return;
    const auto n = static_cast<size_t>(r.view.rows * r.view.cols);
    auto& buf = storage_->owned.emplace_back(r.f32, r.f32 + n);
    note(r.view.data, n * sizeof(float));
    r.f32 = buf.data();
  };
  for_each_of_kind(hp_.arch, w_, TensorKind::Vector, detach);
  if (lo) release(lo, static_cast<size_t>(hi - lo));
}

}  // namespace paw
