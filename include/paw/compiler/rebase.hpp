#pragma once
// Rebasing an experts compiler's programs onto a newer general program (`paw rebase-experts`).
//
// The family experts of an experts compiler are trained from one control compiler's program
// (`from`: every expert starts as it), while the control keeps training on the whole mix into
// another control compiler (`to`). Rebasing adds the control's progress to every expert, factor
// by factor, as task arithmetic on the adapters' parameters:
//   A'[e, l, m] = A[e, l, m] + (A_to[l, m] - A_from[l, m])      // [rank, n_in]
//   B'[e, l, m] = B[e, l, m] + (B_to[l, m] - B_from[l, m])      // [n_out, rank]
// so an expert keeps what it learnt on its family (its own difference from `from`) and gains
// what the control learnt since. Encoder, mapper, router and metadata are kept; the file records
// the two controls' SHA-256 (compiler.rebase.*). Measured in docs/TRAINING.md ("Rebased experts").
//
// An expert may instead be *set* to another control compiler's one program (RebaseOptions::
// set_experts; e.g. an expert trained again from a newer control, exported by its own recipe
// as a one-program compiler): its factors become that program's, not moved by (to - from).
// With only set experts, `from` and `to` may both be empty.
#include <map>
#include <string>

namespace paw::compiler {

struct RebaseOptions {
  // compiler.name of the result (meta.json's compiler_snapshot); empty = the experts
  // compiler's name + " rebased".
  std::string name;
  // The spec-blind twin (for measuring what the routing adds): every expert gets the mean of
  // the rebased experts' programs, factor by factor, so every spec gets the same program from
  // the same parameters.
  bool average_experts = false;
  // Expert name (one of compiler.experts) -> a control compiler (spec_conditioned false, the
  // experts' interpreter, rank, alpha and modules) whose one program that expert gets as is.
  // The file records each as compiler.rebase.set.<expert> = its SHA-256. Empty = none.
  std::map<std::string, std::string> set_experts;
};

// Writes `out` atomically. Throws paw::Error (nothing written) unless `experts` is an experts
// compiler, `from` / `to` are both given (or both empty, with set_experts not empty) and are
// control compilers (spec_conditioned false) for the same interpreter, with the experts' rank,
// alpha, modules and module shapes, every set expert names one of the experts and a control of
// that kind, and `out` is none of the inputs.
void rebase_experts(const std::string& experts, const std::string& from, const std::string& to, const std::string& out,
                    const RebaseOptions& o = {});

}  // namespace paw::compiler
