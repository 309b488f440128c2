#pragma once
// The runner tests' reference fixture (tests/reference/run_fixture.py): a tiny random Qwen3
// with the real Qwen3 tokenizer, two programs in the reference's bundle shape with Q4_0
// adapters, and the outputs an independent implementation of the reference runtime gives.
// Shared by tests/program and tests/cli (header-only: each test directory is its own binary).
//
// ctest runs every test in its own process, so the fixture is built once per build tree, in
// test-scratch/run-fixture-<key> (key: the scripts' bytes and the paw-fixture binary), under a
// file lock; expected.json is written last, atomically, and marks it complete. Tests only
// read it: they copy what they change.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "paw/util/sha256.hpp"
#include "common/test_env.hpp"

namespace paw::test {

struct RunFixture {
  std::string dir;
  nlohmann::json expected;

  std::string model() const { return dir + "/model.gguf"; }
  const nlohmann::json& program(const std::string& name) const { return expected["programs"][name]; }
  std::string program_dir(const std::string& name) const { return dir + "/prog_" + name; }
  std::string paw_file() const { return dir + "/prog_a.paw"; }
  int64_t max_tokens() const { return expected["max_tokens"].get<int64_t>(); }
};

inline std::string run_fixture_slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline const RunFixture& run_fixture() {
  static const RunFixture fx = [] {
    namespace fs = std::filesystem;
    const std::string ref = source_dir() + "/tests/reference/";
    const std::string tool = tool_path("paw-fixture");
    struct stat st {};
    ::stat(tool.c_str(), &st);
    Sha256 h;
    for (const char* f : {"run_fixture.py", "ref_forward.py", "hf_encode_texts.mjs"}) h.update(run_fixture_slurp(ref + f));
    h.update(std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec));
    RunFixture r;
    const fs::path base = fs::path(binary_dir()) / "test-scratch";
    fs::create_directories(base);
    r.dir = (base / ("run-fixture-" + h.hex_digest().substr(0, 16))).string();

    const int lock = ::open((r.dir + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock >= 0) ::flock(lock, LOCK_EX);
    if (!fs::exists(r.dir + "/expected.json")) {
      fs::remove_all(r.dir);
      const std::string cmd = python() + " " + ref + "run_fixture.py --fixture-tool " + tool + " --npm " + npm_cache_dir() +
                              " --out " + r.dir + " >&2";
      if (run_command(cmd) != 0) ADD_FAILURE() << "building the runner fixture failed: " << cmd;
    }
    if (lock >= 0) ::close(lock);   // releases the flock
    r.expected = nlohmann::json::parse(run_fixture_slurp(r.dir + "/expected.json"), nullptr, /*allow_exceptions=*/false);
    if (r.expected.is_discarded()) {
      ADD_FAILURE() << "no reference fixture in " << r.dir;
      r.expected = nlohmann::json::object();
    }
    return r;
  }();
  return fx;
}

}  // namespace paw::test
