#pragma once
// Structural check of adapter.gguf held in memory: a llama.cpp LoRA adapter GGUF.
#include <cstdint>
#include <span>
#include <string>

namespace paw::program_detail {

// Parses the GGUF and checks general.type = "adapter", adapter.type = "lora",
// general.architecture present, every tensor named "<base>.lora_a" / "<base>.lora_b" in
// complete pairs with ne_a = [n_in, r], ne_b = [r, n_out]. Returns the architecture.
// `where` names the member in errors.
std::string check_adapter_gguf(std::span<const uint8_t> bytes, const std::string& where);

}  // namespace paw::program_detail
