// `paw tokenizer train --input corpus.txt|data.jsonl [--input ...] --vocab-size 2048 -o tok.gguf
//  [--hf-dir DIR]` — train a byte-level BPE vocabulary (Qwen2 pre-tokenizer, Qwen chat special
// tokens) and write it as GGUF tokenizer metadata and/or tokenizer.json + tokenizer_config.json.
// A .jsonl input contributes each record's "spec", "input", "output" (and "text") strings as
// separate documents; any other file is one document.
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "paw/tokenizer/bpe_trainer.hpp"
#include "paw/util/error.hpp"

namespace paw::cli {
namespace {

struct TrainOptions {
  std::vector<std::string> inputs;
  BpeTrainOptions bpe;
  std::string pre = "qwen2";
  std::string out_gguf;
  std::string hf_dir;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open input", "file '" + path + "'", "check the --input path");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void add_jsonl(BpeTrainer& t, const std::string& path, const std::string& text) {
  std::istringstream in(text);
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(std::string("invalid JSON: ") + e.what(), path + ": line " + std::to_string(line_no),
                  "each line must be a JSON object (e.g. from `paw data gen`)");
    }
    if (!j.is_object()) throw Error("expected a JSON object", path + ": line " + std::to_string(line_no));
    for (const char* k : {"spec", "input", "output", "text"}) {
      if (auto it = j.find(k); it != j.end() && it->is_string()) t.add_text(it->get<std::string>());
    }
  }
}

void run_train(TrainOptions& o) {
  if (o.out_gguf.empty() && o.hf_dir.empty()) {
    throw Error("no output given", "paw tokenizer train", "pass -o tok.gguf and/or --hf-dir DIR");
  }
  if (o.pre == "qwen2") o.bpe.pre = PreTokenizer::Qwen2;
  else if (o.pre == "gpt2") o.bpe.pre = PreTokenizer::Gpt2;
  else throw Error("unknown pre-tokenizer '" + o.pre + "'", "--pre", "use qwen2 or gpt2");

  BpeTrainer t(o.bpe);
  for (const auto& path : o.inputs) {
    const std::string text = read_file(path);
    if (path.size() >= 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0) {
      add_jsonl(t, path, text);
    } else {
      t.add_text(text);
    }
  }
  const BpeVocab v = t.train();
  if (!o.out_gguf.empty()) v.write_gguf(o.out_gguf);
  if (!o.hf_dir.empty()) v.write_hf_dir(o.hf_dir);
  std::fprintf(stderr, "paw tokenizer train: %zu words (%zu distinct) -> %d BPE tokens (%zu merges) + %zu special tokens\n",
               static_cast<size_t>(t.n_words()), t.n_distinct_words(), v.n_bpe, v.merges.size(),
               v.tokens.size() - static_cast<size_t>(v.n_bpe));
  if (v.n_bpe < o.bpe.vocab_size) {
    std::fprintf(stderr, "paw tokenizer train: note: the corpus ran out of pairs seen >= %lld times before %d tokens\n",
                 static_cast<long long>(o.bpe.min_frequency), o.bpe.vocab_size);
  }
}

}  // namespace

void add_tokenizer_train_command(CLI::App& app) {
  auto* group = app.add_subcommand("tokenizer", "Tokenizer tools");
  group->require_subcommand(1);
  auto o = std::make_shared<TrainOptions>();
  auto* cmd = group->add_subcommand("train", "Train a byte-level BPE tokenizer on a text or JSONL corpus");
  cmd->add_option("--input", o->inputs, "Corpus file(s): .jsonl (spec/input/output/text fields) or plain text")->required();
  cmd->add_option("--vocab-size", o->bpe.vocab_size, "BPE tokens including the 256 byte tokens (special tokens come after)")
      ->capture_default_str();
  cmd->add_option("--min-frequency", o->bpe.min_frequency, "Merge only pairs seen at least this often")->capture_default_str();
  cmd->add_option("--pre", o->pre, "Pre-tokenizer: qwen2 (NFC + Qwen split) or gpt2")->capture_default_str();
  cmd->add_option("-o,--output", o->out_gguf, "Output GGUF holding only tokenizer metadata");
  cmd->add_option("--hf-dir", o->hf_dir, "Also write tokenizer.json + tokenizer_config.json into this folder");
  cmd->callback([o] { run_train(*o); });
}

}  // namespace paw::cli
