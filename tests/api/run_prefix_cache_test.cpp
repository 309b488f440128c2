// The on-disk prefix KV cache (programs/<id>/prefix_kv_cache.bin): identical outputs with it
// on and off, reuse only when every binding matches, and any damaged, mismatched or
// unwritable file falls back to evaluating the prefix (one note, never an error), after
// which a good file is written again. Default kernels: this compares paw with itself.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "paw/paw.hpp"
#include "paw/runtime/prefix_state.hpp"
#include "paw/util/mapped_file.hpp"
#include "common/run_fixture.hpp"
#include "common/test_env.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using paw::test::run_fixture;

struct Logged {
  std::vector<std::string> lines;
  paw::ProgramOptions options(const std::string& cache, bool prefix_cache = true) {
    paw::ProgramOptions o;
    o.cache_dir = cache;
    o.prefix_cache = prefix_cache;
    o.log = [this](std::string_view level, std::string_view msg) { lines.push_back(std::string(level) + ": " + std::string(msg)); };
    return o;
  }
  int notes() const {
    int n = 0;
    for (const auto& l : lines) n += l.rfind("note:", 0) == 0;
    return n;
  }
};

std::vector<std::string> outputs(const paw::Program& p, const json& cases, int64_t max_tokens) {
  std::vector<std::string> out;
  paw::RunOptions ro;
  ro.max_tokens = max_tokens;
  for (const json& c : cases) out.push_back(p.run(c["input"].get<std::string>(), ro).output);
  return out;
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST(PrefixCache, OnAndOffGiveIdenticalOutputs) {
  const auto& fx = run_fixture();
  const std::string cache = paw::test::scratch_dir("run-pc-onoff");
  paw::InterpreterOptions io;
  io.cache_dir = cache;
  io.n_threads = 1;
  auto interp = paw::Interpreter::open(fx.model(), io);
  const json& cases = fx.program("a")["cases"];
  Logged log;

  auto off = paw::Program::open(fx.program_dir("a"), interp, log.options(cache, false));
  EXPECT_EQ(off.prefix_source(), paw::PrefixSource::Computed);
  EXPECT_TRUE(off.prefix_cache_path().empty());
  EXPECT_FALSE(fs::exists(cache + "/programs")) << "with the prefix cache off nothing is imported";
  const auto want = outputs(off, cases, fx.max_tokens());

  auto first = paw::Program::open(fx.program_dir("a"), interp, log.options(cache));
  EXPECT_EQ(first.prefix_source(), paw::PrefixSource::Computed);
  const std::string file = cache + "/programs/" + fx.program("a")["id"].get<std::string>() + "/prefix_kv_cache.bin";
  EXPECT_EQ(first.prefix_cache_path(), file);
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(outputs(first, cases, fx.max_tokens()), want);

  // The file holds what the reference's prefix is: its token ids, bound to the model and adapter.
  paw::PrefixState st = paw::PrefixState::load(file);
  EXPECT_EQ(st.tokens, fx.program("a")["prefix_ids"].get<std::vector<int32_t>>());
  EXPECT_EQ(st.model_sha256, interp.model_sha256());
  ASSERT_EQ(st.adapters.size(), 1u);
  EXPECT_EQ(st.adapters[0].first, paw::sha256_hex(read_all(fx.program_dir("a") + "/adapter.gguf")));
  EXPECT_EQ(st.adapters[0].second, 1.0f);

  auto second = paw::Program::open(fx.program_dir("a"), interp, log.options(cache));
  EXPECT_EQ(second.prefix_source(), paw::PrefixSource::Disk);
  EXPECT_EQ(outputs(second, cases, fx.max_tokens()), want);
  // A fresh interpreter (another process, in effect) reuses it too.
  auto interp2 = paw::Interpreter::open(fx.model(), io);
  auto third = paw::Program::open(fx.program("a")["id"].get<std::string>(), interp2, log.options(cache));
  EXPECT_EQ(third.prefix_source(), paw::PrefixSource::Disk);
  EXPECT_EQ(outputs(third, cases, fx.max_tokens()), want);
  EXPECT_EQ(log.notes(), 0);
}

TEST(PrefixCache, DamagedOrMismatchedFilesFallBackAndAreRewritten) {
  const auto& fx = run_fixture();
  const std::string cache = paw::test::scratch_dir("run-pc-damage");
  paw::InterpreterOptions io;
  io.cache_dir = cache;
  io.n_threads = 1;
  auto interp = paw::Interpreter::open(fx.model(), io);
  const json& cases = fx.program("a")["cases"];
  Logged log;
  auto first = paw::Program::open(fx.program_dir("a"), interp, log.options(cache));
  const auto want = outputs(first, cases, 4);
  const std::string file = first.prefix_cache_path();
  const std::vector<uint8_t> good = read_all(file);
  ASSERT_GT(good.size(), 1000u);
  // Program b's file: valid, but for another adapter and another prefix.
  auto b = paw::Program::open(fx.program_dir("b"), interp, log.options(cache));
  const std::vector<uint8_t> other = read_all(b.prefix_cache_path());

  struct Damage {
    const char* name;
    std::vector<uint8_t> bytes;
  };
  std::vector<uint8_t> flipped = good;
  flipped[flipped.size() / 2] ^= 0x40;   // inside the KV data: only the checksum notices
  std::vector<uint8_t> header = good;
  header[20] ^= 0x01;                     // inside the model hash
  const std::vector<Damage> damages = {
      {"a flipped KV byte", flipped},
      {"a flipped header byte", header},
      {"truncated to half", std::vector<uint8_t>(good.begin(), good.begin() + good.size() / 2)},
      {"truncated by one byte", std::vector<uint8_t>(good.begin(), good.end() - 1)},
      {"empty", {}},
      {"not a prefix file", std::vector<uint8_t>(100, 'x')},
      {"another program's file", other},
  };
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.name);
    write_all(file, d.bytes);
    log.lines.clear();
    auto p = paw::Program::open(fx.program_dir("a"), interp, log.options(cache));
    EXPECT_EQ(p.prefix_source(), paw::PrefixSource::Computed);
    EXPECT_EQ(outputs(p, cases, 4), want);
    EXPECT_EQ(log.notes(), 1) << "one line about the cache";
    EXPECT_EQ(read_all(file), good) << "rewritten with the good state (the same bytes: same bindings, same KV)";
    auto again = paw::Program::open(fx.program_dir("a"), interp, log.options(cache));
    EXPECT_EQ(again.prefix_source(), paw::PrefixSource::Disk);
  }

  // A file made with another model (same adapter and prefix): the model hash differs.
  auto interp_eos = paw::Interpreter::open(fx.expected["eos_patched"]["model"].get<std::string>(), io);
  log.lines.clear();
  auto p2 = paw::Program::open(fx.program_dir("a"), interp_eos, log.options(cache));
  EXPECT_EQ(p2.prefix_source(), paw::PrefixSource::Computed);
  EXPECT_EQ(log.notes(), 1);
  EXPECT_EQ(paw::PrefixState::load(file).model_sha256, interp_eos.model_sha256());

  // Unwritable: a folder where the file should be. The program still runs, with one note.
  fs::remove(file);
  fs::create_directory(file);
  log.lines.clear();
  auto p3 = paw::Program::open(fx.program_dir("a"), interp, log.options(cache));
  EXPECT_EQ(p3.prefix_source(), paw::PrefixSource::Computed);
  EXPECT_EQ(outputs(p3, cases, 4), want);
  EXPECT_EQ(log.notes(), 1);
  EXPECT_TRUE(fs::is_directory(file));
}

TEST(PrefixCache, ModelHashIsRememberedByAStamp) {
  const auto& fx = run_fixture();
  const std::string cache = paw::test::scratch_dir("run-pc-hash");
  // Independent hash: coreutils' sha256sum.
  std::string out;
  ASSERT_EQ(paw::test::run_command("sha256sum " + fx.model(), &out), 0);
  const std::string want = out.substr(0, 64);
  paw::InterpreterOptions io;
  io.cache_dir = cache;
  io.n_threads = 1;
  EXPECT_EQ(paw::Interpreter::open(fx.model(), io).model_sha256(), want);
  std::vector<fs::path> stamps;
  for (const auto& e : fs::directory_iterator(cache + "/model_hashes")) stamps.push_back(e.path());
  ASSERT_EQ(stamps.size(), 1u);
  json stamp = json::parse(paw::read_file_to_string(stamps[0].string()));
  EXPECT_EQ(stamp["sha256"], want);
  EXPECT_EQ(stamp["size"].get<uint64_t>(), fs::file_size(fx.model()));

  // The stamp is what a later process uses (a forged hash with the right size and mtime is
  // believed: that is the point of the stamp) ...
  const std::string forged(64, 'a');
  stamp["sha256"] = forged;
  std::ofstream(stamps[0]) << stamp.dump();
  EXPECT_EQ(paw::Interpreter::open(fx.model(), io).model_sha256(), forged);
  // ... but not when the size or mtime no longer match the file.
  stamp["mtime_ns"] = stamp["mtime_ns"].get<uint64_t>() + 1;
  std::ofstream(stamps[0]) << stamp.dump();
  EXPECT_EQ(paw::Interpreter::open(fx.model(), io).model_sha256(), want);
}

}  // namespace
