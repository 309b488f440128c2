#pragma once
// Saved prompt-prefix state (the KV cache rows of positions [0, n)) in memory or in a file.
// The file header binds the state to everything that produced it: the model file's SHA-256,
// each active adapter's SHA-256 and scale, the KV cache type and the token ids. Loading
// refuses (paw::Error saying which binding differs) any mismatch, a truncated file or a bad
// checksum; callers that use it as a cache catch the error and recompute.
// File layout: docs/FORMATS.md "Prefix state file".
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "paw/runtime/session.hpp"

namespace paw {

struct PrefixState {
  std::string model_sha256;                             // 64 lowercase hex digits
  std::vector<std::pair<std::string, float>> adapters;  // (sha256, user scale), attach order
  DType kv_type = DType::F16;
  std::vector<int32_t> tokens;
  std::vector<uint8_t> kv;  // Session::kv_copy_out format
  std::string source;       // the file it was loaded from (error messages); empty when captured

  // Captures positions [0, session.n_past()). Throws paw::Error when model_sha256 or an
  // attached adapter's sha256 is not 64 hex digits.
  static PrefixState capture(const Session& session, const std::string& model_sha256);

  // Throws paw::Error naming the first binding that differs between this state and
  // `session` + `model_sha256`: model hash, adapter count, an adapter's hash or scale, KV
  // type, then the KV size for the session's model. The overload with `tokens` also requires
  // the state's tokens to equal them (the prompt prefix the caller is about to reuse).
  void check(const Session& session, const std::string& model_sha256) const;
  void check(const Session& session, const std::string& model_sha256, std::span<const int32_t> tokens) const;

  // Restores into `session` after check(); the session then holds exactly these positions
  // (n_past = tokens.size(), no logits: evaluate the next token to get some).
  void restore(Session& session, const std::string& model_sha256) const;
  void restore(Session& session, const std::string& model_sha256, std::span<const int32_t> tokens) const;

  void save(const std::string& path) const;  // atomic write
  // Validates magic, version, every size field against the file size, the checksum, the
  // hashes and the KV type; throws paw::Error naming the file, the field and its offset.
  static PrefixState load(const std::string& path);
  // The same over bytes held elsewhere (tests, fuzzing); `name` is used in messages.
  static PrefixState parse(std::span<const uint8_t> bytes, const std::string& name);
  std::vector<uint8_t> to_bytes() const;
};

}  // namespace paw
