#pragma once
// Inside the train layer: batches for compiler training. No libtorch: plain int64 arrays.
//
// A batch holds `specs` generator records. Each spec gives one encoder row (its encoder input,
// paw/compiler/format.hpp) and up to `cases_per_spec` interpreter rows, one per case (the
// record's own case first, then Record::extra_cases), tokenized exactly as the runtime runs a
// program (compiler::encode_program_case). Targets cover the answer and EOS only.
#include <cstdint>
#include <string>
#include <vector>

#include "paw/compiler/format.hpp"
#include "paw/compiler/program_case.hpp"
#include "paw/data/generator.hpp"

namespace paw {
class Tokenizer;
}

namespace paw::train {

struct ProgramBatchOptions {
  int64_t specs = 8;            // specs per batch
  int64_t cases_per_spec = 4;   // interpreter rows per spec (fewer when cases are too long)
  int64_t seq_len = 512;        // max interpreter inputs per case (its tokens - 1); longer cases are left out
  uint64_t seed = 1;            // spec order of epoch e: data::Rng(mix_seed(seed, e))
  bool shuffle = true;          // else source order
  bool wrap = true;             // else stop after one pass (evaluation)
  // Probability that the encoder reads only the spec's instruction (before its first blank
  // line), and, as often, only its examples (after it), instead of the whole spec; the
  // interpreter's prompt keeps the whole spec. Why: a router trained on the generator's specs
  // alone keys on their exact phrasing; a view of either part teaches it both cues, as a
  // hand-written spec may have a terse instruction or no examples. Drawn per spec from `seed`
  // and the spec's position in the stream, so a resumed run draws the same.
  double spec_view_prob = 0.0;
  // false: the interpreter's prompt gets an empty pseudo-program (the encoder still reads the
  // spec), so only the program can carry what the spec says. An experiment on what a program
  // channel can carry; no compile strategy writes such prompts. Not part of a checkpoint's
  // identity: a run may train blind, then continue with the spec in the prompt.
  bool prompt_spec = true;
  // Training-time dropout of the spec from the prompt: each spec's cases get an empty
  // pseudo-program this often (drawn per spec from `seed` and its position, as the views are),
  // so the program must carry the spec for those and the interpreter learns to use both. 0 in
  // evaluation: paw compile writes the spec into every prompt.
  double prompt_drop_prob = 0.0;
  compiler::EncoderInputOptions enc;
  std::string tmpl = compiler::prompted_template();
};

struct ProgramBatch {
  int64_t n_specs = 0, enc_cols = 0;
  std::vector<int64_t> enc_tokens;  // [n_specs, enc_cols], right padded with 0
  std::vector<int64_t> enc_ends;    // [n_specs]: end of each row's prefix tokens (exclusive)
  std::vector<std::string> spec_family;  // [n_specs]: each spec's generator family
  int64_t rows = 0, cols = 0;
  std::vector<int64_t> tokens;      // [rows, cols] interpreter inputs, right padded with 0
  std::vector<int64_t> targets;     // [rows, cols], -1 = no loss
  std::vector<int64_t> row_spec;    // [rows]: the spec (0..n_specs-1) of each row
  int64_t n_tokens = 0, n_targets = 0;
};

// The encoder's view of `spec` for spec_view_prob (0 whole, 1 instruction, 2 examples); a spec
// without a blank line, or with an empty part, is always whole.
std::string spec_view(const std::string& spec, int view);

// Writes case `c` into row `row` of [rows, cols] inputs and targets (already sized, targets
// -1): inputs are its tokens but the last, targets the next token from the answer on. Returns
// the number of targets written.
int64_t fill_case_row(const compiler::ProgramCase& c, int64_t row, int64_t cols, std::vector<int64_t>& tokens,
                      std::vector<int64_t>& targets);

class ProgramBatcher {
 public:
  // `limit`: only the first `limit` records of the split (0 = all).
  ProgramBatcher(const data::Generator& gen, data::Split split, const Tokenizer& tok, ProgramBatchOptions o,
                 size_t limit = 0);
  ProgramBatch next();  // rows == 0: the pass is over (wrap off)
  uint64_t cursor() const { return cursor_; }
  void seek(uint64_t c) { cursor_ = c; }
  const ProgramBatchOptions& options() const { return opt_; }

 private:
  size_t index_at(uint64_t cursor);
  const data::Generator& gen_;
  data::Split split_;
  const Tokenizer& tok_;
  ProgramBatchOptions opt_;
  size_t n_ = 0;
  uint64_t cursor_ = 0, perm_epoch_ = UINT64_MAX;
  std::vector<size_t> perm_;
};

}  // namespace paw::train
