#pragma once
// Read-only memory map of a whole file. Model weights are used straight from the map
// (never copied), so a 600 MB model costs page cache, not heap.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace paw {

class MappedFile {
 public:
  MappedFile() = default;
  // Throws paw::Error naming the path when the file cannot be opened or mapped.
  static MappedFile open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }
  std::span<const uint8_t> bytes() const noexcept { return {data_, size_}; }
  const std::string& path() const noexcept { return path_; }
  // Drops the whole pages inside [p, p + n) from this process's resident memory — for bytes
  // read once and copied elsewhere. The mapping stays valid: a later read faults them back in
  // from the file. A hint: ranges outside the mapping and failures are ignored.
  void release(const uint8_t* p, size_t n) const noexcept;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Reads a whole (small) file into a string; throws paw::Error naming the path.
std::string read_file_to_string(const std::string& path);

}  // namespace paw
