#pragma once
// Sniffs what a path holds, from its first bytes (and its name as a fallback).
#include <string>

namespace paw::cli {

enum class FileKind { Gguf, Safetensors, TokenizerJson, Directory, Zip, Unknown };

FileKind detect_file_kind(const std::string& path);

}  // namespace paw::cli
