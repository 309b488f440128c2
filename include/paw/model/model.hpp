#pragma once
// A loaded base model: hyper-parameters and bound weights. Immutable after loading and
// shared (shared_ptr<const Model>) by every Session, program and thread; weights stay in the
// file mapping.
#include <cstdint>
#include <deque>
#include <functional>
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
  MatrixView view;    // [n_out rows, n_in cols], as stored
  MatrixView kernel;  // [n_out rows, n_in cols], as the kernels multiply it (WeightRef::kernel_view)
  int64_t n_in() const { return view.cols; }
  int64_t n_out() const { return view.rows; }
};

struct ModelLoadOptions {
  // Q4_0 and Q8_0 matrices the forward pass multiplies (the linears, and token_embd when it is
  // the tied head) are copied once into the Q4_0_X16 / Q8_0_X16 layouts
  // (paw/tensor/interleave.hpp) and their file pages dropped from the resident set: the same
  // bytes, multiplied 16 rows at a time — faster decode and prefill on AVX2/AVX-512
  // (docs/PERFORMANCE.md). Costs one pass over those bytes at load, and the copy is private to
  // the process (other processes mapping the same file share page cache, not it). false:
  // every weight is used in place from the file mapping. Skipped on the scalar kernel table,
  // where the layouts bring nothing.
  bool interleave = true;
};

class Model {
 public:
  // A GGUF file, or a Hugging Face folder (config.json + model.safetensors[.index.json]).
  static std::shared_ptr<const Model> load(const std::string& path, const ModelLoadOptions& opts = {});
  static std::shared_ptr<const Model> load_gguf(const std::string& path, const ModelLoadOptions& opts = {});
  // Binds weights of an already opened GGUF file (kept alive by the Model).
  static std::shared_ptr<const Model> from_gguf(GGUFFile file, const ModelLoadOptions& opts = {});
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
  // The head as the kernels multiply it (see WeightRef::kernel_view).
  const MatrixView& head_kernel() const {
    return w_.output.present() ? w_.output.kernel_view() : w_.token_embd.kernel_view();
  }
  bool tied_head() const { return !w_.output.present(); }

  // Linears in binding-table order (layer by layer); WeightRef::linear indexes this list.
  const std::vector<LinearInfo>& linears() const { return linears_; }
  // Index of the linear called `gguf_name`, or -1.
  int find_linear(std::string_view gguf_name) const;
  // Any bound tensor by GGUF name (nullptr if the model has none).
  const WeightRef* find_weight(std::string_view gguf_name) const;

  // Size accounting over the bound tensors (as stored in the file).
  uint64_t weight_bytes() const { return weight_bytes_; }
  // Bytes of the interleaved copies made at load (ModelLoadOptions::interleave).
  uint64_t interleaved_bytes() const { return interleaved_bytes_; }
  int64_t n_params() const { return n_params_; }
  // The GGUF metadata (null for HF checkpoints).
  const GGUFFile* gguf() const;

  struct Storage;  // what keeps the weights alive (mapping, owned conversions)

 private:
  Model();
  void finish_binding();
  // ModelLoadOptions::interleave; `release(p, n)` drops copied file bytes from memory.
  void interleave_weights(const std::function<void(const uint8_t*, size_t)>& release);

  std::string path_;
  HParams hp_;
  ModelWeights w_;
  std::vector<LinearInfo> linears_;
  uint64_t weight_bytes_ = 0;
  uint64_t interleaved_bytes_ = 0;
  int64_t n_params_ = 0;
  std::unique_ptr<Storage> storage_;
  friend struct ModelBuilder;
};

}  // namespace paw
