// Tokenizer::load: picks the loader from the path.
#include <filesystem>

#include "paw/formats/gguf.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"

namespace paw {

namespace fs = std::filesystem;

Tokenizer Tokenizer::load(const std::string& path) {
  const fs::path p(path);
  std::error_code ec;
  const auto sibling = [&](const char* name) { return (p.parent_path() / name).string(); };
  const auto exists = [&](const fs::path& q) { return fs::exists(q, ec); };

  if (fs::is_directory(p, ec)) {
    if (exists(p / "tokenizer.json")) {
      const fs::path cfg = p / "tokenizer_config.json";
      return from_hf_json((p / "tokenizer.json").string(), exists(cfg) ? cfg.string() : std::string());
    }
    if (exists(p / "encoder.json") && exists(p / "vocab.bpe")) {
      return from_gpt2_files((p / "encoder.json").string(), (p / "vocab.bpe").string());
    }
    throw Error("no tokenizer.json (or encoder.json + vocab.bpe) in this folder", path,
                "point at a .gguf model, a tokenizer.json or a folder holding one");
  }
  if (!exists(p)) throw Error("no such file", path, "check the path");

  const std::string file = p.filename().string();
  if (p.extension() == ".gguf") return from_gguf(GGUFFile::open(path));
  if (file == "encoder.json" || file == "vocab.bpe") {
    return from_gpt2_files(sibling("encoder.json"), sibling("vocab.bpe"));
  }
  if (p.extension() == ".json") {
    const std::string cfg = sibling("tokenizer_config.json");
    return from_hf_json(path, exists(cfg) && file != "tokenizer_config.json" ? cfg : std::string());
  }
  throw Error("unrecognised tokenizer file", path, "expected *.gguf, tokenizer.json, encoder.json/vocab.bpe or a folder");
}

}  // namespace paw
