// End-of-generation ids from GGUF metadata keys and the tokenizer's special tokens.
#include "paw/runtime/stop_ids.hpp"

#include <algorithm>
#include <string>

#include "paw/formats/gguf.hpp"
#include "paw/model/model.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

// llama.cpp's list of end-of-turn marker texts (vocab loading, special_eog_ids).
constexpr const char* kEogTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
    "<EOT>",      "_<EOT>",     "<\uFF5Cend\u2581of\u2581sentence\uFF5C>",
};

void add_key(std::vector<int32_t>& out, const Tokenizer& tok, const GGUFFile& f, const char* key) {
  const GGUFValue* v = f.find(key);
  if (!v) return;
  int64_t id = -1;
  try {
    id = v->as_i64();
  } catch (const Error&) {
    throw Error(std::string("metadata key '") + key + "' is not an integer", f.path(),
                "the tokenizer metadata is corrupt");
  }
  if (id < 0 || id >= tok.n_vocab())
    throw Error(std::string("metadata key '") + key + "' = " + std::to_string(id) +
                    " is not a token id (the vocabulary has " + std::to_string(tok.n_vocab()) + " tokens)",
                f.path(), "the tokenizer metadata is corrupt");
  out.push_back(static_cast<int32_t>(id));
}

}  // namespace

std::vector<int32_t> stop_ids(const Tokenizer& tok, const GGUFFile* meta, StopSet set) {
  std::vector<int32_t> out;
  if (meta) add_key(out, tok, *meta, "tokenizer.ggml.eos_token_id");
  if (auto e = tok.eos_id()) out.push_back(*e);
  if (set == StopSet::Eog) {
    if (meta) {
      add_key(out, tok, *meta, "tokenizer.ggml.eot_token_id");
      add_key(out, tok, *meta, "tokenizer.ggml.eom_token_id");
    }
    if (auto e = tok.eot_id()) out.push_back(*e);
    for (const char* text : kEogTexts)
      if (auto id = tok.token_id(text)) out.push_back(*id);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<int32_t> stop_ids(const Model& model, const Tokenizer& tok, StopSet set) {
  return stop_ids(tok, model.gguf(), set);
}

}  // namespace paw
