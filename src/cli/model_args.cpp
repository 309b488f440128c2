// --model / --lora / --prompt handling shared by the model commands.
#include "cli/model_args.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "paw/runtime/model_loader.hpp"
#include "paw/util/error.hpp"

namespace paw::cli {
namespace {

// [+-]digits[.digits][(e|E)[+-]digits] or [+-].digits[...]: strtod alone would also accept
// "inf", "nan" and hex floats, which are never meant as scales.
bool is_plain_number(const std::string& s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

}  // namespace

LoraSpec parse_lora_spec(const std::string& spec) {
  LoraSpec out;
  out.path = spec;
  const size_t colon = spec.rfind(':');
  if (colon != std::string::npos && is_plain_number(spec.substr(colon + 1))) {
    out.path = spec.substr(0, colon);
    const double v = std::strtod(spec.c_str() + colon + 1, nullptr);
    if (!std::isfinite(v) || std::abs(v) > 3.4e38)
      throw Error("LoRA scale '" + spec.substr(colon + 1) + "' is out of range", "--lora " + spec);
    out.scale = static_cast<float>(v);
  }
  if (out.path.empty())
    throw Error("--lora needs a file", "--lora " + spec, "write --lora FILE or --lora FILE:SCALE");
  return out;
}

void add_model_options(CLI::App* cmd, ModelArgs& a, bool with_lora, bool with_ctx, bool with_interleave) {
  cmd->add_option("--model,-m", a.model, "Base model: GGUF file or Hugging Face folder")->required();
  if (with_lora)
    cmd->add_option("--lora", a.loras,
                    "LoRA adapter FILE[:SCALE] (GGUF or PEFT folder; scale default 1; repeatable, applied in order)");
  cmd->add_option("-t,--threads", a.threads, "Threads (default: one per physical core)");
  cmd->add_option("--kv-type", a.kv_type, "KV cache type: f16 (default) or f32")->check(CLI::IsMember({"f16", "f32"}));
  if (with_ctx) cmd->add_option("-c,--ctx", a.n_ctx, "Context length in tokens (default: min(model context, 2048))");
  if (with_interleave) cmd->add_flag("--no-interleave", a.no_interleave, kNoInterleaveHelp);
}

LoadedModel load_model(const ModelArgs& a) {
  LoadedModel m;
  ModelLoadOptions lo;
  lo.interleave = !a.no_interleave;
  ModelWithTokenizer loaded = load_model_with_tokenizer(a.model, lo);
  m.model = std::move(loaded.model);
  m.tokenizer = std::move(loaded.tokenizer);
  const std::string arch(arch_name(m.model->arch()));
  for (const std::string& s : a.loras) {
    const LoraSpec spec = parse_lora_spec(s);
    m.adapters.push_back(ActiveAdapter{LoraAdapter::load(spec.path, arch), spec.scale});
  }
  return m;
}

SessionOptions session_options(const ModelArgs& a, int64_t n_ctx_override) {
  SessionOptions so;
  so.n_ctx = n_ctx_override > 0 ? n_ctx_override : a.n_ctx;
  so.kv_type = a.kv_type == "f32" ? DType::F32 : DType::F16;
  so.n_threads = a.threads;
  return so;
}

Session make_session(const LoadedModel& m, const SessionOptions& so) {
  Session s(m.model, so);
  s.set_adapters(m.adapters);
  return s;
}

std::vector<int32_t> tokenize_prompt(const LoadedModel& m, const std::string& text, bool no_special) {
  EncodeOptions eo;
  eo.parse_special = !no_special;
  eo.add_bos = m.tokenizer.add_bos_default();
  auto ids = m.tokenizer.encode(text, eo);
  if (ids.empty()) throw Error("the prompt has no tokens", "--prompt", "give a non-empty --prompt");
  return ids;
}

}  // namespace paw::cli
