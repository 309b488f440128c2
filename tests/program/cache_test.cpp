// The program cache: import/list/remove/lookup, interrupted imports, concurrent imports.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "paw/program/cache.hpp"
#include "paw/program/program_bundle.hpp"
#include "paw/util/error.hpp"
#include "program_fixtures.hpp"
#include "common/test_env.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace paw::test;

namespace {

class Cache : public ::testing::Test {
 protected:
  void SetUp() override {
    root = scratch_dir("cache");
    cache_dir = root + "/cache";
    write_v4_folder(root + "/v4");
    paw::pack_directory(root + "/v4", root + "/v4.paw");
    // A second program without a program_id: cached under its content id.
    write_bundle_folder(root + "/v3", meta_v3(false).dump(), "Review: {INPUT_PLACEHOLDER}\nSentiment:", adapter_gguf("gpt2"));
  }

  std::vector<std::string> ids(paw::ProgramCache& c) {
    std::vector<std::string> out;
    for (auto& e : c.list()) out.push_back(e.id);
    return out;
  }

  std::string root, cache_dir;
};

const std::string kV4Id = "0123456789abcdef0123456789abcdef";

}  // namespace

TEST_F(Cache, ImportListRemove) {
  paw::ProgramCache c(cache_dir);
  EXPECT_TRUE(c.list().empty());
  auto r = c.import(root + "/v4.paw");
  EXPECT_EQ(r.id, kV4Id);
  EXPECT_FALSE(r.already_present);
  EXPECT_EQ(r.dir, cache_dir + "/programs/" + kV4Id);
  EXPECT_EQ(tree(r.dir), (std::vector<std::string>{"adapter.gguf", "meta.json", "prompt_template.txt"}));
  EXPECT_EQ(read_bytes(r.dir + "/adapter.gguf"), adapter_gguf("qwen3"));

  auto r3 = c.import(root + "/v3");   // a folder
  paw::Bundle v3 = paw::read_bundle(root + "/v3");
  EXPECT_EQ(r3.id, paw::content_program_id(v3));
  EXPECT_EQ(r3.id.size(), 32u);

  auto entries = c.list();
  ASSERT_EQ(entries.size(), 2u);
  std::vector<std::string> want = {kV4Id, r3.id};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(ids(c), want);
  for (auto& e : entries) {
    EXPECT_TRUE(e.problem.empty()) << e.problem;
    if (e.id == kV4Id) {
      EXPECT_EQ(e.interpreter, "Qwen/Qwen3-0.6B");
      EXPECT_EQ(e.created_at, "2025-06-01T12:00:00Z");
      EXPECT_EQ(e.size_bytes, fs::file_size(r.dir + "/adapter.gguf") + fs::file_size(r.dir + "/meta.json") +
                                  fs::file_size(r.dir + "/prompt_template.txt"));
    } else {
      EXPECT_EQ(e.interpreter, "gpt2");
    }
  }

  // Same content again: nothing written.
  EXPECT_TRUE(c.import(root + "/v4").already_present);

  EXPECT_EQ(c.remove(kV4Id.substr(0, 6)), kV4Id);
  EXPECT_EQ(ids(c), std::vector<std::string>{r3.id});
  EXPECT_FALSE(fs::exists(r.dir));
  EXPECT_THROW(c.remove(kV4Id), paw::Error);
}

TEST_F(Cache, LookupByUniquePrefix) {
  paw::ProgramCache c(cache_dir);
  c.import(root + "/v4.paw");
  // A second program whose id shares the first 8 characters.
  json m = meta_v4();
  m["program_id"] = "01234567ffffffffffffffffffffffff";
  write_bundle_folder(root + "/twin", m.dump(), qwen3_template(), adapter_gguf("qwen3"));
  c.import(root + "/twin");
  EXPECT_EQ(c.resolve_id(kV4Id), kV4Id);
  EXPECT_EQ(c.resolve_id("0123456789"), kV4Id);
  EXPECT_EQ(c.resolve_id("01234567f"), "01234567ffffffffffffffffffffffff");
  try {
    c.resolve_id("01234567");
    ADD_FAILURE();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("matches 2 programs"), std::string::npos) << e.what();
  }
  EXPECT_THROW(c.resolve_id("012"), paw::Error);          // too short
  EXPECT_THROW(c.resolve_id("abcdef"), paw::Error);       // nothing
  EXPECT_THROW(c.resolve_id("../programs"), paw::Error);
}

TEST_F(Cache, DifferentContentUnderSameIdNeedsForce) {
  paw::ProgramCache c(cache_dir);
  c.import(root + "/v4.paw");
  write_bundle_folder(root + "/changed", meta_v4().dump(), qwen3_template("Other program."), adapter_gguf("qwen3"));
  try {
    c.import(root + "/changed");
    ADD_FAILURE();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("different program"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_bytes(c.program_dir(kV4Id) + "/prompt_template.txt"), read_bytes(root + "/v4/prompt_template.txt"));
  paw::ImportOptions force;
  force.force = true;
  auto r = c.import(root + "/changed", force);
  EXPECT_TRUE(r.replaced);
  std::string t = qwen3_template("Other program.");
  EXPECT_EQ(read_bytes(r.dir + "/prompt_template.txt"), std::vector<uint8_t>(t.begin(), t.end()));
  EXPECT_EQ(ids(c), std::vector<std::string>{kV4Id});
}

TEST_F(Cache, OpensProgramsFromCacheAndPaths) {
  paw::ProgramCache c(cache_dir);
  c.import(root + "/v4.paw");
  paw::ProgramBundle p = paw::open_program(kV4Id.substr(0, 8), c);
  EXPECT_EQ(p.id, kV4Id);
  EXPECT_EQ(p.cache_dir, cache_dir + "/programs/" + kV4Id);
  EXPECT_EQ(p.adapter_path, p.cache_dir + "/adapter.gguf");
  EXPECT_EQ(p.template_prefix, "<|im_start|>user\n[PSEUDO_PROGRAM]\nClassify urgency: immediate or wait.\n[END_PSEUDO_PROGRAM]\n\n[INPUT]\n");
  EXPECT_EQ(p.template_suffix, "\n[END_INPUT]<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  EXPECT_EQ(*p.adapter_gguf, adapter_gguf("qwen3"));
  EXPECT_EQ(p.adapter_arch, "qwen3");
  ASSERT_TRUE(p.manifest);
  EXPECT_EQ(p.manifest->base_model_file, "qwen3-0.6b-q6_k.gguf");

  paw::ProgramBundle z = paw::open_program(root + "/v4.paw", c);
  EXPECT_EQ(z.id, kV4Id);
  EXPECT_TRUE(z.adapter_path.empty());
  EXPECT_TRUE(z.cache_dir.empty());
  paw::ProgramBundle f = paw::open_program(root + "/v3", c);
  EXPECT_EQ(f.adapter_path, root + "/v3/adapter.gguf");
  EXPECT_EQ(f.template_prefix, "Review: ");
  EXPECT_EQ(f.template_suffix, "\nSentiment:");
}

TEST_F(Cache, DetectsHandEditedProgramFolders) {
  paw::ProgramCache c(cache_dir);
  auto r = c.import(root + "/v3");
  // The cached meta.json names the id it is filed under (the reference SDK's rule), so a
  // folder whose meta.json names another program is caught.
  const std::vector<uint8_t> cached_meta = read_bytes(r.dir + "/meta.json");
  json m = json::parse(cached_meta.begin(), cached_meta.end());
  EXPECT_EQ(m["program_id"], r.id);
  m["program_id"] = "ffffffffffffffffffffffffffffffff";
  write_bytes(r.dir + "/meta.json", m.dump());
  try {
    c.open(r.id);
    ADD_FAILURE();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("holds program"), std::string::npos) << e.what();
  }
}

TEST_F(Cache, WritesRuntimeFilesAtomically) {
  paw::ProgramCache c(cache_dir);
  c.import(root + "/v4.paw");
  std::vector<uint8_t> kv(1000, 7);
  c.write_program_file(kV4Id, "prefix_kv_cache.bin", kv);
  EXPECT_EQ(read_bytes(c.program_dir(kV4Id) + "/prefix_kv_cache.bin"), kv);
  kv.assign(10, 9);
  c.write_program_file(kV4Id, "prefix_kv_cache.bin", kv);
  EXPECT_EQ(read_bytes(c.program_dir(kV4Id) + "/prefix_kv_cache.bin"), kv);
  EXPECT_THROW(c.write_program_file(kV4Id, "adapter.gguf", kv), paw::Error);
  EXPECT_THROW(c.write_program_file(kV4Id, "../x", kv), paw::Error);
  EXPECT_THROW(c.write_program_file(kV4Id, ".hidden", kv), paw::Error);
  EXPECT_THROW(c.write_program_file("ffffffffffffffffffffffffffffffff", "prefix_kv_cache.bin", kv), paw::Error);
  EXPECT_THROW(c.write_program_file("../../x", "prefix_kv_cache.bin", kv), paw::Error);
  // The runtime file does not disturb listing or opening.
  EXPECT_EQ(ids(c), std::vector<std::string>{kV4Id});
  EXPECT_EQ(c.open(kV4Id).prompt_template, qwen3_template());
}

// A killed import leaves its staging folder; a hand-made or half-deleted folder may lack
// members. Neither is ever listed or opened, and the next list() or import() removes them.
TEST_F(Cache, InterruptedImportsAreNeverUsedAndGetCleaned) {
  paw::ProgramCache c(cache_dir);
  c.import(root + "/v4.paw");
  const std::string programs = cache_dir + "/programs";
  const std::string partial_id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const std::string staged = programs + "/.tmp-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-Xy12Ab";
  write_bundle_folder(staged, meta_v4().dump(), qwen3_template(), adapter_gguf("qwen3"));
  fs::create_directories(programs + "/" + partial_id);
  write_bytes(programs + "/" + partial_id + "/meta.json", meta_v4().dump());
  write_bytes(c.program_dir(kV4Id) + "/.prefix_kv_cache.bin.tmp-123456", std::string("half"));

  EXPECT_THROW(c.resolve_id(partial_id), paw::Error);
  EXPECT_THROW(c.resolve_id("bbbbbbbb"), paw::Error);
  EXPECT_THROW(paw::open_program(partial_id, c), paw::Error);

  EXPECT_EQ(ids(c), std::vector<std::string>{kV4Id});
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_FALSE(fs::exists(programs + "/" + partial_id));
  EXPECT_FALSE(fs::exists(c.program_dir(kV4Id) + "/.prefix_kv_cache.bin.tmp-123456"));
  EXPECT_EQ(tree(c.program_dir(kV4Id)), (std::vector<std::string>{"adapter.gguf", "meta.json", "prompt_template.txt"}));

  // Import over a partial folder of the same id replaces it.
  json m = meta_v4();
  m["program_id"] = partial_id;
  fs::create_directories(programs + "/" + partial_id);
  write_bytes(programs + "/" + partial_id + "/meta.json", std::string("{"));
  write_bundle_folder(root + "/p", m.dump(), qwen3_template(), adapter_gguf("qwen3"));
  auto r = c.import(root + "/p");
  EXPECT_FALSE(r.already_present);
  EXPECT_EQ(c.open(partial_id).meta.program_id.value(), partial_id);
}

TEST_F(Cache, StaleCleanupWaitsForOtherProcesses) {
  paw::ProgramCache c(cache_dir);
  c.import(root + "/v4.paw");
  const std::string staged = cache_dir + "/programs/.tmp-cccccccccccccccccccccccccccccccc-abcdef";
  fs::create_directories(staged);
  // While another process holds the cache lock shared (an import in progress), the staging
  // folder is not touched.
  int to_child[2], to_parent[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(to_parent), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int fd = ::open((cache_dir + "/locks/cache.lock").c_str(), O_RDWR);
    if (fd < 0 || ::flock(fd, LOCK_SH) != 0) ::_exit(2);
    char ch = 'x';
    if (::write(to_parent[1], &ch, 1) != 1) ::_exit(3);
    if (::read(to_child[0], &ch, 1) != 1) ::_exit(4);
    ::_exit(0);
  }
  char ch;
  ASSERT_EQ(::read(to_parent[0], &ch, 1), 1);
  EXPECT_EQ(ids(c), std::vector<std::string>{kV4Id});
  EXPECT_TRUE(fs::exists(staged));
  EXPECT_EQ(c.clean(), 0u);
  EXPECT_TRUE(fs::exists(staged));
  ASSERT_EQ(::write(to_child[1], "g", 1), 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(c.clean(), 1u);
  EXPECT_FALSE(fs::exists(staged));
  for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) ::close(fd);
}

TEST_F(Cache, ConcurrentImportsOfTheSameProgram) {
  // Several rounds of two processes importing the same bundle at once.
  for (int round = 0; round < 3; ++round) {
    std::string dir = cache_dir + "-" + std::to_string(round);
    std::vector<pid_t> pids;
    for (int k = 0; k < 2; ++k) {
      pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        int rc = 0;
        try {
          paw::ProgramCache child(dir);
          child.import(root + "/v4.paw");
        } catch (...) {
          rc = 1;
        }
        ::_exit(rc);
      }
      pids.push_back(pid);
    }
    for (pid_t pid : pids) {
      int status = 0;
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "import failed in a child, round " << round;
    }
    paw::ProgramCache c(dir);
    EXPECT_EQ(ids(c), std::vector<std::string>{kV4Id});
    EXPECT_EQ(tree(dir + "/programs"),
              (std::vector<std::string>{kV4Id, kV4Id + "/adapter.gguf", kV4Id + "/meta.json", kV4Id + "/prompt_template.txt"}));
    EXPECT_EQ(c.open(kV4Id).adapter, adapter_gguf("qwen3"));
  }
}

TEST_F(Cache, DefaultDirFollowsEnvironment) {
  std::string saved = std::getenv("PAW_CACHE_DIR") ? std::getenv("PAW_CACHE_DIR") : "";
  ::setenv("PAW_CACHE_DIR", (root + "/envcache").c_str(), 1);
  EXPECT_EQ(paw::ProgramCache().root(), root + "/envcache");
  ::unsetenv("PAW_CACHE_DIR");
  std::string home = std::getenv("HOME") ? std::getenv("HOME") : ".";
  EXPECT_EQ(paw::ProgramCache().root(), home + "/.cache/programasweights");
  if (!saved.empty()) ::setenv("PAW_CACHE_DIR", saved.c_str(), 1);
}
