// LoraAdapter::load_gguf — llama.cpp adapter GGUFs, zero-copy over the file mapping.
//
// Accepted like llama.cpp (src/llama-adapter.cpp): tensors "<base>.lora_a" / "<base>.lora_b",
// "*_norm.weight" ignored, anything else refused; the token_embd.weight pair is kept in
// llama.cpp's flipped layout (see LoraEmbeddingPair). Stricter than llama.cpp: unpaired
// tensors, rank mismatches and non-2-D tensors are refused here, before any model is
// involved, and every error names the file and the tensor.
#include <cmath>
#include <string_view>

#include "builder.hpp"
#include "paw/adapter/lora.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/tensor/dtype.hpp"
#include "paw/util/error.hpp"
#include "paw/util/mapped_file.hpp"
#include "paw/util/sha256.hpp"

namespace paw {
namespace {

constexpr std::string_view kSuffixA = ".lora_a";
constexpr std::string_view kSuffixB = ".lora_b";
constexpr std::string_view kNormSuffix = "_norm.weight";
constexpr std::string_view kEmbdName = "token_embd.weight";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string tensor_where(const std::string& path, const GGUFTensorInfo& t) {
  return path + ": tensor '" + t.name + "' at byte offset " + std::to_string(t.file_offset);
}

std::string shape_str(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

// The tensor as a matrix of ne[1] rows of ne[0]; trailing dims of 1 are tolerated (writers
// differ on whether they keep them), a 1-D or truly 3-D/4-D tensor is refused.
MatrixView as_matrix(const std::string& path, const GGUFTensorInfo& t) {
  if (t.ne.size() < 2)
    throw Error("LoRA tensor is 1-D " + shape_str(t.ne) + ", expected a matrix", tensor_where(path, t),
                "lora_a must have ne [n_in, rank] and lora_b ne [rank, n_out]");
  for (size_t i = 2; i < t.ne.size(); ++i)
    if (t.ne[i] != 1)
      throw Error("LoRA tensor has " + std::to_string(t.ne.size()) + " dimensions " + shape_str(t.ne) +
                      ", expected a matrix", tensor_where(path, t), "lora tensors are 2-D");
  if (t.ne[0] <= 0 || t.ne[1] <= 0)
    throw Error("LoRA tensor is empty " + shape_str(t.ne), tensor_where(path, t), "the adapter file is damaged");
  const DTypeTraits& tr = traits(t.type);
  if (!tr.can_dequantize)
    throw Error("LoRA tensor has weight type " + std::string(tr.name) + ", which paw cannot read",
                tensor_where(path, t), "re-export the adapter as f32, f16, q8_0 or q4_0");
  return MatrixView{t.type, t.ne[1], t.ne[0], t.data};
}

struct RawPair {
  const GGUFTensorInfo* a = nullptr;
  const GGUFTensorInfo* b = nullptr;
};

}  // namespace


namespace detail {

// Fills `builder` from the GGUF at `bytes` (kept alive by the builder's storage), naming it
// `path` in errors. Parses the very bytes it hashes, so identity and contents cannot diverge.
std::shared_ptr<const LoraAdapter> finish_gguf(LoraAdapterBuilder& builder, std::span<const uint8_t> bytes,
                                               const std::string& path) {
  LoraAdapter::Storage& st = builder.storage();
  st.gguf.emplace(GGUFFile::parse(bytes, path));
  const GGUFFile& f = *st.gguf;

  const std::string general_type = f.get_string_or("general.type", "");
  if (general_type != "adapter")
    throw Error("general.type is '" + general_type + "', expected 'adapter'", path + ": general.type",
                general_type == "model" || general_type.empty()
                    ? "this looks like a model file, not a LoRA adapter"
                    : "only llama.cpp LoRA adapter GGUFs can be loaded as adapters");
  const std::string adapter_type = f.get_string_or("adapter.type", "");
  if (adapter_type != "lora")
    throw Error("adapter.type is '" + adapter_type + "', expected 'lora'", path + ": adapter.type",
                "control vectors and other adapter kinds are not LoRA adapters");
  const std::string arch = f.get_string_or("general.architecture", "");
  if (arch.empty())
    throw Error("general.architecture is missing or empty", path + ": general.architecture",
                "the adapter must name the base model's architecture (e.g. qwen3, gpt2)");
  // llama.cpp reads a missing alpha as 0 (= no alpha/rank scaling); so do we.
  double alpha = 0.0;
  if (const GGUFValue* v = f.find("adapter.lora.alpha")) {
    if (!v->is_float() && !v->is_integer())
      throw Error("adapter.lora.alpha has type " + std::string(gguf_type_name(v->type())) + ", expected f32",
                  path + ": adapter.lora.alpha", "re-export the adapter");
    alpha = v->as_f64();
  }
  if (!std::isfinite(alpha))
    throw Error("adapter.lora.alpha is not a finite number", path + ": adapter.lora.alpha", "re-export the adapter");

  // Bundle lora_a / lora_b by base name.
  std::map<std::string, RawPair> raw;
  int64_t ignored_norms = 0;
  for (const GGUFTensorInfo& t : f.tensors()) {
    std::string_view name = t.name;
    if (ends_with(name, kSuffixA) || ends_with(name, kSuffixB)) {
      const bool is_a = ends_with(name, kSuffixA);
      std::string base(name.substr(0, name.size() - kSuffixA.size()));
      if (base.empty())
        throw Error("LoRA tensor has no base tensor name", tensor_where(path, t), "names look like 'blk.0.attn_q.weight.lora_a'");
      RawPair& rp = raw[base];
      const GGUFTensorInfo*& slot = is_a ? rp.a : rp.b;
      if (slot)
        throw Error("duplicate LoRA tensor", tensor_where(path, t), "the adapter file is damaged");
      slot = &t;
    } else if (ends_with(name, kNormSuffix)) {
      ++ignored_norms;  // llama.cpp ignores norm-vector adapters too
    } else {
      throw Error("tensor has an unexpected suffix (expected .lora_a, .lora_b or _norm.weight)",
                  tensor_where(path, t), "this is not a llama.cpp LoRA adapter tensor");
    }
  }

  for (const auto& [base, rp] : raw) {
    if (!rp.a || !rp.b) {
      const GGUFTensorInfo& have = rp.a ? *rp.a : *rp.b;
      throw Error(std::string("LoRA tensor has no matching ") + (rp.a ? ".lora_b" : ".lora_a"),
                  tensor_where(path, have), "every adapted weight needs both lora_a and lora_b");
    }
    MatrixView a = as_matrix(path, *rp.a);
    MatrixView b = as_matrix(path, *rp.b);
    if (base == kEmbdName) {
      // Flipped: lora_a ne [r, n_vocab], lora_b ne [r, n_embd]; the rank is ne[0] of both.
      if (a.cols != b.cols)
        throw Error("rank mismatch: token_embd lora_a ne[0] = " + std::to_string(a.cols) + " but lora_b ne[0] = " +
                        std::to_string(b.cols),
                    tensor_where(path, *rp.a),
                    "token_embd adapters use llama.cpp's flipped layout: lora_a ne [rank, n_vocab], lora_b ne [rank, n_embd]");
      builder.set_embedding(LoraEmbeddingPair{a, b});
      continue;
    }
    // lora_a ne [n_in, r] → r rows of n_in; lora_b ne [r, n_out] → n_out rows of r.
    if (a.rows != b.cols)
      throw Error("rank mismatch: lora_a ne " + shape_str(rp.a->ne) + " has rank " + std::to_string(a.rows) +
                      " but lora_b ne " + shape_str(rp.b->ne) + " has rank " + std::to_string(b.cols),
                  tensor_where(path, *rp.b),
                  "lora_a must be ne [n_in, rank] and lora_b ne [rank, n_out] (adapters from the old "
                  "'finetune' example store lora_a untransposed)");
    builder.pairs().emplace(base, LoraPair{a, b, {}, {}});
  }
  builder.set_ignored_norms(ignored_norms);
  builder.set_identity(path, arch, static_cast<float>(alpha), sha256_hex(bytes));
  return builder.finish();
}

}  // namespace detail

std::shared_ptr<const LoraAdapter> LoraAdapter::load_gguf(const std::string& path) {
  detail::LoraAdapterBuilder builder;
  LoraAdapter::Storage& st = builder.storage();
  st.map = MappedFile::open(path);
  return detail::finish_gguf(builder, st.map.bytes(), path);
}

std::shared_ptr<const LoraAdapter> LoraAdapter::from_gguf_bytes(std::shared_ptr<const std::vector<uint8_t>> bytes,
                                                                const std::string& name) {
  if (!bytes) throw Error("no adapter bytes", name);
  detail::LoraAdapterBuilder builder;
  LoraAdapter::Storage& st = builder.storage();
  st.bytes = std::move(bytes);
  return detail::finish_gguf(builder, std::span<const uint8_t>(st.bytes->data(), st.bytes->size()), name);
}

}  // namespace paw
