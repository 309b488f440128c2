// PrefixState: a restored prefix followed by a continuation gives bit-identical logits to the
// uninterrupted session; every binding mismatch is refused with its own message; every
// truncation and every single flipped byte of a saved file is refused, never crashes.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/model_test_util.hpp"
#include "paw/runtime/generate.hpp"
#include "paw/runtime/prefix_state.hpp"
#include "paw/util/error.hpp"
#include "paw/util/sha256.hpp"

namespace paw {
namespace {

using test::fixture;
using test::sample_tokens;

struct PrefixFixture {
  std::string model_path, adapter_path, other_adapter_path;
  std::shared_ptr<const Model> model;
  std::string model_sha;
  std::shared_ptr<const LoraAdapter> adapter, other;
};

const PrefixFixture& setup() {
  static PrefixFixture s = [] {
    PrefixFixture r;
    r.model_path = fixture("model --arch qwen3 --preset tiny --type q8_0 --seed 81");
    r.adapter_path = fixture("lora --rank 32 --alpha 16 --type q4_0 --std 0.1 --seed 82 --model " + r.model_path);
    r.other_adapter_path = fixture("lora --rank 32 --alpha 16 --type q4_0 --std 0.1 --seed 83 --model " + r.model_path);
    r.model = Model::load(r.model_path);
    r.model_sha = sha256_file_hex(r.model_path);
    r.adapter = LoraAdapter::load_gguf(r.adapter_path);
    r.other = LoraAdapter::load_gguf(r.other_adapter_path);
    return r;
  }();
  return s;
}

SessionOptions opts(DType kv = DType::F16) {
  SessionOptions o;
  o.n_ctx = 48;
  o.kv_type = kv;
  o.n_threads = 2;
  return o;
}

// Runs `f` and returns the paw::Error message it throws ("" when it does not throw).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool bits_equal(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(PrefixState, RestoredPrefixPlusContinuationEqualsOneRun) {
  const PrefixFixture& st = setup();
  const auto n_vocab = static_cast<int32_t>(st.model->hparams().n_vocab);
  const auto prefix = sample_tokens(9, n_vocab, 1), cont = sample_tokens(4, n_vocab, 2);
  for (bool with_adapter : {false, true}) {
    SCOPED_TRACE(with_adapter ? "with adapter" : "no adapter");
    // One uninterrupted run: prefix, then the continuation.
    Session a(st.model, opts());
    if (with_adapter) a.attach(st.adapter, 0.75f);
    a.prefill(prefix);
    const PrefixState cap = PrefixState::capture(a, st.model_sha);
    EvalOptions all;
    all.all_logits = true;
    a.prefill(cont, all);
    const std::vector<float> want(a.all_logits().begin(), a.all_logits().end());

    // Through a file, into a fresh session.
    const std::string file = test::scratch_dir("prefix") + "/p.pawkv";
    cap.save(file);
    const PrefixState loaded = PrefixState::load(file);
    EXPECT_EQ(loaded.tokens, prefix);
    EXPECT_EQ(loaded.model_sha256, st.model_sha);
    EXPECT_EQ(loaded.kv, cap.kv);
    Session b(st.model, opts());
    if (with_adapter) b.attach(st.adapter, 0.75f);
    loaded.restore(b, st.model_sha, prefix);
    EXPECT_EQ(b.n_past(), 9);
    EXPECT_TRUE(b.logits().empty());
    b.prefill(cont, all);
    EXPECT_TRUE(bits_equal(b.all_logits(), want)) << "restored run differs from the uninterrupted run";

    // One prefill of prefix + continuation: the continuation's rows match too (bit-identical on
    // kernels that compute each row independently of the batch; a tight tolerance elsewhere).
    Session one(st.model, opts());
    if (with_adapter) one.attach(st.adapter, 0.75f);
    std::vector<int32_t> whole = prefix;
    whole.insert(whole.end(), cont.begin(), cont.end());
    one.prefill(whole, all);
    const auto rows = one.all_logits().subspan(prefix.size() * static_cast<size_t>(n_vocab));
    const std::vector<double> rows_d(rows.begin(), rows.end());
    test::expect_rows_near(b.all_logits().data(), rows_d, 1e-5, "restored run vs a single prefill");

    // Greedy generation after a restore equals generation in the original session.
    GenerateOptions go;
    go.max_tokens = 6;
    Session c(st.model, opts()), d(st.model, opts());
    if (with_adapter) c.attach(st.adapter, 0.75f), d.attach(st.adapter, 0.75f);
    c.prefill(prefix);
    const auto want_ids = generate(c, cont, go).ids;
    loaded.restore(d, st.model_sha);
    EXPECT_EQ(generate(d, cont, go).ids, want_ids);
  }
}

TEST(PrefixState, EveryBindingMismatchIsNamed) {
  const PrefixFixture& st = setup();
  const auto prefix = sample_tokens(5, static_cast<int32_t>(st.model->hparams().n_vocab), 3);
  Session a(st.model, opts());
  a.attach(st.adapter, 1.0f);
  a.prefill(prefix);
  const PrefixState p = PrefixState::capture(a, st.model_sha);
  ASSERT_EQ(p.adapters.size(), 1u);
  EXPECT_EQ(p.adapters[0].first, sha256_file_hex(st.adapter_path));

  auto fresh = [&](DType kv, std::shared_ptr<const LoraAdapter> ad, float scale) {
    auto s = std::make_unique<Session>(st.model, opts(kv));
    if (ad) s->attach(ad, scale);
    return s;
  };
  const std::string other_sha(64, 'a');
  {
    auto s = fresh(DType::F16, st.adapter, 1.0f);
    EXPECT_NE(error_of([&] { p.restore(*s, other_sha); }).find("model differs"), std::string::npos);
    EXPECT_EQ(s->n_past(), 0) << "a refused restore must leave the session alone";
  }
  {
    auto s = fresh(DType::F16, nullptr, 1.0f);
    EXPECT_NE(error_of([&] { p.restore(*s, st.model_sha); }).find("adapters differ"), std::string::npos);
  }
  {
    auto s = fresh(DType::F16, st.other, 1.0f);
    EXPECT_NE(error_of([&] { p.restore(*s, st.model_sha); }).find("adapter 0 differs"), std::string::npos);
  }
  {
    auto s = fresh(DType::F16, st.adapter, 0.5f);
    EXPECT_NE(error_of([&] { p.restore(*s, st.model_sha); }).find("scale differs"), std::string::npos);
  }
  {
    auto s = fresh(DType::F32, st.adapter, 1.0f);
    EXPECT_NE(error_of([&] { p.restore(*s, st.model_sha); }).find("KV cache type differs"), std::string::npos);
  }
  {
    auto s = fresh(DType::F16, st.adapter, 1.0f);
    auto other_tokens = prefix;
    other_tokens[2] ^= 1;
    EXPECT_NE(error_of([&] { p.restore(*s, st.model_sha, other_tokens); }).find("tokens differ at index 2"),
              std::string::npos);
    other_tokens.pop_back();
    EXPECT_NE(error_of([&] { p.restore(*s, st.model_sha, other_tokens); }).find("tokens differ"), std::string::npos);
    EXPECT_EQ(error_of([&] { p.restore(*s, st.model_sha, prefix); }), "");
    EXPECT_EQ(s->n_past(), 5);
  }
  {
    // Same hash claimed for a model with another shape: the KV size check catches it.
    const auto gpt2 = Model::load(fixture("model --arch gpt2 --preset tiny --type f32 --seed 84"));
    PrefixState q = p;
    q.adapters.clear();
    Session s(gpt2, opts());
    EXPECT_NE(error_of([&] { q.restore(s, st.model_sha); }).find("KV data is"), std::string::npos);
  }
}

TEST(PrefixState, TruncatedOrCorruptFilesAreRefused) {
  const PrefixFixture& st = setup();
  const auto prefix = sample_tokens(3, static_cast<int32_t>(st.model->hparams().n_vocab), 4);
  Session a(st.model, opts());
  a.attach(st.adapter, 2.0f);
  a.prefill(prefix);
  const std::vector<uint8_t> bytes = PrefixState::capture(a, st.model_sha).to_bytes();

  // The file saved to disk holds exactly these bytes.
  const std::string dir = test::scratch_dir("prefix-corrupt");
  PrefixState::capture(a, st.model_sha).save(dir + "/p.pawkv");
  {
    std::ifstream in(dir + "/p.pawkv", std::ios::binary);
    std::vector<uint8_t> disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(disk, bytes);
    size_t entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++entries;
    EXPECT_EQ(entries, 1u) << "atomic save left a temporary file behind";
  }
  // Layout facts from docs/FORMATS.md: magic, version 1, kv type 1 (f16), model hash at 16.
  ASSERT_GT(bytes.size(), 200u);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), "PAWPREFX");
  EXPECT_EQ(bytes[8], 1);
  EXPECT_EQ(bytes[12], 1);
  EXPECT_EQ(std::string(bytes.begin() + 16, bytes.begin() + 80), st.model_sha);
  EXPECT_EQ(std::string(bytes.end() - 64, bytes.end()),
            sha256_hex(std::span<const uint8_t>(bytes.data(), bytes.size() - 64)));

  const PrefixState ok = PrefixState::parse(bytes, "mem");
  EXPECT_EQ(ok.tokens, prefix);
  ASSERT_EQ(ok.adapters.size(), 1u);
  EXPECT_EQ(ok.adapters[0].second, 2.0f);

  // Every truncation.
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string msg = error_of([&] { PrefixState::parse(std::span(bytes).first(n), "mem"); });
    ASSERT_FALSE(msg.empty()) << "truncated to " << n << " bytes was accepted";
    if (n >= 8) {
      EXPECT_TRUE(msg.find("truncated") != std::string::npos) << n << ": " << msg;
    }
  }
  // Every single flipped byte.
  std::vector<uint8_t> bad = bytes;
  for (size_t i = 0; i < bytes.size(); ++i) {
    bad[i] ^= 0x20;
    const std::string msg = error_of([&] { PrefixState::parse(bad, "mem"); });
    ASSERT_FALSE(msg.empty()) << "flipped byte " << i << " was accepted";
    bad[i] = bytes[i];
  }
  // The specific messages.
  bad[0] = 'X';
  EXPECT_NE(error_of([&] { PrefixState::parse(bad, "mem"); }).find("bad magic"), std::string::npos);
  bad[0] = bytes[0];
  bad[8] = 2;
  EXPECT_NE(error_of([&] { PrefixState::parse(bad, "mem"); }).find("version 2"), std::string::npos);
  bad[8] = bytes[8];
  bad[bytes.size() - 100] ^= 1;  // inside the KV data
  EXPECT_NE(error_of([&] { PrefixState::parse(bad, "mem"); }).find("checksum mismatch"), std::string::npos);
  bad[bytes.size() - 100] = bytes[bytes.size() - 100];
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  EXPECT_NE(error_of([&] { PrefixState::parse(longer, "mem"); }).find("header describes"), std::string::npos);
  EXPECT_NE(error_of([&] { PrefixState::load(dir + "/missing.pawkv"); }), "");
}

}  // namespace
}  // namespace paw
