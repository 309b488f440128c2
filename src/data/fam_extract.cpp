// extract: copy one named field (email, date, amount, id, name) out of a short message, or
// answer "none" when the message does not contain it. Other kinds of values appear as
// distractors; the answer is always a verbatim substring of the input.
#include "data/dates.hpp"
#include "data/family.hpp"
#include "data/text.hpp"
#include "data/values.hpp"

namespace paw::data {
namespace {

const char* const kKinds[] = {"email", "date", "amount", "id", "name"};
const char* const kDomains[] = {"order",    "invoice", "support ticket", "meeting",  "shipment",
                                "booking",  "refund",  "application",    "subscription", "rental"};

std::vector<std::string> wordings(const std::string& kind) {
  if (kind == "email") return {"email address", "contact email", "e-mail address", "sender's email"};
  if (kind == "date") return {"date", "scheduled date", "due date", "{domain} date"};
  if (kind == "amount") return {"amount", "total amount", "price", "amount paid"};
  if (kind == "id") return {"{domain} id", "reference number", "{domain} number", "id"};
  return {"name", "sender's name", "customer's name", "person's name"};
}

std::vector<std::string> clauses(const std::string& kind) {
  if (kind == "email") return {"you can reach me at {v}", "contact: {v}", "send the {domain} details to {v}", "my email is {v}"};
  if (kind == "date") return {"the {domain} is scheduled for {v}", "dated {v}", "it happened on {v}", "due {v}"};
  if (kind == "amount") return {"the total was {v}", "I paid {v}", "{domain} amount: {v}", "it cost {v}"};
  if (kind == "id") return {"{domain} number {v}", "ref {v}", "my {domain} id is {v}", "quote {v} when you reply"};
  return {"this is {v}", "signed, {v}", "my name is {v}", "{v} here"};
}

const std::vector<std::string>& neutral_clauses() {
  static const std::vector<std::string> v = {"thanks in advance", "hope you are well", "please confirm",
                                             "it was about the {w}", "see the attached {w} file", "no rush"};
  return v;
}

const char* const kDateFormats[] = {"iso", "long_mdy", "long_dmy", "abbr_mdy", "abbr_dmy", "ordinal", "us_slash"};

std::string value_of(const std::string& kind, Rng& r, const Words& w, const std::string& prefix) {
  if (kind == "email") return random_email(r, w);
  if (kind == "date") return format_date(random_date(r, 2015, 2030), r.pick(kDateFormats));
  if (kind == "amount") return random_amount(r);
  if (kind == "id") {
    std::string pre = prefix;
    if (pre.empty()) {
      for (int i = 0; i < 3; ++i) pre.push_back(static_cast<char>('A' + r.below(26)));
    }
    return random_id(r, pre);
  }
  return random_person(r);
}

class Extract final : public Family {
 public:
  const char* name() const override { return "extract"; }
  const char* description() const override {
    return "copy a named field (email, date, amount, id, name) out of a message, or answer none";
  }

  json draw_params(Rng& r, const Words&) const override {
    const std::string kind = r.pick(kKinds);
    const std::string domain = r.pick(kDomains);
    std::string what = r.pick(wordings(kind));
    if (const size_t at = what.find("{domain}"); at != std::string::npos) what.replace(at, 8, domain);
    std::string prefix;
    if (kind == "id") {
      for (int i = 0; i < 3; ++i) prefix.push_back(static_cast<char>('A' + r.below(26)));
    }
    return {{"field", kind}, {"what", what}, {"domain", domain}, {"prefix", prefix}};
  }

  std::string instruction(const json& p, Rng& r) const override {
    const std::string what = p.at("what");
    const std::string domain = p.at("domain");
    const std::string prefix = p.at("prefix");
    const std::string hint = prefix.empty() ? "" : " (it looks like " + prefix + "-12345)";
    switch (r.below(3)) {
      case 0:
        return "Extract the " + what + hint + " from the " + domain + " message. Copy it exactly as written. If there is none, answer none.";
      case 1:
        return "What is the " + what + " in this text" + hint + "? Reply with the value only, or \"none\" if it is missing.";
      default:
        return "From each " + domain + " note, pull out the " + what + hint + ". Output it verbatim; output none when the note has no " +
               what + ".";
    }
  }

  Sample sample(const json& p, Rng& r, const Words& w) const override {
    const std::string kind = p.at("field");
    const std::string domain = p.at("domain");
    const std::string prefix = p.at("prefix");
    const bool present = r.chance(0.85);
    struct Clause {
      std::string tmpl;
      std::string value;
    };
    std::vector<Clause> parts;
    Sample s;
    if (present) {
      Clause c{r.pick(clauses(kind)), value_of(kind, r, w, prefix)};
      s.output = c.value;
      parts.push_back(std::move(c));
    } else {
      s.output = "none";
    }
    // Distractors: other kinds only, so the answer stays unique.
    std::vector<std::string> others;
    for (const char* k : kKinds) {
      if (kind != k) others.emplace_back(k);
    }
    const size_t n_dis = static_cast<size_t>(r.range(present ? 0 : 1, 2));
    for (size_t i : r.sample_indices(others.size(), n_dis)) {
      parts.push_back(Clause{r.pick(clauses(others[i])), value_of(others[i], r, w, "")});
    }
    if (r.chance(0.5)) parts.push_back(Clause{r.pick(neutral_clauses()), ""});
    r.shuffle(parts);
    static const char* const kSeps[] = {". ", ", ", "; ", " - "};
    const std::string sep = r.pick(kSeps);
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i) s.segs.push_back(Seg{sep, false});
      auto segs = render(parts[i].tmpl, {{"v", parts[i].value, true}, {"domain", domain}, {"w", w.pick(r)}});
      s.segs.insert(s.segs.end(), segs.begin(), segs.end());
    }
    if (sep == ". " && r.chance(0.5)) s.segs.push_back(Seg{".", false});
    if (r.chance(0.5)) capitalize_first(s.segs);
    return s;
  }
};

}  // namespace

const Family& family_extract() {
  static const Extract f;
  return f;
}

}  // namespace paw::data
