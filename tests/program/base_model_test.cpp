// Base model resolution: override, cache file, size and sha256 checks, the verified stamp.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>

#include "paw/program/base_model.hpp"
#include "paw/util/error.hpp"
#include "program_fixtures.hpp"
#include "common/test_env.hpp"

namespace fs = std::filesystem;
using namespace paw::test;

namespace {

// sha256("hello world\n"), from `printf 'hello world\n' | sha256sum`.
const char* kHelloSha = "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447";

paw::RuntimeManifest small_manifest() {
  paw::RuntimeManifest m;
  m.runtime_id = "tiny-f32";
  m.interpreter = "tiny/Tiny";
  m.base_model_file = "tiny.gguf";
  m.base_model_size = 12;
  m.base_model_sha256 = kHelloSha;
  m.arch = "qwen3";
  return m;
}

struct EnvGuard {
  explicit EnvGuard(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) saved_ = v, had_ = true;
    ::unsetenv(name);
  }
  ~EnvGuard() {
    if (had_) ::setenv(name_, saved_.c_str(), 1);
    else ::unsetenv(name_);
  }
  const char* name_;
  std::string saved_;
  bool had_ = false;
};

void set_mtime(const std::string& path, time_t sec) {
  struct timespec ts[2] = {{sec, 0}, {sec, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ts, 0), 0);
}

}  // namespace

TEST(BaseModel, MissingModelSaysWhatToPutWhere) {
  EnvGuard g("PAW_MODEL");
  std::string cache = scratch_dir("bm-missing");
  paw::BaseModelOptions o;
  o.cache_dir = cache;
  auto meta = paw::parse_program_meta(R"({"version":4,"interpreter":"Qwen/Qwen3-0.6B"})", "meta.json");
  try {
    paw::resolve_base_model(meta, o);
    ADD_FAILURE();
  } catch (const paw::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("qwen3-0.6b-q6_k.gguf"), std::string::npos) << msg;
    EXPECT_NE(msg.find(cache + "/base_models/qwen3-0.6b-q6_k.gguf"), std::string::npos) << msg;
    EXPECT_NE(msg.find("622733120 bytes"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--model"), std::string::npos) << msg;
  }
  auto unknown = paw::parse_program_meta(R"({"version":4,"interpreter":"acme/Big"})", "meta.json");
  try {
    paw::resolve_base_model(unknown, o);
    ADD_FAILURE();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown interpreter 'acme/Big'"), std::string::npos) << e.what();
  }
}

TEST(BaseModel, FindsVerifiesAndRemembers) {
  EnvGuard g("PAW_MODEL");
  std::string cache = scratch_dir("bm-verify");
  fs::create_directories(cache + "/base_models");
  const std::string model = cache + "/base_models/tiny.gguf";
  write_bytes(model, std::string("hello world\n"));
  set_mtime(model, 1700000000);
  paw::BaseModelOptions o;
  o.cache_dir = cache;
  auto r = paw::resolve_base_model(small_manifest(), o);
  EXPECT_EQ(r.path, model);
  EXPECT_FALSE(r.overridden);
  EXPECT_TRUE(r.sha256_verified);
  EXPECT_TRUE(fs::exists(cache + "/base_models/.tiny.gguf.verified"));

  // Same size and mtime: the stamp is trusted, the file is not rehashed (so a same-size
  // change that keeps the mtime goes unnoticed — the documented trade-off).
  write_bytes(model, std::string("HELLO WORLD\n"));
  set_mtime(model, 1700000000);
  EXPECT_NO_THROW(paw::resolve_base_model(small_manifest(), o));
  // A new mtime invalidates the stamp: rehashed, and the change is caught.
  set_mtime(model, 1700000100);
  try {
    paw::resolve_base_model(small_manifest(), o);
    ADD_FAILURE();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("sha256"), std::string::npos) << e.what();
  }
  // Wrong size is caught without hashing.
  write_bytes(model, std::string("hello\n"));
  try {
    paw::resolve_base_model(small_manifest(), o);
    ADD_FAILURE();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected 12"), std::string::npos) << e.what();
  }
}

TEST(BaseModel, OverrideWinsAndIsFlagged) {
  EnvGuard g("PAW_MODEL");
  std::string dir = scratch_dir("bm-override");
  write_bytes(dir + "/other.gguf", std::string("x"));
  paw::BaseModelOptions o;
  o.cache_dir = dir + "/cache";
  o.model_override = dir + "/other.gguf";
  auto r = paw::resolve_base_model(small_manifest(), o);
  EXPECT_EQ(r.path, dir + "/other.gguf");
  EXPECT_TRUE(r.overridden);
  EXPECT_FALSE(r.sha256_verified);

  ::setenv("PAW_MODEL", (dir + "/other.gguf").c_str(), 1);
  paw::BaseModelOptions env;
  env.cache_dir = dir + "/cache";
  EXPECT_TRUE(paw::resolve_base_model(small_manifest(), env).overridden);
  // Even an unknown interpreter runs on an explicit model.
  auto unknown = paw::parse_program_meta(R"({"version":4,"interpreter":"acme/Big"})", "meta.json");
  EXPECT_TRUE(paw::resolve_base_model(unknown, env).overridden);
  ::setenv("PAW_MODEL", (dir + "/nope.gguf").c_str(), 1);
  EXPECT_THROW(paw::resolve_base_model(small_manifest(), env), paw::Error);
}

TEST(BaseModel, UnsupportedLocalRuntimeIsRefused) {
  EnvGuard g("PAW_MODEL");
  auto m = small_manifest();
  m.local_supported = false;
  paw::BaseModelOptions o;
  o.cache_dir = scratch_dir("bm-unsupported");
  EXPECT_THROW(paw::resolve_base_model(m, o), paw::Error);
}

// A manifest as the reference writes it, read from JSON: size_bytes pins the file's size the
// way sha256 pins its content; the legacy `size` pins it the same way.
TEST(BaseModel, SizeBytesPinIsEnforcedLikeSha256) {
  EnvGuard g("PAW_MODEL");
  std::string cache = scratch_dir("bm-size-bytes");
  fs::create_directories(cache + "/base_models");
  write_bytes(cache + "/base_models/tiny.gguf", std::string("hello world\n"));
  paw::BaseModelOptions o;
  o.cache_dir = cache;
  auto manifest = [](const nlohmann::json& base_model) {
    nlohmann::json j = {{"runtime_id", "tiny-f32"},
                        {"manifest_version", 1},
                        {"interpreter", "tiny/Tiny"},
                        {"adapter_format", "gguf_lora"},
                        {"local_sdk", {{"supported", true}, {"n_ctx", 2048}, {"base_model", base_model}}}};
    j["local_sdk"]["base_model"]["file"] = "tiny.gguf";
    j["local_sdk"]["base_model"]["url"] = "https://example.org/tiny.gguf";
    return paw::RuntimeManifest::from_json(j, "meta.json field 'runtime'");
  };
  auto refused = [&](const paw::RuntimeManifest& m, const std::string& needle) {
    try {
      paw::resolve_base_model(m, o);
      ADD_FAILURE() << "resolved";
    } catch (const paw::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(cache + "/base_models/tiny.gguf"), std::string::npos) << e.what();
    }
  };
  EXPECT_TRUE(paw::resolve_base_model(manifest({{"size_bytes", 12}, {"sha256", kHelloSha}}), o).sha256_verified);
  EXPECT_NO_THROW(paw::resolve_base_model(manifest({{"size_bytes", 12}}), o));
  EXPECT_NO_THROW(paw::resolve_base_model(manifest({{"size", 12}}), o));
  refused(manifest({{"size_bytes", 13}}), "expected 13");
  refused(manifest({{"size_bytes", 13}}), "size_bytes");
  refused(manifest({{"size_bytes", 11}, {"sha256", kHelloSha}}), "expected 11");
  refused(manifest({{"size", 13}}), "expected 13");
  refused(manifest({{"size_bytes", 12}, {"sha256", std::string(64, 'f')}}), "sha256");
}

// A paw-only manifest (local_sdk.supported false, paw_native.supported true) runs in paw from
// base_models/; paw_native.supported false, or neither supported, does not.
TEST(BaseModel, PawOnlyManifestRunsFromTheCache) {
  EnvGuard g("PAW_MODEL");
  std::string cache = scratch_dir("bm-paw-only");
  fs::create_directories(cache + "/base_models");
  write_bytes(cache + "/base_models/tiny.gguf", std::string("hello world\n"));
  paw::BaseModelOptions o;
  o.cache_dir = cache;
  auto m = paw::paw_runtime_manifest("tiny.gguf", 12, kHelloSha, "qwen3", 2048);
  auto back = paw::RuntimeManifest::from_json(m.to_json(), "x");
  auto r = paw::resolve_base_model(back, o);
  EXPECT_EQ(r.path, cache + "/base_models/tiny.gguf");
  EXPECT_TRUE(r.sha256_verified);
  back.paw_native = false;
  EXPECT_THROW(paw::resolve_base_model(back, o), paw::Error);
  back.paw_native.reset();
  EXPECT_THROW(paw::resolve_base_model(back, o), paw::Error);   // local_sdk.supported false alone
  back.local_supported = true;
  EXPECT_NO_THROW(paw::resolve_base_model(back, o));
}

TEST(BaseModel, OfflineFlag) {
  EnvGuard g("PAW_OFFLINE");
  EXPECT_FALSE(paw::offline_mode());
  EXPECT_TRUE(paw::offline_mode(true));
  ::setenv("PAW_OFFLINE", "1", 1);
  EXPECT_TRUE(paw::offline_mode());
  ::setenv("PAW_OFFLINE", "0", 1);
  EXPECT_FALSE(paw::offline_mode());
}
