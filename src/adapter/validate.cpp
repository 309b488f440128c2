// validate_adapter_for_model — the checks llama.cpp makes when it attaches an adapter to a
// model (arch, tensor exists, shape), done once, with errors that name the tensor.
#include "paw/adapter/validate.hpp"

#include "paw/util/error.hpp"

namespace paw {
namespace {

std::string where_for(const LoraAdapter& adapter, const std::string& base) {
  return adapter.path() + ": LoRA pair '" + base + "'";
}

std::array<int64_t, 2> require_base(const LoraAdapter& adapter, const std::string& base, const BaseShapeFn& base_shape) {
  auto shape = base_shape(base);
  if (!shape)
    throw Error("the base model has no tensor '" + base + "'", where_for(adapter, base),
                "the adapter was made for a different base model (or targets a tied/absent weight)");
  return *shape;
}

}  // namespace

void validate_adapter_for_model(const LoraAdapter& adapter, const std::string& model_arch,
                                const BaseShapeFn& base_shape) {
  if (adapter.arch() != model_arch)
    throw Error("adapter architecture '" + adapter.arch() + "' does not match the model's '" + model_arch + "'",
                adapter.path() + ": general.architecture", "use an adapter made for this base model");

  for (const auto& [base, p] : adapter.pairs()) {
    const auto [n_in, n_out] = require_base(adapter, base, base_shape);
    if (p.a.cols != n_in)
      throw Error("n_in mismatch: lora_a rows have " + std::to_string(p.a.cols) + " elements but the base weight's n_in is " +
                      std::to_string(n_in),
                  where_for(adapter, base), "the adapter was made for a different base model");
    if (p.b.rows != n_out)
      throw Error("n_out mismatch: lora_b has " + std::to_string(p.b.rows) + " rows but the base weight's n_out is " +
                      std::to_string(n_out),
                  where_for(adapter, base), "the adapter was made for a different base model");
  }

  if (const LoraEmbeddingPair* e = adapter.embedding_pair()) {
    const std::string base = "token_embd.weight";
    const auto [n_embd, n_vocab] = require_base(adapter, base, base_shape);
    if (e->b.rows != n_embd)
      throw Error("n_embd mismatch: lora_b has " + std::to_string(e->b.rows) + " rows but the embedding width is " +
                      std::to_string(n_embd),
                  where_for(adapter, base), "the adapter was made for a different base model");
    if (e->a.rows != n_vocab)
      throw Error("n_vocab mismatch: lora_a has " + std::to_string(e->a.rows) + " rows but the vocabulary has " +
                      std::to_string(n_vocab) + " tokens",
                  where_for(adapter, base), "the adapter was made for a different base model");
  }
}

}  // namespace paw
