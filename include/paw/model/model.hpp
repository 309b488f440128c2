#pragma once
// A loaded base model: hyper-parameters and bound weights. Immutable after loading and
// shared (shared_ptr<const Model>) by every Session, program and thread; weights stay in the
// file mapping.
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "paw/model/hparams.hpp"
#include "paw/model/weights.hpp"

namespace paw {

class GGUFFile;
class SafetensorsCheckpoint;

// One linear layer a LoRA adapter may target.
struct LinearInfo {
  std::string name;   // GGUF base name, e.g. "blk.0.attn_q.weight"
  MatrixView view;    // [n_out rows, n_in cols]
  int64_t n_in() const { return view.cols; }
  int64_t n_out() const { return view.rows; }
};

class Model {
 public:
  // A GGUF file, or a Hugging Face folder (config.json + model.safetensors[.index.json]).
  static std::shared_ptr<const Model> load(const std::string& path);
  static std::shared_ptr<const Model> load_gguf(const std::string& path);
  // Binds weights of an already opened GGUF file (kept alive by the Model).
  static std::shared_ptr<const Model> from_gguf(GGUFFile file);
  // config.json + safetensors checkpoint in `dir` (see Model::load).
  static std::shared_ptr<const Model> load_hf(const std::string& dir);

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model();

  const std::string& path() const { return path_; }
  Arch arch() const { return hp_.arch; }
  const HParams& hparams() const { return hp_; }
  const ModelWeights& weights() const { return w_; }
  // The output projection: `output.weight`, or token_embd when the head is tied.
  const MatrixView& head() const { return w_.output.present() ? w_.output.view : w_.token_embd.view; }
  bool tied_head() const { return !w_.output.present(); }

  // Linears in binding-table order (layer by layer); WeightRef::linear indexes this list.
  const std::vector<LinearInfo>& linears() const { return linears_; }
  // Index of the linear called `gguf_name`, or -1.
  int find_linear(std::string_view gguf_name) const;
  // Any bound tensor by GGUF name (nullptr if the model has none).
  const WeightRef* find_weight(std::string_view gguf_name) const;

  // Size accounting over the bound tensors.
  uint64_t weight_bytes() const { return weight_bytes_; }
  int64_t n_params() const { return n_params_; }
  // The GGUF metadata (null for HF checkpoints).
  const GGUFFile* gguf() const;

  struct Storage;  // what keeps the weights alive (mapping, owned conversions)

 private:
  Model();
  void finish_binding();

  std::string path_;
  HParams hp_;
  ModelWeights w_;
  std::vector<LinearInfo> linears_;
  uint64_t weight_bytes_ = 0;
  int64_t n_params_ = 0;
  std::unique_ptr<Storage> storage_;
  friend struct ModelBuilder;
};

}  // namespace paw
