// TorchModel from any checkpoint the native runtime reads (see load_model in
// paw/train/gguf_io.hpp): the native loader binds the tensors under their GGUF names — for a
// Hugging Face folder that includes renaming, GPT-2's Conv1D transposes and dtype conversions —
// and each parameter is dequantized from that binding. One mapping, shared with inference.
#include <torch/types.h>

#include <algorithm>
#include <filesystem>

#include "paw/model/model.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/train/gguf_io.hpp"
#include "paw/util/error.hpp"

namespace paw::train {

TorchModel load_model(const std::string& path) {
  if (!std::filesystem::is_directory(path)) return load_gguf_model(path);
  const std::shared_ptr<const Model> native = Model::load(path);
  ModelConfig c;
  c.hp = native->hparams();
  c.tied = native->tied_head();
  c.hp.n_vocab = native->weights().token_embd.view.rows;  // the embedding rows are the vocabulary
  validate_config(c, "checkpoint '" + path + "'");
  TorchModel m(c);
  torch::NoGradGuard no_grad;
  for (auto& kv : m->named_parameters()) {
    const std::string& name = kv.key();
    torch::Tensor& p = kv.value();
    const WeightRef* w = native->find_weight(name);
    if (!w || !w->present())
      throw Error("tensor '" + name + "' is missing", "checkpoint '" + path + "'", "the checkpoint does not match its config.json");
    torch::Tensor host = torch::empty(p.sizes(), torch::TensorOptions().dtype(torch::kFloat));
    float* dst = host.data_ptr<float>();
    const MatrixView& v = w->view;
    if (v.rows * v.cols != p.numel())
      throw Error("tensor '" + name + "' has " + std::to_string(v.rows * v.cols) + " values, expected " +
                      std::to_string(p.numel()),
                  "checkpoint '" + path + "'", "the checkpoint does not match its config.json");
    if (w->f32) {
      std::copy(w->f32, w->f32 + p.numel(), dst);
    } else {
      const auto rb = row_bytes(v.type, v.cols);
      if (!rb || !traits(v.type).can_dequantize)
        throw Error("tensor '" + name + "' has a weight type paw cannot dequantize", "checkpoint '" + path + "'");
      for (int64_t r = 0; r < v.rows; ++r) dequantize_row(v.type, v.data + static_cast<size_t>(r) * *rb, dst + r * v.cols, v.cols);
    }
    p.copy_(host);
  }
  return m;
}

}  // namespace paw::train
