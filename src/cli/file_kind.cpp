#include "cli/file_kind.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "paw/util/error.hpp"

namespace paw::cli {

FileKind detect_file_kind(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return FileKind::Directory;
  if (!fs::exists(path, ec)) throw Error("no such file", path, "check the path");
  std::ifstream in(path, std::ios::binary);
  char head[8] = {};
  in.read(head, sizeof head);
  auto n = in.gcount();
  if (n >= 4 && std::memcmp(head, "GGUF", 4) == 0) return FileKind::Gguf;
  if (n >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) return FileKind::Zip;
  auto ext = fs::path(path).extension().string();
  if (ext == ".safetensors") return FileKind::Safetensors;
  if (ext == ".json") return FileKind::TokenizerJson;
  // safetensors has no magic: an 8-byte little-endian header length followed by '{'.
  if (n == 8) {
    char brace = 0;
    in.read(&brace, 1);
    if (in.gcount() == 1 && brace == '{') return FileKind::Safetensors;
  }
  return FileKind::Unknown;
}

}  // namespace paw::cli
