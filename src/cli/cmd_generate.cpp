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
#include "paw/tokenizer/text_stream.hpp"

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

// Text is printed as it becomes final (paw::TextStream holds back a character whose bytes are
// not all generated yet).
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
  TextStream stream(m.tokenizer, d);
  auto print = [](const std::string& piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
  };
  if (!o.json)
    go.on_token = [&](int32_t id) {
      print(stream.push(id));
      return true;
    };
  const GenerateResult r = generate(session, prompt, go);
  if (!o.json) {
    print(stream.finish());
    std::fputc('\n', stdout);
    std::fflush(stdout);
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
