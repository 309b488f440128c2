// Many threads calling several programs on one shared Interpreter give exactly the serial
// results: calls borrow sessions from the interpreter's pool, and a session that last ran
// another program (another adapter, another prefix) is re-bound before use.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "paw/paw.hpp"
#include "common/run_fixture.hpp"
#include "common/test_env.hpp"

namespace {

using nlohmann::json;
using paw::test::run_fixture;

TEST(RunThreads, TwoProgramsFourThreadsEqualSerialResults) {
  const auto& fx = run_fixture();
  const std::string cache = paw::test::scratch_dir("run-threads");
  paw::InterpreterOptions io;
  io.cache_dir = cache;
  io.max_sessions = 3;   // fewer sessions than threads: some calls wait for one
  io.n_threads = 1;
  auto interp = paw::Interpreter::open(fx.model(), io);
  paw::ProgramOptions po;
  po.cache_dir = cache;
  po.log = [](std::string_view, std::string_view) {};
  const std::vector<paw::Program> progs = {paw::Program::open(fx.program_dir("a"), interp, po),
                                           paw::Program::open(fx.program_dir("b"), interp, po)};
  struct Call {
    size_t prog;
    std::string input;
  };
  std::vector<Call> calls;
  for (size_t p = 0; p < progs.size(); ++p)
    for (size_t i = 0; i < 3; ++i)
      calls.push_back({p, fx.program(p == 0 ? "a" : "b")["cases"][i]["input"].get<std::string>()});
  paw::RunOptions ro;
  ro.max_tokens = 4;

  std::vector<std::vector<int32_t>> serial;
  for (const Call& c : calls) serial.push_back(progs[c.prog].run(c.input, ro).ids);

  constexpr int kThreads = 4;
  std::vector<std::vector<std::vector<int32_t>>> got(kThreads, std::vector<std::vector<int32_t>>(calls.size()));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      // Each thread walks the calls in its own order, so programs interleave on sessions.
      for (size_t k = 0; k < calls.size(); ++k) {
        const size_t n = calls.size(), j = (k + static_cast<size_t>(t)) % n;
        const size_t i = t % 2 == 0 ? j : n - 1 - j;   // a rotation, forwards or backwards
        got[t][i] = progs[calls[i].prog].run(calls[i].input, ro).ids;
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    for (size_t i = 0; i < calls.size(); ++i) EXPECT_EQ(got[t][i], serial[i]) << "thread " << t << " call " << i;
  EXPECT_LE(interp.sessions_created(), 3);
}

}  // namespace
