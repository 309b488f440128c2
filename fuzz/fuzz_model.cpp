// libFuzzer target for loading a model from GGUF bytes: the hyper-parameter keys
// (hparams_from_gguf), binding through the architecture's table (names, shapes, types), the
// Q4_0 and Q8_0 interleaving at load, the tokenizer read from the same metadata and the record
// of a converted model's original (paw.source.*, converted_from). Any byte
// string must load or throw paw::Error. A model that loads and is small runs one forward step of two
// tokens, so a shape the validation let through but the kernels cannot take shows up here.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "paw/formats/gguf.hpp"
#include "paw/model/convert.hpp"
#include "paw/model/forward.hpp"
#include "paw/model/kv_cache.hpp"
#include "paw/model/model.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"

namespace {

// Bounds for running a forward step (the fuzzer's inputs are ≤ 64 KiB; the seeds are the
// fixture's "embedded" preset: n_embd 32, 2 layers).
bool small_enough(const paw::HParams& hp) {
  return hp.n_layer <= 4 && hp.n_embd <= 256 && hp.n_ff <= 1024 && hp.n_vocab <= 4096 && hp.n_head <= 16;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    paw::GGUFFile f = paw::GGUFFile::parse(std::span<const uint8_t>(data, size), "fuzz.gguf");
    try {
      const paw::Tokenizer tok = paw::Tokenizer::from_gguf(f);
      volatile size_t sink = tok.encode("Hello, wörld! 123").size();
      (void)sink;
    } catch (const paw::Error&) {
    }
    try {
      const auto src = paw::converted_from(f);
      volatile size_t sink = src ? src->name.size() + src->sha256.size() + src->size : 0;
      (void)sink;
    } catch (const paw::Error&) {
    }
    const auto m = paw::Model::from_gguf(std::move(f));
    const paw::HParams& hp = m->hparams();
    if (!small_enough(hp)) return 0;
    paw::KVCache kv(hp, 4, paw::DType::F16);
    paw::ForwardScratch scratch(*m, 2, 4, 1);
    const paw::AdapterBinding none;
    std::vector<float> logits(static_cast<size_t>(2 * hp.n_vocab));
    const int32_t tokens[2] = {0, static_cast<int32_t>(hp.n_vocab - 1)};
    paw::ForwardRequest req;
    req.tokens = tokens;
    req.logits = logits.data();
    req.logits_all = true;
    paw::forward(*m, none, kv, scratch, req);
  } catch (const paw::Error&) {
    // Refusing bad input with a paw::Error is the expected outcome.
  }
  return 0;
}
