// PrefixState: capture/restore a KV prefix and its binding-checked file format
// (docs/FORMATS.md "Prefix state file").
#include "paw/runtime/prefix_state.hpp"

#include <cstring>
#include <string>

#include "paw/util/atomic_file.hpp"
#include "paw/util/checked_math.hpp"
#include "paw/util/error.hpp"
#include "paw/util/mapped_file.hpp"
#include "paw/util/sha256.hpp"

namespace paw {
namespace {

constexpr char kMagic[8] = {'P', 'A', 'W', 'P', 'R', 'E', 'F', 'X'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHashLen = 64;          // sha256 as lowercase hex ASCII
constexpr uint32_t kMaxAdapters = 1024;  // far more than any program attaches
constexpr uint64_t kMaxTokens = 1ull << 24;
constexpr size_t kFixedHeader = 8 + 4 + 4 + kHashLen + 4 + 4;   // through reserved word
constexpr size_t kAdapterRecord = kHashLen + 4 + 4;              // hash, f32 scale, reserved

std::string short_hash(const std::string& s) { return s.size() > 16 ? s.substr(0, 16) + "…" : s; }

std::string fmt_scale(float f) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(f));
  return buf;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Little-endian byte emitter shared by save() (stream) and to_bytes() (buffer).
template <class Sink>
void emit(const PrefixState& s, Sink&& sink) {
  auto u32 = [&](uint32_t v) {
    uint8_t b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
    sink(b, 4);
  };
  auto u64 = [&](uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
    sink(b, 8);
  };
  sink(kMagic, 8);
  u32(kVersion);
  u32(static_cast<uint32_t>(s.kv_type));
  sink(s.model_sha256.data(), kHashLen);
  u32(static_cast<uint32_t>(s.adapters.size()));
  u32(0);
  for (const auto& [hash, scale] : s.adapters) {
    sink(hash.data(), kHashLen);
    uint32_t bits;
    std::memcpy(&bits, &scale, 4);
    u32(bits);
    u32(0);
  }
  u64(s.tokens.size());
  u64(s.kv.size());
  for (int32_t t : s.tokens) u32(static_cast<uint32_t>(t));
  sink(s.kv.data(), s.kv.size());
}

void validate_for_write(const PrefixState& s) {
  if (!is_sha256_hex(s.model_sha256))
    throw Error("model sha256 '" + s.model_sha256 + "' is not 64 lowercase hex digits", "PrefixState");
  for (size_t i = 0; i < s.adapters.size(); ++i)
    if (!is_sha256_hex(s.adapters[i].first))
      throw Error("adapter " + std::to_string(i) + " sha256 '" + s.adapters[i].first + "' is not 64 lowercase hex digits",
                  "PrefixState");
  if (s.adapters.size() > kMaxAdapters) throw Error("too many adapters (" + std::to_string(s.adapters.size()) + ")", "PrefixState");
  if (s.tokens.size() > kMaxTokens) throw Error("too many tokens (" + std::to_string(s.tokens.size()) + ")", "PrefixState");
  if (s.kv_type != DType::F16 && s.kv_type != DType::F32)
    throw Error("KV type must be f16 or f32", "PrefixState");
}

// Bounds-checked little-endian reader over the file bytes.
class Reader {
 public:
  Reader(std::span<const uint8_t> b, const std::string& name) : b_(b), name_(name) {}
  size_t pos() const { return pos_; }
  const uint8_t* take(size_t n, const char* field) {
    if (n > b_.size() - pos_)
      throw Error(std::string("file is truncated: field '") + field + "' needs " + std::to_string(n) +
                      " bytes but only " + std::to_string(b_.size() - pos_) + " remain",
                  at_offset(name_, pos_), "the prefix file is truncated or corrupt; delete it and recompute");
    const uint8_t* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint32_t u32(const char* field) {
    const uint8_t* p = take(4, field);
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
  }
  uint64_t u64(const char* field) {
    const uint8_t* p = take(8, field);
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
    return v;
  }
  std::string str(size_t n, const char* field) {
    const uint8_t* p = take(n, field);
    return std::string(reinterpret_cast<const char*>(p), n);
  }

 private:
  std::span<const uint8_t> b_;
  const std::string& name_;
  size_t pos_ = 0;
};

Error corrupt(const std::string& what, const std::string& name, uint64_t off) {
  return Error(what, at_offset(name, off), "the prefix file is corrupt; delete it and recompute");
}

}  // namespace

PrefixState PrefixState::capture(const Session& session, const std::string& model_sha256) {
  PrefixState s;
  s.model_sha256 = model_sha256;
  for (const ActiveAdapter& a : session.adapters()) s.adapters.emplace_back(a.adapter->sha256(), a.scale);
  s.kv_type = session.kv_type();
  s.tokens = session.tokens();
  s.kv.resize(session.kv_bytes(session.n_past()));
  session.kv_copy_out(session.n_past(), s.kv);
  validate_for_write(s);
  return s;
}

void PrefixState::check(const Session& session, const std::string& model_sha256) const {
  const std::string where = source.empty() ? std::string("prefix state") : source;
  const std::string hint = "the saved prefix was made for another setup; recompute it";
  if (model_sha256 != this->model_sha256)
    throw Error("model differs: the prefix was computed with model sha256 " + short_hash(this->model_sha256) +
                    ", this model is " + short_hash(model_sha256),
                where, hint);
  const auto& act = session.adapters();
  if (act.size() != adapters.size())
    throw Error("adapters differ: the prefix was computed with " + std::to_string(adapters.size()) +
                    " adapter(s), the session has " + std::to_string(act.size()),
                where, hint);
  for (size_t i = 0; i < act.size(); ++i) {
    const std::string& h = act[i].adapter->sha256();
    if (h != adapters[i].first)
      throw Error("adapter " + std::to_string(i) + " differs: the prefix was computed with sha256 " +
                      short_hash(adapters[i].first) + ", the session's is " + short_hash(h) + " (" +
                      act[i].adapter->path() + ")",
                  where, hint);
    if (!same_bits(act[i].scale, adapters[i].second))
      throw Error("adapter " + std::to_string(i) + " scale differs: the prefix was computed with scale " +
                      fmt_scale(adapters[i].second) + ", the session uses " + fmt_scale(act[i].scale),
                  where, hint);
  }
  if (session.kv_type() != kv_type)
    throw Error(std::string("KV cache type differs: the prefix holds ") + std::string(dtype_name(kv_type)) +
                    ", the session's cache is " + std::string(dtype_name(session.kv_type())),
                where, hint);
  if (static_cast<int64_t>(tokens.size()) > session.n_ctx())
    throw Error("the prefix has " + std::to_string(tokens.size()) + " tokens, more than the session's context of " +
                    std::to_string(session.n_ctx()),
                where, "use a larger context");
  const size_t want = session.kv_bytes(static_cast<int64_t>(tokens.size()));
  if (kv.size() != want)
    throw Error("KV data is " + std::to_string(kv.size()) + " bytes, but " + std::to_string(tokens.size()) +
                    " positions of this model take " + std::to_string(want),
                where, hint);
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= session.n_vocab())
      throw Error("token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) + " is outside the vocabulary",
                  where, hint);
}

void PrefixState::check(const Session& session, const std::string& model_sha256,
                        std::span<const int32_t> want) const {
  check(session, model_sha256);
  const std::string where = source.empty() ? std::string("prefix state") : source;
  if (want.size() != tokens.size())
    throw Error("tokens differ: the prefix holds " + std::to_string(tokens.size()) + " tokens, expected " +
                    std::to_string(want.size()),
                where, "the prompt prefix changed; recompute it");
  for (size_t i = 0; i < want.size(); ++i)
    if (want[i] != tokens[i])
      throw Error("tokens differ at index " + std::to_string(i) + ": the prefix holds " + std::to_string(tokens[i]) +
                      ", expected " + std::to_string(want[i]),
                  where, "the prompt prefix changed; recompute it");
}

void PrefixState::restore(Session& session, const std::string& model_sha256) const {
  check(session, model_sha256);
  session.kv_copy_in(tokens, kv);
}

void PrefixState::restore(Session& session, const std::string& model_sha256, std::span<const int32_t> want) const {
  check(session, model_sha256, want);
  session.kv_copy_in(tokens, kv);
}

std::vector<uint8_t> PrefixState::to_bytes() const {
  validate_for_write(*this);
  std::vector<uint8_t> out;
  Sha256 h;
  emit(*this, [&](const void* p, size_t n) {
    h.update(p, n);
    auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  });
  const std::string sum = h.hex_digest();
  out.insert(out.end(), sum.begin(), sum.end());
  return out;
}

void PrefixState::save(const std::string& path) const {
  validate_for_write(*this);
  AtomicFileWriter w(path);
  Sha256 h;
  emit(*this, [&](const void* p, size_t n) {
    h.update(p, n);
    w.write(p, n);
  });
  w.write(h.hex_digest());
  w.commit();
}

PrefixState PrefixState::load(const std::string& path) {
  MappedFile f = MappedFile::open(path);
  return parse(f.bytes(), path);
}

PrefixState PrefixState::parse(std::span<const uint8_t> bytes, const std::string& name) {
  Reader r(bytes, name);
  PrefixState s;
  s.source = name;
  if (std::memcmp(r.take(8, "magic"), kMagic, 8) != 0)
    throw Error("not a paw prefix state file (bad magic)", at_offset(name, 0), "expected a file written by paw");
  const uint32_t version = r.u32("version");
  if (version != kVersion)
    throw Error("unsupported prefix state version " + std::to_string(version) + " (this paw reads " +
                    std::to_string(kVersion) + ")",
                at_offset(name, 8), "recompute the prefix with this paw");
  const uint64_t kv_type_off = r.pos();
  const uint32_t kv_type = r.u32("kv_type");
  const uint64_t model_off = r.pos();
  s.model_sha256 = r.str(kHashLen, "model_sha256");
  const uint64_t n_ad_off = r.pos();
  const uint32_t n_adapters = r.u32("n_adapters");
  r.u32("reserved");
  if (n_adapters > kMaxAdapters)
    throw corrupt("adapter count " + std::to_string(n_adapters) + " exceeds the limit of " + std::to_string(kMaxAdapters),
                  name, n_ad_off);
  std::vector<uint64_t> ad_off;
  for (uint32_t i = 0; i < n_adapters; ++i) {
    ad_off.push_back(r.pos());
    std::string hash = r.str(kHashLen, "adapter sha256");
    const uint32_t bits = r.u32("adapter scale");
    r.u32("reserved");
    float scale;
    std::memcpy(&scale, &bits, 4);
    s.adapters.emplace_back(std::move(hash), scale);
  }
  const uint64_t nt_off = r.pos();
  const uint64_t n_tokens = r.u64("n_tokens");
  const uint64_t kv_off = r.pos();
  const uint64_t kv_bytes = r.u64("kv_bytes");
  if (n_tokens > kMaxTokens)
    throw corrupt("token count " + std::to_string(n_tokens) + " exceeds the limit of " + std::to_string(kMaxTokens), name,
                  nt_off);
  // The whole file size follows from the header: compare before reading further.
  const auto tok_bytes = checked_mul(n_tokens, 4);
  auto total = tok_bytes ? checked_add(r.pos(), *tok_bytes) : std::nullopt;
  if (total) total = checked_add(*total, kv_bytes);
  if (total) total = checked_add(*total, kHashLen);
  if (!total || *total != bytes.size())
    throw Error("file is " + std::to_string(bytes.size()) + " bytes but its header describes " +
                    (total ? std::to_string(*total) + " bytes" : std::string("an impossible size")) + " (" +
                    std::to_string(n_tokens) + " tokens, " + std::to_string(kv_bytes) + " KV bytes)",
                at_offset(name, kv_off), "the prefix file is truncated or corrupt; delete it and recompute");

  const size_t body = bytes.size() - kHashLen;
  const std::string want(reinterpret_cast<const char*>(bytes.data() + body), kHashLen);
  if (sha256_hex(bytes.first(body)) != want)
    throw corrupt("checksum mismatch: the sha256 of the content does not match the stored checksum", name, body);

  // Content checks (after the checksum, these only fail for files written wrongly).
  if (kv_type != static_cast<uint32_t>(DType::F16) && kv_type != static_cast<uint32_t>(DType::F32))
    throw corrupt("KV type id " + std::to_string(kv_type) + " is not f16 (1) or f32 (0)", name, kv_type_off);
  s.kv_type = static_cast<DType>(kv_type);
  if (!is_sha256_hex(s.model_sha256)) throw corrupt("model sha256 is not 64 lowercase hex digits", name, model_off);
  for (size_t i = 0; i < s.adapters.size(); ++i)
    if (!is_sha256_hex(s.adapters[i].first))
      throw corrupt("adapter " + std::to_string(i) + " sha256 is not 64 lowercase hex digits", name, ad_off[i]);

  s.tokens.resize(n_tokens);
  for (auto& t : s.tokens) t = static_cast<int32_t>(r.u32("tokens"));
  const uint8_t* kv = r.take(kv_bytes, "kv");
  s.kv.assign(kv, kv + kv_bytes);
  return s;
}

}  // namespace paw
