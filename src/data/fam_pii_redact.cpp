// pii_redact: replace the requested kinds of personal data (emails, phone numbers, people's
// names) in a short message with a placeholder; other kinds stay as they are.
#include <algorithm>
#include <memory>

#include "data/family.hpp"
#include "data/text.hpp"
#include "data/values.hpp"

namespace paw::data {
namespace {

const char* const kKinds[] = {"email", "name", "phone"};
const char* const kStyles[] = {"brackets", "angle", "redacted"};

std::string tag(const std::string& kind, const std::string& style) {
  if (style == "brackets") return "[" + upper(kind) + "]";
  if (style == "angle") return "<" + upper(kind) + ">";
  return "[REDACTED]";
}

std::vector<std::string> clauses(const std::string& kind) {
  if (kind == "email") return {"write to {v}", "my email is {v}", "cc {v} on the reply"};
  if (kind == "phone") return {"call me at {v}", "my number is {v}", "text {v} after six"};
  return {"{v} will join", "ask {v} about it", "this is {v}"};
}
const std::vector<std::string>& neutral() {
  static const std::vector<std::string> v = {"the {w} is ready", "thanks for the {w}", "see you {day}", "bring the {w}"};
  return v;
}

class PiiRedact final : public Family {
 public:
  const char* name() const override { return "pii_redact"; }
  const char* description() const override {
    return "replace the requested kinds of personal data (email, phone, name) with a placeholder";
  }

  json draw_params(Rng& r, const Words&) const override {
    std::vector<std::string> kinds;
    for (size_t i : r.sample_indices(3, static_cast<size_t>(r.range(1, 3)))) kinds.emplace_back(kKinds[i]);
    std::sort(kinds.begin(), kinds.end());
    return {{"kinds", kinds}, {"style", r.pick(kStyles)}};
  }

  std::string instruction(const json& p, Rng& r) const override {
    const auto kinds = p.at("kinds").get<std::vector<std::string>>();
    const std::string style = p.at("style");
    std::vector<std::string> what, tags;
    for (const auto& k : kinds) {
      what.push_back(k == "email" ? "email addresses" : k == "phone" ? "phone numbers" : "people's names");
      tags.push_back(tag(k, style));
    }
    const std::string w = phrase_list(what, "and");
    std::string repl = style == "redacted" ? "[REDACTED]" : phrase_list(tags, "and") + " respectively";
    switch (r.below(3)) {
      case 0: return "Redact " + w + " from the text: replace each with " + repl + ". Keep everything else unchanged.";
      case 1: return "Privacy filter. Replace " + w + " by " + repl + " and copy the rest of the message exactly.";
      default: return "Output the message with all " + w + " masked as " + repl + ". Nothing else may change.";
    }
  }

  Sample sample(const json& p, Rng& r, const Words& w) const override {
    const auto kinds = p.at("kinds").get<std::vector<std::string>>();
    const std::string style = p.at("style");
    struct Part {
      std::string tmpl, kind, value;
    };
    std::vector<Part> parts;
    const size_t n_pii = static_cast<size_t>(r.range(1, 3));
    for (size_t i = 0; i < n_pii; ++i) {
      // Mostly requested kinds; sometimes another kind that must stay visible.
      const std::string kind = r.chance(0.75) ? r.pick(kinds) : std::string(r.pick(kKinds));
      const std::string v = kind == "email" ? random_email(r, w) : kind == "phone" ? random_phone(r) : random_person(r);
      parts.push_back(Part{r.pick(clauses(kind)), kind, v});
    }
    if (r.chance(0.6)) parts.push_back(Part{r.pick(neutral()), "", ""});
    r.shuffle(parts);
    static const char* const kSeps[] = {". ", ", ", "; "};
    const std::string sep = r.pick(kSeps);
    static const char* const kDays[] = {"monday", "friday", "tomorrow", "soon"};
    auto redact = std::make_shared<std::vector<std::pair<std::string, std::string>>>();
    Sample s;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i) s.segs.push_back(Seg{sep, false});
      auto segs = render(parts[i].tmpl, {{"v", parts[i].value, true}, {"w", w.pick(r)}, {"day", r.pick(kDays)}});
      s.segs.insert(s.segs.end(), segs.begin(), segs.end());
      if (!parts[i].kind.empty() && std::find(kinds.begin(), kinds.end(), parts[i].kind) != kinds.end()) {
        redact->emplace_back(parts[i].value, tag(parts[i].kind, style));
      }
    }
    if (r.chance(0.5)) s.segs.push_back(Seg{".", false});
    // The answer echoes the (possibly noisy) message with the kept PII segments replaced.
    s.finalize = [redact](const std::vector<Seg>& segs) {
      std::string out;
      for (const Seg& sg : segs) {
        std::string piece = sg.text;
        if (sg.keep) {
          for (const auto& [value, t] : *redact) {
            if (sg.text == value) piece = t;
          }
        }
        out += piece;
      }
      return out;
    };
    s.noise_kinds = kNoiseTypo | kNoiseCase | kNoiseSpace | kNoiseFiller;
    return s;
  }
};

}  // namespace

const Family& family_pii_redact() {
  static const PiiRedact f;
  return f;
}

}  // namespace paw::data
