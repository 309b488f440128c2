#pragma once
// The compiler network in libtorch (docs/FORMATS.md "Compiler GGUF", paw/compiler/format.hpp):
// a Qwen3 encoder with K learned prefix rows after its tokenizer's tokens, the mapper
// (mean over chosen layers and prefix positions -> GELU(fc1) -> fc2 -> coefficients) and the
// shared LoRA bases. Its output is a batched LoraSet (one adapter per spec) that the frozen
// interpreter's forward takes, so the interpreter's loss trains it end to end.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "paw/adapter/writer.hpp"
#include "paw/compiler/format.hpp"
#include "paw/train/model.hpp"

namespace paw {
class Tokenizer;
}

namespace paw::train {

// What ties a compiler to its interpreter (checked before any compile).
struct InterpreterPin {
  std::string name;     // file name, e.g. "S.gguf"
  std::string sha256;   // of the whole file
  uint64_t size = 0;    // bytes
};

struct CompilerConfig {
  int64_t prefix_tokens = 16;   // K
  int64_t n_bases = 8;          // bases per module (shared by every layer)
  int64_t rank = 32;            // LoRA rank of the programs (Q4_0 adapters need a multiple of 32)
  double alpha = 16.0;          // scale = alpha / rank
  int64_t mapper_hidden = 0;    // 0 = the encoder's n_embd
  std::vector<std::string> modules = {"q", "k", "v", "o", "gate", "up", "down"};  // stored sorted
  bool spec_conditioned = true; // false: the encoder sees an empty spec (the control compiler)
  double coef_init = 1.0;       // std of the initial coefficients (fc2 bias); bases B start at 0
  // compiler.coef_activation (paw/compiler/format.hpp). Softmax: the fc2 bias starts at 0 and
  // calibrate_router() scales fc2 so the routing logits vary across specs by router_logit_std.
  compiler::CoefActivation coef_activation = compiler::CoefActivation::Linear;
  double router_logit_std = 2.0;
  // > 0 (softmax only): "experts" routing. One softmax per spec over n_experts experts, each a
  // full LoRA with bases of its own in every layer (n_bases becomes n_layer * n_experts; basis
  // l * n_experts + e is expert e's in layer l). Why: with a routing per group, a basis is
  // shared by every layer and routed to by every spec in some group, so no basis specialises;
  // an expert is trained only by the specs routed to it. The export writes it as a plain
  // softmax compiler: fc2 rows repeat the router's, and a basis of another layer gets weight 0
  // and bias kOffBlockLogit, so its softmax weight is exactly 0.
  int64_t n_experts = 0;
  // Experts: the name of each (e.g. the family it was trained on); written as compiler.experts.
  std::vector<std::string> expert_names;
  // > 0: the pointer channel (an experiment of the trainer; no compiler-file format yet, so a
  // recipe with it cannot export). Beside the bases' rank-`rank` program every spec gets a
  // rank-pointer_rank LoRA on every module whose A rows and B columns are per-layer linear maps
  // of R "slots": attention pools over the encoder's states of the spec's own tokens. Why: a
  // program made of coefficients over shared bases cannot name a token that only this spec
  // declares (a cue word, a label); a slot that attends to the token carries its state, and a
  // linear map of that state is a direction the interpreter's layers can match or write.
  int64_t pointer_rank = 0;
  double pointer_query_std = 3.0;  // initial std of the slot queries (attention logits spread about this much)
  // Slots minus the mean of the spec's states: only what a slot attends to beyond the spec's
  // average reaches the program. Why: an attention pool over ~100 states is mostly their mean,
  // which differs little between specs (the same problem as the mapper's pooled input); with
  // it (and queries of std 3) a program-only sentiment run reached 52 % by step 100, not 5 %.
  bool pointer_centered = true;
};

// The routing logit the export gives bases outside a layer's expert block: exp() of it minus
// any real logit is 0 in float and double.
inline constexpr float kOffBlockLogit = -1.0e4f;

class CompilerNetImpl : public torch::nn::Module {
 public:
  // `encoder`: a Qwen3 model whose first n_tokenizer embedding rows are the tokenizer's;
  // K rows are appended for the prefix tokens (initialised to the mean embedding plus noise).
  // `interp`: the interpreter the programs are for (only its shape is read).
  CompilerNetImpl(TorchModel encoder, int64_t n_tokenizer, const TorchModelImpl& interp, CompilerConfig cfg,
                  uint64_t seed);
  // An already-shaped network (the loader fills the parameters).
  CompilerNetImpl(const ModelConfig& encoder_cfg, int64_t prefix_first_id, std::vector<int64_t> layers,
                  const std::vector<LinearSpec>& interp_linears, int64_t interp_layers, CompilerConfig cfg);

  const CompilerConfig& config() const { return cfg_; }
  TorchModel encoder() const { return encoder_; }
  int64_t prefix_first_id() const { return prefix_first_; }
  const std::vector<int64_t>& layers() const { return layers_; }
  int64_t n_interp_layers() const { return n_interp_layers_; }
  int64_t n_coefficients() const;

  // The mapper's input before standardisation: the mean over the tapped layers and the K prefix
  // positions, [S, d], for encoder rows `tokens` [S, T] (right padded) whose K prefix tokens end
  // at `ends` [S] (exclusive: prefix positions ends-K .. ends-1).
  torch::Tensor pooled(const torch::Tensor& tokens, const torch::Tensor& ends);
  // The mapper's outputs for the same rows: fc2(GELU(fc1(standardised pooled))), [S, n_coef],
  // or with experts routing the router's logits [S, n_experts].
  // With the pointer channel, the spec's slots [S, R, d] go to *slots (one encoder pass).
  torch::Tensor mapper_outputs(const torch::Tensor& tokens, const torch::Tensor& ends, torch::Tensor* slots = nullptr);
  // Coefficients [S, n_coef] from mapper outputs (the activation; experts: the routing spread
  // over each layer's expert block).
  torch::Tensor coefficients_of(const torch::Tensor& mapper_out) const;
  // Coefficients [S, n_coef] for encoder rows: coefficients_of(mapper_outputs(tokens, ends)).
  torch::Tensor coefficients(const torch::Tensor& tokens, const torch::Tensor& ends);
  // Fixes the standardisation of the mapper's input from pooled features `pooled` [N, d] of
  // N training specs: x -> (x - mean) / (std + eps) per feature. Why: the pooled states of
  // different specs share a large common part and differ by a few percent, so an unstandardised
  // mapper starts out (and, at this scale, stays) emitting one adapter for every spec. The
  // statistics are buffers (kept in checkpoints, not trained) and the export folds them into
  // fc1, so the file format and the native compile do not change.
  void set_feature_standardisation(const torch::Tensor& pooled);
  // Softmax routing only: scales fc2's weights so that the routing logits of `pooled` [N, d]
  // (N training specs, after standardisation) have a standard deviation across specs of
  // cfg.router_logit_std (mean over the logits). Why: the routing must differ between specs
  // from the first step, or every basis receives the same gradient and they stay one adapter.
  // Returns the spread before scaling; does nothing when the specs do not vary.
  double calibrate_router(const torch::Tensor& pooled);
  // Softmax routing only: the load-balance penalty of coefficients [S, n_coef] — n_bases times
  // the sum of squares of each group's mean routing over the batch, averaged over the groups,
  // minus 1 (0 when the batch uses every basis equally, n_bases - 1 when it uses one).
  torch::Tensor balance_penalty(const torch::Tensor& coefficients) const;
  // Experts routing only: every expert starts as the given program (one LoRA per
  // interpreter linear, e.g. a control compiler's), so that training starts from what that
  // program scores and the experts grow apart only through what the specs routed to them need.
  void init_experts(const std::map<std::string, LoraWeights>& program);
  // Experts routing only: expert `e` (0 .. n_experts-1) starts as the given program (family
  // experts: each from a control trained on its family).
  void init_expert(int64_t e, const std::map<std::string, LoraWeights>& program);
  // The bases (every expert's LoRA) stop training: no gradients, left out of the optimizer.
  void freeze_bases();
  // One adapter per spec row: a [S, r, n_in], b [S, n_out, r] for every interpreter linear.
  // With pointer slots [S, R, d] (mapper_outputs), each adapter gains R ranks made from them:
  // a [S, r + R, n_in], b [S, n_out, r + R], the bases' B scaled by (r + R) / r so that their
  // product keeps the scale alpha / r while the whole adapter is read at alpha / (r + R).
  LoraSet adapters(const torch::Tensor& coefficients, const torch::Tensor& slots = {}) const;

  // The mapper and bases by their GGUF names (mapper.fc1.weight ..., compiler.bases.q.a ...),
  // torch orientation; bases a: [n_bases * r, n_in], b: [n_bases * n_out, r]. The parameters
  // themselves (views), without the standardisation.
  std::map<std::string, torch::Tensor> head_tensors() const;
  // The same with the standardisation folded into fc1 (W' = W·diag(s), b' = b − W'·mean): what
  // the compiler file stores, computing the same coefficients as coefficients().
  std::map<std::string, torch::Tensor> export_tensors() const;

 private:
  // Mapper and bases for the interpreter's linears (n_interp_layers_ must be set).
  void build_head(const std::vector<LinearSpec>& interp_linears);
  // The pooled prefix states [S, d] from the tapped layers' states (each [S, T, d]).
  torch::Tensor pool_prefix(const std::vector<torch::Tensor>& taps, const torch::Tensor& ends) const;
  // Pointer slots [S, R, d]: R learned queries attend (softmax over positions < ends) over the
  // RMS-normalised mean of the tapped states [S, T, d] of each spec's tokens.
  torch::Tensor pointer_slots(const std::vector<torch::Tensor>& taps, const torch::Tensor& ends) const;

  CompilerConfig cfg_;
  TorchModel encoder_{nullptr};
  int64_t prefix_first_ = 0;
  std::vector<int64_t> layers_;
  int64_t n_interp_layers_ = 0;
  torch::Tensor fc1_w_, fc1_b_, fc2_w_, fc2_b_;
  torch::Tensor feat_mean_, feat_scale_;  // [d] each; identity (0, 1) unless standardised
  struct ModuleBases {
    std::string kind;
    int64_t n_in = 0, n_out = 0;
    torch::Tensor a, b;  // [n_bases, r, n_in], [n_bases, n_out, r]
  };
  std::vector<ModuleBases> bases_;  // in sorted module order
  // Pointer channel (pointer_rank > 0): slot queries [R, d] and, per module (bases_ order),
  // per-layer maps from a slot to an A row, a [L, n_in, d], and to a B column, b [L, n_out, d],
  // both read divided by d (b starts at 0, so a new channel leaves every program as it was).
  torch::Tensor ptr_q_;
  struct PointerMaps {
    torch::Tensor a, b;
  };
  std::vector<PointerMaps> ptr_;
};
TORCH_MODULE(CompilerNet);

// Writes a compiler GGUF: the encoder (F32 or `type` for its matrices), mapper and bases in
// F32, tokenizer metadata (padded with the prefix tokens "<|prefix_k|>"), compiler.* keys.
void export_compiler_gguf(const CompilerNetImpl& net, const Tokenizer& tok, const InterpreterPin& pin,
                          const TorchModelImpl& interp, const std::string& name, const std::string& path);
// Reads a compiler GGUF back (every tensor shape checked).
CompilerNet load_compiler_gguf(const std::string& path);

}  // namespace paw::train
