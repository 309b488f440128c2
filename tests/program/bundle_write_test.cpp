// Writing bundles: determinism, the layout Python's zipfile sees, content ids against an
// independent Python implementation of the recipe, atomic unpack.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "paw/program/bundle.hpp"
#include "paw/util/error.hpp"
#include "paw/util/sha256.hpp"
#include "program_fixtures.hpp"
#include "common/test_env.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace paw::test;

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string sha_of_file(const std::string& path) {
  auto b = read_bytes(path);
  return paw::sha256_hex(std::span<const uint8_t>(b));
}

}  // namespace

TEST(BundleWrite, PackIsDeterministic) {
  std::string root = scratch_dir("pack-det");
  write_v4_folder(root + "/a");
  write_v4_folder(root + "/b");
  // Different mtimes on the second copy must not matter.
  fs::last_write_time(root + "/b/adapter.gguf", fs::file_time_type::clock::now() - std::chrono::hours(100));
  std::string id_a = paw::pack_directory(root + "/a", root + "/a.paw");
  std::string id_b = paw::pack_directory(root + "/b", root + "/b.paw");
  EXPECT_EQ(id_a, id_b);
  std::string id_a2 = paw::pack_directory(root + "/a", root + "/a2.paw");
  EXPECT_EQ(id_a, id_a2);
  EXPECT_EQ(read_bytes(root + "/a.paw"), read_bytes(root + "/b.paw"));
  EXPECT_EQ(read_bytes(root + "/a.paw"), read_bytes(root + "/a2.paw"));
}

TEST(BundleWrite, PythonZipfileSeesTheExpectedArchive) {
  std::string root = scratch_dir("pack-py");
  std::string src = root + "/src";
  write_v4_folder(src);
  write_bytes(src + "/README.md", std::string("Urgency triage program.\n"));
  write_bytes(src + "/NOTES.txt", std::string("more\n"));
  paw::PackOptions po;
  po.extra_files = {"README.md", "NOTES.txt"};
  paw::pack_directory(src, root + "/x.paw", po);

  json got = json::parse(zip_check("inspect '" + root + "/x.paw'"));
  EXPECT_TRUE(got["testzip"].is_null()) << got.dump();   // every CRC checks out
  EXPECT_EQ(got["comment"], "");
  const std::vector<std::string> names = {"meta.json", "prompt_template.txt", "adapter.gguf", "NOTES.txt", "README.md"};
  const std::vector<int> methods = {8, 8, 0, 8, 8};   // deflate text, store the adapter
  ASSERT_EQ(got["members"].size(), names.size()) << got.dump();
  for (size_t i = 0; i < names.size(); ++i) {
    const json& m = got["members"][i];
    EXPECT_EQ(m["name"], names[i]);
    EXPECT_EQ(m["compress_type"], methods[i]) << names[i];
    EXPECT_EQ(m["date_time"], json::array({1980, 1, 1, 0, 0, 0})) << names[i];
    EXPECT_EQ(m["create_system"], 3) << names[i];
    EXPECT_EQ(m["mode"], 0100644) << names[i];
    EXPECT_EQ(m["extra_len"], 0) << names[i];
    // The bytes inside are the source files' bytes (meta.json carries a program_id already,
    // so it is stored verbatim).
    EXPECT_EQ(m["sha256"], sha_of_file(src + "/" + names[i])) << names[i];
    EXPECT_EQ(m["size"], fs::file_size(src + "/" + names[i])) << names[i];
  }
}

TEST(BundleWrite, ContentIdMatchesIndependentRecipe) {
  std::string root = scratch_dir("pack-id");
  std::string src = root + "/src";
  json meta = meta_v4(/*with_id=*/false);
  meta["spec"] = "Étiquette: «urgent» ou \"attendre\" — 日本語 \u0001 tab\t";
  meta["lora_alpha"] = 0.1;
  meta["nested"] = {{"z", {1, 2.5, nullptr}}, {"a", true}};
  write_bundle_folder(src, meta.dump(4), qwen3_template(), adapter_gguf("qwen3"));
  std::string expected = trim(zip_check("program-id '" + src + "'"));
  ASSERT_EQ(expected.size(), 32u);

  std::string id = paw::pack_directory(src, root + "/x.paw");
  EXPECT_EQ(id, expected);
  paw::Bundle b = paw::read_bundle(root + "/x.paw");
  EXPECT_EQ(b.meta.program_id.value(), expected);     // pack wrote it into meta.json
  EXPECT_EQ(paw::content_program_id(b), expected);    // and program_id is not hashed
  EXPECT_EQ(b.meta.json["spec"], meta["spec"]);        // everything else survived the rewrite

  // The rewritten meta.json hashes the same in Python too.
  paw::unpack_bundle(root + "/x.paw", root + "/out");
  EXPECT_EQ(trim(zip_check("program-id '" + root + "/out'")), expected);

  // Any change of content changes the id.
  write_bytes(src + "/prompt_template.txt", qwen3_template("Something else."));
  EXPECT_NE(paw::pack_directory(src, root + "/y.paw"), expected);
}

TEST(BundleWrite, KeepsExistingProgramIdAndBytes) {
  std::string root = scratch_dir("pack-keep");
  write_v4_folder(root + "/src");
  paw::PackOptions po;
  EXPECT_EQ(paw::pack_directory(root + "/src", root + "/x.paw", po), "0123456789abcdef0123456789abcdef");
  paw::BundleReadOptions ro;
  paw::Bundle b = paw::read_bundle(root + "/x.paw", ro);
  EXPECT_EQ(b.meta_json, meta_v4().dump(2));
}

TEST(BundleWrite, UnpackRoundTripsAndRepacksIdentically) {
  std::string root = scratch_dir("unpack");
  std::string src = root + "/src";
  write_v4_folder(src);
  write_bytes(src + "/README.md", std::string("hello\n"));
  paw::PackOptions po;
  po.extra_files = {"README.md"};
  paw::pack_directory(src, root + "/x.paw", po);
  paw::unpack_bundle(root + "/x.paw", root + "/out");
  EXPECT_EQ(tree(root + "/out"), (std::vector<std::string>{"README.md", "adapter.gguf", "meta.json", "prompt_template.txt"}));
  for (const char* n : {"README.md", "adapter.gguf", "meta.json", "prompt_template.txt"})
    EXPECT_EQ(read_bytes(root + "/out/" + n), read_bytes(src + "/" + n)) << n;
  po.extra_files = {"README.md"};
  paw::pack_directory(root + "/out", root + "/y.paw", po);
  EXPECT_EQ(read_bytes(root + "/x.paw"), read_bytes(root + "/y.paw"));
  // No temporaries left next to the output.
  for (const auto& e : fs::directory_iterator(root))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST(BundleWrite, UnpackRefusesToClobber) {
  std::string root = scratch_dir("unpack-clobber");
  write_v4_folder(root + "/src");
  paw::pack_directory(root + "/src", root + "/x.paw");

  fs::create_directories(root + "/busy");
  write_bytes(root + "/busy/keep.txt", std::string("mine"));
  try {
    paw::unpack_bundle(root + "/x.paw", root + "/busy");
    ADD_FAILURE() << "overwrote a non-empty folder";
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not empty"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("--force"), std::string::npos);
  }
  EXPECT_EQ(tree(root + "/busy"), std::vector<std::string>{"keep.txt"});

  paw::UnpackOptions force;
  force.force = true;
  paw::unpack_bundle(root + "/x.paw", root + "/busy", force);
  EXPECT_EQ(tree(root + "/busy"), (std::vector<std::string>{"adapter.gguf", "meta.json", "prompt_template.txt"}));

  // An empty folder is fine without force.
  fs::create_directories(root + "/empty");
  paw::unpack_bundle(root + "/x.paw", root + "/empty");
  EXPECT_TRUE(fs::exists(root + "/empty/adapter.gguf"));

  // A folder with subfolders is never replaced; a link or a file as output is refused.
  fs::create_directories(root + "/home/sub");
  EXPECT_THROW(paw::unpack_bundle(root + "/x.paw", root + "/home", force), paw::Error);
  EXPECT_TRUE(fs::exists(root + "/home/sub"));
  fs::create_directory_symlink(root + "/empty", root + "/link");
  EXPECT_THROW(paw::unpack_bundle(root + "/x.paw", root + "/link", force), paw::Error);
  write_bytes(root + "/file", std::string("x"));
  EXPECT_THROW(paw::unpack_bundle(root + "/x.paw", root + "/file", force), paw::Error);
  EXPECT_EQ(read_bytes(root + "/file"), std::vector<uint8_t>{'x'});
}

TEST(BundleWrite, PackRefusesBadExtrasAndBadFolders) {
  std::string root = scratch_dir("pack-bad");
  write_v4_folder(root + "/src");
  paw::PackOptions po;
  po.extra_files = {"../outside"};
  EXPECT_THROW(paw::pack_directory(root + "/src", root + "/x.paw", po), paw::Error);
  po.extra_files = {"missing.txt"};
  EXPECT_THROW(paw::pack_directory(root + "/src", root + "/x.paw", po), paw::Error);
  po.extra_files = {"meta.json"};
  EXPECT_THROW(paw::pack_directory(root + "/src", root + "/x.paw", po), paw::Error);
  EXPECT_FALSE(fs::exists(root + "/x.paw"));

  write_bytes(root + "/src/prompt_template.txt", std::string("no placeholder"));
  try {
    paw::pack_directory(root + "/src", root + "/x.paw");
    ADD_FAILURE();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("prompt_template.txt"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(root + "/x.paw"));
}
