#pragma once
// JSON and file helpers for the tokenizer loaders.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace paw::tok {

// Parses untrusted JSON. Refuses nesting deeper than 64 levels before parsing (tokenizer
// files are shallow; deep nesting only serves to exhaust the stack) and turns parse errors
// into paw::Error naming `name` and the byte offset.
nlohmann::json parse_json(std::string_view text, const std::string& name);

// The nesting check alone (used by the streaming tokenizer.json reader).
void check_json_depth(std::string_view text, const std::string& name);

// Whole file as bytes; paw::Error naming the path if it cannot be read.
std::string read_text_file(const std::string& path);

}  // namespace paw::tok
