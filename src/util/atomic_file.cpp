#include "paw/util/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "paw/util/error.hpp"

namespace paw {
namespace {

std::string parent_dir(const std::string& path) {
  auto p = std::filesystem::path(path).parent_path();
  return p.empty() ? std::string(".") : p.string();
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string random_suffix() {
  std::random_device rd;
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 12; ++i) s.push_back(hex[rd() & 15]);
  return s;
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  auto name = std::filesystem::path(path_).filename().string();
  tmp_path_ = parent_dir(path_) + "/." + name + ".tmp-" + random_suffix();
  fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw Error(std::string("cannot create temporary file: ") + std::strerror(errno), tmp_path_,
                "check that the directory exists and is writable");
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_path_.c_str());
}

void AtomicFileWriter::write(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw Error(std::string("write failed: ") + std::strerror(errno), tmp_path_, "is the disk full?");
    }
    p += w;
    n -= static_cast<size_t>(w);
    written_ += static_cast<uint64_t>(w);
  }
}

void AtomicFileWriter::commit() {
  if (::fsync(fd_) != 0) throw Error(std::string("fsync failed: ") + std::strerror(errno), tmp_path_);
  ::close(fd_);
  fd_ = -1;
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0)
    throw Error(std::string("rename failed: ") + std::strerror(errno), path_);
  committed_ = true;
  fsync_dir(parent_dir(path_));
}

void atomic_write_file(const std::string& path, std::span<const uint8_t> bytes) {
  AtomicFileWriter w(path);
  w.write(bytes.data(), bytes.size());
  w.commit();
}

void atomic_write_file(const std::string& path, std::string_view bytes) {
  AtomicFileWriter w(path);
  w.write(bytes);
  w.commit();
}

bool same_file(const std::string& source, const std::string& target) {
  std::error_code ec;
  return std::filesystem::exists(target, ec) && std::filesystem::equivalent(source, target, ec);
}

}  // namespace paw
