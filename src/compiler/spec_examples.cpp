// The worked examples of a spec (see paw/compiler/spec_examples.hpp).
#include "paw/compiler/spec_examples.hpp"

#include <algorithm>
#include <cctype>

namespace paw::compiler {
namespace {

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

bool starts_with(std::string_view line, std::string_view p) { return line.substr(0, p.size()) == p; }

}  // namespace

std::vector<SpecExample> spec_examples(std::string_view spec) {
  std::vector<SpecExample> out;
  std::string input, output;
  enum { None, In, Out } state = None;
  auto flush = [&] {
    if (state == Out) out.push_back({trim(input), trim(output)});
    input.clear();
    output.clear();
  };
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t nl = spec.find('\n', pos);
    if (nl == std::string_view::npos) nl = spec.size();
    std::string_view line = spec.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (starts_with(line, "Input:")) {
      flush();
      state = In;
      input = std::string(line.substr(6));
    } else if (starts_with(line, "Output:") && state == In) {
      state = Out;
      output = std::string(line.substr(7));
    } else if (state == In) {
      input += "\n" + std::string(line);
    } else if (state == Out) {
      output += "\n" + std::string(line);
    }
    pos = nl + 1;
  }
  flush();
  std::erase_if(out, [](const SpecExample& e) { return e.input.empty() || e.output.empty(); });
  return out;
}

}  // namespace paw::compiler
