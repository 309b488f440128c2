// Reading bundles: the reference shape (zips made by Python's zipfile, and folders) and
// hostile bundles, each refused with its own error and nothing written anywhere.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "paw/program/bundle.hpp"
#include "paw/util/error.hpp"
#include "program_fixtures.hpp"
#include "common/test_env.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace paw::test;

namespace {

class BundleRead : public ::testing::Test {
 protected:
  void SetUp() override {
    root = scratch_dir("bundle-read");
    src = root + "/src";
    write_v4_folder(src);
  }

  // A spec for a zip whose members are the valid folder's, with `edit` applied.
  json base_spec() { return folder_members_spec(src); }

  // Makes `spec` into root/hostile/h.paw with Python, expects read_bundle and unpack_bundle
  // to fail with `needle` and the bundle's path in the message, and checks that nothing
  // but h.paw exists afterwards.
  void expect_refused(const json& spec, const std::string& needle, paw::BundleLimits limits = {}) {
    std::string dir = scratch_dir("hostile");
    std::string paw_path = dir + "/h.paw";
    python_zip(paw_path, spec);
    for (int pass = 0; pass < 2; ++pass) {
      try {
        if (pass == 0) {
          paw::BundleReadOptions ro;
          ro.limits = limits;
          ro.keep_extras = true;
          paw::read_bundle(paw_path, ro);
        } else {
          paw::UnpackOptions uo;
          uo.limits = limits;
          paw::unpack_bundle(paw_path, dir + "/out", uo);
        }
        ADD_FAILURE() << "accepted a bundle that should fail with '" << needle << "'";
      } catch (const paw::Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find(needle), std::string::npos) << msg;
        EXPECT_NE(msg.find(paw_path), std::string::npos) << msg;
        EXPECT_FALSE(e.hint().empty()) << msg;
      }
    }
    EXPECT_EQ(tree(dir), std::vector<std::string>{"h.paw"});
    EXPECT_FALSE(fs::exists(dir + "/../x"));
  }

  void expect_folder_refused(const std::string& dir, const std::string& needle, paw::BundleLimits limits = {}) {
    try {
      paw::BundleReadOptions ro;
      ro.limits = limits;
      paw::read_bundle(dir, ro);
      ADD_FAILURE() << "accepted folder that should fail with '" << needle << "'";
    } catch (const paw::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(dir), std::string::npos) << e.what();
    }
  }

  std::string root, src;
};

json member(const std::string& name, const std::string& text) { return {{"name", name}, {"text", text}}; }

// The spec with member `name` replaced by `replacement` (or removed when null).
json replace_member(json spec, const std::string& name, const json& replacement) {
  json out = json::array();
  for (auto& m : spec) {
    if (m["name"] != name) out.push_back(m);
    else if (!replacement.is_null()) out.push_back(replacement);
  }
  return out;
}

}  // namespace

TEST_F(BundleRead, ReadsReferenceShapedZipFromPython) {
  python_zip(root + "/p.paw", base_spec());
  paw::Bundle b = paw::read_bundle(root + "/p.paw");
  EXPECT_EQ(b.meta.version, 4);
  EXPECT_EQ(b.meta.interpreter, "Qwen/Qwen3-0.6B");
  EXPECT_EQ(b.prompt_template, qwen3_template());
  EXPECT_EQ(b.adapter, adapter_gguf("qwen3"));
  EXPECT_EQ(b.adapter_arch, "qwen3");
  EXPECT_EQ(b.id(), "0123456789abcdef0123456789abcdef");
  EXPECT_TRUE(b.extras.empty());
}

TEST_F(BundleRead, ReadsV3Gpt2Bundle) {
  std::string dir = root + "/v3";
  write_bundle_folder(dir, meta_v3().dump(), "Review: {INPUT_PLACEHOLDER}\nSentiment:", adapter_gguf("gpt2"));
  python_zip(root + "/v3.paw", folder_members_spec(dir));
  for (const std::string& path : {dir, root + "/v3.paw"}) {
    paw::Bundle b = paw::read_bundle(path);
    EXPECT_EQ(b.meta.version, 3);
    EXPECT_EQ(b.adapter_arch, "gpt2");
    EXPECT_EQ(b.meta.effective_manifest()->runtime_id, "gpt2-q8_0");
  }
}

TEST_F(BundleRead, ReadsFolderAndIgnoresOtherEntries) {
  write_bytes(src + "/README.md", std::string("notes"));
  fs::create_directories(src + "/sub");
  fs::create_symlink("/etc/passwd", src + "/stray-link");
  paw::Bundle b = paw::read_bundle(src);
  EXPECT_EQ(b.prompt_template, qwen3_template());
  EXPECT_TRUE(b.extras.empty());
}

TEST_F(BundleRead, ExtrasAllowedAndKeptOnRequest) {
  json spec = base_spec();
  spec.push_back(member("README.md", "# urgency triage\n"));
  python_zip(root + "/x.paw", spec);
  EXPECT_TRUE(paw::read_bundle(root + "/x.paw").extras.empty());
  paw::BundleReadOptions ro;
  ro.keep_extras = true;
  paw::Bundle b = paw::read_bundle(root + "/x.paw", ro);
  ASSERT_EQ(b.extras.size(), 1u);
  EXPECT_EQ(b.extras[0].name, "README.md");
  EXPECT_EQ(std::string(b.extras[0].bytes.begin(), b.extras[0].bytes.end()), "# urgency triage\n");
}

TEST_F(BundleRead, RefusesZipSlip) {
  json spec = base_spec();
  spec.push_back(member("../x", "escaped"));
  expect_refused(spec, "'..' component");
  spec = base_spec();
  spec.push_back(member("a/../../x", "escaped"));
  expect_refused(spec, "'..' component");
}

TEST_F(BundleRead, RefusesAbsoluteBackslashAndDrivePaths) {
  json spec = base_spec();
  spec.push_back(member("/tmp/x", "abs"));
  expect_refused(spec, "absolute path");
  spec = base_spec();
  spec.push_back(member("..\\x", "bs"));
  expect_refused(spec, "backslash");
  spec = base_spec();
  spec.push_back(member("C:x", "drive"));
  expect_refused(spec, "drive prefix");
}

TEST_F(BundleRead, RefusesLinksDirectoriesAndNesting) {
  json spec = replace_member(base_spec(), "adapter.gguf", {{"name", "adapter.gguf"}, {"text", "/etc/passwd"}, {"symlink", true}});
  expect_refused(spec, "symbolic link");
  spec = base_spec();
  spec.push_back({{"name", "extra"}, {"text", "../../x"}, {"symlink", true}});
  expect_refused(spec, "symbolic link");
  spec = base_spec();
  spec.push_back({{"name", "fifo"}, {"text", ""}, {"mode", 010644}});   // S_IFIFO
  expect_refused(spec, "not a regular file");
  spec = base_spec();
  spec.push_back({{"name", "sub/"}, {"text", ""}, {"dir", true}});
  expect_refused(spec, "directory entry");
  spec = base_spec();
  spec.push_back(member("sub/notes.txt", "x"));
  expect_refused(spec, "nested path");
}

TEST_F(BundleRead, RefusesDuplicateMembers) {
  json spec = base_spec();
  spec.push_back(member("meta.json", R"({"version":4,"interpreter":"gpt2"})"));
  expect_refused(spec, "duplicate member name");
  spec = base_spec();
  spec.push_back(member("META.JSON", R"({"version":4,"interpreter":"gpt2"})"));
  expect_refused(spec, "only by case");
}

TEST_F(BundleRead, RefusesOversizeMembers) {
  paw::BundleLimits small;
  small.max_template_bytes = 100;
  expect_refused(base_spec(), "more than the limit of 100", small);
  json spec = base_spec();
  spec.push_back({{"name", "big.bin"}, {"zeros", 5000}});
  paw::BundleLimits extras;
  extras.max_extra_bytes = 4096;
  expect_refused(spec, "more than the limit of 4096", extras);
  paw::BundleLimits total;
  total.max_total_bytes = 1000;
  expect_refused(base_spec(), "expand to more than the limit", total);
  paw::BundleLimits file;
  file.max_file_bytes = 200;
  expect_refused(base_spec(), "more than the limit of 200", file);
}

TEST_F(BundleRead, StopsZipBombAtItsDeclaredSize) {
  // adapter.gguf really inflates to the adapter + 8 MiB of zeros, but declares only the
  // adapter's size: reading must stop there.
  std::vector<uint8_t> padded = adapter_gguf("qwen3");
  const size_t declared = padded.size();
  padded.resize(padded.size() + (8u << 20), 0);
  write_bytes(root + "/padded.gguf", padded);
  json spec = replace_member(base_spec(), "adapter.gguf",
                             {{"name", "adapter.gguf"}, {"file", root + "/padded.gguf"}, {"compress", "deflate"}});
  std::string dir = scratch_dir("bomb");
  python_zip(dir + "/plain.paw", spec);
  zip_check("bomb '" + dir + "/plain.paw' '" + dir + "/h.paw' adapter.gguf " + std::to_string(declared));
  fs::remove(dir + "/plain.paw");
  for (bool unpack : {false, true}) {
    try {
      if (unpack) paw::unpack_bundle(dir + "/h.paw", dir + "/out");
      else paw::read_bundle(dir + "/h.paw");
      ADD_FAILURE() << "zip bomb accepted";
    } catch (const paw::Error& e) {
      EXPECT_NE(std::string(e.what()).find("member 'adapter.gguf'"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("expands beyond its declared size"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(tree(dir), std::vector<std::string>{"h.paw"});
}

TEST_F(BundleRead, RefusesTooManyMembers) {
  json spec = base_spec();
  for (int i = 0; i < 70; ++i) {
    std::string name = "f";
    name += std::to_string(i);
    spec.push_back(member(name, "x"));
  }
  expect_refused(spec, "members, more than the limit of 64");
}

TEST_F(BundleRead, RefusesUnsupportedCompression) {
  json spec = replace_member(base_spec(), "meta.json", {{"name", "meta.json"}, {"file", src + "/meta.json"}, {"compress", "bzip2"}});
  expect_refused(spec, "compression method 12");
}

TEST_F(BundleRead, RefusesMissingMembers) {
  expect_refused(replace_member(base_spec(), "adapter.gguf", nullptr), "missing required member 'adapter.gguf'");
  expect_refused(replace_member(base_spec(), "meta.json", nullptr), "missing required member 'meta.json'");
  json spec = replace_member(base_spec(), "adapter.gguf", {{"name", "Adapter.gguf"}, {"file", src + "/adapter.gguf"}});
  expect_refused(spec, "missing required member 'adapter.gguf'");
  try {
    python_zip(root + "/case.paw", spec);
    paw::read_bundle(root + "/case.paw");
    ADD_FAILURE() << "accepted a bundle without adapter.gguf";
  } catch (const paw::Error& e) {
    EXPECT_NE(e.hint().find("found 'Adapter.gguf'"), std::string::npos) << e.hint();
  }
}

TEST_F(BundleRead, RefusesBadTemplates) {
  std::string no_ph = qwen3_template();
  no_ph.replace(no_ph.find("{INPUT_PLACEHOLDER}"), 19, "{INPUT}");
  expect_refused(replace_member(base_spec(), "prompt_template.txt", member("prompt_template.txt", no_ph)), "0 times");
  std::string two = qwen3_template() + "{INPUT_PLACEHOLDER}";
  expect_refused(replace_member(base_spec(), "prompt_template.txt", member("prompt_template.txt", two)), "2 times");
  write_bytes(root + "/bad.txt", std::string("{INPUT_PLACEHOLDER} caf\xc3"));
  expect_refused(replace_member(base_spec(), "prompt_template.txt", {{"name", "prompt_template.txt"}, {"file", root + "/bad.txt"}}),
                 "not valid UTF-8");
  write_bytes(root + "/surrogate.txt", std::string("{INPUT_PLACEHOLDER} \xed\xa0\x80"));
  expect_refused(
      replace_member(base_spec(), "prompt_template.txt", {{"name", "prompt_template.txt"}, {"file", root + "/surrogate.txt"}}),
      "byte offset 20");
}

TEST_F(BundleRead, RefusesBadAdapters) {
  std::vector<uint8_t> a = adapter_gguf("qwen3");
  a.resize(a.size() - 100);
  write_bytes(root + "/trunc.gguf", a);
  expect_refused(replace_member(base_spec(), "adapter.gguf", {{"name", "adapter.gguf"}, {"file", root + "/trunc.gguf"}}),
                 "not a valid GGUF");
  write_bytes(root + "/model.gguf", model_gguf("qwen3"));
  expect_refused(replace_member(base_spec(), "adapter.gguf", {{"name", "adapter.gguf"}, {"file", root + "/model.gguf"}}),
                 "general.type is 'model'");
  write_bytes(root + "/gpt2.gguf", adapter_gguf("gpt2"));
  expect_refused(replace_member(base_spec(), "adapter.gguf", {{"name", "adapter.gguf"}, {"file", root + "/gpt2.gguf"}}),
                 "does not match interpreter");
  expect_refused(replace_member(base_spec(), "adapter.gguf", member("adapter.gguf", "")), "adapter.gguf is empty");
}

TEST_F(BundleRead, RefusesBadMeta) {
  json m = meta_v4();
  m["program_id"] = "NOT-HEX";
  expect_refused(replace_member(base_spec(), "meta.json", member("meta.json", m.dump())), "program_id");
  m = meta_v4();
  m["version"] = 7;
  expect_refused(replace_member(base_spec(), "meta.json", member("meta.json", m.dump())), "unsupported bundle version 7");
  m = meta_v4();
  m["runtime"]["adapter_format"] = "onnx";
  expect_refused(replace_member(base_spec(), "meta.json", member("meta.json", m.dump())), "adapter_format");
}

TEST_F(BundleRead, RefusesNonZips) {
  for (const std::string& content : {std::string(), std::string("PK\x03\x04 not really"), std::string(4096, 'z')}) {
    write_bytes(root + "/junk.paw", content);
    try {
      paw::read_bundle(root + "/junk.paw");
      ADD_FAILURE() << "accepted junk";
    } catch (const paw::Error& e) {
      EXPECT_NE(std::string(e.what()).find("junk.paw"), std::string::npos) << e.what();
    }
  }
}

TEST_F(BundleRead, RefusesHostileFolders) {
  std::string d = root + "/f1";
  write_v4_folder(d);
  fs::remove(d + "/adapter.gguf");
  fs::create_symlink(src + "/adapter.gguf", d + "/adapter.gguf");
  expect_folder_refused(d, "symbolic link");

  d = root + "/f2";
  write_v4_folder(d);
  fs::remove(d + "/meta.json");
  ASSERT_EQ(::mkfifo((d + "/meta.json").c_str(), 0644), 0);
  expect_folder_refused(d, "not a regular file");

  d = root + "/f3";
  write_v4_folder(d);
  fs::rename(d + "/prompt_template.txt", d + "/Prompt_Template.txt");
  expect_folder_refused(d, "missing required member 'prompt_template.txt'");

  d = root + "/f4";
  write_v4_folder(d);
  paw::BundleLimits small;
  small.max_adapter_bytes = 64;
  expect_folder_refused(d, "more than the limit of 64", small);

  d = root + "/f5";
  write_v4_folder(d);
  fs::remove(d + "/adapter.gguf");
  fs::create_directory(d + "/adapter.gguf");
  expect_folder_refused(d, "not a regular file");
}

TEST_F(BundleRead, ReadsFromMemory) {
  python_zip(root + "/p.paw", base_spec());
  auto bytes = read_bytes(root + "/p.paw");
  paw::Bundle b = paw::read_bundle_zip(bytes, "download.paw");
  EXPECT_EQ(b.source, "download.paw");
  EXPECT_EQ(b.prompt_template, qwen3_template());
}

// The fuzz seed corpus is written by fuzz/bundle_make_seeds.py with Python's zipfile and a
// hand-written adapter GGUF: an independent producer of reference-shaped bundles.
TEST(SeedCorpus, IndependentBundlesReadAsExpected) {
  const std::string dir = source_dir() + "/fuzz/corpus/fuzz_bundle/";
  paw::Bundle v4 = paw::read_bundle(dir + "v4_qwen3.paw");
  EXPECT_EQ(v4.id(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(v4.adapter_arch, "qwen3");
  EXPECT_EQ(v4.meta.effective_manifest()->base_model_size.value(), 622733120u);
  paw::BundleReadOptions ro;
  ro.keep_extras = true;
  paw::Bundle v3 = paw::read_bundle(dir + "v3_gpt2_readme.paw", ro);
  EXPECT_EQ(v3.meta.version, 3);
  ASSERT_EQ(v3.extras.size(), 1u);
  EXPECT_EQ(v3.extras[0].name, "README.md");
  const std::pair<const char*, const char*> refused[] = {
      {"zip_slip.paw", "'..' component"}, {"symlink.paw", "symbolic link"}, {"duplicate.paw", "duplicate member name"}};
  for (auto [file, needle] : refused) {
    try {
      paw::read_bundle(dir + file);
      ADD_FAILURE() << file;
    } catch (const paw::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
}
