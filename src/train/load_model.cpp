// TorchModel from any checkpoint the native runtime reads (see load_model in
// paw/train/gguf_io.hpp): the native loader binds the tensors under their GGUF names — for a
// Hugging Face folder that includes renaming, GPT-2's Conv1D transposes and dtype conversions —
// and each parameter is dequantized from that binding. One mapping, shared with inference.
#include <torch/types.h>

#include <filesystem>

#include "paw/model/model.hpp"
#include "paw/train/gguf_io.hpp"
#include "paw/util/error.hpp"
#include "train/dequantize_into.hpp"

namespace paw::train {

TorchModel load_model(const std::string& path) {
  if (!std::filesystem::is_directory(path)) return load_gguf_model(path);
  const std::shared_ptr<const Model> native = Model::load(path);
  const std::string where = "checkpoint '" + path + "'";
  ModelConfig c;
  c.hp = native->hparams();
  c.tied = native->tied_head();
  c.hp.n_vocab = native->weights().token_embd.view.rows;  // the embedding rows are the vocabulary
  validate_config(c, where);
  TorchModel m(c);
  torch::NoGradGuard no_grad;
  for (auto& kv : m->named_parameters()) {
    const std::string& name = kv.key();
    torch::Tensor& p = kv.value();
    const WeightRef* w = native->find_weight(name);
    if (!w || !w->present())
      throw Error("tensor '" + name + "' is missing", where, "the checkpoint does not match its config.json");
    const MatrixView& v = w->view;
    if (v.rows * v.cols != p.numel())
      throw Error("tensor '" + name + "' has " + std::to_string(v.rows * v.cols) + " values, expected " +
                      std::to_string(p.numel()),
                  where, "the checkpoint does not match its config.json");
    if (w->f32) {  // vectors (norms, biases) the loader already holds as float
      p.copy_(torch::from_blob(const_cast<float*>(w->f32), p.sizes(), torch::kFloat));
    } else {
      dequantize_into(p, v.type, v.data, v.rows, v.cols, name, where);
    }
  }
  return m;
}

}  // namespace paw::train
