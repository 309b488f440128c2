// Answer scoring (see paw/eval/match.hpp).
#include "paw/eval/match.hpp"

#include <nlohmann/json.hpp>
#include <optional>

namespace paw::eval {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// A JSON object or array (scalars are compared as text: "1" vs "01" should not be equal).
std::optional<nlohmann::json> parse_structured(std::string_view s) {
  s = trim(s);
  if (s.empty() || (s.front() != '{' && s.front() != '[')) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(s, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// JSON equality where numbers compare by value (nlohmann compares 1 and 1.0 as different
// types only for unsigned vs float in some versions; normalise to double).
bool json_equal(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto jt = b.find(it.key());
      if (jt == b.end() || !json_equal(it.value(), *jt)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!json_equal(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}

}  // namespace

bool exact_match(std::string_view prediction, std::string_view expected) {
  return trim(prediction) == trim(expected);
}

std::string normalise_answer(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char c : trim(s)) {
    if (is_space(c)) {
      pending_space = true;
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  if (out.size() >= 2) {
    const char q = out.front();
    if ((q == '"' || q == '\'' || q == '`') && out.back() == q) out = out.substr(1, out.size() - 2);
  }
  if (!out.empty() && out.back() == '.') out.pop_back();
  while (!out.empty() && out.back() == ' ') out.pop_back();
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  return out;
}

bool normalised_match(std::string_view prediction, std::string_view expected) {
  const auto pj = parse_structured(prediction);
  const auto ej = parse_structured(expected);
  if (pj && ej) return json_equal(*pj, *ej);
  return normalise_answer(prediction) == normalise_answer(expected);
}

}  // namespace paw::eval
