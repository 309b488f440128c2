// libFuzzer target for the LoRA adapter loader (LoraAdapter::load_gguf): any byte string must
// load or throw paw::Error. On top of the fuzzed GGUF reader this covers the adapter's own
// checks — general.type/adapter.type/alpha keys, lora_a/lora_b pairing, shapes and ranks,
// the embedding pair — and the Q4_0 / Q8_0 matrices interleaved at load
// (LoraPair::a_kernel/b_kernel): every row of every kernel view is read back, so a view that
// claims more than was copied shows up as an ASan report.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "paw/adapter/lora.hpp"
#include "paw/tensor/interleave.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/util/error.hpp"

namespace {

// The loader maps a file (and hashes it), so each input goes through one per-process file.
const std::string& input_path() {
  static const std::string p = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/paw-fuzz-adapter-" + std::to_string(::getpid()) + ".gguf";
  }();
  return p;
}

size_t touch(const paw::MatrixView& m) {
  if (m.rows <= 0 || m.cols <= 0) return 0;
  if (paw::is_interleaved(m.type)) {
    std::vector<uint8_t> row(*paw::row_bytes(paw::stored_type(m.type), m.cols));
    size_t h = 0;
    for (int64_t r = 0; r < m.rows; ++r) {
      paw::deinterleave_row(m, r, row.data());
      h += row.front() + row.back();
    }
    return h;
  }
  const auto stride = paw::row_bytes(m.type, m.cols);
  if (!stride || *stride == 0) return 0;
  const size_t n = *stride * static_cast<size_t>(m.rows);
  return m.data[0] + m.data[n - 1];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = input_path();
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    const bool ok = std::fwrite(data, 1, size, f) == size;
    std::fclose(f);
    if (!ok) return 0;
  } else {
    return 0;
  }
  try {
    const auto a = paw::LoraAdapter::load_gguf(path);
    volatile size_t sink = a->arch().size() + a->sha256().size() + static_cast<size_t>(a->ignored_norm_tensors());
    for (const auto& [name, p] : a->pairs()) {
      sink = sink + name.size() + static_cast<size_t>(p.rank()) + static_cast<size_t>(a->pair_factor(p) != 0);
      sink = sink + touch(p.a) + touch(p.b) + touch(p.a_kernel) + touch(p.b_kernel);
      (void)a->find(name);
    }
    if (const paw::LoraEmbeddingPair* e = a->embedding_pair())
      sink = sink + touch(e->a) + touch(e->b) + static_cast<size_t>(a->embedding_factor() != 0);
    (void)sink;
  } catch (const paw::Error&) {
    // Refusing bad input with a paw::Error is the expected outcome.
  }
  std::remove(path.c_str());
  return 0;
}
