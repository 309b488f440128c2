// Cases tokenized as the runtime runs a program (see paw/compiler/program_case.hpp).
#include "paw/compiler/program_case.hpp"

#include "paw/tokenizer/tokenizer.hpp"

namespace paw::compiler {

std::vector<int32_t> encode_prefix(const Tokenizer& tok, const std::string& prefix) {
  EncodeOptions special;
  special.parse_special = true;
  return tok.encode(prefix, special);
}

ProgramCase encode_case_after_prefix(const Tokenizer& tok, const std::string& suffix, const std::string& input,
                                     const std::string& output, int32_t eos_id) {
  EncodeOptions special;
  special.parse_special = true;
  EncodeOptions plain;
  plain.parse_special = false;
  ProgramCase c;
  c.tokens = tok.encode(input + suffix, special);
  c.n_prompt = static_cast<int64_t>(c.tokens.size());
  const std::vector<int32_t> out = tok.encode(output, plain);
  c.tokens.insert(c.tokens.end(), out.begin(), out.end());
  c.tokens.push_back(eos_id);
  return c;
}

ProgramCase encode_program_case(const Tokenizer& tok, const TemplateParts& parts, const std::string& input,
                                const std::string& output, int32_t eos_id) {
  ProgramCase c;
  c.tokens = encode_prefix(tok, parts.prefix);
  const ProgramCase tail = encode_case_after_prefix(tok, parts.suffix, input, output, eos_id);
  c.n_prompt = static_cast<int64_t>(c.tokens.size()) + tail.n_prompt;
  c.tokens.insert(c.tokens.end(), tail.tokens.begin(), tail.tokens.end());
  return c;
}

}  // namespace paw::compiler
