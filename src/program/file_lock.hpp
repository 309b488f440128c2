#pragma once
// Cross-process advisory locks: flock() on a lock file that is created on demand and never
// deleted (deleting lock files races with processes that still hold them open).
#include <optional>
#include <string>

namespace paw::program_detail {

class FileLock {
 public:
  enum class Mode { Shared, Exclusive };

  // Blocks until the lock is held. Throws paw::Error when the lock file cannot be opened.
  static FileLock acquire(const std::string& path, Mode mode);
  // nullopt when another process holds a conflicting lock.
  static std::optional<FileLock> try_acquire(const std::string& path, Mode mode);

  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&& o) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  // Exclusive -> shared (may briefly let an exclusive waiter in, then blocks until shared).
  void downgrade();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace paw::program_detail
