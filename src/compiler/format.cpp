// Shared compiler definitions (see paw/compiler/format.hpp): template, spec normalisation,
// layer choice, encoder input.
#include "paw/compiler/format.hpp"

#include <algorithm>

#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"

namespace paw::compiler {

std::string prompted_template() {
  return "<|im_start|>user\n" + std::string(kPseudoProgramPlaceholder) + "\n[INPUT]\n" +
         std::string(kInputPlaceholder) + "\n[END_INPUT]\n<|im_end|>\n<|im_start|>assistant\n";
}

namespace {
size_t count_of(std::string_view s, std::string_view needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string_view::npos; p = s.find(needle, p + needle.size())) ++n;
  return n;
}
}  // namespace

std::string render_template(std::string_view tmpl, std::string_view pseudo) {
  if (count_of(tmpl, kPseudoProgramPlaceholder) != 1 || count_of(tmpl, kInputPlaceholder) != 1)
    throw Error("the program template must hold {PSEUDO_PROGRAM} and {INPUT_PLACEHOLDER} exactly once each",
                "compiler template", "the compiler file is damaged or was written by another tool");
  if (count_of(pseudo, kInputPlaceholder) || count_of(pseudo, kPseudoProgramPlaceholder))
    throw Error("the spec contains the text {INPUT_PLACEHOLDER} or {PSEUDO_PROGRAM}", "spec",
                "these markers are reserved for the program template; reword the spec");
  const size_t p = tmpl.find(kPseudoProgramPlaceholder);
  std::string out(tmpl.substr(0, p));
  out += pseudo;
  out += tmpl.substr(p + kPseudoProgramPlaceholder.size());
  return out;
}

std::string normalize_spec(std::string_view spec) {
  std::vector<std::string> lines(1);
  for (size_t i = 0; i < spec.size(); ++i) {
    const char c = spec[i];
    if (c == '\r') {
      if (i + 1 < spec.size() && spec[i + 1] == '\n') ++i;
      lines.emplace_back();
    } else if (c == '\n') {
      lines.emplace_back();
    } else {
      lines.back() += c;
    }
  }
  for (auto& l : lines)
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t' || l.back() == '\f' || l.back() == '\v')) l.pop_back();
  size_t first = 0, last = lines.size();
  while (first < last && lines[first].empty()) ++first;
  while (last > first && lines[last - 1].empty()) --last;
  std::string out;
  int blank_run = 0;
  for (size_t i = first; i < last; ++i) {
    if (lines[i].empty()) {
      if (++blank_run > 1) continue;  // at most one empty line in a row: "\n\n"
    } else {
      blank_run = 0;
    }
    if (i > first) out += '\n';
    out += lines[i];
  }
  return out;
}

std::vector<int64_t> depth_ratio_layers(int64_t n_interp, int64_t n_enc) {
  if (n_interp <= 0 || n_enc <= 0)
    throw Error("layer counts must be positive", "depth_ratio_layers");
  std::vector<int64_t> out;
  for (int64_t l = 0; l < n_interp; ++l) out.push_back(std::max<int64_t>(0, (l + 1) * n_enc / n_interp - 1));
  return out;
}

std::vector<std::string> sorted_modules(std::vector<std::string> modules) {
  std::sort(modules.begin(), modules.end());
  modules.erase(std::unique(modules.begin(), modules.end()), modules.end());
  return modules;
}

std::string module_tensor(const std::string& s) {
  if (s == "q") return "attn_q";
  if (s == "k") return "attn_k";
  if (s == "v") return "attn_v";
  if (s == "o") return "attn_output";
  if (s == "gate") return "ffn_gate";
  if (s == "up") return "ffn_up";
  if (s == "down") return "ffn_down";
  throw Error("unknown module '" + s + "'", "compiler.lora.modules", "qwen3 modules are q k v o gate up down");
}

std::vector<int32_t> encoder_input(const Tokenizer& tok, std::string_view spec, std::string_view pseudo,
                                   const EncoderInputOptions& o) {
  if (o.eos_id < 0 || o.prefix_first_id < 0 || o.prefix_tokens <= 0)
    throw Error("the compiler's EOS or prefix token ids are not set", "encoder input",
                "the compiler file lacks compiler.prefix_first_id / tokenizer.ggml.eos_token_id");
  std::vector<int32_t> ids;
  if (o.spec_conditioned) {
    std::string text(spec);
    text += '\n';
    text += pseudo;
    EncodeOptions eo;
    eo.parse_special = false;
    eo.add_bos = false;
    ids = tok.encode(text, eo);
  }
  const int64_t text_tokens = static_cast<int64_t>(ids.size());
  const int64_t room = o.max_tokens - 1 - o.prefix_tokens;
  if (o.max_tokens > 0 && text_tokens > room)
    throw Error("the spec is too long: spec and pseudo-program take " + std::to_string(text_tokens) +
                    " tokens, the compiler reads at most " + std::to_string(std::max<int64_t>(room, 0)) +
                    " (the spec is " + std::to_string(spec.size()) + " bytes)",
                "spec", "shorten the spec (fewer or shorter worked examples)");
  ids.push_back(o.eos_id);
  for (int64_t k = 0; k < o.prefix_tokens; ++k) ids.push_back(static_cast<int32_t>(o.prefix_first_id + k));
  return ids;
}

}  // namespace paw::compiler
