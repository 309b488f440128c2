// The reference's built-in base-mode templates (declared in paw/program/bundle.hpp).
#include <string>
#include <string_view>

#include "paw/program/bundle.hpp"
#include "paw/util/error.hpp"

namespace paw {

std::string base_prompt_template(std::string_view arch) {
  if (arch == "qwen3")
    return std::string("<|im_start|>user\n") + kInputPlaceholder +
           "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
  if (arch == "gpt2") return kInputPlaceholder;
  throw Error("no base-mode template for architecture '" + std::string(arch) + "'", "paw run --base",
              "base mode knows qwen3 and gpt2");
}

}  // namespace paw
