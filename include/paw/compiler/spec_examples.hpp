#pragma once
// The worked examples a spec carries ("Input: …" / "Output: …" pairs). The compiler reads them
// to check an experts compiler's routing (paw/compiler/expert_check.hpp); the finetune compile
// trains on them (paw/train/finetune.hpp).
#include <string>
#include <string_view>
#include <vector>

namespace paw::compiler {

struct SpecExample {
  std::string input, output;
};

// Every "Input:" line (continuing until "Output:") and the "Output:" after it (continuing until
// the next "Input:" or the end), trimmed. Pairs with an empty input or output are dropped: they
// teach nothing and check nothing.
std::vector<SpecExample> spec_examples(std::string_view spec);

}  // namespace paw::compiler
