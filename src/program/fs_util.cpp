#include "program/fs_util.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "paw/util/error.hpp"

namespace paw::program_detail {
namespace {

std::string sys_error(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

DirFd::DirFd(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) throw Error(sys_error("cannot open folder"), path, "check the path and permissions");
}

DirFd::~DirFd() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::vector<uint8_t>> read_member_file(const DirFd& dir, const std::string& name, uint64_t cap,
                                                     const std::string& where) {
  // O_NONBLOCK: opening a FIFO must not hang; it is refused below by its type.
  int fd = ::openat(dir.fd(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == ELOOP) throw Error("is a symbolic link", where, "bundle folders hold regular files only");
    throw Error(sys_error("cannot open"), where, "check permissions");
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw Error(sys_error("cannot stat"), where);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error("is not a regular file", where, "bundle folders hold regular files only");
  }
  if (static_cast<uint64_t>(st.st_size) > cap) {
    ::close(fd);
    throw Error("is " + std::to_string(st.st_size) + " bytes, more than the limit of " + std::to_string(cap), where,
                "this is not a program bundle, or a limit needs raising");
  }
  // Read until EOF, refusing at the cap even if the file grows while we read it.
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(st.st_size));
  uint8_t buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      throw Error(sys_error("read failed"), where);
    }
    if (n == 0) break;
    if (out.size() + static_cast<uint64_t>(n) > cap) {
      ::close(fd);
      throw Error("grew past the limit of " + std::to_string(cap) + " bytes while being read", where);
    }
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

void write_new_file(const DirFd& dir, const std::string& name, std::span<const uint8_t> bytes, const std::string& where) {
  int fd = ::openat(dir.fd(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(sys_error("cannot create file"), where, "check that the folder is writable");
  const uint8_t* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      throw Error(sys_error("write failed"), where, "is the disk full?");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    throw Error(sys_error("fsync failed"), where);
  }
  ::close(fd);
}

void fsync_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string make_temp_dir(const std::string& parent, const std::string& prefix) {
  std::string templ = parent + "/" + prefix + "XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) throw Error(sys_error("cannot create temporary folder"), templ, "check that the folder is writable");
  return std::string(buf.data());
}

void remove_tree(const std::string& path) noexcept {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);   // does not follow symlinks
}

void replace_dir(const std::string& staged, const std::string& dest) {
  struct stat st;
  if (::lstat(dest.c_str(), &st) != 0) {
    if (::rename(staged.c_str(), dest.c_str()) != 0)
      throw Error(sys_error("cannot move folder into place"), dest, "check permissions");
    return;
  }
  // Atomic swap: readers see the old folder or the new one, never neither.
  if (::syscall(SYS_renameat2, AT_FDCWD, staged.c_str(), AT_FDCWD, dest.c_str(), RENAME_EXCHANGE) == 0) {
    remove_tree(staged);   // now holds the old contents
    return;
  }
  std::string aside = dest + ".old-" + random_hex(8);
  if (::rename(dest.c_str(), aside.c_str()) != 0) throw Error(sys_error("cannot move old folder aside"), dest);
  if (::rename(staged.c_str(), dest.c_str()) != 0) {
    int saved = errno;
    ::rename(aside.c_str(), dest.c_str());
    errno = saved;
    throw Error(sys_error("cannot move folder into place"), dest);
  }
  remove_tree(aside);
}

std::string random_hex(size_t n) {
  // A fresh random_device per call: a generator state copied by fork() would repeat names.
  std::random_device rng;
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(hex[rng() & 15]);
  return s;
}

}  // namespace paw::program_detail
