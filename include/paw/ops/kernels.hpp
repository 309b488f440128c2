#pragma once
// Compute kernels behind one dispatch table.
//
// Every kernel the forward pass uses is a function pointer in KernelTable. The scalar table
// is the reference: plain C++ loops that define correctness. Faster tables (AVX2, AVX-512,
// ...) fill the same pointers with the same signatures — usually by copying the scalar table
// and replacing the entries they speed up — and are registered in src/ops/dispatch.cpp.
// kernels() picks the best table the CPU supports once per process; the environment
// variable PAW_CPU=scalar (or another table's name) forces a choice.
//
// Conventions for every kernel:
// - activations are F32, row-major, contiguous: a batch `[n_tokens, n]` is n_tokens rows of n;
// - weights are MatrixViews (any type paw::dequantize_row supports), rows = output features,
//   cols = input features (GGUF ne = [n_in, n_out]);
// - kernels never allocate: temporary memory comes from OpContext::scratch, whose size the
//   caller obtained from the matching *_scratch_bytes() function when it sized its buffers;
// - threads: kernels that parallelise use OpenMP with OpContext::n_threads threads.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "paw/ops/matrix_view.hpp"
#include "paw/tensor/dtype.hpp"

namespace paw {

// Per-call execution context.
struct OpContext {
  int n_threads = 1;           // OpenMP threads a kernel may use (>= 1)
  uint8_t* scratch = nullptr;  // workspace, 64-byte aligned
  size_t scratch_bytes = 0;    // its size; kernels check it against their *_scratch_bytes()
};

// Multi-head attention of a batch of queries against a KV cache, causal, with grouped
// query heads (query head h reads KV head h / (n_head / n_head_kv)).
struct AttentionArgs {
  const float* q = nullptr;    // [n_tokens, n_head * head_dim_k]
  const void* k = nullptr;     // cache rows [n_kv_rows, n_head_kv * head_dim_k] of kv_type
  const void* v = nullptr;     // cache rows [n_kv_rows, n_head_kv * head_dim_v] of kv_type
  DType kv_type = DType::F16;  // F16 or F32
  float* out = nullptr;        // [n_tokens, n_head * head_dim_v]
  int64_t n_tokens = 0;
  int64_t n_head = 0, n_head_kv = 0;
  int64_t head_dim_k = 0, head_dim_v = 0;
  int64_t pos0 = 0;            // position of query 0: query t attends to cache rows [0, pos0 + t]
  float scale = 1.0f;          // applied to q·k (1/sqrt(head_dim_k) for Qwen3 and GPT-2)
};

// One product of a matmul group: y = W·x, or y += W·x when accumulate, for ONE token.
struct MatmulCall {
  MatrixView w;              // [n_out rows, n_in cols]
  const float* x = nullptr;  // [n_in]
  float* y = nullptr;        // [n_out]
  bool accumulate = false;
  // Second round of a two-round group only: x is first scaled in place, x[i] = pre_scale·x[i]
  // (the LoRA scale on an A result), exactly as kt.scale would; x must then be writable
  // memory of the caller's. 1 = left as is.
  float pre_scale = 1.0f;
};

struct KernelTable {
  const char* name = "scalar";

  // y[t, o] = Σ_i W[o, i] · x[t, i]   (y += ... when accumulate)
  //   w: [n_out rows, n_in cols] any dequantizable type;  x: [n_tokens, n_in];  y: [n_tokens, n_out]
  // Parallel over output rows.
  void (*matmul)(const MatrixView& w, const float* x, float* y, int64_t n_tokens, bool accumulate,
                 const OpContext& ctx) = nullptr;
  // Scratch matmul needs for a weight of `type` with n_in columns and a batch of n_tokens.
  size_t (*matmul_scratch_bytes)(DType type, int64_t n_in, int64_t n_tokens, int n_threads) = nullptr;
  // Optional (nullptr: the calls run one by one through matmul). Runs single-token products,
  // in one or two dependent rounds, as one parallel job; callers go through paw::matmul_group.
  void (*matmul_group)(const MatmulCall* first, int64_t n_first, const MatmulCall* second, int64_t n_second,
                       const OpContext& ctx) = nullptr;

  // y[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w, for n_rows rows of n.  (x == y allowed)
  void (*rmsnorm)(const float* x, const float* w, float* y, int64_t n_rows, int64_t n, float eps) = nullptr;
  // y[r] = (x[r] - mean) / sqrt(var + eps) * w + b (population variance).  (x == y allowed)
  void (*layernorm)(const float* x, const float* w, const float* b, float* y, int64_t n_rows, int64_t n,
                    float eps) = nullptr;
  // NeoX rotary embedding, in place. x: [n_tokens, n_heads * head_dim]; in each head, pairs
  // (i, i + head_dim/2) for i < head_dim/2 rotate by the angle whose cos/sin are
  // cos[t * head_dim/2 + i], sin[...] (see rope_tables()).
  void (*rope_neox)(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const float* cos,
                    const float* sin) = nullptr;
  // Interleaved rotary embedding (llama GGUF files; ggml's "normal" mode), same arguments: in
  // each head, pairs (2i, 2i + 1) rotate by cos[t * head_dim/2 + i], sin[...].
  void (*rope_interleaved)(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const float* cos,
                           const float* sin) = nullptr;
  // x = softmax(x) over n values, in place.
  void (*softmax)(float* x, int64_t n) = nullptr;
  // y = x · sigmoid(x).   (x == y allowed)
  void (*silu)(const float* x, float* y, int64_t n) = nullptr;
  // y = 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))) — GPT-2's tanh approximation.
  void (*gelu)(const float* x, float* y, int64_t n) = nullptr;
  // y = silu(g) · u — the SwiGLU gate.   (y may alias g or u)
  void (*swiglu)(const float* g, const float* u, float* y, int64_t n) = nullptr;
  // y = a + b.   (y may alias a or b)
  void (*add)(const float* a, const float* b, float* y, int64_t n) = nullptr;
  // y[r] += b for each of n_rows rows of n (biases).
  void (*add_rows)(float* y, const float* b, int64_t n_rows, int64_t n) = nullptr;
  // y = s · x.   (x == y allowed)
  void (*scale)(const float* x, float s, float* y, int64_t n) = nullptr;
  // Causal GQA attention over the cache (see AttentionArgs). Parallel over (token, head).
  void (*attention)(const AttentionArgs& args, const OpContext& ctx) = nullptr;
  // Scratch attention needs for up to n_kv cached positions.
  size_t (*attention_scratch_bytes)(int64_t n_kv, int64_t head_dim_v, int n_threads) = nullptr;
  // Converts n floats into a cache row of `type` (F16 or F32).
  void (*store_row)(const float* x, void* dst, DType type, int64_t n) = nullptr;
};

// The active table: chosen once per process (PAW_CPU overrides; unknown names fall back to
// the best supported table with a warning on stderr).
const KernelTable& kernels();
// The scalar reference table (always available).
const KernelTable& scalar_kernels();
// Every table this CPU can run, best first (the scalar table is last).
std::span<const KernelTable* const> available_kernels();
// The table called `name` if available on this CPU, else nullptr.
const KernelTable* find_kernels(std::string_view name);

// Number of threads used when a caller asks for 0: OMP_NUM_THREADS when set, else one per
// physical core of the affinity mask (paw/util/cpu_topology.hpp), else OpenMP's default.
int default_thread_count();

// cos/sin tables for rope_neox and rope_interleaved: for token t at position pos[t] and i < head_dim/2,
// angle = pos[t] · theta^(-2i/head_dim); cos/sin: [n_tokens, head_dim/2]. Computed in double.
void rope_tables(const int32_t* pos, int64_t n_tokens, int64_t head_dim, double theta, float* cos,
                 float* sin);

// Independent single-token products as ONE parallel job. A decode step issues many small
// products — a layer's q/k/v, and beside each the LoRA A matrix that reads the same input, then
// the B matrices — and one job per product pays a fork/join each and leaves those too small to
// split on one thread. A table with a matmul_group entry cuts the rows of all calls into work
// items that the threads claim in any order; results are bit for bit those of calling
// kt.matmul(w, x, y, 1, accumulate, ctx) per call (items start at multiples of 16 rows, as the
// per-call split does). No call's y may overlap another call's x or y; calls may run in any
// order. ctx.scratch must hold matmul_group_scratch_bytes over the calls (of both rounds).
void matmul_group(const KernelTable& kt, std::span<const MatmulCall> calls, const OpContext& ctx);
// Two dependent rounds as ONE job: a call of `second` may read what calls of `first` write
// (LoRA: an A product's result is a B product's input) and may add to a `first` call's output
// (the base product the B product accumulates into); it starts once the `first` calls whose
// outputs overlap its x or y have finished — inside the job, which saves a second fork/join
// per decode group; one that waits for only some `first` calls (a B product written to its own
// buffer waits for its A product alone) runs amid the others' rows. Results: bit for bit those
// of the `first` calls through kt.matmul, then per `second` call kt.scale(x, pre_scale) (if
// not 1) and kt.matmul. Within each round the rules above hold; a `second` call's y must not
// overlap any call's x.
void matmul_group(const KernelTable& kt, std::span<const MatmulCall> first, std::span<const MatmulCall> second,
                  const OpContext& ctx);
// Scratch for one member of a group: sum this over the calls (an upper bound for every table).
size_t matmul_group_scratch_bytes(const KernelTable& kt, DType type, int64_t n_in, int n_threads);

// LoRA path: y += scale · B·(A·x), through the table's matmul.
//   a: [r rows, n_in cols];  b: [n_out rows, r cols];  x: [n_tokens, n_in];  y: [n_tokens, n_out]
//   tmp: [n_tokens, r] floats of caller memory; ctx.scratch must cover matmul_scratch_bytes of
//   both a (n_in) and b (r).
void lora_apply(const KernelTable& kt, const MatrixView& a, const MatrixView& b, float scale,
                const float* x, float* y, int64_t n_tokens, float* tmp, const OpContext& ctx);

}  // namespace paw
