#pragma once
// File-system helpers for bundle folders and the cache: no-follow reads, fsynced writes,
// temporary folders and atomic folder replacement.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace paw::program_detail {

// Opened directory, closed on destruction.
class DirFd {
 public:
  explicit DirFd(const std::string& path);   // throws paw::Error naming the path
  ~DirFd();
  DirFd(const DirFd&) = delete;
  DirFd& operator=(const DirFd&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Reads `name` inside `dir` without following links (O_NOFOLLOW), refusing anything but a
// regular file and anything larger than `cap`. nullopt when the file does not exist.
std::optional<std::vector<uint8_t>> read_member_file(const DirFd& dir, const std::string& name, uint64_t cap,
                                                     const std::string& where);

// Creates `name` in `dir` (must not exist), writes, fsyncs.
void write_new_file(const DirFd& dir, const std::string& name, std::span<const uint8_t> bytes, const std::string& where);

void fsync_dir(const std::string& path);

// mkdtemp("<parent>/<prefix>XXXXXX"); returns the path.
std::string make_temp_dir(const std::string& parent, const std::string& prefix);

// Removes a tree without following links; never throws.
void remove_tree(const std::string& path) noexcept;

// Puts folder `staged` at `dest` atomically. When `dest` exists it is swapped out with
// renameat2(RENAME_EXCHANGE) and removed (fallback: rename aside, rename in, remove).
void replace_dir(const std::string& staged, const std::string& dest);

// Random lowercase hex for temporary names.
std::string random_hex(size_t n);

}  // namespace paw::program_detail
