#pragma once
// The interface every FuzzyBench-synth family implements, and the list of families.
//
// A family draws a *parameterisation* (params: a JSON object, canonical because nlohmann::json
// keeps keys sorted), writes one of several paraphrased instructions for it, and samples cases.
// A case is a list of segments: segments marked `keep` carry the answer (a cue word, an email, a
// date, the JSON text ...) and are never touched by noise; the others may get typos, casing
// changes, extra whitespace or filler words.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/noise.hpp"
#include "data/words.hpp"
#include "paw/data/rng.hpp"

namespace paw::data {

using json = nlohmann::json;

struct Sample {
  std::vector<Seg> segs;
  std::string output;
  // When set, the output is computed from the final (possibly noisy) segments, for families
  // whose answer echoes the input (log lines, redaction, word counts).
  std::function<std::string(const std::vector<Seg>&)> finalize;
  uint8_t noise_kinds = kNoiseAll;  // which noise operations suit this input
};

class Family {
 public:
  virtual ~Family() = default;
  virtual const char* name() const = 0;
  virtual const char* description() const = 0;
  // Whether an empty GenOptions::families selects this family. The copy tasks (echo,
  // sequence_next, table_lookup) are curriculum material, generated only when named.
  virtual bool in_default_mix() const { return true; }
  // A parameterisation, drawn uniformly enough that a hash bucket of it is never empty.
  virtual json draw_params(Rng& r, const Words& w) const = 0;
  // One of >= 3 paraphrased instructions (no examples; the generator appends those).
  virtual std::string instruction(const json& p, Rng& r) const = 0;
  // One clean case for `p`.
  virtual Sample sample(const json& p, Rng& r, const Words& w) const = 0;
};

// Every family, in the fixed order `paw data families` lists them.
const std::vector<const Family*>& all_families();
const Family* find_family(std::string_view name);

// One accessor per family (fam_<name>.cpp). Explicit accessors rather than static
// self-registration, which a static library's linker would silently drop.
const Family& family_classify();
const Family& family_sentiment();
const Family& family_extract();
const Family& family_json_repair();
const Family& family_date_norm();
const Family& family_log_triage();
const Family& family_intent_route();
const Family& family_closest_match();
const Family& family_yes_no();
const Family& family_list_ops();
const Family& family_unit_convert();
const Family& family_case_format();
const Family& family_keyword_tag();
const Family& family_pii_redact();
const Family& family_echo();
const Family& family_sequence_next();
const Family& family_table_lookup();

}  // namespace paw::data
