#pragma once
// One (input, output) case tokenized as the runtime runs a program: the template's prefix
// (special tokens parsed), then the input and the template's suffix as one string (so tokens
// may merge across that boundary, as at run time), then the answer encoded plain and EOS. The
// compiler's trainer, the finetune compile and the expert check score answers on exactly these
// tokens, so a program is trained and checked on what it will read.
#include <cstdint>
#include <string>
#include <vector>

#include "paw/program/bundle.hpp"

namespace paw {
class Tokenizer;
}

namespace paw::compiler {

struct ProgramCase {
  std::vector<int32_t> tokens;  // [prompt | answer | EOS]
  int64_t n_prompt = 0;         // tokens before the answer
};

// The template's prefix as the runtime evaluates it: special tokens parsed, no BOS.
std::vector<int32_t> encode_prefix(const Tokenizer& tok, const std::string& prefix);

// The whole case: encode(prefix) + encode(input + suffix) + encode(output) + EOS.
ProgramCase encode_program_case(const Tokenizer& tok, const TemplateParts& parts, const std::string& input,
                                const std::string& output, int32_t eos_id);

// The case without the prefix's tokens (n_prompt counts from the input), for a caller that
// evaluates the prefix once and the cases after it.
ProgramCase encode_case_after_prefix(const Tokenizer& tok, const std::string& suffix, const std::string& input,
                                     const std::string& output, int32_t eos_id);

}  // namespace paw::compiler
