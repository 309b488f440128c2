// Record assembly: picks the family (round-robin), draws a parameterisation in the split's hash
// bucket, writes the spec (instruction + worked examples), samples the case and adds noise.
#include "paw/data/generator.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "data/family.hpp"
#include "data/text.hpp"
#include "paw/util/error.hpp"

namespace paw::data {
namespace {

constexpr int kMaxAttempts = 32;          // redraws of a record that breaks a length cap
constexpr int kMaxBucketDraws = 4000;     // parameter draws to land in the wanted bucket
constexpr uint64_t kNoiseStream = 0x6E6F697365ull;  // "noise": the noise stream's seed offset
constexpr uint64_t kCasesStream = 0x6361736573ull;  // "cases": the extra cases' stream
constexpr std::string_view kHashDomain = "fuzzybench-synth/v1\n";

uint64_t split_code(Split s) { return static_cast<uint64_t>(s) + 1; }

std::string hex16(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::vector<std::string> names_of(const std::vector<const Family*>& fs) {
  std::vector<std::string> out;
  for (const Family* f : fs) out.emplace_back(f->name());
  return out;
}

const char* const kExampleHeaders[] = {"Examples:", "For example:", "Here are some examples:", "Examples"};

}  // namespace

std::string_view split_name(Split s) {
  switch (s) {
    case Split::Train: return "train";
    case Split::HeldoutParams: return "heldout_params";
    case Split::HeldoutFamily: return "heldout_family";
  }
  return "?";
}

std::vector<FamilyInfo> list_families() {
  std::vector<FamilyInfo> out;
  for (const Family* f : all_families()) out.push_back({f->name(), f->description(), f->in_default_mix()});
  return out;
}

struct Generator::Impl {
  GenOptions opt;
  std::shared_ptr<const Words> words;
  std::vector<const Family*> fams[3];
  std::vector<std::string> fam_names[3];

  size_t count(Split s) const {
    switch (s) {
      case Split::Train: return opt.n_train;
      case Split::HeldoutParams: return opt.n_heldout_params;
      case Split::HeldoutFamily: return opt.n_heldout_family;
    }
    return 0;
  }

  bool heldout_bucket(uint64_t h) const {
    return static_cast<double>(h >> 11) * 0x1.0p-53 < opt.heldout_param_fraction;
  }

  Record make(Split s, size_t index, size_t n_extra = 0) const;
};

Generator::Generator(GenOptions opt) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.opt = std::move(opt);
  const GenOptions& o = m.opt;
  const std::string where = "data generator options";
  auto check_names = [&](const std::vector<std::string>& names, const char* field) {
    for (const auto& n : names) {
      if (!find_family(n)) {
        std::string known;
        for (const auto& f : list_families()) known += (known.empty() ? "" : ", ") + f.name;
        throw Error("unknown family '" + n + "'", where + ": " + field, "known families: " + known);
      }
    }
  };
  check_names(o.families, "families");
  check_names(o.heldout_families, "heldout_families");
  if (!(o.heldout_param_fraction > 0.0 && o.heldout_param_fraction < 1.0)) {
    throw Error("heldout_param_fraction must be in (0, 1)", where, "the default is 0.1");
  }
  if (!(o.noise_rate >= 0.0 && o.noise_rate <= 1.0)) throw Error("noise_rate must be in [0, 1]", where);
  if (o.min_examples < 1 || o.min_examples > o.max_examples || o.max_examples > 12) {
    throw Error("examples per spec must satisfy 1 <= min_examples <= max_examples <= 12", where,
                "the defaults are 3 and 5");
  }
  const std::set<std::string> held(o.heldout_families.begin(), o.heldout_families.end());
  for (const Family* f : all_families()) {
    const bool selected = o.families.empty() ? f->in_default_mix()
                                             : std::find(o.families.begin(), o.families.end(), f->name()) != o.families.end();
    if (!selected) continue;
    if (held.count(f->name())) {
      m.fams[2].push_back(f);
    } else {
      m.fams[0].push_back(f);
      m.fams[1].push_back(f);
    }
  }
  for (int i = 0; i < 3; ++i) m.fam_names[i] = names_of(m.fams[i]);
  for (Split s : {Split::Train, Split::HeldoutParams, Split::HeldoutFamily}) {
    if (m.count(s) > 0 && m.fams[static_cast<int>(s)].empty()) {
      throw Error("split '" + std::string(split_name(s)) + "' asks for " + std::to_string(m.count(s)) +
                      " records but no selected family belongs to it",
                  where,
                  s == Split::HeldoutFamily ? "select a held-out family (default: keyword_tag, pii_redact) or set "
                                              "its count to 0"
                                            : "select a family that is not held out, or set the count to 0");
    }
  }
  m.words = Words::load(o.words_path);
}

Generator::~Generator() = default;
Generator::Generator(Generator&&) noexcept = default;
Generator& Generator::operator=(Generator&&) noexcept = default;

const GenOptions& Generator::options() const { return impl_->opt; }
size_t Generator::count(Split s) const { return impl_->count(s); }
const std::vector<std::string>& Generator::families(Split s) const { return impl_->fam_names[static_cast<int>(s)]; }

Record Generator::record(Split s, size_t index) const {
  if (index >= impl_->count(s)) {
    throw Error("record index " + std::to_string(index) + " out of range", std::string(split_name(s)));
  }
  return impl_->make(s, index);
}

Record Generator::record(Split s, size_t index, size_t n_extra_cases) const {
  if (index >= impl_->count(s)) {
    throw Error("record index " + std::to_string(index) + " out of range", std::string(split_name(s)));
  }
  return impl_->make(s, index, n_extra_cases);
}

Record Generator::Impl::make(Split s, size_t index, size_t n_extra) const {
  const std::vector<const Family*>& fs = fams[static_cast<int>(s)];
  const Family& f = *fs[index % fs.size()];
  const Words& w = *words;
  const uint64_t rec_seed = mix_seed(mix_seed(opt.seed, split_code(s)), index);

  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Rng r(mix_seed(rec_seed, static_cast<uint64_t>(attempt)));

    // Parameterisation in the split's bucket (held-out families use any).
    json params;
    uint64_t h = 0;
    for (int d = 0;; ++d) {
      if (d == kMaxBucketDraws) {
        throw Error("no parameterisation of family '" + std::string(f.name()) + "' falls in the " +
                        std::string(split_name(s)) + " bucket",
                    "data generator", "raise or lower heldout_param_fraction");
      }
      params = f.draw_params(r, w);
      h = fnv1a64(std::string(kHashDomain) + f.name() + "\n" + params.dump());
      if (s == Split::HeldoutFamily || heldout_bucket(h) == (s == Split::HeldoutParams)) break;
    }

    std::string spec = f.instruction(params, r);
    const std::string header = r.pick(kExampleHeaders);
    int k = static_cast<int>(r.range(opt.min_examples, opt.max_examples));

    // Worked examples: distinct inputs, preferring outputs not shown yet so a spec shows
    // several labels rather than one.
    std::vector<std::pair<std::string, std::string>> ex;
    std::set<std::string> seen_in, seen_out;
    for (int tries = 0; static_cast<int>(ex.size()) < k && tries < k * 8; ++tries) {
      Sample smp = f.sample(params, r, w);
      std::string in = concat(smp.segs);
      std::string out = smp.finalize ? smp.finalize(smp.segs) : smp.output;
      if (seen_in.count(lower(in))) continue;  // case-only variants are not new examples
      if (seen_out.count(out) && tries % 3 != 2) continue;
      if (in.size() > opt.max_input_chars || out.size() > opt.max_output_chars) continue;
      seen_in.insert(lower(in));
      seen_out.insert(out);
      ex.emplace_back(std::move(in), std::move(out));
    }
    if (static_cast<int>(ex.size()) < opt.min_examples) continue;

    // The case itself: not one of the examples.
    Sample q;
    bool found = false;
    for (int tries = 0; tries < 16 && !found; ++tries) {
      q = f.sample(params, r, w);
      found = !seen_in.count(lower(concat(q.segs)));
    }
    if (!found) continue;
    Rng nr(mix_seed(rec_seed, kNoiseStream + static_cast<uint64_t>(attempt)));
    bool noisy = false;
    if (nr.chance(opt.noise_rate)) noisy = apply_noise(q.segs, q.noise_kinds, nr);
    std::string input = concat(q.segs);
    std::string output = q.finalize ? q.finalize(q.segs) : q.output;
    if (input.size() > opt.max_input_chars || output.size() > opt.max_output_chars) continue;

    auto build = [&](size_t n) {
      std::string out = spec + "\n\n" + header;
      for (size_t i = 0; i < n; ++i) out += "\nInput: " + ex[i].first + "\nOutput: " + ex[i].second + "\n";
      while (!out.empty() && out.back() == '\n') out.pop_back();
      return out;
    };
    size_t n_ex = ex.size();
    std::string full = build(n_ex);
    while (full.size() > opt.max_spec_chars && n_ex > static_cast<size_t>(opt.min_examples)) full = build(--n_ex);
    if (full.size() > opt.max_spec_chars) continue;

    Record rec;
    rec.spec = std::move(full);
    rec.input = std::move(input);
    rec.output = std::move(output);
    rec.family = f.name();
    rec.split = s;
    rec.param_id = hex16(h);
    rec.params = std::move(params);
    rec.noisy = noisy;
    if (n_extra > 0) {
      // Extra cases from a stream of their own: the record above is the same with or without.
      std::set<std::string> used = seen_in;
      used.insert(lower(rec.input));
      Rng er(mix_seed(rec_seed, kCasesStream + static_cast<uint64_t>(attempt)));
      for (size_t tries = 0; rec.extra_cases.size() < n_extra && tries < n_extra * 8; ++tries) {
        Sample c = f.sample(rec.params, er, w);
        if (er.chance(opt.noise_rate)) apply_noise(c.segs, c.noise_kinds, er);
        std::string in = concat(c.segs);
        std::string out = c.finalize ? c.finalize(c.segs) : c.output;
        if (used.count(lower(in)) || in.size() > opt.max_input_chars || out.size() > opt.max_output_chars) continue;
        used.insert(lower(in));
        rec.extra_cases.emplace_back(std::move(in), std::move(out));
      }
    }
    return rec;
  }
  throw Error("could not generate a record of family '" + std::string(f.name()) + "' within the length caps",
              std::string(split_name(s)) + " record " + std::to_string(index),
              "raise max_spec_chars / max_input_chars / max_output_chars");
}

void Generator::for_each(const std::function<void(const Record&)>& fn) const {
  for (Split s : {Split::Train, Split::HeldoutParams, Split::HeldoutFamily}) {
    for (size_t i = 0; i < impl_->count(s); ++i) fn(impl_->make(s, i));
  }
}

std::vector<Record> Generator::generate_all() const {
  std::vector<Record> out;
  out.reserve(impl_->opt.n_train + impl_->opt.n_heldout_params + impl_->opt.n_heldout_family);
  for_each([&](const Record& r) { out.push_back(r); });
  return out;
}

std::string to_jsonl(const Record& r) {
  auto str = [](const std::string& s) { return json(s).dump(-1, ' ', false, json::error_handler_t::replace); };
  std::string out = "{\"spec\":" + str(r.spec);
  out += ",\"input\":" + str(r.input);
  out += ",\"output\":" + str(r.output);
  out += ",\"family\":" + str(r.family);
  out += ",\"split\":" + str(std::string(split_name(r.split)));
  out += ",\"param_id\":" + str(r.param_id);
  out += ",\"params\":" + r.params.dump(-1, ' ', false, json::error_handler_t::replace);
  out += std::string(",\"noisy\":") + (r.noisy ? "true" : "false") + "}";
  return out;
}

}  // namespace paw::data
