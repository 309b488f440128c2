#pragma once
// Helpers for the CLI tests of the model commands (generate, logits, hidden, export-lora):
// run `paw ...` and parse its JSON; look tokens up straight in a GGUF's token list.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/model_test_util.hpp"
#include "paw/formats/gguf.hpp"
#include "common/test_env.hpp"

namespace paw::test {

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// `paw <args>` under a generous timeout, so a hang fails the test instead of stalling the suite.
inline std::string paw_cmd(const std::string& args) { return "timeout 120 " + tool_path("paw") + " " + args; }

// Runs `paw <args>`; fails the test (and returns null) on a non-zero exit or non-JSON output.
inline nlohmann::ordered_json paw_json(const std::string& args) {
  const std::string cmd = paw_cmd(args);
  std::string out;
  const int rc = run_command(cmd, &out);
  if (rc != 0) {
    ADD_FAILURE() << "exit " << rc << ": " << cmd;
    return nullptr;
  }
  try {
    return nlohmann::ordered_json::parse(out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not JSON (" << e.what() << "): " << out.substr(0, 400);
    return nullptr;
  }
}

// Exit status of `paw <args>` with stderr captured into *err.
inline int paw_status(const std::string& args, std::string* err) {
  const std::string cmd = paw_cmd(args) + " 2>&1 >/dev/null";
  return run_command(cmd, err);
}

inline int32_t gguf_token_id(const std::string& gguf, const std::string& text) {
  const auto f = GGUFFile::open(gguf);
  const auto tokens = f.get("tokenizer.ggml.tokens").as_string_array();
  const auto it = std::find(tokens.begin(), tokens.end(), text);
  EXPECT_NE(it, tokens.end()) << text << " not in " << gguf;
  return static_cast<int32_t>(it - tokens.begin());
}

// Row `row` of a reference [T][n] matrix as floats (for expect_logits_near on one position).
inline std::vector<std::vector<double>> last_row(const std::vector<std::vector<double>>& m) {
  return {m.back()};
}

}  // namespace paw::test
