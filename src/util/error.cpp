#include "paw/util/error.hpp"

namespace paw {
namespace {
std::string format_message(const std::string& what, const std::string& where, const std::string& hint) {
  std::string msg;
  if (!where.empty()) msg += where + ": ";
  msg += what;
  if (!hint.empty()) msg += " (hint: " + hint + ")";
  return msg;
}
}  // namespace

Error::Error(std::string what, std::string where, std::string hint)
    : std::runtime_error(format_message(what, where, hint)),
      what_(std::move(what)),
      where_(std::move(where)),
      hint_(std::move(hint)) {}

std::string at_offset(const std::string& file, uint64_t offset) {
  return file + " at byte offset " + std::to_string(offset);
}

}  // namespace paw
