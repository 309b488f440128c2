// Rebasing an experts compiler (paw/compiler/rebase.hpp): every expert's program becomes its
// own plus the difference between two controls' programs, factor by factor; routing, encoder
// and every other tensor stay as they were; from == to changes no basis; bad inputs are clear
// errors and write nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <vector>
#include <string>

#include "paw/compiler/compiler.hpp"
#include "paw/compiler/format.hpp"
#include "paw/compiler/rebase.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/util/error.hpp"
#include "paw/util/sha256.hpp"
#include "common/compiler_fixture.hpp"
#include "common/test_env.hpp"

namespace paw::compiler {
namespace {

namespace fs = std::filesystem;

struct RebaseFixture {
  std::string dir, experts, from, to, other_rank, other_interp_control;
};

// For the fixture interpreter (3 layers): a two-expert compiler (6 bases) and two controls of
// its rank and alpha (different seeds, so their programs differ); a control of another rank;
// a control for the other interpreter.
const RebaseFixture& fx() {
  static const RebaseFixture x = [] {
    const auto& f = test::compiler_fixture();
    RebaseFixture r;
    r.dir = test::scratch_dir("rebase");
    const std::string tool = test::tool_path("paw-fixture") + " compiler --encoder " + f.encoder + " --prefix-tokens 4 ";
    auto run = [](const std::string& cmd) {
      if (test::run_command(cmd) != 0) throw std::runtime_error("fixture command failed: " + cmd);
    };
    r.experts = r.dir + "/experts.gguf";
    r.from = r.dir + "/from.gguf";
    r.to = r.dir + "/to.gguf";
    r.other_rank = r.dir + "/rank16.gguf";
    r.other_interp_control = r.dir + "/other.gguf";
    run(tool + "--interpreter " + f.interp +
        " --n-bases 6 --rank 32 --alpha 16 --seed 41 --coef-activation softmax --experts dates,reviews -o " + r.experts);
    run(tool + "--interpreter " + f.interp + " --n-bases 3 --rank 32 --alpha 16 --seed 42 --control -o " + r.from);
    run(tool + "--interpreter " + f.interp +
        " --n-bases 3 --rank 32 --alpha 16 --seed 43 --control --coef-activation softmax -o " + r.to);
    run(tool + "--interpreter " + f.interp + " --n-bases 3 --rank 16 --alpha 16 --seed 44 --control -o " + r.other_rank);
    run(tool + "--interpreter " + f.other_interp + " --n-bases 3 --rank 32 --alpha 16 --seed 45 --control -o " +
        r.other_interp_control);
    return r;
  }();
  return x;
}

std::map<std::string, LoraWeights> program(const Compiler& c) {
  return c.adapter_weights(c.coefficients("(the control ignores the spec)"));
}

const char* kSpec = "Rewrite the date as YYYY-MM-DD.\n\nInput: 5 March 2021\nOutput: 2021-03-05";

TEST(RebaseExperts, EveryExpertMovesByTheControlsDifference) {
  const RebaseFixture& x = fx();
  const std::string out = x.dir + "/rebased.gguf";
  rebase_experts(x.experts, x.from, x.to, out);
  const Compiler e = Compiler::open(x.experts), r = Compiler::open(out), from = Compiler::open(x.from),
                 to = Compiler::open(x.to);
  const auto pf = program(from), pt = program(to);
  ASSERT_EQ(r.info().experts, e.info().experts);
  double moved = 0;
  for (size_t k = 0; k < e.info().experts.size(); ++k) {
    const auto before = e.adapter_weights(e.expert_coefficients(k)), after = r.adapter_weights(r.expert_coefficients(k));
    ASSERT_EQ(before.size(), after.size());
    for (const auto& [name, w] : before) {
      SCOPED_TRACE(e.info().experts[k] + " " + name);
      const LoraWeights& a = after.at(name);
      const LoraWeights &f = pf.at(name), &t = pt.at(name);
      ASSERT_EQ(a.a.size(), w.a.size());
      ASSERT_EQ(a.b.size(), w.b.size());
      for (size_t i = 0; i < w.a.size(); ++i) {
        const double want = double(w.a[i]) + (double(t.a[i]) - double(f.a[i]));
        ASSERT_NEAR(a.a[i], want, 1e-6 * (1 + std::abs(want))) << "A[" << i << "]";
        moved = std::max(moved, std::abs(double(a.a[i]) - double(w.a[i])));
      }
      for (size_t i = 0; i < w.b.size(); ++i) {
        const double want = double(w.b[i]) + (double(t.b[i]) - double(f.b[i]));
        ASSERT_NEAR(a.b[i], want, 1e-6 * (1 + std::abs(want))) << "B[" << i << "]";
      }
    }
  }
  EXPECT_GT(moved, 1e-3) << "the two controls' programs must differ for this test to mean anything";

  // The router and encoder are untouched: every spec goes where it went, with the same weights.
  for (const char* spec : {kSpec, "Is the review positive? Answer yes or no."}) {
    EXPECT_EQ(r.expert_weights(r.coefficients(spec)), e.expert_weights(e.coefficients(spec))) << spec;
  }
  // Every tensor but the bases is byte-identical; the file names the two controls.
  const GGUFFile ge = GGUFFile::open(x.experts), gr = GGUFFile::open(out);
  ASSERT_EQ(ge.tensors().size(), gr.tensors().size());
  for (size_t i = 0; i < ge.tensors().size(); ++i) {
    const auto &te = ge.tensors()[i], &tr = gr.tensors()[i];
    ASSERT_EQ(te.name, tr.name);
    ASSERT_EQ(te.n_bytes, tr.n_bytes);
    if (te.name.rfind("compiler.bases.", 0) != 0) {
      EXPECT_EQ(std::memcmp(te.data, tr.data, te.n_bytes), 0) << te.name;
    }
  }
  EXPECT_EQ(gr.get_string(key::rebase_from), sha256_file_hex(x.from));
  EXPECT_EQ(gr.get_string(key::rebase_to), sha256_file_hex(x.to));
  EXPECT_EQ(r.info().name, e.info().name + " rebased");
}

TEST(RebaseExperts, TheAveragedTwinGivesEveryExpertTheMeanProgram) {
  const RebaseFixture& x = fx();
  const std::string rebased = x.dir + "/rebased-for-mean.gguf", twin = x.dir + "/twin.gguf";
  rebase_experts(x.experts, x.from, x.to, rebased);
  RebaseOptions o;
  o.average_experts = true;
  rebase_experts(x.experts, x.from, x.to, twin, o);
  const Compiler r = Compiler::open(rebased), t = Compiler::open(twin);
  const size_t E = r.info().experts.size();
  std::vector<std::map<std::string, LoraWeights>> each;
  for (size_t k = 0; k < E; ++k) each.push_back(r.adapter_weights(r.expert_coefficients(k)));
  for (size_t k = 0; k < E; ++k) {
    const auto got = t.adapter_weights(t.expert_coefficients(k));
    for (const auto& [name, w] : got) {
      for (size_t i = 0; i < w.a.size(); ++i) {
        double mean = 0;
        for (size_t j = 0; j < E; ++j) mean += each[j].at(name).a[i];
        ASSERT_NEAR(w.a[i], mean / E, 1e-6 * (1 + std::abs(mean / E))) << name << " A[" << i << "] of expert " << k;
      }
      for (size_t i = 0; i < w.b.size(); ++i) {
        double mean = 0;
        for (size_t j = 0; j < E; ++j) mean += each[j].at(name).b[i];
        ASSERT_NEAR(w.b[i], mean / E, 1e-6 * (1 + std::abs(mean / E))) << name << " B[" << i << "] of expert " << k;
      }
    }
  }
}

TEST(RebaseExperts, TheSameControlTwiceChangesNoBasis) {
  const RebaseFixture& x = fx();
  const std::string out = x.dir + "/same.gguf";
  RebaseOptions o;
  o.name = "unchanged";
  rebase_experts(x.experts, x.to, x.to, out, o);
  const GGUFFile ge = GGUFFile::open(x.experts), gr = GGUFFile::open(out);
  for (size_t i = 0; i < ge.tensors().size(); ++i)
    EXPECT_EQ(std::memcmp(ge.tensors()[i].data, gr.tensors()[i].data, ge.tensors()[i].n_bytes), 0) << ge.tensors()[i].name;
  EXPECT_EQ(Compiler::open(out).info().name, "unchanged");
}

// Expert k's factors, layer by layer and module by module.
std::map<std::string, LoraWeights> expert_program(const Compiler& c, size_t k) {
  return c.adapter_weights(c.expert_coefficients(k));
}

void expect_same_program(const std::map<std::string, LoraWeights>& got, const std::map<std::string, LoraWeights>& want,
                         const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (const auto& [name, w] : want) {
    const LoraWeights& g = got.at(name);
    ASSERT_EQ(g.a.size(), w.a.size()) << what << " " << name;
    ASSERT_EQ(g.b.size(), w.b.size()) << what << " " << name;
    for (size_t i = 0; i < w.a.size(); ++i) ASSERT_NEAR(g.a[i], w.a[i], 1e-6 * (1 + std::abs(w.a[i]))) << what << " " << name << " A[" << i << "]";
    for (size_t i = 0; i < w.b.size(); ++i) ASSERT_NEAR(g.b[i], w.b[i], 1e-6 * (1 + std::abs(w.b[i]))) << what << " " << name << " B[" << i << "]";
  }
}

TEST(RebaseExperts, ASetExpertGetsThatProgramWhileTheOthersMove) {
  const RebaseFixture& x = fx();
  const std::string out = x.dir + "/set-and-move.gguf";
  RebaseOptions o;
  o.set_experts["reviews"] = x.from;  // any control of the experts' shape
  rebase_experts(x.experts, x.from, x.to, out, o);
  const Compiler e = Compiler::open(x.experts), r = Compiler::open(out), from = Compiler::open(x.from),
                 to = Compiler::open(x.to);
  ASSERT_EQ(r.info().experts, (std::vector<std::string>{"dates", "reviews"}));
  // reviews: exactly the --set control's program (not moved by to - from).
  expect_same_program(expert_program(r, 1), program(from), "reviews");
  // dates: its own program moved by to - from, as without --set.
  std::map<std::string, LoraWeights> want = expert_program(e, 0);
  const auto pf = program(from), pt = program(to);
  for (auto& [name, w] : want) {
    for (size_t i = 0; i < w.a.size(); ++i) w.a[i] += pt.at(name).a[i] - pf.at(name).a[i];
    for (size_t i = 0; i < w.b.size(); ++i) w.b[i] += pt.at(name).b[i] - pf.at(name).b[i];
  }
  expect_same_program(expert_program(r, 0), want, "dates");
  const GGUFFile g = GGUFFile::open(out);
  EXPECT_EQ(g.get_string(std::string(key::rebase_set_prefix) + "reviews"), sha256_file_hex(x.from));
  EXPECT_EQ(g.get_string(key::rebase_from), sha256_file_hex(x.from));
}

TEST(RebaseExperts, OnlySetExpertsNeedNoControls) {
  const RebaseFixture& x = fx();
  const std::string out = x.dir + "/set-only.gguf";
  RebaseOptions o;
  o.set_experts["dates"] = x.to;
  rebase_experts(x.experts, "", "", out, o);
  const Compiler e = Compiler::open(x.experts), r = Compiler::open(out), to = Compiler::open(x.to);
  expect_same_program(expert_program(r, 0), program(to), "dates");
  expect_same_program(expert_program(r, 1), expert_program(e, 1), "reviews (untouched)");
  const GGUFFile g = GGUFFile::open(out);
  EXPECT_EQ(g.find(key::rebase_from), nullptr);
  EXPECT_EQ(g.get_string(std::string(key::rebase_set_prefix) + "dates"), sha256_file_hex(x.to));
  // The router is untouched.
  EXPECT_EQ(r.expert_weights(r.coefficients(kSpec)), e.expert_weights(e.coefficients(kSpec)));
}

TEST(RebaseExperts, InheritedRecordsStayOnlyWhileTheyHold) {
  const RebaseFixture& x = fx();
  const std::string moved = x.dir + "/rec-moved.gguf", one = x.dir + "/rec-one.gguf", all = x.dir + "/rec-all.gguf",
                    again = x.dir + "/rec-again.gguf";
  rebase_experts(x.experts, x.from, x.to, moved);
  RebaseOptions o;
  o.set_experts["dates"] = x.to;
  rebase_experts(moved, "", "", one, o);  // reviews is still the moved program: the record holds
  const GGUFFile g1 = GGUFFile::open(one);
  EXPECT_EQ(g1.get_string(key::rebase_from), sha256_file_hex(x.from));
  EXPECT_EQ(g1.get_string(std::string(key::rebase_set_prefix) + "dates"), sha256_file_hex(x.to));
  o.set_experts["reviews"] = x.from;
  rebase_experts(moved, "", "", all, o);  // no expert is a moved program any more
  const GGUFFile g2 = GGUFFile::open(all);
  EXPECT_EQ(g2.find(key::rebase_from), nullptr);
  EXPECT_EQ(g2.find(key::rebase_to), nullptr);
  EXPECT_EQ(g2.get_string(std::string(key::rebase_set_prefix) + "reviews"), sha256_file_hex(x.from));
  rebase_experts(one, x.to, x.from, again);  // moving changes the set expert too
  const GGUFFile g3 = GGUFFile::open(again);
  EXPECT_EQ(g3.find(std::string(key::rebase_set_prefix) + "dates"), nullptr);
  EXPECT_EQ(g3.get_string(key::rebase_from), sha256_file_hex(x.to));
}

TEST(RebaseExperts, BadSetsAreClearErrorsAndWriteNothing) {
  const RebaseFixture& x = fx();
  const auto& f = test::compiler_fixture();
  const std::string out = x.dir + "/refused-set.gguf";
  struct Case {
    std::string from, to;
    std::map<std::string, std::string> set;
    std::string out, needle;
  };
  const std::vector<Case> cases = {
      {"", "", {}, out, "nothing to do"},
      {x.from, "", {}, out, "--from and --to go together"},
      {"", "", {{"weather", x.to}}, out, "no expert named 'weather'"},
      {"", "", {{"dates", f.compiler}}, out, "must be a control compiler"},
      {"", "", {{"dates", x.other_rank}}, out, "rank, alpha or modules"},
      {"", "", {{"dates", x.other_interp_control}}, out, "another interpreter"},
      {"", "", {{"dates", x.to}}, x.to, "one of the inputs"},
  };
  for (const Case& c : cases) {
    const std::string before = fs::exists(c.out) ? sha256_file_hex(c.out) : "";
    RebaseOptions o;
    o.set_experts = c.set;
    try {
      rebase_experts(x.experts, c.from, c.to, c.out, o);
      ADD_FAILURE() << "no error for " << c.needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(fs::exists(c.out) ? sha256_file_hex(c.out) : "", before) << c.needle;
  }
}

TEST(RebaseExperts, BadInputsAreClearErrorsAndWriteNothing) {
  const RebaseFixture& x = fx();
  const auto& f = test::compiler_fixture();
  const std::string out = x.dir + "/refused.gguf";
  struct Case {
    std::string experts, from, to, out, needle;
  };
  const std::vector<Case> cases = {
      {x.from, x.from, x.to, out, "not an experts compiler"},
      {x.experts, f.compiler, x.to, out, "must be a control compiler"},
      {x.experts, x.from, x.other_interp_control, out, "another interpreter"},
      {x.experts, x.other_rank, x.to, out, "rank, alpha or modules"},
      {x.experts, x.from, x.to, x.to, "one of the inputs"},
      {x.experts, x.dir + "/missing.gguf", x.to, out, "missing.gguf"},
  };
  for (const Case& c : cases) {
    const std::string before = fs::exists(c.out) ? sha256_file_hex(c.out) : "";
    try {
      rebase_experts(c.experts, c.from, c.to, c.out);
      ADD_FAILURE() << "no error for " << c.needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(fs::exists(c.out) ? sha256_file_hex(c.out) : "", before) << c.needle;
  }
}

}  // namespace
}  // namespace paw::compiler
