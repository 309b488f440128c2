#pragma once
// Shared fixtures for the program-layer tests: bundles in the reference's exact shape,
// small adapter GGUFs written with GGUFWriter, and the Python zipfile reference.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace paw::test {

// The Qwen3 prompt template shape the reference compiler emits.
std::string qwen3_template(const std::string& pseudo_program = "Classify urgency: immediate or wait.");

// A llama.cpp LoRA adapter GGUF (general.type=adapter, adapter.type=lora) with rank-4 F32
// pairs for blk.0.attn_q.weight and blk.0.ffn_up.weight.
std::vector<uint8_t> adapter_gguf(const std::string& arch = "qwen3", float alpha = 16.0f);
// A GGUF whose general.type is "model" (a base model, not an adapter).
std::vector<uint8_t> model_gguf(const std::string& arch = "qwen3");

// v4 meta.json (Qwen3, with runtime_id and an embedded reference-shape runtime manifest) and
// v3 meta.json (GPT-2, no manifest), as objects.
nlohmann::json meta_v4(bool with_id = true);
nlohmann::json meta_v3(bool with_id = true);

// Writes meta.json / prompt_template.txt / adapter.gguf into `dir` (created).
void write_bundle_folder(const std::string& dir, const std::string& meta_json, const std::string& prompt_template,
                         const std::vector<uint8_t>& adapter);
// A valid v4 Qwen3 bundle folder.
void write_v4_folder(const std::string& dir);

void write_bytes(const std::string& path, const std::string& bytes);
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
std::vector<uint8_t> read_bytes(const std::string& path);

// Runs tests/reference/zip_check.py with Debian's python3; returns stdout; fails the test
// on a non-zero exit.
std::string zip_check(const std::string& args);
// Makes a ZIP with Python's zipfile from a member spec (see zip_check.py "make").
void python_zip(const std::string& out, const nlohmann::json& spec);
// Spec entries for the three members of a folder.
nlohmann::json folder_members_spec(const std::string& dir);

// Files and folders (relative paths) under `dir`, sorted.
std::vector<std::string> tree(const std::string& dir);

}  // namespace paw::test
