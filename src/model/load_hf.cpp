// Model from a Hugging Face checkpoint: config.json + model.safetensors (or a sharded index).
// F32/F16/BF16 tensors in GGUF orientation are used straight from the mapping; GPT-2's
// Conv1D weights ([in, out]) and misaligned tensors are converted to F32 once at load.
#include <filesystem>
#include <string>

#include "model/model_builder.hpp"
#include "paw/formats/hf_config.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

const SafetensorsTensor* find_hf(const SafetensorsCheckpoint& ck, const std::string& name) {
  // GPT-2 checkpoints exist with and without the "transformer." wrapper.
  if (const auto* t = ck.find(name)) return t;
  return ck.find("transformer." + name);
}

}  // namespace

std::shared_ptr<const Model> Model::load_hf(const std::string& dir) {
  namespace fs = std::filesystem;
  const HFModelConfig cfg = load_hf_config(dir);
  auto m = ModelBuilder::make();
  auto& st = ModelBuilder::storage(*m);
  st.safetensors.emplace(SafetensorsCheckpoint::open(dir));
  const SafetensorsCheckpoint& ck = *st.safetensors;
  ModelBuilder::path(*m) = dir;
  ModelBuilder::hparams(*m) = hparams_from_hf(cfg, (fs::path(dir) / "config.json").string());
  ModelBuilder::bind(
      *m,
      [&](const TensorSpec& spec, int64_t layer, const std::string& gguf_name) -> std::optional<SourceTensor> {
        const std::string hf_name = spec_name(spec.hf, layer);
        const SafetensorsTensor* t = find_hf(ck, hf_name);
        if (!t) return std::nullopt;
        if (t->shape.empty() || t->shape.size() > 2)
          throw Error("tensor '" + hf_name + "' (" + gguf_name + ") must be 1-D or 2-D", ck.path());
        // PyTorch order is outermost first: reverse for GGUF's ne.
        std::vector<int64_t> ne(t->shape.rbegin(), t->shape.rend());
        const auto dtype = st_dtype_to_paw(t->dtype);
        const size_t elem = st_dtype_size(t->dtype);
        const bool aligned = reinterpret_cast<uintptr_t>(t->data.data()) % elem == 0;
        const bool direct = dtype && (*dtype == DType::F32 || *dtype == DType::F16 || *dtype == DType::BF16) &&
                            aligned && !(spec.hf_transposed && ne.size() == 2);
        if (direct) return SourceTensor{ne, *dtype, t->data.data(), t->n_bytes()};
        std::vector<float> vals = st_tensor_to_f32(*t, ck.path());
        if (spec.hf_transposed && ne.size() == 2) {
          // Conv1D [in, out] (PyTorch order) -> linear [out rows of in]: ne becomes [in, out].
          const int64_t n_in = t->shape[0], n_out = t->shape[1];
          std::vector<float> tr(vals.size());
          for (int64_t i = 0; i < n_in; ++i)
            for (int64_t o = 0; o < n_out; ++o) tr[o * n_in + i] = vals[i * n_out + o];
          vals.swap(tr);
          ne = {n_in, n_out};
        }
        auto& buf = st.owned.emplace_back(std::move(vals));
        return SourceTensor{ne, DType::F32, reinterpret_cast<const uint8_t*>(buf.data()), buf.size() * sizeof(float)};
      },
      ck.path());
  if (m->tied_head() && !cfg.tie_word_embeddings)
    throw Error("config.json sets tie_word_embeddings to false but the checkpoint has no lm_head.weight", dir,
                "the checkpoint is incomplete");
  return m;
}

}  // namespace paw
