#include "program/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "paw/util/error.hpp"

namespace paw::program_detail {
namespace {

int open_lock_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    throw Error(std::string("cannot open lock file: ") + std::strerror(errno), path,
                "check that the cache folder is writable (PAW_CACHE_DIR)");
  return fd;
}

int flock_retry(int fd, int op) {
  int rc;
  do rc = ::flock(fd, op);
  while (rc != 0 && errno == EINTR);
  return rc;
}

}  // namespace

FileLock FileLock::acquire(const std::string& path, Mode mode) {
  int fd = open_lock_file(path);
  if (flock_retry(fd, mode == Mode::Shared ? LOCK_SH : LOCK_EX) != 0) {
    int saved = errno;
    ::close(fd);
    throw Error(std::string("cannot lock: ") + std::strerror(saved), path);
  }
  return FileLock(fd);
}

std::optional<FileLock> FileLock::try_acquire(const std::string& path, Mode mode) {
  int fd = open_lock_file(path);
  if (flock_retry(fd, (mode == Mode::Shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    int saved = errno;
    ::close(fd);
    if (saved == EWOULDBLOCK) return std::nullopt;
    throw Error(std::string("cannot lock: ") + std::strerror(saved), path);
  }
  return FileLock(fd);
}

FileLock& FileLock::operator=(FileLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);   // closing the last descriptor releases the flock
}

void FileLock::downgrade() {
  if (fd_ >= 0 && flock_retry(fd_, LOCK_SH) != 0) throw Error(std::string("cannot downgrade lock: ") + std::strerror(errno), "lock");
}

}  // namespace paw::program_detail
