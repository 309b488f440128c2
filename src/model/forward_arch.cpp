// The per-architecture rows of the forward pass (forward_impl.hpp ArchForward).
#include <string>

#include "model/forward_impl.hpp"
#include "paw/util/error.hpp"

namespace paw {

const ArchForward& arch_forward(Arch arch) {
  static const ArchForward llama_family{llama_family_layer, /*learned_positions=*/false, /*layer_norm=*/false};
  static const ArchForward gpt2{gpt2_layer, /*learned_positions=*/true, /*layer_norm=*/true};
  switch (arch) {
    case Arch::Qwen3:
    case Arch::Llama: return llama_family;
    case Arch::Gpt2: return gpt2;
  }
  throw Error("no forward pass for architecture " + std::to_string(static_cast<int>(arch)), "forward");
}

}  // namespace paw
