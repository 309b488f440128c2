#pragma once
// FuzzyBench-synth: a deterministic generator of (spec, input, output) triples for training and
// evaluating Program-as-Weights compilers/interpreters (docs/FORMATS.md, "FuzzyBench-synth data").
//
// Each record belongs to a *family* of fuzzy text functions (classification, extraction, JSON
// repair, date normalisation, ...) and to one *parameterisation* of it (a label set, a field, an
// option list ...). The spec is a natural-language instruction for that parameterisation with
// 3–5 worked `Input: … Output: …` examples; the input is a fresh, possibly noisy, case.
//
// Splits:
//   train           families not held out, parameterisations in the "train" hash bucket
//   heldout_params  the same families, parameterisations in the held-out bucket (never in train)
//   heldout_family  whole families that never appear in train
//
// Determinism: a record is a pure function of (options, split, index): same seed and options ->
// identical bytes on every platform (own PRNG, no unordered containers, integer arithmetic).
// The word list file is an input too: a different wamerican version gives different data.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace paw::data {

enum class Split { Train, HeldoutParams, HeldoutFamily };

std::string_view split_name(Split s);  // "train", "heldout_params", "heldout_family"

struct Record {
  std::string spec;      // instruction + 3–5 worked examples
  std::string input;     // the case to solve (noisy with probability GenOptions::noise_rate)
  std::string output;    // the expected answer: a label, a value, compact JSON, a short list
  std::string family;    // family name (list_families())
  Split split = Split::Train;
  std::string param_id;  // 16 hex digits: FNV-1a 64 of family + canonical params
  nlohmann::json params; // the parameterisation (label set, field, options ...), keys sorted
  bool noisy = false;    // noise was applied to the input
  // Further cases of the same parameterisation (Generator::record with n_extra_cases > 0):
  // fresh inputs, none equal to a worked example or to `input`, noisy like `input`. Drawn
  // from a stream of their own, so spec/input/output are the same with or without them.
  std::vector<std::pair<std::string, std::string>> extra_cases;  // (input, output)
};

struct GenOptions {
  uint64_t seed = 1;
  size_t n_train = 1000;          // records in split "train"
  size_t n_heldout_params = 100;  // records in split "heldout_params"
  size_t n_heldout_family = 100;  // records in split "heldout_family"
  // Families to generate (empty = every family of the default mix: all but the copy tasks
  // echo, sequence_next and table_lookup, which curricula name explicitly). Families listed in
  // heldout_families go to the heldout_family split only.
  std::vector<std::string> families;
  // Whole families kept out of train and heldout_params.
  std::vector<std::string> heldout_families = {"keyword_tag", "pii_redact"};
  // Share of each family's parameter space (by hash of the canonical params) held out.
  double heldout_param_fraction = 0.1;
  // Probability that a record's input gets 1–3 noise operations (typos, casing, extra
  // whitespace, filler words) on the parts that do not carry the answer.
  double noise_rate = 0.3;
  int min_examples = 3;  // worked examples in each spec (3..5 by default)
  int max_examples = 5;
  // Length caps in bytes; a draw over a cap is retried (and examples dropped down to
  // min_examples) before giving up with an error.
  size_t max_spec_chars = 1800;
  size_t max_input_chars = 400;
  size_t max_output_chars = 200;
  // Real English words: lowercase ASCII alphabetic entries of this file (Debian: wamerican).
  std::string words_path = "/usr/share/dict/words";
};

struct FamilyInfo {
  std::string name;
  std::string description;  // one line
  bool default_mix = true;  // selected when GenOptions::families is empty
};

// Every family, in a fixed order.
std::vector<FamilyInfo> list_families();

class Generator {
 public:
  // Validates the options (family names, counts vs. selected families, fractions) and loads the
  // word list; throws paw::Error with a hint on bad options or a missing word list.
  explicit Generator(GenOptions opt);
  ~Generator();
  Generator(Generator&&) noexcept;
  Generator& operator=(Generator&&) noexcept;

  const GenOptions& options() const;
  size_t count(Split s) const;
  // Families a split draws from (round-robin by record index).
  const std::vector<std::string>& families(Split s) const;

  // Record `index` of split `s` (index < count(s)); independent of every other record.
  Record record(Split s, size_t index) const;
  // The same record with up to `n_extra_cases` further (input, output) cases of its spec
  // (Record::extra_cases; fewer only when the family cannot draw that many distinct inputs
  // within the caps). Compilers train on several cases that share one spec's program.
  Record record(Split s, size_t index, size_t n_extra_cases) const;
  // All records: train, then heldout_params, then heldout_family.
  void for_each(const std::function<void(const Record&)>& fn) const;
  std::vector<Record> generate_all() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One JSONL line (no trailing newline), fields in a fixed order:
// {"spec","input","output","family","split","param_id","params","noisy"}.
std::string to_jsonl(const Record& r);

}  // namespace paw::data
