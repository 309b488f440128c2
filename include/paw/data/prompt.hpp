#pragma once
// The prompted format: how a (spec, input) pair is shown to an interpreter that runs the spec
// as a prompt. Training (paw/train/dataset.hpp) and evaluation (paw/eval) share it, so a model
// is evaluated on exactly the text it was trained on (docs/TRAINING.md, "Data format"):
//
//   "<|im_start|>user\n" + spec + "\n[INPUT]\n" + input + "\n[END_INPUT]\n" +
//   "<|im_end|>\n<|im_start|>assistant\n"
//
// The answer follows, ended by <|im_end|>. Tokenize the prompt with special tokens parsed.
#include <string>
#include <string_view>

namespace paw::data {

std::string format_prompt(std::string_view spec, std::string_view input);

}  // namespace paw::data
