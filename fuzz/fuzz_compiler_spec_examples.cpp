// libFuzzer target for the spec's worked-examples reader (paw::compiler::spec_examples): any
// byte string must parse without fault, and every example it returns must have a non-empty
// input and output without surrounding blanks (what the check and the finetune rely on).
// Seeds: fuzz/corpus/fuzz_compiler_spec_examples (examples/specs/dates.txt; a CRLF spec with a
// stray Output:, multi-line pairs and an empty answer).
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "paw/compiler/spec_examples.hpp"

namespace {

bool trimmed_nonempty(const std::string& s) {
  return !s.empty() && !std::isspace(static_cast<unsigned char>(s.front())) &&
         !std::isspace(static_cast<unsigned char>(s.back()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view spec(reinterpret_cast<const char*>(data), size);
  for (const auto& e : paw::compiler::spec_examples(spec))
    if (!trimmed_nonempty(e.input) || !trimmed_nonempty(e.output) || e.input.size() > size || e.output.size() > size)
      std::abort();
  return 0;
}
