// `paw generate --model M [--lora FILE[:SCALE]]... --prompt TEXT [-n N] [--temp T] [--seed S]
//               [--top-k K] [--top-p P] [--min-p P] [--no-special] [--json] [-t THREADS]`
// Other tools rely on this interface. The prompt is tokenized with special tokens parsed
// (unless --no-special) and a BOS only when the model asks for one; decoding is greedy at
// --temp 0 (default) and stops on the model's end-of-generation ids (runtime/stop_ids.hpp,
// StopSet::Eog), after -n tokens, or when the context is full. Text is streamed to stdout;
// --json prints exactly {"prompt_ids": [...], "ids": [...], "text": "..."} (one line).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/model_args.hpp"
#include "paw/runtime/generate.hpp"
#include "paw/runtime/stop_ids.hpp"

namespace paw::cli {
namespace {

struct GenerateCmdOptions {
  ModelArgs model;
  std::string prompt;
  int64_t n_predict = 256;    // -n: most tokens to generate (-1 = until a stop id or the context is full)
  SamplingOptions sampling;   // --temp 0 = greedy
  bool no_special = false;    // prompt: special-token text as plain text; output: special tokens left out
  bool json = false;
};

// Streams decoded text: everything decoded so far is re-decoded each token (byte-level BPE
// tokens may split a UTF-8 character) and only the stable part is printed — a trailing U+FFFD
// may still become a real character when the next token arrives, so it is held back.
class TextStreamer {
 public:
  TextStreamer(const Tokenizer& tok, DecodeOptions d) : tok_(tok), d_(d) {}
  void push(int32_t id) {
    ids_.push_back(id);
    std::string s = tok_.decode(ids_, d_);
    static const std::string kRepl = "\xEF\xBF\xBD";
    while (s.size() >= kRepl.size() && s.compare(s.size() - kRepl.size(), kRepl.size(), kRepl) == 0)
      s.resize(s.size() - kRepl.size());
    emit(s);
  }
  void finish() {
    emit(tok_.decode(ids_, d_));
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }

 private:
  void emit(const std::string& s) {
    if (s.size() <= printed_ || s.compare(0, printed_, printed_text_) != 0) return;
    std::fwrite(s.data() + printed_, 1, s.size() - printed_, stdout);
    std::fflush(stdout);
    printed_text_ = s;
    printed_ = s.size();
  }
  const Tokenizer& tok_;
  DecodeOptions d_;
  std::vector<int32_t> ids_;
  std::string printed_text_;
  size_t printed_ = 0;
};

void run_generate(const GenerateCmdOptions& o) {
  const LoadedModel m = load_model(o.model);
  const std::vector<int32_t> prompt = tokenize_prompt(m, o.prompt, o.no_special);
  Session session = make_session(m, session_options(o.model));

  GenerateOptions go;
  go.max_tokens = o.n_predict;
  go.sampling = o.sampling;
  go.stop_ids = stop_ids(*m.model, m.tokenizer, StopSet::Eog);
  DecodeOptions d;
  d.skip_special = o.no_special;
  TextStreamer streamer(m.tokenizer, d);
  if (!o.json)
    go.on_token = [&](int32_t id) {
      streamer.push(id);
      return true;
    };
  const GenerateResult r = generate(session, prompt, go);
  if (!o.json) {
    streamer.finish();
    return;
  }
  nlohmann::ordered_json j;
  j["prompt_ids"] = prompt;
  j["ids"] = r.ids;
  j["text"] = m.tokenizer.decode(r.ids, d);
  std::puts(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto o = std::make_shared<GenerateCmdOptions>();
  auto* cmd = app.add_subcommand("generate", "Continue a prompt with a base model (+ LoRA adapters)");
  add_model_options(cmd, o->model);
  cmd->add_option("--prompt,-p", o->prompt, "Prompt text")->required();
  cmd->add_option("-n,--n-predict", o->n_predict, "Most tokens to generate; -1 = until a stop token or the context is full")
      ->capture_default_str();
  cmd->add_option("--temp", o->sampling.temperature, "Temperature; 0 = greedy (default)")->capture_default_str();
  cmd->add_option("--seed", o->sampling.seed, "Sampling seed (same seed, same tokens)")->capture_default_str();
  cmd->add_option("--top-k", o->sampling.top_k, "Keep the K most likely tokens (0 = all)")->capture_default_str();
  cmd->add_option("--top-p", o->sampling.top_p, "Nucleus sampling: keep the smallest set with probability >= P (1 = all)")
      ->capture_default_str();
  cmd->add_option("--min-p", o->sampling.min_p, "Drop tokens with p < P * p_max (0 = off)")->capture_default_str();
  cmd->add_flag("--no-special", o->no_special,
                "Tokenize special-token text in the prompt as plain text and leave special tokens out of the output");
  cmd->add_flag("--json", o->json, "Print {\"prompt_ids\": [...], \"ids\": [...], \"text\": \"...\"}");
  cmd->callback([o] { run_generate(*o); });
}

}  // namespace paw::cli
