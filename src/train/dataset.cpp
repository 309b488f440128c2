// Prompted examples, sources and micro-batches (see paw/train/dataset.hpp). No libtorch.
#include "paw/train/dataset.hpp"

#include <fstream>
#include <iterator>

#include "paw/data/jsonl.hpp"
#include "paw/data/prompt.hpp"
#include "paw/data/rng.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"

namespace paw::train {

std::string format_prompt(std::string_view spec, std::string_view input) { return data::format_prompt(spec, input); }

Example encode_example(const Tokenizer& tok, std::string_view spec, std::string_view input, std::string_view output) {
  const auto im_end = tok.token_id("<|im_end|>");
  if (!im_end)
    throw Error("the tokenizer has no <|im_end|> token", "training data",
                "train the tokenizer with the Qwen chat special tokens (paw tokenizer train does)");
  Example ex;
  ex.tokens = tok.encode(format_prompt(spec, input), EncodeOptions{/*parse_special=*/true, /*add_bos=*/false});
  ex.n_prompt = static_cast<int64_t>(ex.tokens.size());
  const auto out = tok.encode(output, EncodeOptions{/*parse_special=*/false, /*add_bos=*/false});
  ex.tokens.insert(ex.tokens.end(), out.begin(), out.end());
  ex.tokens.push_back(*im_end);
  return ex;
}

namespace {

class GeneratorSource : public ExampleSource {
 public:
  GeneratorSource(const data::GenOptions& opt, data::Split split) : gen_(opt), split_(split) {
    if (gen_.count(split_) == 0)
      throw Error("the generator split '" + std::string(data::split_name(split_)) + "' has no records",
                  "training data", "raise its record count");
  }
  size_t size() const override { return gen_.count(split_); }
  Triple at(size_t i) const override {
    data::Record r = gen_.record(split_, i);
    return Triple{std::move(r.spec), std::move(r.input), std::move(r.output)};
  }

 private:
  data::Generator gen_;
  data::Split split_;
};

class VectorSource : public ExampleSource {
 public:
  explicit VectorSource(std::vector<Triple> v) : v_(std::move(v)) {}
  size_t size() const override { return v_.size(); }
  Triple at(size_t i) const override { return v_.at(i); }

 private:
  std::vector<Triple> v_;
};

}  // namespace

std::unique_ptr<ExampleSource> generator_source(const data::GenOptions& opt, data::Split split) {
  return std::make_unique<GeneratorSource>(opt, split);
}

std::unique_ptr<ExampleSource> jsonl_source(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open the data file", "file '" + path + "'", "check data.path in the recipe");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Triple> v;
  for (data::TextRecord& r : data::parse_jsonl_records(text, path))
    v.push_back(Triple{std::move(r.spec), std::move(r.input), std::move(r.output)});
  if (v.empty()) throw Error("the data file holds no records", "file '" + path + "'");
  return std::make_unique<VectorSource>(std::move(v));
}

Batcher::Batcher(const ExampleSource& src, const Tokenizer& tok, BatchOptions opt)
    : src_(src), tok_(tok), opt_(opt) {
  if (opt_.batch_size <= 0 || opt_.seq_len <= 1) throw Error("batch_size and seq_len must be positive", "batch options");
  if (src_.size() == 0) throw Error("the data source is empty", "batch options");
  pad_id_ = tok_.pad_id().value_or(tok_.eos_id().value_or(0));
}

size_t Batcher::index_at(uint64_t cursor) {
  const uint64_t n = src_.size();
  const uint64_t epoch = cursor / n;
  if (!opt_.shuffle) return static_cast<size_t>(cursor % n);
  if (epoch != perm_epoch_) {
    perm_.resize(n);
    for (size_t i = 0; i < n; ++i) perm_[i] = i;
    data::Rng rng(data::mix_seed(opt_.seed, epoch));
    rng.shuffle(perm_);
    perm_epoch_ = epoch;
  }
  return perm_[cursor % n];
}

HostBatch Batcher::next() {
  const int64_t R = opt_.batch_size, L = opt_.seq_len;
  // Rows of examples; an example occupies len - 1 input positions.
  std::vector<std::vector<Example>> rows(static_cast<size_t>(R));
  std::vector<int64_t> used(static_cast<size_t>(R), 0);
  size_t row = 0;
  // An example that does not fit the current row starts the next one; when no row is left it
  // stays unconsumed, so the cursor always points at the next example to train on.
  for (int guard = 0; row < rows.size(); ++guard) {
    if (guard > 1000000) throw Error("no example fits seq_len " + std::to_string(L), "batch options", "raise seq_len");
    if (!opt_.wrap && cursor_ >= src_.size()) break;
    const Triple t = src_.at(index_at(cursor_));
    Example ex = encode_example(tok_, t.spec, t.input, t.output);
    const auto need = static_cast<int64_t>(ex.tokens.size()) - 1;
    if (need > L) {  // too long for any row: skip it for good
      ++cursor_;
      ++skipped_;
      continue;
    }
    if (used[row] > 0 && (!opt_.pack || used[row] + need > L)) {
      ++row;
      if (row == rows.size()) break;
    }
    used[row] += need;
    rows[row].push_back(std::move(ex));
    ++cursor_;
  }

  HostBatch b;
  while (b.rows < R && !rows[static_cast<size_t>(b.rows)].empty()) ++b.rows;
  for (int64_t u : used) b.cols = std::max(b.cols, u);
  const size_t n = static_cast<size_t>(b.rows * b.cols);
  rows.resize(static_cast<size_t>(b.rows));
  b.tokens.assign(n, pad_id_);
  b.targets.assign(n, -1);
  if (opt_.pack) b.segments.assign(n, -1);
  for (size_t r = 0; r < rows.size(); ++r) {
    int64_t col = 0;
    for (size_t e = 0; e < rows[r].size(); ++e) {
      const Example& ex = rows[r][e];
      const auto len = static_cast<int64_t>(ex.tokens.size());
      for (int64_t t = 0; t + 1 < len; ++t, ++col) {
        const size_t at = r * static_cast<size_t>(b.cols) + static_cast<size_t>(col);
        b.tokens[at] = ex.tokens[static_cast<size_t>(t)];
        if (opt_.loss_on_prompt || t + 1 >= ex.n_prompt) {
          b.targets[at] = ex.tokens[static_cast<size_t>(t + 1)];
          ++b.n_targets;
        }
        if (opt_.pack) b.segments[at] = static_cast<int64_t>(e);
        ++b.n_tokens;
      }
      ++b.n_examples;
    }
  }
  return b;
}

}  // namespace paw::train
