#pragma once
// Streaming reader for tokenizer.json. The vocabulary (150k keys) and merges (150k pairs)
// are taken straight from the parser's SAX events into flat vectors; everything else becomes
// an ordinary nlohmann::json tree. Building a DOM for the vocabulary object (a std::map)
// would cost several times more than the whole rest of loading.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paw::tok {

struct HfJsonParts {
  nlohmann::json rest;  // the document without model.vocab / model.merges
  std::vector<std::pair<std::string, int64_t>> vocab;        // model.vocab in file order
  std::vector<std::pair<std::string, std::string>> merges;   // model.merges, both spellings
  bool has_vocab = false;
  bool has_merges = false;
};

// Throws paw::Error naming `name` (with the byte offset for syntax errors, or the field for
// a vocabulary / merges entry of the wrong shape).
HfJsonParts parse_tokenizer_json(std::string_view text, const std::string& name);

}  // namespace paw::tok
