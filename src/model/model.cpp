// Model: binding through the table, validation, linears, size accounting.
#include "paw/model/model.hpp"

#include <cstring>
#include <filesystem>
#include <string>

#include "model/model_builder.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/util/error.hpp"

namespace paw {

Model::Model() : storage_(std::make_unique<Storage>()) {}
Model::~Model() = default;

const GGUFFile* Model::gguf() const { return storage_->gguf ? &*storage_->gguf : nullptr; }

Model::Storage& ModelBuilder::storage(Model& m) { return *m.storage_; }

namespace {

std::string shape_string(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

// Expected ne for a spec; 1-D tensors also accept a trailing 1 ([n, 1]).
bool shape_matches(const std::vector<int64_t>& ne, const TensorSpec& s, const HParams& hp) {
  const int64_t e0 = dim_value(s.ne0, hp);
  if (s.ne1 == Dim::None) {
    if (ne.empty() || ne[0] != e0) return false;
    for (size_t i = 1; i < ne.size(); ++i)
      if (ne[i] != 1) return false;
    return true;
  }
  if (ne.size() < 2 || ne[0] != e0 || ne[1] != dim_value(s.ne1, hp)) return false;
  for (size_t i = 2; i < ne.size(); ++i)
    if (ne[i] != 1) return false;
  return true;
}

}  // namespace

void ModelBuilder::bind(Model& m, const Lookup& lookup, const std::string& where) {
  const HParams& hp = m.hp_;
  m.w_.layers.assign(static_cast<size_t>(hp.n_layer), LayerWeights{});
  for (const TensorSpec& spec : tensor_specs(hp.arch)) {
    const int64_t n_inst = spec.per_layer() ? hp.n_layer : 1;
    for (int64_t layer = 0; layer < n_inst; ++layer) {
      const std::string name = spec_name(spec.gguf, layer);
      WeightRef& ref = spec.per_layer() ? m.w_.layers[static_cast<size_t>(layer)].*spec.layer_field
                                        : m.w_.*spec.model_field;
      std::optional<SourceTensor> src = lookup(spec, layer, name);
      if (!src) {
        if (!spec.required) continue;
        throw Error("required tensor '" + name + "' is missing (expected shape " + expected_shape_string(spec, hp) +
                        ")",
                    where, "the file is incomplete or not a " + std::string(arch_name(hp.arch)) + " model");
      }
      if (!shape_matches(src->ne, spec, hp))
        throw Error("tensor '" + name + "' has shape " + shape_string(src->ne) + ", expected " +
                        expected_shape_string(spec, hp) + " (ne order: row length first)",
                    where, "the tensor does not match the model's hyper-parameters; the file is corrupt or was converted wrongly");
      const auto tr = dtype_traits(static_cast<uint32_t>(src->type));
      if (!tr || !tr->can_dequantize)
        throw Error("tensor '" + name + "' has weight type " + (tr ? std::string(tr->name) : std::string("?")) +
                        ", which paw cannot compute with",
                    where, "re-quantize the model to f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_K, q5_K or q6_K");
      ref.name = name;
      ref.view = MatrixView{src->type, spec.ne1 == Dim::None ? 1 : src->ne[1], src->ne[0], src->data};
      ref.n_bytes = src->n_bytes;
      if (spec.kind == TensorKind::Vector) {
        const bool aligned = reinterpret_cast<uintptr_t>(src->data) % alignof(float) == 0;
        if (src->type == DType::F32 && aligned) {
          ref.f32 = reinterpret_cast<const float*>(src->data);
        } else {  // small: convert once at load time
          auto& buf = m.storage_->owned.emplace_back(static_cast<size_t>(src->ne[0]));
          dequantize_row(src->type, src->data, buf.data(), src->ne[0]);
          ref.f32 = buf.data();
        }
      }
    }
  }
  m.finish_binding();
}

void Model::finish_binding() {
  linears_.clear();
  weight_bytes_ = 0;
  n_params_ = 0;
  auto visit = [&](WeightRef& r, const TensorSpec& spec) {
    if (!r.present()) return;
    weight_bytes_ += r.n_bytes;
    n_params_ += r.view.rows * r.view.cols;
    if (spec.kind == TensorKind::Linear) {
      r.linear = static_cast<int>(linears_.size());
      linears_.push_back(LinearInfo{r.name, r.view, r.kernel_view()});
    }
  };
  for_each_weight(hp_.arch, w_, visit);
}

int Model::find_linear(std::string_view gguf_name) const {
  for (size_t i = 0; i < linears_.size(); ++i)
    if (linears_[i].name == gguf_name) return static_cast<int>(i);
  return -1;
}

const WeightRef* Model::find_weight(std::string_view gguf_name) const {
  for (const TensorSpec& spec : tensor_specs(hp_.arch)) {
    if (spec.per_layer()) {
      for (const auto& l : w_.layers)
        if ((l.*spec.layer_field).present() && (l.*spec.layer_field).name == gguf_name) return &(l.*spec.layer_field);
    } else if ((w_.*spec.model_field).present() && (w_.*spec.model_field).name == gguf_name) {
      return &(w_.*spec.model_field);
    }
  }
  return nullptr;
}

std::shared_ptr<const Model> Model::load(const std::string& path, const ModelLoadOptions& opts) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return load_hf(path);
  if (fs::path(path).filename() == "config.json") return load_hf(fs::path(path).parent_path().string());
  return load_gguf(path, opts);
}

}  // namespace paw
