#include "common/test_env.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>
#include <unistd.h>

namespace fs = std::filesystem;

namespace paw::test {

std::string source_dir() {
  if (const char* e = std::getenv("PAW_SOURCE_DIR")) return e;
  return PAW_SOURCE_DIR;
}

std::string binary_dir() {
  if (const char* e = std::getenv("PAW_BINARY_DIR")) return e;
  return PAW_BINARY_DIR;
}

namespace {

// The scratch folders this process made. They go when the process exits with every test passed
// (ctest runs each test in its own process, so folders of fixture models would otherwise pile
// up run after run — tens of GB over a few weeks); after a failure, or with
// PAW_KEEP_SCRATCH set, they stay for a look.
class ScratchRegistry {
 public:
  void add(const fs::path& p) {
    std::lock_guard<std::mutex> lock(mu_);
    paths_.push_back(p);
  }
  ~ScratchRegistry() {
    if (std::getenv("PAW_KEEP_SCRATCH")) return;
    // gtest's UnitTest singleton is made when the tests register, before main and so before
    // this registry (made at the first scratch_dir call); statics die in reverse order, so it
    // is still alive here.
    if (::testing::UnitTest::GetInstance()->Failed()) return;
    for (const fs::path& p : paths_) {
      std::error_code ec;  // best effort: a folder in use elsewhere is left
      fs::remove_all(p, ec);
    }
  }

 private:
  std::mutex mu_;
  std::vector<fs::path> paths_;
};

ScratchRegistry& scratch_registry() {
  static ScratchRegistry r;
  return r;
}

}  // namespace

std::string scratch_dir(const std::string& name) {
  static std::atomic<int> counter{0};
  fs::path p = fs::path(binary_dir()) / "test-scratch" /
               (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(p);
  fs::create_directories(p);
  scratch_registry().add(p);
  return p.string();
}

std::string npm_cache_dir() {
  std::string dir;
  if (const char* e = std::getenv("PAW_NPM_CACHE")) {
    dir = e;
  } else {
    const char* home = std::getenv("HOME");
    dir = std::string(home ? home : "/root") + "/.cache/paw/npm";
  }
  if (!fs::exists(fs::path(dir) / "node_modules" / "@huggingface" / "tokenizers")) {
    ADD_FAILURE() << "reference npm packages missing in " << dir << " — run scripts/setup.sh";
  }
  return dir;
}

std::string python() {
  if (const char* e = std::getenv("PAW_PYTHON")) return e;
  return "/usr/bin/python3";
}

int run_command(const std::string& cmd, std::string* stdout_text) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  if (stdout_text) *stdout_text = std::move(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string tool_path(const std::string& name) {
  for (const char* sub : {"src", "tools", "."}) {
    fs::path p = fs::path(binary_dir()) / sub / name;
    if (fs::exists(p)) return p.string();
  }
  return (fs::path(binary_dir()) / name).string();
}

}  // namespace paw::test
