// `paw tokenize --tokenizer FILE [--no-special] [--decode] [--jsonl] [TEXT]`
// The --jsonl interface is relied on by other tools: one {"text": ...} object per input line
// in, one {"ids": [...]} object per line out, in order.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/text_io.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"

namespace paw::cli {
namespace {

struct TokenizeOptions {
  std::string tokenizer_path;   // GGUF model, tokenizer.json, or a folder holding one
  std::string text;             // text to encode, or ids ("1,2,3" / "[1, 2, 3]") with --decode
  bool no_special = false;      // treat special-token text as plain text
  bool decode = false;          // ids -> text
  bool jsonl = false;           // batch mode over stdin
  bool json = false;            // print {"ids": [...]} instead of a plain list
};

std::vector<int32_t> parse_ids(const std::string& s, const Tokenizer& tok) {
  std::vector<int32_t> ids;
  std::string cur;
  auto flush = [&] {
    if (cur.empty()) return;
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(cur, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != cur.size() || v < 0 || v >= tok.n_vocab())
      throw Error("invalid token id '" + cur + "'", "--decode input",
                  "give ids between 0 and " + std::to_string(tok.n_vocab() - 1) + " separated by commas or spaces");
    ids.push_back(static_cast<int32_t>(v));
    cur.clear();
  };
  for (char c : s) {
    if (c == ',' || c == ' ' || c == '[' || c == ']' || c == '\n' || c == '\t') flush();
    else cur.push_back(c);
  }
  flush();
  return ids;
}

void print_ids(const std::vector<int32_t>& ids, bool json) {
  if (json) {
    std::puts(nlohmann::json{{"ids", ids}}.dump().c_str());
    return;
  }
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? " " : "") + std::to_string(ids[i]);
  std::puts(out.c_str());
}

void run_jsonl(const Tokenizer& tok, const TokenizeOptions& o) {
  EncodeOptions eo;
  eo.parse_special = !o.no_special;
  std::string line;
  size_t line_no = 0;
  while (std::getline(std::cin, line)) {
    ++line_no;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(std::string("invalid JSON: ") + e.what(), "stdin line " + std::to_string(line_no),
                  "each line must be an object like {\"text\": \"...\"}");
    }
    if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
      throw Error("missing string field \"text\"", "stdin line " + std::to_string(line_no),
                  "each line must be an object like {\"text\": \"...\"}");
    auto ids = tok.encode(j["text"].get<std::string>(), eo);
    std::fputs((nlohmann::json{{"ids", ids}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n").c_str(), stdout);
    std::fflush(stdout);
  }
}

void run_tokenize(const TokenizeOptions& o, bool have_text) {
  auto tok = Tokenizer::load(o.tokenizer_path);
  if (o.jsonl) {
    if (o.decode) throw Error("--jsonl and --decode cannot be combined", "paw tokenize");
    return run_jsonl(tok, o);
  }
  std::string text = have_text ? o.text : read_all_stdin();
  if (o.decode) {
    DecodeOptions d;
    d.skip_special = o.no_special;
    auto s = tok.decode(parse_ids(text, tok), d);
    if (o.json) std::puts(nlohmann::json{{"text", s}}.dump().c_str());
    else std::puts(s.c_str());
    return;
  }
  EncodeOptions eo;
  eo.parse_special = !o.no_special;
  print_ids(tok.encode(text, eo), o.json);
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  auto* cmd = app.add_subcommand("tokenize", "Turn text into token ids (or ids into text with --decode)");
  cmd->add_option("--tokenizer", o->tokenizer_path, "GGUF model, tokenizer.json, or a folder holding tokenizer.json")
      ->required();
  auto* text = cmd->add_option("text", o->text, "Text to encode (or ids to decode); read from stdin when absent");
  cmd->add_flag("--no-special", o->no_special,
                "Encode special-token text (e.g. <|im_end|>) as plain text; with --decode, leave special tokens out");
  cmd->add_flag("--decode", o->decode, "Decode ids (\"1 2 3\", \"1,2,3\" or \"[1, 2, 3]\") to text");
  cmd->add_flag("--jsonl", o->jsonl, "Read {\"text\": ...} lines from stdin, write {\"ids\": [...]} lines");
  cmd->add_flag("--json", o->json, "Print JSON ({\"ids\": [...]} or {\"text\": ...})");
  cmd->callback([o, text] { run_tokenize(*o, text->count() > 0); });
}

}  // namespace paw::cli
