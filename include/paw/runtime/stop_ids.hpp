#pragma once
// Which token ids end generation, read from the model's tokenizer metadata.
//
// StopSet::Eos is what the reference runtime stops on (the vocabulary's EOS id only).
// StopSet::Eog is llama.cpp's end-of-generation set: EOS, tokenizer.ggml.eot_token_id,
// tokenizer.ggml.eom_token_id, and every token whose text is one of the well-known
// end-of-turn markers (<|im_end|>, <|endoftext|>, <|eot_id|>, <|eom_id|>, <|end|>,
// <end_of_turn>, <EOT>, _<EOT>, <｜end▁of▁sentence｜>).
#include <cstdint>
#include <vector>

namespace paw {

class GGUFFile;
class Model;
class Tokenizer;

enum class StopSet { Eos, Eog };

// Ids in ascending order, without duplicates. `meta` (the model's GGUF, may be null for HF
// checkpoints) supplies tokenizer.ggml.eos/eot/eom_token_id; the tokenizer supplies its own
// eos/eot ids and the marker texts. Throws paw::Error naming the key when a metadata id is
// not a valid token id of the tokenizer.
std::vector<int32_t> stop_ids(const Tokenizer& tok, const GGUFFile* meta, StopSet set = StopSet::Eog);
// The same with the model's metadata (Model::gguf(), null for HF checkpoints).
std::vector<int32_t> stop_ids(const Model& model, const Tokenizer& tok, StopSet set = StopSet::Eog);

}  // namespace paw
