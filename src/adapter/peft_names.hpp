#pragma once
// Private: Hugging Face module paths (as PEFT saves them) -> GGUF base tensor names.
#include <optional>
#include <string>
#include <string_view>

namespace paw::detail {

// `module` is the path after "base_model.model." with the ".lora_A.weight" tail removed,
// e.g. "model.layers.3.self_attn.q_proj" (qwen3) or "transformer.h.0.attn.c_attn" (gpt2).
// The wrapper prefix ("model." / "transformer.") may be absent (PEFT on the bare base
// model). Returns e.g. "blk.3.attn_q.weight", or nullopt for a module paw has no linear for.
std::optional<std::string> peft_module_to_gguf(std::string_view module, std::string_view arch);

}  // namespace paw::detail
