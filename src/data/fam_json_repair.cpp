// json_repair: a flat object (3–5 fields: strings, integers, booleans, null, short lists) written
// with faults — unquoted keys, single quotes, a missing comma, a trailing comma, a missing
// closing brace, Python literals — to be rewritten as valid compact JSON (keys in input order).
#include <algorithm>
#include <iterator>

#include "data/family.hpp"
#include "data/text.hpp"

namespace paw::data {
namespace {

using ojson = nlohmann::ordered_json;

const char* const kTypes[] = {"string", "int", "bool", "null", "list_str", "list_int"};
const char* const kFaults[] = {"unquoted_keys", "single_quotes", "missing_comma",
                               "trailing_comma", "missing_brace", "python_literals"};

std::string fault_words(const std::string& f) {
  if (f == "unquoted_keys") return "keys without quotes";
  if (f == "single_quotes") return "single-quoted strings";
  if (f == "missing_comma") return "a missing comma";
  if (f == "trailing_comma") return "a trailing comma";
  if (f == "missing_brace") return "a missing closing brace";
  return "Python-style True/False/None";
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  for (const auto& e : v) {
    if (e == x) return true;
  }
  return false;
}

class JsonRepair final : public Family {
 public:
  const char* name() const override { return "json_repair"; }
  const char* description() const override {
    return "rewrite almost-JSON (unquoted keys, single quotes, missing/trailing commas, missing brace) as compact JSON";
  }

  json draw_params(Rng& r, const Words& w) const override {
    std::vector<std::string> faults;
    for (size_t i : r.sample_indices(std::size(kFaults), static_cast<size_t>(r.range(1, 3)))) faults.emplace_back(kFaults[i]);
    std::sort(faults.begin(), faults.end());
    const size_t n = static_cast<size_t>(r.range(3, 5));
    std::vector<std::string> keys;
    std::set<std::string> used;
    // Bare keys must not read as literals.
    static const std::set<std::string> kLiterals = {"true", "false", "null", "none"};
    while (keys.size() < n) {
      std::string k = w.pick(r, kLiterals);
      if (r.chance(0.3)) k += "_" + w.pick(r);
      if (used.insert(k).second) keys.push_back(k);
    }
    std::vector<std::string> types;
    for (size_t i = 0; i < n; ++i) types.emplace_back(r.pick(kTypes));
    // Faults that need a value of some type to show get one.
    if (has(faults, "single_quotes") && !has(types, "string") && !has(types, "list_str")) types[r.below(n)] = "string";
    if (has(faults, "python_literals") && !has(types, "bool") && !has(types, "null")) {
      for (size_t i = 0; i < n; ++i) {
        if (types[i] != "string" && types[i] != "list_str") {
          types[i] = "bool";
          break;
        }
      }
      if (!has(types, "bool")) types[n - 1] = "bool";
      if (has(faults, "single_quotes") && !has(types, "string") && !has(types, "list_str")) types[0] = "string";
    }
    json fields = json::array();
    for (size_t i = 0; i < n; ++i) fields.push_back({{"key", keys[i]}, {"type", types[i]}});
    return {{"fields", fields}, {"faults", faults}};
  }

  std::string instruction(const json& p, Rng& r) const override {
    std::vector<std::string> keys, faults;
    for (const auto& f : p.at("fields")) keys.push_back(f.at("key"));
    for (const auto& f : p.at("faults")) faults.push_back(fault_words(f));
    const std::string k = join(keys, ", ");
    const std::string f = phrase_list(faults, "or");
    switch (r.below(3)) {
      case 0:
        return "Fix this broken JSON and return it as valid, compact JSON (no spaces). The object has the fields " + k +
               ". Expect " + f + ".";
      case 1:
        return "Repair the record: it may have " + f + ". Output the same object as strict minified JSON with double quotes, keeping the key order (" +
               k + ").";
      default:
        return "The input is almost-JSON with fields " + k + ". Problems to fix: " + f +
               ". Reply with only the corrected JSON on one line.";
    }
  }

  Sample sample(const json& p, Rng& r, const Words& w) const override {
    const json& fields = p.at("fields");
    const std::vector<std::string> faults = p.at("faults").get<std::vector<std::string>>();
    // Every sample shows one forced fault; the others appear with probability 0.6.
    const std::string forced = faults[r.below(faults.size())];
    auto on = [&](const char* f) { return has(faults, f) && (forced == f || r.chance(0.6)); };
    const bool unquoted = on("unquoted_keys");
    const bool single = on("single_quotes");
    const bool missing_comma = on("missing_comma");
    const bool trailing = on("trailing_comma");
    const bool missing_brace = on("missing_brace");
    const bool python = on("python_literals");

    const std::string sep = r.chance(0.5) ? ", " : ",";
    const std::string colon = r.chance(0.5) ? ": " : ":";
    ojson obj = ojson::object();
    std::vector<std::string> members;
    bool any_unquoted = false, any_single = false;
    const size_t n = fields.size();
    for (size_t i = 0; i < n; ++i) {
      const std::string key = fields[i].at("key");
      const std::string type = fields[i].at("type");
      std::string kt;
      if (unquoted && (r.chance(0.6) || (!any_unquoted && i + 1 == n))) {
        kt = key;
        any_unquoted = true;
      } else {
        kt = "\"" + key + "\"";
      }
      auto str = [&](const std::string& v, bool last_chance) {
        if (single && (r.chance(0.7) || (!any_single && last_chance))) {
          any_single = true;
          return "'" + v + "'";
        }
        return "\"" + v + "\"";
      };
      // The last string of the object is the last chance to show a forced single-quote fault.
      bool later_string = false;
      for (size_t j = i + 1; j < n; ++j) {
        const std::string t = fields[j].at("type");
        later_string = later_string || t == "string" || t == "list_str";
      }
      std::string vt;
      if (type == "string") {
        std::string v = w.pick(r);
        if (r.chance(0.4)) v += " " + w.pick(r);
        if (r.chance(0.3)) v = capitalize(v);
        obj[key] = v;
        vt = str(v, !later_string);
      } else if (type == "int") {
        const int64_t v = r.chance(0.1) ? -r.range(1, 99) : r.range(0, 9999);
        obj[key] = v;
        vt = std::to_string(v);
      } else if (type == "bool") {
        const bool v = r.chance(0.5);
        obj[key] = v;
        vt = python ? (v ? "True" : "False") : (v ? "true" : "false");
      } else if (type == "null") {
        obj[key] = nullptr;
        vt = python ? "None" : "null";
      } else {
        const size_t m = static_cast<size_t>(r.range(1, 3));
        ojson arr = ojson::array();
        std::vector<std::string> items;
        for (size_t j = 0; j < m; ++j) {
          if (type == "list_str") {
            const std::string v = w.pick(r);
            arr.push_back(v);
            items.push_back(str(v, !later_string && j + 1 == m));
          } else {
            const int64_t v = r.range(0, 999);
            arr.push_back(v);
            items.push_back(std::to_string(v));
          }
        }
        obj[key] = arr;
        vt = "[" + join(items, sep) + "]";
      }
      members.push_back(kt + colon + vt);
    }
    std::string text = "{";
    const size_t drop = missing_comma ? static_cast<size_t>(r.range(1, static_cast<int64_t>(n) - 1)) : 0;
    for (size_t i = 0; i < n; ++i) {
      if (i) text += (i == drop) ? " " : sep;
      text += members[i];
    }
    if (trailing) text += ",";
    if (!missing_brace) text += "}";

    Sample s;
    s.segs = {Seg{text, true}};
    s.output = obj.dump();
    s.noise_kinds = kNoiseEdge;
    return s;
  }
};

}  // namespace

const Family& family_json_repair() {
  static const JsonRepair f;
  return f;
}

}  // namespace paw::data
