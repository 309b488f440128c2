#include "data_checks.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace paw::test {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Lowercase alphabetic words of a text.
std::set<std::string> word_bag(const std::string& text) {
  std::set<std::string> out;
  std::string cur;
  for (char c : text + " ") {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!cur.empty()) {
      out.insert(cur);
      cur.clear();
    }
  }
  return out;
}

std::vector<std::string> split_on(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t at = s.find(sep, start);
    if (at == std::string::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, at - start));
    start = at + sep.size();
  }
}

std::string joined(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::vector<long long> integers_in(const std::string& s) {
  std::vector<long long> out;
  std::string cur;
  for (char c : s + " ") {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      cur += c;
    } else if (!cur.empty()) {
      out.push_back(std::stoll(cur));
      cur.clear();
    }
  }
  return out;
}

#define EXPECT_OR_RETURN(cond, msg) \
  do {                              \
    if (!(cond)) return msg;        \
  } while (0)

// ---- classify / keyword_tag / sentiment -------------------------------------------------

std::string check_classify(const json& p, const std::string& in, const std::string& out) {
  const auto bag = word_bag(in);
  std::vector<std::string> hit;
  for (const auto& l : p["labels"]) {
    for (const auto& c : l["cues"]) {
      if (bag.count(c.get<std::string>())) hit.push_back(l["name"]);
    }
  }
  if (hit.empty()) {
    EXPECT_OR_RETURN(!p["fallback"].get<std::string>().empty(), "no cue in the input and no fallback label");
    EXPECT_OR_RETURN(out == p["fallback"].get<std::string>(), "expected the fallback label");
    return "";
  }
  EXPECT_OR_RETURN(hit.size() == 1, "cues of several labels in the input");
  EXPECT_OR_RETURN(out == hit[0], "expected label " + hit[0]);
  return "";
}

std::string check_keyword_tag(const json& p, const std::string& in, const std::string& out) {
  const auto bag = word_bag(in);
  std::vector<std::string> tags;
  for (const auto& t : p["tags"]) {
    bool any = false;
    for (const auto& c : t["cues"]) any = any || bag.count(c.get<std::string>()) > 0;
    if (any) tags.push_back(t["name"]);
  }
  const std::string want = tags.empty() ? p["none"].get<std::string>() : joined(tags, p["sep"]);
  EXPECT_OR_RETURN(out == want, "expected tags '" + want + "'");
  return "";
}

std::string check_sentiment(const json& p, const std::string& in, const std::string& out) {
  const json& l = p["labels"];
  std::set<std::string> labels = {l["pos"], l["neg"]};
  if (l.contains("neu")) labels.insert(l["neu"].get<std::string>());
  EXPECT_OR_RETURN(labels.count(out), "output is not one of the labels");
  const auto bag = word_bag(in);
  for (const auto& c : p["cues"]) {
    if (bag.count(c["word"].get<std::string>())) {
      const std::string want = l[c["polarity"].get<std::string>()];
      EXPECT_OR_RETURN(out == want, "custom cue '" + c["word"].get<std::string>() + "' means " + want);
    }
  }
  if (bag.count("not")) EXPECT_OR_RETURN(out == l["neg"].get<std::string>(), "a negated good word is negative");
  return "";
}

// ---- extract ----------------------------------------------------------------------------

std::string check_extract(const json& p, const std::string& in, const std::string& out) {
  const std::string field = p["field"];
  const std::string prefix = p["prefix"];
  if (out == "none") {
    if (field == "email") EXPECT_OR_RETURN(in.find('@') == std::string::npos, "an email is present but the answer is none");
    if (field == "id") EXPECT_OR_RETURN(in.find(prefix + "-") == std::string::npos, "an id is present but the answer is none");
    return "";
  }
  EXPECT_OR_RETURN(in.find(out) != std::string::npos, "the extracted value is not in the input");
  static const std::regex email(R"([a-z0-9._]+@[a-z]+\.[a-z]+)");
  static const std::regex name(R"([A-Z][a-z]+ [A-Z][a-z]+)");
  static const std::regex digits(R"(.*[0-9].*)");
  if (field == "email") EXPECT_OR_RETURN(std::regex_match(out, email), "not an email");
  if (field == "id") EXPECT_OR_RETURN(std::regex_match(out, std::regex(prefix + "-[0-9]{4,6}")), "not an id with the prefix");
  if (field == "name") EXPECT_OR_RETURN(std::regex_match(out, name), "not a First Last name");
  if (field == "date" || field == "amount") EXPECT_OR_RETURN(std::regex_match(out, digits), "no digits");
  return "";
}

// ---- json_repair -------------------------------------------------------------------------

struct Lenient {
  const std::string& s;
  size_t i = 0;

  void ws() {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  }
  [[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + " at " + std::to_string(i)); }

  std::string quoted() {
    const char q = s[i++];
    const size_t end = s.find(q, i);
    if (end == std::string::npos) fail("unterminated string");
    std::string out = s.substr(i, end - i);
    i = end + 1;
    return out;
  }
  std::string bare() {
    const size_t b = i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '-' || s[i] == '.')) ++i;
    if (b == i) fail("expected a token");
    return s.substr(b, i - b);
  }
  ordered_json value() {
    ws();
    if (i >= s.size()) fail("missing value");
    if (s[i] == '{') return object();
    if (s[i] == '[') return array();
    if (s[i] == '"' || s[i] == '\'') return quoted();
    const std::string t = bare();
    if (t == "true" || t == "True") return true;
    if (t == "false" || t == "False") return false;
    if (t == "null" || t == "None") return nullptr;
    size_t used = 0;
    const long long v = std::stoll(t, &used);
    if (used != t.size()) fail("bad number " + t);
    return v;
  }
  ordered_json array() {
    ++i;
    ordered_json a = ordered_json::array();
    for (;;) {
      ws();
      if (i >= s.size() || s[i] == ']') break;
      if (s[i] == ',') {
        ++i;
        continue;
      }
      a.push_back(value());
    }
    if (i < s.size()) ++i;
    return a;
  }
  ordered_json object() {
    ++i;
    ordered_json o = ordered_json::object();
    for (;;) {
      ws();
      if (i >= s.size() || s[i] == '}') break;  // a missing '}' ends the object at the end
      if (s[i] == ',') {
        ++i;
        continue;
      }
      const std::string key = (s[i] == '"' || s[i] == '\'') ? quoted() : bare();
      ws();
      if (i >= s.size() || s[i] != ':') fail("expected ':'");
      ++i;
      o[key] = value();
    }
    if (i < s.size()) ++i;
    return o;
  }
};

std::string check_json_repair(const json& p, const std::string& in, const std::string& out) {
  ordered_json parsed;
  try {
    parsed = ordered_json::parse(out);
  } catch (const std::exception& e) {
    return std::string("output is not valid JSON: ") + e.what();
  }
  EXPECT_OR_RETURN(parsed.dump() == out, "output is not compact JSON");
  EXPECT_OR_RETURN(!json::accept(in), "the input is already valid JSON");
  ordered_json repaired;
  try {
    repaired = lenient_json(in);
  } catch (const std::exception& e) {
    return std::string("the test's lenient parser rejects the input: ") + e.what();
  }
  EXPECT_OR_RETURN(repaired.dump() == out, "expected " + repaired.dump());
  std::vector<std::string> keys;
  for (const auto& f : p["fields"]) keys.push_back(f["key"]);
  std::vector<std::string> got;
  for (const auto& [k, v] : parsed.items()) got.push_back(k);
  EXPECT_OR_RETURN(got == keys, "keys differ from the params' fields");
  return "";
}

// ---- date_norm ----------------------------------------------------------------------------

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int mdays(int y, int m) {
  const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : d[m - 1];
}
// Zeller's congruence: 0 = Saturday, 1 = Sunday, ... 6 = Friday.
int zeller(int y, int m, int d) {
  if (m < 3) {
    m += 12;
    y -= 1;
  }
  const int k = y % 100, j = y / 100;
  return (d + 13 * (m + 1) / 5 + k + k / 4 + j / 4 + 5 * j) % 7;
}

std::string check_date_norm(const json& p, const std::string& in, const std::string& out) {
  static const std::regex iso(R"((\d{4})-(\d{2})-(\d{2}))");
  std::smatch m;
  EXPECT_OR_RETURN(std::regex_match(out, m, iso), "output is not YYYY-MM-DD");
  const int y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]);
  EXPECT_OR_RETURN(mo >= 1 && mo <= 12 && d >= 1 && d <= mdays(y, mo), "output is not a valid date");

  const std::string low = lower(in);
  static const char* months[] = {"january", "february", "march",     "april",   "may",      "june",
                                 "july",    "august",   "september", "october", "november", "december"};
  int month_named = 0;
  const auto bag = word_bag(in);
  for (int k = 0; k < 12; ++k) {
    const std::string full = months[k];
    if (bag.count(full) || bag.count(full.substr(0, 3))) month_named = k + 1;
  }
  static const std::regex digit_run(R"(\d+)");
  std::vector<std::string> runs;
  for (auto it = std::sregex_iterator(in.begin(), in.end(), digit_run); it != std::sregex_iterator(); ++it) runs.push_back(it->str());
  if (runs.size() == 1 && runs[0].size() == 8) {  // compact YYYYMMDD
    EXPECT_OR_RETURN(runs[0] == out.substr(0, 4) + out.substr(5, 2) + out.substr(8, 2), "compact date mismatch");
    return "";
  }
  int year = -1;
  std::vector<int> small;
  size_t year_pos = 0;
  for (size_t k = 0; k < runs.size(); ++k) {
    if (runs[k].size() == 4) {
      year = std::stoi(runs[k]);
      year_pos = k;
    } else {
      small.push_back(std::stoi(runs[k]));
    }
  }
  EXPECT_OR_RETURN(year == y, "year differs from the input's");
  if (month_named) {
    EXPECT_OR_RETURN(month_named == mo, "month differs from the input's month name");
    EXPECT_OR_RETURN(small.size() == 1 && small[0] == d, "day differs from the input's");
  } else {
    EXPECT_OR_RETURN(small.size() == 2, "expected day and month numbers in the input");
    int want_m, want_d;
    if (year_pos == 0) {  // 2021-03-05, 2021/03/05
      want_m = small[0];
      want_d = small[1];
    } else {
      const bool dots = in.find('.') != std::string::npos && std::regex_search(in, std::regex(R"(\d\.\d)"));
      bool us = false;
      for (const auto& f : p["formats"]) us = us || f == "us_slash";
      const bool month_first = !dots && us;  // the spec declares slashes month/day when us_slash is listed
      want_m = month_first ? small[0] : small[1];
      want_d = month_first ? small[1] : small[0];
    }
    EXPECT_OR_RETURN(want_m == mo && want_d == d, "month/day differ from the input's");
  }
  static const char* wd[] = {"saturday", "sunday", "monday", "tuesday", "wednesday", "thursday", "friday"};
  for (int k = 0; k < 7; ++k) {
    if (bag.count(wd[k])) EXPECT_OR_RETURN(zeller(y, mo, d) == k, "weekday in the input does not match the date");
  }
  return "";
}

// ---- log_triage ----------------------------------------------------------------------------

std::string check_log_triage(const json& p, const std::string& in, const std::string& out) {
  std::set<std::string> fail;
  for (const auto& l : p["fail_levels"]) fail.insert(l.get<std::string>());
  const auto services = p["services"].get<std::vector<std::string>>();
  std::vector<std::string> failing;
  std::string first;
  for (const auto& line : split_on(in, "\n")) {
    // Tokens split at spaces, '=' and brackets; the level is one of them (any case).
    std::string tok;
    std::set<std::string> toks;
    for (char c : line + " ") {
      if (c == ' ' || c == '=' || c == '[' || c == ']' || c == '"' || c == ':') {
        if (!tok.empty()) toks.insert(tok);
        tok.clear();
      } else {
        tok += c;
      }
    }
    bool is_fail = false;
    for (const auto& t : toks) {
      std::string up = t;
      for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      // The level token is written all upper (or all lower in key=value logs).
      if (fail.count(up) && (t == up || t == lower(up))) is_fail = true;
    }
    if (!is_fail) continue;
    failing.push_back(line);
    if (first.empty()) {
      for (const auto& s : services) {
        if (toks.count(s)) first = s;
      }
    }
  }
  const std::string task = p["task"];
  if (task == "error_lines") {
    const std::string want = failing.empty() ? "none" : joined(failing, "\n");
    EXPECT_OR_RETURN(out == want, "expected failing lines:\n" + want);
  } else if (task == "first_failure") {
    const std::string want = failing.empty() ? "none" : first;
    EXPECT_OR_RETURN(out == want, "expected first failing service " + want);
  } else {
    EXPECT_OR_RETURN(out == std::to_string(failing.size()), "expected count " + std::to_string(failing.size()));
  }
  return "";
}

// ---- intent_route / closest_match / yes_no ----------------------------------------------------

std::string check_intent_route(const json& p, const std::string&, const std::string& out) {
  const auto opts = p["options"].get<std::vector<std::string>>();
  const std::string style = p["style"];
  for (size_t i = 0; i < opts.size(); ++i) {
    const std::string key = style == "letter" ? std::string(1, static_cast<char>('A' + i))
                            : style == "number" ? std::to_string(i + 1)
                                                : opts[i];
    if (out == key) return "";
  }
  return "output is not one of the options";
}

std::string check_closest_match(const json& p, const std::string& in, const std::string& out) {
  const std::string q = lower(trim(in));
  const auto cands = p["candidates"].get<std::vector<std::string>>();
  size_t best = 0, best_d = SIZE_MAX, ties = 0;
  for (size_t i = 0; i < cands.size(); ++i) {
    const size_t d = edit_distance(q, cands[i]);
    if (d < best_d) {
      best_d = d;
      best = i;
      ties = 0;
    } else if (d == best_d) {
      ++ties;
    }
  }
  EXPECT_OR_RETURN(ties == 0, "the nearest candidate is not unique");
  EXPECT_OR_RETURN(lower(out) == cands[best], "expected " + cands[best]);
  return "";
}

std::string check_yes_no(const json& p, const std::string& in, const std::string& out) {
  const std::string q = p["question"];
  bool yes = false;
  if (q == "mentions") {
    yes = word_bag(in).count(p["word"].get<std::string>()) > 0;
  } else if (q == "number_above") {
    for (long long v : integers_in(in)) yes = yes || v > p["threshold"].get<long long>();
  } else if (q == "has_email") {
    yes = std::regex_search(in, std::regex(R"([A-Za-z0-9._]+@[A-Za-z]+\.[A-Za-z]+)"));
  } else if (q == "is_question") {
    const std::string t = trim(in);
    yes = !t.empty() && t.back() == '?';
  } else {
    std::istringstream ss(in);
    std::string w;
    long long n = 0;
    while (ss >> w) ++n;
    yes = n > p["threshold"].get<long long>();
  }
  const std::string want = yes ? p["yes"] : p["no"];
  EXPECT_OR_RETURN(out == want, "expected " + want);
  return "";
}

// ---- list_ops ------------------------------------------------------------------------------

std::string check_list_ops(const json& p, const std::string& in, const std::string& out) {
  const std::string sep = p["in_sep"];
  std::vector<std::string> items;
  if (sep == " " || sep == "\n") {
    std::istringstream ss(in);
    std::string w;
    while (ss >> w) items.push_back(w);
  } else {
    const std::string cut = sep == ", " ? "," : sep == "; " ? ";" : "|";
    for (auto& it : split_on(in, cut)) items.push_back(trim(it));
  }
  const bool numbers = p["kind"] == "numbers";
  auto less = [&](const std::string& a, const std::string& b) { return numbers ? std::stoll(a) < std::stoll(b) : a < b; };
  const std::string op = p["op"];
  std::string want;
  std::vector<std::string> v = items;
  if (op == "sort_asc") {
    std::sort(v.begin(), v.end(), less);
    want = joined(v, p["out_sep"]);
  } else if (op == "sort_desc") {
    std::sort(v.begin(), v.end(), [&](const std::string& a, const std::string& b) { return less(b, a); });
    want = joined(v, p["out_sep"]);
  } else if (op == "dedupe") {
    std::vector<std::string> u;
    std::set<std::string> seen;
    for (const auto& it : items) {
      if (seen.insert(it).second) u.push_back(it);
    }
    want = joined(u, p["out_sep"]);
  } else if (op == "reverse") {
    want = joined(std::vector<std::string>(items.rbegin(), items.rend()), p["out_sep"]);
  } else if (op == "count") {
    want = std::to_string(items.size());
  } else if (op == "count_distinct") {
    want = std::to_string(std::set<std::string>(items.begin(), items.end()).size());
  } else if (op == "count_of") {
    want = std::to_string(std::count(items.begin(), items.end(), p["target"].get<std::string>()));
  } else if (op == "max") {
    want = *std::max_element(items.begin(), items.end(), less);
  } else {
    want = *std::min_element(items.begin(), items.end(), less);
  }
  EXPECT_OR_RETURN(out == want, "expected '" + want + "'");
  return "";
}

// ---- unit_convert / case_format / pii_redact --------------------------------------------------

std::string check_unit_convert(const json& p, const std::string& in, const std::string& out) {
  // Published definitions (SI, US customary, IEC), written independently of the generator.
  static const std::map<std::string, long long> big_to_small = {
      {"km>m", 1000}, {"m>cm", 100},  {"cm>mm", 10},   {"m>mm", 1000},   {"kg>g", 1000},   {"g>mg", 1000},
      {"t>kg", 1000}, {"h>min", 60},  {"min>s", 60},   {"d>h", 24},      {"wk>d", 7},      {"yr>mo", 12},
      {"ft>in", 12},  {"yd>ft", 3},   {"mi>ft", 5280}, {"lb>oz", 16},    {"gal>qt", 4},    {"L>mL", 1000},
      {"kB>B", 1000}, {"GB>MB", 1000}, {"KiB>B", 1024}, {"century>yr", 100}, {"dozen>pcs", 12}};
  const std::string from = p["from"], to = p["to"];
  long long x = integers_in(in).at(0), want;
  if (auto it = big_to_small.find(from + ">" + to); it != big_to_small.end()) {
    want = x * it->second;
  } else {
    auto back = big_to_small.find(to + ">" + from);
    EXPECT_OR_RETURN(back != big_to_small.end(), "unknown conversion " + from + " -> " + to);
    EXPECT_OR_RETURN(x % back->second == 0, "input is not a whole number of the bigger unit");
    want = x / back->second;
  }
  const auto got = integers_in(out);
  EXPECT_OR_RETURN(!got.empty() && got[0] == want, "expected " + std::to_string(want));
  const std::string style = p["out"];
  if (style == "number") EXPECT_OR_RETURN(out == std::to_string(want), "expected a bare number");
  if (style == "symbol") EXPECT_OR_RETURN(out == std::to_string(want) + " " + to, "expected number and symbol");
  return "";
}

std::string check_case_format(const json& p, const std::string& in, const std::string& out) {
  std::vector<std::string> words;
  std::string cur;
  const std::string t = trim(in);
  for (size_t i = 0; i <= t.size(); ++i) {
    const char c = i < t.size() ? t[i] : ' ';
    const bool boundary = !std::isalnum(static_cast<unsigned char>(c)) ||
                          (std::isupper(static_cast<unsigned char>(c)) && i > 0 && std::islower(static_cast<unsigned char>(t[i - 1])));
    if (boundary && !cur.empty()) {
      words.push_back(lower(cur));
      cur.clear();
    }
    if (std::isalnum(static_cast<unsigned char>(c))) cur += c;
  }
  const std::string to = p["to"];
  std::vector<std::string> w = words;
  auto cap = [](std::string s) {
    s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
  };
  std::string want;
  if (to == "snake") want = joined(w, "_");
  else if (to == "kebab") want = joined(w, "-");
  else if (to == "dot") want = joined(w, ".");
  else if (to == "lower") want = joined(w, " ");
  else if (to == "upper_snake") {
    for (auto& s : w)
      for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    want = joined(w, "_");
  } else if (to == "title") {
    for (auto& s : w) s = cap(s);
    want = joined(w, " ");
  } else {
    for (size_t i = (to == "camel" ? 1 : 0); i < w.size(); ++i) w[i] = cap(w[i]);
    want = joined(w, "");
  }
  EXPECT_OR_RETURN(out == want, "expected " + want);
  return "";
}

std::string regex_escape(const std::string& s) {
  static const std::string special = R"(\^$.|?*+()[]{})";
  std::string out;
  for (char c : s) {
    if (special.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string check_pii_redact(const json& p, const std::string& in, const std::string& out) {
  const auto kinds = p["kinds"].get<std::vector<std::string>>();
  const std::string style = p["style"];
  const std::string email = R"([a-z0-9._]+@[a-z]+\.[a-z]+)";
  const std::string phone = R"((\+1 \d{3} \d{3} \d{4}|\(\d{3}\) \d{3}-\d{4}|\d{3}-\d{3}-\d{4}))";
  const std::string name = R"([A-Z][a-z]+ [A-Z][a-z]+)";
  auto tag_of = [&](const std::string& k) {
    std::string up = k;
    for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return style == "brackets" ? "[" + up + "]" : style == "angle" ? "<" + up + ">" : std::string("[REDACTED]");
  };
  std::string any;
  for (const auto& k : kinds) any += std::string(any.empty() ? "" : "|") + (k == "email" ? email : k == "phone" ? phone : name);
  // Turn the output into a pattern: placeholders match a value of a requested kind, the rest
  // must equal the input literally.
  std::string pattern;
  size_t i = 0;
  while (i < out.size()) {
    bool matched = false;
    for (const auto& k : kinds) {
      const std::string t = tag_of(k);
      if (out.compare(i, t.size(), t) == 0) {
        pattern += "(" + (style == "redacted" ? any : (k == "email" ? email : k == "phone" ? phone : name)) + ")";
        i += t.size();
        matched = true;
        break;
      }
    }
    if (!matched) pattern += regex_escape(std::string(1, out[i++]));
  }
  EXPECT_OR_RETURN(std::regex_match(in, std::regex(pattern)), "output is not the input with placeholders");
  for (const auto& k : kinds) {
    if (k == "email") EXPECT_OR_RETURN(!std::regex_search(out, std::regex(email)), "an email is left");
    if (k == "phone") EXPECT_OR_RETURN(!std::regex_search(out, std::regex(R"(\d{3}[- ]\d{4})")), "a phone number is left");
  }
  return "";
}

// ---- copy tasks: echo / sequence_next / table_lookup --------------------------------------------

std::string check_echo(const json& p, const std::string& in, const std::string& out) {
  EXPECT_OR_RETURN(out == in, "the output is not the input verbatim");
  // The input is 2..max_words lowercase words joined by single spaces, nothing else.
  const std::string sep = " ";
  size_t n = 1;
  for (size_t at = in.find(sep); at != std::string::npos; at = in.find(sep, at + sep.size())) ++n;
  EXPECT_OR_RETURN(n >= 2 && n <= p["max_words"].get<size_t>(), "word count " + std::to_string(n) + " out of range");
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t end = i + 1 < n ? in.find(sep, start) : in.size();
    const std::string w = in.substr(start, end - start);
    EXPECT_OR_RETURN(!w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; }),
                     "'" + w + "' is not a lowercase word");
    start = end + sep.size();
  }
  return "";
}

std::string check_sequence_next(const json& p, const std::string& in, const std::string& out) {
  const auto seq = p["sequence"].get<std::vector<std::string>>();
  const std::string q = trim(in);
  const auto it = std::find(seq.begin(), seq.end(), q);
  EXPECT_OR_RETURN(it != seq.end() && it + 1 != seq.end(), "the input is not a word with a successor");
  EXPECT_OR_RETURN(out == *(it + 1), "expected " + *(it + 1));
  return "";
}

std::string check_table_lookup(const json& p, const std::string& in, const std::string& out) {
  const auto keys = p["keys"].get<std::vector<std::string>>();
  const auto vals = p["values"].get<std::vector<std::string>>();
  EXPECT_OR_RETURN(keys.size() == vals.size(), "keys and values differ in number");
  const auto bag = word_bag(in);
  std::string want;
  int hits = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (bag.count(keys[i])) {
      ++hits;
      want = vals[i];
    }
  }
  EXPECT_OR_RETURN(hits == 1, "the input names " + std::to_string(hits) + " keys, not one");
  EXPECT_OR_RETURN(out == want, "expected " + want);
  return "";
}

}  // namespace

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
    }
  }
  return d[a.size()][b.size()];
}

ordered_json lenient_json(const std::string& text) {
  Lenient l{text};
  l.ws();
  if (l.i >= text.size() || text[l.i] != '{') throw std::runtime_error("expected '{'");
  ordered_json v = l.object();
  l.ws();
  if (l.i != text.size()) throw std::runtime_error("trailing text");
  return v;
}

std::vector<std::pair<std::string, std::string>> spec_examples(const std::string& spec) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t at = spec.find("\nInput: ");
  while (at != std::string::npos) {
    const size_t in_begin = at + 8;
    const size_t out_at = spec.find("\nOutput: ", in_begin);
    if (out_at == std::string::npos) break;
    const size_t out_begin = out_at + 9;
    const size_t next = spec.find("\n\nInput: ", out_begin);
    const size_t out_end = next == std::string::npos ? spec.size() : next;
    out.emplace_back(spec.substr(in_begin, out_at - in_begin), spec.substr(out_begin, out_end - out_begin));
    at = next == std::string::npos ? next : next + 1;
  }
  return out;
}

std::string check_case(const std::string& family, const json& p, const std::string& in, const std::string& out) {
  if (family == "classify") return check_classify(p, in, out);
  if (family == "keyword_tag") return check_keyword_tag(p, in, out);
  if (family == "sentiment") return check_sentiment(p, in, out);
  if (family == "extract") return check_extract(p, in, out);
  if (family == "json_repair") return check_json_repair(p, in, out);
  if (family == "date_norm") return check_date_norm(p, in, out);
  if (family == "log_triage") return check_log_triage(p, in, out);
  if (family == "intent_route") return check_intent_route(p, in, out);
  if (family == "closest_match") return check_closest_match(p, in, out);
  if (family == "yes_no") return check_yes_no(p, in, out);
  if (family == "list_ops") return check_list_ops(p, in, out);
  if (family == "unit_convert") return check_unit_convert(p, in, out);
  if (family == "case_format") return check_case_format(p, in, out);
  if (family == "pii_redact") return check_pii_redact(p, in, out);
  if (family == "echo") return check_echo(p, in, out);
  if (family == "sequence_next") return check_sequence_next(p, in, out);
  if (family == "table_lookup") return check_table_lookup(p, in, out);
  return "no checker for family " + family;
}

}  // namespace paw::test
