// Batches for compiler training (see train/compiler_batch.hpp).
#include "train/compiler_batch.hpp"

#include <algorithm>
#include <numeric>

#include "paw/data/rng.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"

namespace paw::train {

int64_t fill_case_row(const compiler::ProgramCase& c, int64_t row, int64_t cols, std::vector<int64_t>& tokens,
                      std::vector<int64_t>& targets) {
  int64_t n = 0;
  const int64_t n_in = static_cast<int64_t>(c.tokens.size()) - 1;
  for (int64_t t = 0; t < n_in; ++t) {
    tokens[static_cast<size_t>(row * cols + t)] = c.tokens[static_cast<size_t>(t)];
    if (t + 1 >= c.n_prompt) {
      targets[static_cast<size_t>(row * cols + t)] = c.tokens[static_cast<size_t>(t + 1)];
      ++n;
    }
  }
  return n;
}

ProgramBatcher::ProgramBatcher(const data::Generator& gen, data::Split split, const Tokenizer& tok,
                               ProgramBatchOptions o, size_t limit)
    : gen_(gen), split_(split), tok_(tok), opt_(std::move(o)) {
  n_ = gen_.count(split_);
  if (limit > 0) n_ = std::min(n_, limit);
  if (n_ == 0) throw Error("the data split has no records", "compiler training data");
  if (opt_.enc.eos_id < 0) throw Error("the tokenizer has no EOS token", "compiler training data");
}

size_t ProgramBatcher::index_at(uint64_t c) {
  if (!opt_.shuffle) return static_cast<size_t>(c % n_);
  const uint64_t epoch = c / n_;
  if (epoch != perm_epoch_) {
    perm_.resize(n_);
    std::iota(perm_.begin(), perm_.end(), size_t{0});
    data::Rng rng(data::mix_seed(opt_.seed, epoch));
    for (size_t i = n_; i > 1; --i) std::swap(perm_[i - 1], perm_[static_cast<size_t>(rng.below(i))]);
    perm_epoch_ = epoch;
  }
  return perm_[static_cast<size_t>(c % n_)];
}

std::string spec_view(const std::string& spec, int view) {
  const size_t cut = spec.find("\n\n");
  if (view == 0 || cut == std::string::npos) return spec;
  const size_t body = spec.find_first_not_of('\n', cut);
  const std::string part = view == 1 ? spec.substr(0, cut) : body == std::string::npos ? std::string() : spec.substr(body);
  return part.find_first_not_of(" \t\n") == std::string::npos ? spec : part;
}

ProgramBatch ProgramBatcher::next() {
  struct Spec {
    std::string family;
    std::vector<int32_t> enc;
    std::vector<compiler::ProgramCase> cases;
  };
  std::vector<Spec> specs;
  // A pass without wrap ends at n_; a spec that fits nothing is skipped (counted as consumed).
  size_t guard = 0;
  while (static_cast<int64_t>(specs.size()) < opt_.specs) {
    if (!opt_.wrap && cursor_ >= n_) break;
    if (++guard > 100 * static_cast<size_t>(opt_.specs) + n_) break;
    const uint64_t position = cursor_;
    const size_t idx = index_at(cursor_++);
    const data::Record rec =
        gen_.record(split_, idx, static_cast<size_t>(std::max<int64_t>(0, opt_.cases_per_spec - 1)));
    const std::string pseudo = compiler::normalize_spec(rec.spec);
    Spec s;
    s.family = rec.family;
    // A uniform draw of this spec's own, the same on a resumed run (seed, salt and position).
    auto spec_draw = [&](uint64_t salt) { return data::Rng(data::mix_seed(opt_.seed ^ salt, position)).unit(); };
    int view = 0;
    if (opt_.spec_view_prob > 0) {
      const double u = spec_draw(0x76696577ULL);  // "view"
      view = u < opt_.spec_view_prob ? 1 : u < 2 * opt_.spec_view_prob ? 2 : 0;
    }
    try {
      const std::string seen = spec_view(rec.spec, view);
      s.enc = compiler::encoder_input(tok_, seen, view == 0 ? pseudo : compiler::normalize_spec(seen), opt_.enc);
    } catch (const Error&) {
      continue;  // too long for the encoder
    }
    bool in_prompt = opt_.prompt_spec;
    if (in_prompt && opt_.prompt_drop_prob > 0) in_prompt = spec_draw(0x70726F6DULL) >= opt_.prompt_drop_prob;  // "prom"
    const TemplateParts parts =
        split_template(compiler::render_template(opt_.tmpl, in_prompt ? pseudo : std::string()), "compiler template");
    std::vector<std::pair<std::string, std::string>> cases = {{rec.input, rec.output}};
    cases.insert(cases.end(), rec.extra_cases.begin(), rec.extra_cases.end());
    for (const auto& [in, out] : cases) {
      if (static_cast<int64_t>(s.cases.size()) >= opt_.cases_per_spec) break;
      compiler::ProgramCase c = compiler::encode_program_case(tok_, parts, in, out, opt_.enc.eos_id);
      if (static_cast<int64_t>(c.tokens.size()) - 1 > opt_.seq_len) continue;
      s.cases.push_back(std::move(c));
    }
    if (s.cases.empty()) continue;
    specs.push_back(std::move(s));
  }
  ProgramBatch b;
  if (specs.empty()) return b;
  b.n_specs = static_cast<int64_t>(specs.size());
  for (const Spec& s : specs) {
    b.enc_cols = std::max<int64_t>(b.enc_cols, static_cast<int64_t>(s.enc.size()));
    for (const compiler::ProgramCase& c : s.cases) {
      b.cols = std::max<int64_t>(b.cols, static_cast<int64_t>(c.tokens.size()) - 1);
      ++b.rows;
    }
  }
  b.enc_tokens.assign(static_cast<size_t>(b.n_specs * b.enc_cols), 0);
  b.tokens.assign(static_cast<size_t>(b.rows * b.cols), 0);
  b.targets.assign(static_cast<size_t>(b.rows * b.cols), -1);
  int64_t row = 0;
  for (int64_t si = 0; si < b.n_specs; ++si) {
    const Spec& s = specs[static_cast<size_t>(si)];
    std::copy(s.enc.begin(), s.enc.end(), b.enc_tokens.begin() + si * b.enc_cols);
    b.enc_ends.push_back(static_cast<int64_t>(s.enc.size()));
    b.spec_family.push_back(s.family);
    for (const compiler::ProgramCase& c : s.cases) {
      b.n_targets += fill_case_row(c, row, b.cols, b.tokens, b.targets);
      b.n_tokens += static_cast<int64_t>(c.tokens.size()) - 1;
      b.row_spec.push_back(si);
      ++row;
    }
  }
  return b;
}

}  // namespace paw::train
