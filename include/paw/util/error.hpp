#pragma once
// paw::Error — the one exception type every loader and parser throws.
// It carries what failed, where (file, tensor, field, byte offset) and a hint for the
// user, so the CLI and the API can print one clear line and exit non-zero.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace paw {

class Error : public std::runtime_error {
 public:
  // what:  the failure ("tensor data runs past end of file")
  // where: the place ("model.gguf: tensor 'blk.0.attn_q.weight' at offset 1234")
  // hint:  what the user can do ("the file is truncated; download it again")
  Error(std::string what, std::string where = {}, std::string hint = {});

  const std::string& what_failed() const noexcept { return what_; }
  const std::string& where() const noexcept { return where_; }
  const std::string& hint() const noexcept { return hint_; }

 private:
  std::string what_, where_, hint_;
};

// "file 'x' at offset 123" style helper used by parsers.
std::string at_offset(const std::string& file, uint64_t offset);

}  // namespace paw
