// The prompted format (see paw/data/prompt.hpp).
#include "paw/data/prompt.hpp"

namespace paw::data {

std::string format_prompt(std::string_view spec, std::string_view input) {
  std::string p;
  p.reserve(spec.size() + input.size() + 96);
  p += "<|im_start|>user\n";
  p += spec;
  p += "\n[INPUT]\n";
  p += input;
  p += "\n[END_INPUT]\n<|im_end|>\n<|im_start|>assistant\n";
  return p;
}

}  // namespace paw::data
