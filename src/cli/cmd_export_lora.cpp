// `paw export-lora --model M.gguf --lora A[:S]... -o merged.gguf [--type f32|f16]`
// Writes the base model with every adapter merged in: W' = W + Σ scale·B·A for each tensor an
// adapter targets (stored as --type, default f32), every other tensor byte-for-byte and all
// metadata unchanged and in order. A LoRA on token_embd is merged into the embedding rows
// (W'[t] = W[t] + scale·B·a_row(t)); when the model's head is tied to token_embd, the original
// token_embd is also written as output.weight, so the head stays what the unmerged run uses.
// The adapters are checked against the model exactly as a Session attaching them would.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/model_args.hpp"
#include "paw/adapter/merge.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/util/error.hpp"

namespace paw::cli {
namespace {

struct ExportLoraOptions {
  ModelArgs model;
  std::string out;
  std::string type = "f32";   // merged tensors: f32 | f16
};

MatrixView view_of(const GGUFTensorInfo& t) {
  return MatrixView{t.type, t.rows(), t.ne.empty() ? 0 : t.ne[0], t.data};
}

void run_export_lora(const ExportLoraOptions& o) {
  if (o.model.loras.empty()) throw Error("no --lora given", "paw export-lora", "pass at least one --lora FILE[:SCALE]");
  const DType out_type = o.type == "f16" ? DType::F16 : DType::F32;
  const LoadedModel m = load_model(o.model);
  const GGUFFile* base = m.model->gguf();
  if (!base) throw Error("export-lora needs a GGUF base model", o.model.model, "convert the checkpoint to GGUF first");
  {
    // Same acceptance rules as running with the adapters (arch, targets, shapes).
    SessionOptions so;
    so.n_ctx = 1;
    so.n_batch = 1;
    so.kv_type = DType::F32;
    make_session(m, so);
  }

  bool has_embedding_lora = false;
  for (const ActiveAdapter& a : m.adapters) has_embedding_lora |= a.adapter->embedding_pair() != nullptr;

  GGUFWriter w;
  for (const auto& [key, value] : base->metadata()) w.set(key, value);
  int merged = 0;
  for (const GGUFTensorInfo& t : base->tensors()) {
    bool targeted = false;
    for (const ActiveAdapter& a : m.adapters) targeted |= a.adapter->find(t.name) != nullptr;
    const bool embd = t.name == "token_embd.weight" && has_embedding_lora;
    if (!targeted && !embd) {
      w.add_tensor(t.name, t.type, t.ne, t.data, t.n_bytes);
      continue;
    }
    if (t.ne.size() != 2)
      throw Error("tensor '" + t.name + "' is not a matrix", base->path(), "the adapter targets a tensor it cannot merge into");
    const MatrixView v = view_of(t);
    std::vector<float> values = dequantize_matrix(v);  // [rows, cols]
    if (targeted) values = merge_adapters_into(values.data(), v.rows, v.cols, t.name, m.adapters);
    if (embd) {
      // [n_vocab rows, n_embd cols] += scale · a [n_vocab, r] · bᵀ [r, n_embd]
      for (const ActiveAdapter& act : m.adapters) {
        const LoraEmbeddingPair* e = act.adapter->embedding_pair();
        if (!e) continue;
        const std::vector<float> a = dequantize_matrix(e->a), b = dequantize_matrix(e->b);
        const int64_t r = e->rank();
        const float s = act.scale * act.adapter->embedding_factor();
        for (int64_t tok = 0; tok < v.rows; ++tok)
          for (int64_t j = 0; j < v.cols; ++j) {
            double acc = 0;
            for (int64_t k = 0; k < r; ++k) acc += static_cast<double>(b[j * r + k]) * a[tok * r + k];
            values[tok * v.cols + j] += static_cast<float>(s * acc);
          }
      }
    }
    w.add_tensor_f32(t.name, out_type, t.ne, values.data());
    ++merged;
  }
  if (has_embedding_lora && !base->find_tensor("output.weight")) {
    const GGUFTensorInfo* te = base->find_tensor("token_embd.weight");
    w.add_tensor("output.weight", te->type, te->ne, te->data, te->n_bytes);  // keep the tied head unmerged
  }
  w.write(o.out);
  std::fprintf(stderr, "paw: merged %d tensor(s) from %zu adapter(s) into %s\n", merged, m.adapters.size(), o.out.c_str());
}

}  // namespace

void add_export_lora_command(CLI::App& app) {
  auto o = std::make_shared<ExportLoraOptions>();
  auto* cmd = app.add_subcommand("export-lora", "Merge LoRA adapters into a base model GGUF");
  // Merging reads the stored weights; an interleaved copy would only cost time.
  add_model_options(cmd, o->model, /*with_lora=*/true, /*with_ctx=*/false, /*with_interleave=*/false);
  o->model.no_interleave = true;
  cmd->add_option("-o,--out", o->out, "Output .gguf (written atomically)")->required();
  cmd->add_option("--type", o->type, "Type of the merged tensors: f32 (default) or f16")
      ->check(CLI::IsMember({"f32", "f16"}));
  cmd->callback([o] { run_export_lora(*o); });
}

}  // namespace paw::cli
