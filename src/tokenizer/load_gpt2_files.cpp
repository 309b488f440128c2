// Loader for OpenAI's GPT-2 files: encoder.json (byte-level token -> id) and vocab.bpe
// (merges, one "left right" per line in rank order after a "#version" comment line).
// <|endoftext|> is the one special token; it is also BOS and EOS, as in Hugging Face's gpt2.
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"
#include "tokenizer/json_util.hpp"
#include "tokenizer/tokenizer_impl.hpp"

namespace paw {

Tokenizer Tokenizer::from_gpt2_files(const std::string& encoder_json_path, const std::string& vocab_bpe_path) {
  tok::VocabSpec spec;
  spec.source = encoder_json_path;
  spec.pre = PreTokenizer::Gpt2;
  spec.nfc = false;

  const nlohmann::json enc = tok::parse_json(tok::read_text_file(encoder_json_path), encoder_json_path);
  if (!enc.is_object()) {
    throw Error("expected a JSON object of token -> id", encoder_json_path, "is this GPT-2's encoder.json?");
  }
  spec.vocab.reserve(enc.size());
  for (auto it = enc.begin(); it != enc.end(); ++it) {
    const int64_t id = it.value().is_number_integer() ? it.value().get<int64_t>() : -1;
    if (id < 0 || id >= tok::kMaxVocab) {
      throw Error("token '" + it.key().substr(0, 32) + "' has no valid id", encoder_json_path,
                  "is this GPT-2's encoder.json?");
    }
    spec.vocab.emplace_back(it.key(), static_cast<int32_t>(id));
  }

  const std::string bpe = tok::read_text_file(vocab_bpe_path);
  size_t line_no = 0;
  for (size_t pos = 0; pos < bpe.size();) {
    size_t eol = bpe.find('\n', pos);
    if (eol == std::string::npos) eol = bpe.size();
    std::string_view line(bpe.data() + pos, eol - pos);
    const size_t line_start = pos;
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.starts_with("#version")) continue;
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0 || line.find(' ', sp + 1) != std::string_view::npos) {
      throw Error("line " + std::to_string(line_no) + " is not \"left right\"", at_offset(vocab_bpe_path, line_start),
                  "is this GPT-2's vocab.bpe (merges)?");
    }
    spec.merges.emplace_back(std::string(line.substr(0, sp)), std::string(line.substr(sp + 1)));
  }

  for (const auto& [text, id] : spec.vocab) {
    if (text == "<|endoftext|>") {
      tok::AddedToken eot;
      eot.id = id;
      eot.content = text;
      eot.special = true;
      spec.added.push_back(eot);
      spec.bos = id;
      spec.eos = id;
    }
  }

  Tokenizer t;
  tok::build_impl(std::move(spec), *t.impl_);
  return t;
}

}  // namespace paw
