#pragma once
// Atomic file writes: write to a temp file in the same directory, fsync, rename over the
// target, fsync the directory. A reader sees either the old file or the complete new one,
// never a partial write — required for every cache write.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace paw {

void atomic_write_file(const std::string& path, std::span<const uint8_t> bytes);
void atomic_write_file(const std::string& path, std::string_view bytes);

// True when `target` exists and names the same file as `source`: writing `target` would
// replace `source` (under a reader's mapping). Commands that write a new file from inputs
// refuse that.
bool same_file(const std::string& source, const std::string& target);

// Streaming variant: write(fd-like callback) into the temp file, then commit().
// Destroying an uncommitted AtomicFileWriter removes the temp file.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  uint64_t bytes_written() const noexcept { return written_; }
  void commit();  // fsync + rename + fsync(dir)

 private:
  std::string path_, tmp_path_;
  int fd_ = -1;
  uint64_t written_ = 0;
  bool committed_ = false;
};

}  // namespace paw
