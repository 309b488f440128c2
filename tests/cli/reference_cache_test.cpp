// A program cache shared with the reference SDK (programasweights 0.4.4): programs the reference
// left there and programs paw wrote (pack + import, compile, the shipped example) are listed
// and run by paw, and every folder keeps the reference's rules as checked by the independent
// tests/reference/manifest_check.py (docs/FORMATS.md "Runtime manifest").
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli/cli_model_util.hpp"
#include "paw/util/sha256.hpp"
#include "common/run_fixture.hpp"
#include "common/test_env.hpp"

namespace paw::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string slurp_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Out {
  int status = -1;
  std::string out;
};

// `paw ARGS` on `cache`, with the reference kernels, one thread, no PAW_MODEL; stderr is
// appended to out after a "--stderr--" line.
Out paw_in(const std::string& cache, const std::string& args) {
  const std::string err = cache + ".stderr";
  Out r;
  r.status = run_command("env -u PAW_MODEL PAW_CACHE_DIR=" + cache + " PAW_CPU=scalar timeout 300 " + tool_path("paw") + " " +
                             args + " 2> " + err,
                         &r.out);
  r.out += "--stderr--\n" + slurp_file(err);
  return r;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

json checker(const std::string& args, int* rc = nullptr) {
  std::string out;
  const int status = run_command(python() + " " + source_dir() + "/tests/reference/manifest_check.py " + args, &out);
  if (rc) *rc = status;
  json lines = json::array();
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) lines.push_back(json::parse(l));
  return lines.size() == 1 ? lines[0] : lines;
}

void copy_folder_files(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  for (const char* f : {"meta.json", "prompt_template.txt", "adapter.gguf"}) fs::copy_file(from + "/" + f, to + "/" + f);
}

TEST(ReferenceCache, ProgramsFromBothSidesListAndRun) {
  const auto& fx = run_fixture();
  const std::string dir = scratch_dir("reference-cache");
  const std::string cache = dir + "/cache";
  const std::string flags = " -t 1 --max-tokens " + std::to_string(fx.max_tokens());

  // The reference's side: program a as the SDK leaves it after a download (its runtime
  // manifest hydrated with the canonical pins and runtime_manifest_version).
  const std::string a_id = fx.program("a")["id"];
  const std::string a_dir = cache + "/programs/" + a_id;
  copy_folder_files(fx.program_dir("a"), a_dir);
  json a_meta = json::parse(slurp_file(a_dir + "/meta.json"));
  a_meta["runtime_manifest_version"] = 1;
  json& a_base = a_meta["runtime"]["local_sdk"]["base_model"];
  a_base["size_bytes"] = 622733120;
  a_base["sha256"] = "9a16ed5cacba959e63b62e2b6840c3eca2b51c3c3e51d31367ef8e4aafeae33c";
  a_base["url"] = "https://huggingface.co/programasweights/Qwen3-0.6B-GGUF-Q6_K/resolve/main/qwen3-0.6b-q6_k.gguf";
  std::ofstream(a_dir + "/meta.json", std::ios::binary | std::ios::trunc) << a_meta.dump(2) << "\n";

  // paw's side: program b on paw's own base model, in the manifest older paw versions wrote
  // (size, local_sdk.supported true, nothing to download), packed and imported with the CLI;
  // and the shipped example program.
  const std::string b_src = dir + "/b";
  copy_folder_files(fx.program_dir("b"), b_src);
  const uint64_t model_size = fs::file_size(fx.model());
  const std::string model_sha = sha256_file_hex(fx.model());
  json b_meta = json::parse(slurp_file(b_src + "/meta.json"));
  b_meta["interpreter"] = "paw/fixture-tiny";
  b_meta["runtime"] = {{"runtime_id", "paw-fixture-tiny"},
                       {"manifest_version", 1},
                       {"interpreter", "paw/fixture-tiny"},
                       {"adapter_format", "gguf_lora"},
                       {"local_sdk",
                        {{"supported", true},
                         {"n_ctx", 2048},
                         {"base_model",
                          {{"file", "paw-fixture-tiny.gguf"}, {"size", model_size}, {"sha256", model_sha}, {"arch", "qwen3"}}}}}};
  std::ofstream(b_src + "/meta.json", std::ios::binary | std::ios::trunc) << b_meta.dump(2) << "\n";
  Out packed = paw_in(cache, "pack " + b_src + " -o " + dir + "/b.paw");
  ASSERT_EQ(packed.status, 0) << packed.out;
  const std::string b_id = fx.program("b")["id"];
  Out imp = paw_in(cache, "import " + dir + "/b.paw");
  ASSERT_EQ(imp.status, 0) << imp.out;
  EXPECT_NE(imp.out.find(b_id), std::string::npos) << imp.out;
  Out ex = paw_in(cache, "import " + source_dir() + "/models/example-triage.paw");
  ASSERT_EQ(ex.status, 0) << ex.out;
  const json ex_report = checker("bundle " + source_dir() + "/models/example-triage.paw");

  // Base models as paw's users place them.
  fs::create_directories(cache + "/base_models");
  fs::copy_file(fx.model(), cache + "/base_models/paw-fixture-tiny.gguf");
  fs::copy_file(source_dir() + "/models/paw-tiny-qwen3.gguf", cache + "/base_models/paw-tiny-qwen3.gguf");

  // paw ls: all three, none unreadable.
  Out ls = paw_in(cache, "ls --json");
  ASSERT_EQ(ls.status, 0) << ls.out;
  const json listed = json::parse(ls.out.substr(0, ls.out.find("--stderr--")));
  ASSERT_EQ(listed.size(), 3u) << ls.out;
  std::string example_id;
  for (const json& e : listed) {
    EXPECT_FALSE(e.contains("problem")) << e.dump();
    if (e["id"] != a_id && e["id"] != b_id) example_id = e["id"];
  }
  ASSERT_FALSE(example_id.empty()) << ls.out;
  EXPECT_NE(listed.dump().find("Qwen/Qwen3-0.6B"), std::string::npos);

  // paw run: the reference's program on an explicit model (its own base is not here) ...
  const json& ca = fx.program("a")["cases"][0];
  Out ra = paw_in(cache, "run " + a_id + " " + quote(ca["input"]) + " --model " + fx.model() + flags);
  ASSERT_EQ(ra.status, 0) << ra.out;
  EXPECT_EQ(first_line(ra.out), ca["output"].get<std::string>()) << ra.out;
  // ... and without one it names the file, the size_bytes pin and where to put it.
  Out missing = paw_in(cache, "run " + a_id + " x" + flags);
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.out.find("qwen3-0.6b-q6_k.gguf"), std::string::npos) << missing.out;
  EXPECT_NE(missing.out.find("622733120"), std::string::npos) << missing.out;
  // paw's programs on their own base models from base_models/, no --model: the same output
  // as the reference fixture, and no "other base" warning.
  const json& cb = fx.program("b")["cases"][0];
  Out rb = paw_in(cache, "run " + b_id + " " + quote(cb["input"]) + flags);
  ASSERT_EQ(rb.status, 0) << rb.out;
  EXPECT_EQ(first_line(rb.out), cb["output"].get<std::string>()) << rb.out;
  EXPECT_EQ(rb.out.find("warning"), std::string::npos) << rb.out;
  Out re = paw_in(cache, "run " + example_id + " 'The database is down' -t 1 --max-tokens 4 --json");
  ASSERT_EQ(re.status, 0) << re.out;
  EXPECT_EQ(json::parse(first_line(re.out))["program"], example_id);
  EXPECT_EQ(re.out.find("warning"), std::string::npos) << re.out;

  // The reference's view of the same cache: every program valid; its own runs locally, paw's
  // are valid programs it cannot run (no usable runtime), not corrupt ones.
  int rc = -1;
  const json reports = checker("cache " + cache, &rc);
  EXPECT_EQ(rc, 0) << reports.dump(1);
  ASSERT_EQ(reports.size(), 3u) << reports.dump(1);
  for (const json& r : reports) {
    EXPECT_EQ(r["valid"], true) << r.dump();
    if (r["id"] == a_id) {
      EXPECT_EQ(r["runtime_id"], "qwen3-0.6b-q6_k") << r.dump();
      EXPECT_EQ(r["reference_runs_locally"], true) << r.dump();
    } else {
      EXPECT_EQ(r["reference_runs_locally"], false) << r.dump();
      EXPECT_TRUE(r["runtime_id"].is_null()) << r.dump();
    }
  }
  EXPECT_EQ(ex_report["valid"], true) << ex_report.dump();
  EXPECT_EQ(ex_report["reference_runs_locally"], false) << ex_report.dump();
  // The legacy manifest was written in the reference's names.
  const json b_cached = json::parse(slurp_file(cache + "/programs/" + b_id + "/meta.json"));
  EXPECT_EQ(b_cached["runtime"]["local_sdk"]["base_model"]["size_bytes"], model_size);
  EXPECT_EQ(b_cached["runtime"]["local_sdk"]["supported"], false);
  EXPECT_EQ(b_cached["runtime"]["paw_native"]["supported"], true);
}

TEST(ReferenceCache, CompiledProgramsKeepTheRules) {
  const std::string dir = scratch_dir("reference-compile");
  const std::string interp = dir + "/interp.gguf", enc = dir + "/enc.gguf", compiler = dir + "/compiler.gguf";
  const std::string t = tool_path("paw-fixture");
  for (const std::string& cmd :
       {t + " model --arch qwen3 --preset tiny --seed 1 -o " + interp, t + " model --arch qwen3 --preset tiny --seed 2 -o " + enc,
        t + " compiler --encoder " + enc + " --interpreter " + interp + " --prefix-tokens 4 --n-bases 2 --seed 3 -o " + compiler})
    ASSERT_EQ(run_command(cmd), 0) << cmd;
  const std::string cache = dir + "/cache";
  const std::string spec = quote("Answer yes or no: is the input a question?");
  Out file = paw_in(cache, "compile --compiler " + compiler + " --spec " + spec + " -o " + dir + "/p.paw --json");
  ASSERT_EQ(file.status, 0) << file.out;
  Out cached = paw_in(cache, "compile --compiler " + compiler + " --spec " + spec + " --json");
  ASSERT_EQ(cached.status, 0) << cached.out;
  const std::string id = json::parse(first_line(cached.out))["program_id"];

  const json bundle = checker("bundle " + dir + "/p.paw");
  EXPECT_EQ(bundle["valid"], true) << bundle.dump();
  EXPECT_EQ(bundle["reference_runs_locally"], false) << bundle.dump();
  const json program = checker("program " + cache + "/programs/" + id);
  EXPECT_EQ(program["valid"], true) << program.dump();
  const json meta = json::parse(slurp_file(cache + "/programs/" + id + "/meta.json"));
  EXPECT_EQ(meta["runtime_id"], "paw-interp");
  EXPECT_EQ(meta["runtime"]["local_sdk"]["supported"], false);
  EXPECT_EQ(meta["runtime"]["paw_native"]["supported"], true);
  EXPECT_EQ(meta["runtime"]["local_sdk"]["base_model"]["size_bytes"], fs::file_size(interp));
  EXPECT_FALSE(meta["runtime"]["local_sdk"]["base_model"].contains("size"));

  // paw runs it from base_models/ without --model (the compile put its interpreter there).
  EXPECT_EQ(fs::file_size(cache + "/base_models/interp.gguf"), fs::file_size(interp));
  Out run = paw_in(cache, "run " + id + " hello -t 1 --max-tokens 3 --json");
  ASSERT_EQ(run.status, 0) << run.out;
  EXPECT_EQ(json::parse(first_line(run.out))["program"], id);
}

}  // namespace
}  // namespace paw::test
