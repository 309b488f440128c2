#pragma once
// Training data for the interpreter: (spec, input, output) triples in the prompted format,
// tokenized, shuffled per epoch and cut into padded or packed micro-batches. No libtorch here:
// batches are plain int64 arrays the trainer turns into tensors.
//
// Prompted format (docs/TRAINING.md, "Data format"): the prompt is the Qwen chat template
//   "<|im_start|>user\n" + spec + "\n[INPUT]\n" + input + "\n[END_INPUT]\n" +
//   "<|im_end|>\n<|im_start|>assistant\n"
// tokenized with special tokens parsed; the target is tokenize(output) followed by the
// <|im_end|> token id (output text tokenized on its own, with special-token parsing off, so an
// output cannot smuggle control tokens). The loss covers exactly the target tokens.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "paw/data/generator.hpp"

namespace paw {
class Tokenizer;
}

namespace paw::train {

// The prompt text of one example (everything before the first output token): data::format_prompt.
std::string format_prompt(std::string_view spec, std::string_view input);

struct Example {
  std::vector<int32_t> tokens;  // prompt tokens, then output tokens ending with <|im_end|>
  int64_t n_prompt = 0;         // the loss covers tokens[n_prompt ..]
};

// Throws paw::Error when the tokenizer has no <|im_end|> token.
Example encode_example(const Tokenizer& tok, std::string_view spec, std::string_view input, std::string_view output);

// One (spec, input, output) triple.
struct Triple {
  std::string spec, input, output;
};

// Random-access examples.
class ExampleSource {
 public:
  virtual ~ExampleSource() = default;
  virtual size_t size() const = 0;
  virtual Triple at(size_t i) const = 0;
};

// Records of one split of the FuzzyBench-synth generator, made on demand (no list in memory).
std::unique_ptr<ExampleSource> generator_source(const data::GenOptions& opt, data::Split split);
// A JSONL file with string fields "spec", "input", "output" per line (other fields ignored;
// empty lines skipped). Loaded whole; throws paw::Error naming the line of a bad record.
std::unique_ptr<ExampleSource> jsonl_source(const std::string& path);

struct BatchOptions {
  int64_t batch_size = 8;   // rows per micro-batch
  int64_t seq_len = 512;    // max input tokens per row; an example needs len(tokens) - 1 of them
  bool pack = true;         // several examples per row, each its own attention segment
  bool loss_on_prompt = false;  // targets on every token after an example's first, not only the output
  bool shuffle = true;      // a fresh permutation per epoch (else source order)
  bool wrap = true;         // start another epoch at the end (else stop: evaluation passes)
  uint64_t seed = 1;        // permutation of epoch e: data::Rng(mix_seed(seed, e))
};

// A micro-batch, row-major [rows, cols]. rows < batch_size only when !wrap and the source
// ran out (rows == 0: nothing left). Row r holds whole examples back to back; column t's
// target is the token at t+1 of the same example when that token is an output token (any
// token with loss_on_prompt), else -1.
struct HostBatch {
  int64_t rows = 0, cols = 0;
  std::vector<int64_t> tokens;    // inputs; padding = pad id
  std::vector<int64_t> targets;   // -1 = no loss
  std::vector<int64_t> segments;  // packed batches: example slot within the row (padding -1); empty if !pack
  int64_t n_examples = 0;
  int64_t n_tokens = 0;           // non-padding inputs
  int64_t n_targets = 0;          // targets != -1
};

// Deterministic stream of micro-batches over a source. The state is one number, the cursor
// (examples consumed so far, across epochs), so a checkpoint stores it and a resumed run
// continues with exactly the same batches.
class Batcher {
 public:
  Batcher(const ExampleSource& src, const Tokenizer& tok, BatchOptions opt);

  HostBatch next();
  uint64_t cursor() const { return cursor_; }
  void seek(uint64_t cursor) { cursor_ = cursor; }
  // Examples skipped because they do not fit seq_len (counted as consumed).
  uint64_t skipped() const { return skipped_; }
  void set_skipped(uint64_t n) { skipped_ = n; }
  // The source index of the example at stream position `cursor`.
  size_t index_at(uint64_t cursor);

 private:
  const ExampleSource& src_;
  const Tokenizer& tok_;
  BatchOptions opt_;
  int64_t pad_id_ = 0;
  uint64_t cursor_ = 0, skipped_ = 0;
  uint64_t perm_epoch_ = UINT64_MAX;
  std::vector<size_t> perm_;
};

}  // namespace paw::train
