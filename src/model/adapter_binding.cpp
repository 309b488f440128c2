// AdapterBinding: LoRA terms per linear, shape-checked against the model when added.
#include <string>

#include "paw/model/forward.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

std::string rc(const MatrixView& v) { return "[" + std::to_string(v.rows) + " rows, " + std::to_string(v.cols) + " cols]"; }

}  // namespace

bool AdapterBinding::empty() const {
  if (!embedding.empty()) return false;
  for (const auto& v : per_linear)
    if (!v.empty()) return false;
  return true;
}

int64_t AdapterBinding::max_rank() const {
  int64_t r = 0;
  for (const auto& v : per_linear)
    for (const auto& t : v) r = std::max(r, t.a.rows);
  for (const auto& e : embedding) r = std::max(r, e.b.cols);
  return r;
}

void AdapterBinding::add(const Model& m, int linear, const LoraTerm& t) {
  if (linear < 0 || static_cast<size_t>(linear) >= m.linears().size())
    throw Error("LoRA target index " + std::to_string(linear) + " is not a linear of the model", m.path());
  const LinearInfo& li = m.linears()[static_cast<size_t>(linear)];
  if (t.a.cols != li.n_in() || t.b.rows != li.n_out() || t.a.rows != t.b.cols || t.a.rows <= 0)
    throw Error("LoRA pair for '" + li.name + "' has A " + rc(t.a) + " and B " + rc(t.b) + ", expected A [r rows, " +
                    std::to_string(li.n_in()) + " cols] and B [" + std::to_string(li.n_out()) + " rows, r cols]",
                m.path(), "the adapter was made for a different base model");
  if (per_linear.size() != m.linears().size()) per_linear.resize(m.linears().size());
  per_linear[static_cast<size_t>(linear)].push_back(t);
}

void AdapterBinding::add_embedding(const Model& m, const EmbeddingLoraTerm& t) {
  const HParams& hp = m.hparams();
  if (t.a.rows != hp.n_vocab || t.b.rows != hp.n_embd || t.a.cols != t.b.cols || t.a.cols <= 0)
    throw Error("LoRA pair for 'token_embd.weight' has A " + rc(t.a) + " and B " + rc(t.b) + ", expected A [" +
                    std::to_string(hp.n_vocab) + " rows, r cols] and B [" + std::to_string(hp.n_embd) +
                    " rows, r cols]",
                m.path(), "the adapter was made for a different base model");
  embedding.push_back(t);
}

}  // namespace paw
