// Table selection: the SIMD tables this CPU supports are offered best first, PAW_CPU picks
// one by name (PAW_CPU=scalar must give the scalar reference), an unknown name falls back to
// the best. kernels() decides once per process, so each choice runs in a child process: this
// test binary itself, filtered to SimdDispatchChild.PrintActive.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "ops/simd.hpp"
#include "paw/ops/kernels.hpp"
#include "common/test_env.hpp"

namespace paw {
namespace {

std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Prints the active table when asked to by the parent (a no-op in a normal run).
TEST(SimdDispatchChild, PrintActive) {
  if (!std::getenv("PAW_TEST_PRINT_ACTIVE")) GTEST_SKIP() << "runs as a child of SimdDispatch tests";
  std::printf("active=%s\n", kernels().name);
}

std::string active_with(const std::string& env) {
  std::string out;
  const std::string cmd = env + " PAW_TEST_PRINT_ACTIVE=1 '" + self_exe() +
                          "' --gtest_filter=SimdDispatchChild.PrintActive 2>/dev/null";
  EXPECT_EQ(test::run_command(cmd, &out), 0) << cmd;
  const auto p = out.find("active=");
  if (p == std::string::npos) return "";
  return out.substr(p + 7, out.find('\n', p) - p - 7);
}

TEST(SimdDispatch, TablesMatchCpuFeatures) {
  std::string names;
  for (const KernelTable* kt : available_kernels()) names += std::string(kt->name) + " ";
  EXPECT_EQ(find_kernels("avx512") != nullptr, cpu::has_avx512()) << names;
  EXPECT_EQ(find_kernels("avx2") != nullptr, cpu::has_avx2()) << names;
  if (cpu::has_avx512()) {
    EXPECT_EQ(std::string(available_kernels().front()->name), "avx512");
  } else if (cpu::has_avx2()) {
    EXPECT_EQ(std::string(available_kernels().front()->name), "avx2");
  }
}

TEST(SimdDispatch, EnvironmentPicksTheTable) {
  ASSERT_FALSE(self_exe().empty());
  EXPECT_EQ(active_with("PAW_CPU=scalar"), "scalar");
  const std::string best = available_kernels().front()->name;
  EXPECT_EQ(active_with("PAW_CPU="), best);
  EXPECT_EQ(active_with("PAW_CPU=no-such-isa"), best);  // falls back, with a warning
  for (const KernelTable* kt : available_kernels()) EXPECT_EQ(active_with(std::string("PAW_CPU=") + kt->name), kt->name);
}

}  // namespace
}  // namespace paw
