// TorchModel <-> llama.cpp GGUF (see paw/train/gguf_io.hpp).
#include "paw/train/gguf_io.hpp"

#include <torch/types.h>

#include <vector>

#include "paw/formats/gguf.hpp"
#include "paw/model/weights.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"
#include "train/dequantize_into.hpp"

namespace paw::train {
namespace {

std::string shape_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace

ModelConfig config_from_gguf(const GGUFFile& f) {
  ModelConfig c;
  c.hp = hparams_from_gguf(f);
  c.tied = f.find_tensor("output.weight") == nullptr;
  // The embedding rows are the model's vocabulary (the token list may be padded or absent).
  if (const GGUFTensorInfo* te = f.find_tensor("token_embd.weight"); te && te->ne.size() == 2) c.hp.n_vocab = te->ne[1];
  return c;
}

void load_gguf_weights(TorchModelImpl& m, const GGUFFile& f) {
  torch::NoGradGuard no_grad;
  for (auto& kv : m.named_parameters()) {
    const std::string& name = kv.key();
    torch::Tensor& p = kv.value();
    const GGUFTensorInfo* t = f.find_tensor(name);
    if (!t)
      throw Error("tensor '" + name + "' is missing", f.path(), "the file does not match the model shape");
    // GGUF lists dims innermost first; torch outermost first.
    std::vector<int64_t> want(p.sizes().rbegin(), p.sizes().rend());
    if (t->ne != want)
      throw Error("tensor '" + name + "' has shape " + shape_str(t->ne) + ", expected " + shape_str(want),
                  at_offset(f.path(), t->file_offset), "the file does not match the model shape");
    dequantize_into(p, t->type, t->data, t->rows(), t->ne[0], name, at_offset(f.path(), t->file_offset));
  }
}

TorchModel load_gguf_model(const std::string& path) {
  const GGUFFile f = GGUFFile::open(path);
  TorchModel m(config_from_gguf(f));
  load_gguf_weights(*m, f);
  return m;
}

void export_gguf(const TorchModelImpl& m, const std::string& path, const ExportOptions& opt) {
  make_gguf_writer(m, path, opt).write(path);
}

GGUFWriter make_gguf_writer(const TorchModelImpl& m, const std::string& path, const ExportOptions& opt) {
  const HParams& hp = m.hparams();
  const std::string arch(arch_name(hp.arch));
  const std::string a = arch + ".";
  auto u32 = [](int64_t v) { return GGUFValue::u32(static_cast<uint32_t>(v)); };
  if (!traits(opt.type).can_quantize)
    throw Error("cannot write weight type " + std::string(dtype_name(opt.type)), "export " + path,
                "use f32, f16, bf16, q8_0, q4_0, ...");

  GGUFWriter w;
  w.set("general.architecture", GGUFValue::string(arch));
  w.set("general.name", GGUFValue::string(opt.name));
  w.set("general.file_type", GGUFValue::u32(llama_file_type(opt.type)));
  if (traits(opt.type).block_size > 1) w.set("general.quantization_version", GGUFValue::u32(2));
  w.set(a + "context_length", u32(hp.n_ctx_train));
  w.set(a + "embedding_length", u32(hp.n_embd));
  w.set(a + "feed_forward_length", u32(hp.n_ff));
  w.set(a + "block_count", u32(hp.n_layer));
  w.set(a + "attention.head_count", u32(hp.n_head));
  if (hp.arch == Arch::Qwen3) {
    w.set(a + "attention.head_count_kv", u32(hp.n_head_kv));
    w.set(a + "rope.freq_base", GGUFValue::f32(static_cast<float>(hp.rope_theta)));
    w.set(a + "attention.layer_norm_rms_epsilon", GGUFValue::f32(static_cast<float>(hp.norm_eps)));
    w.set(a + "attention.key_length", u32(hp.head_dim_k));
    w.set(a + "attention.value_length", u32(hp.head_dim_v));
  } else {
    w.set(a + "attention.layer_norm_epsilon", GGUFValue::f32(static_cast<float>(hp.norm_eps)));
  }
  if (opt.tokenizer) {
    const int32_t n_tok = opt.tokenizer->n_vocab();
    if (n_tok > hp.n_vocab)
      throw Error("the tokenizer has " + std::to_string(n_tok) + " tokens but the model only " +
                      std::to_string(hp.n_vocab) + " embedding rows",
                  "export " + path, "build the model with n_vocab >= the tokenizer's vocabulary");
    if (n_tok < hp.n_vocab)
      opt.tokenizer->write_gguf_metadata(w, static_cast<int32_t>(hp.n_vocab));
    else
      opt.tokenizer->write_gguf_metadata(w);
  }

  const auto params = m.gguf_tensors();
  for (const TensorSpec& spec : tensor_specs(hp.arch)) {
    const int64_t n_rep = spec.per_layer() ? hp.n_layer : 1;
    for (int64_t l = 0; l < n_rep; ++l) {
      const std::string name = spec_name(spec.gguf, l);
      const auto it = params.find(name);
      if (it == params.end()) {
        if (spec.required) throw Error("model has no tensor '" + name + "'", "export " + path);
        continue;
      }
      const torch::Tensor t = it->second.detach().to(torch::kCPU, torch::kFloat).contiguous();
      std::vector<int64_t> ne(t.sizes().rbegin(), t.sizes().rend());
      DType type = spec.kind == TensorKind::Vector ? DType::F32 : opt.type;
      if (!row_bytes(type, ne[0])) type = DType::F16;  // rows do not fit the blocks: fall back
      w.add_tensor_f32(name, type, ne, t.data_ptr<float>());
    }
  }
  return w;
}

}  // namespace paw::train
