#include "cli/text_io.hpp"

#include <iostream>
#include <iterator>

namespace paw::cli {
std::string read_all_stdin() {
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}
}  // namespace paw::cli
