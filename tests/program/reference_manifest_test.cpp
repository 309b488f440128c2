// Runtime manifests as the reference SDK (programasweights 0.4.4) reads them: its field names
// (size_bytes), its canonical runtimes, fields paw does not model kept, and everything paw
// writes (pack, import) checked by an independent implementation of the documented rules
// (tests/reference/manifest_check.py, docs/FORMATS.md "Runtime manifest").
#include <gtest/gtest.h>

#include <filesystem>

#include "paw/program/base_model.hpp"
#include "paw/program/bundle.hpp"
#include "paw/program/cache.hpp"
#include "paw/program/meta.hpp"
#include "paw/util/error.hpp"
#include "paw/util/sha256.hpp"
#include "program_fixtures.hpp"
#include "common/test_env.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace paw::test;

namespace {

const char* kQwenSha = "9a16ed5cacba959e63b62e2b6840c3eca2b51c3c3e51d31367ef8e4aafeae33c";
const char* kGpt2Sha = "0aa260efb2cce9def922e0546b88ad731cf1a68554db73fa2d4a0949cfa958c5";

// The reference's canonical manifests, written out by hand from the table in FORMATS.md.
json expected_qwen3() {
  json base = {{"provider", "huggingface"},
               {"repo", "programasweights/Qwen3-0.6B-GGUF-Q6_K"},
               {"file", "qwen3-0.6b-q6_k.gguf"},
               {"url", "https://huggingface.co/programasweights/Qwen3-0.6B-GGUF-Q6_K/resolve/main/qwen3-0.6b-q6_k.gguf"},
               {"size_bytes", 622733120},
               {"sha256", kQwenSha}};
  json j = json::parse(R"J({
    "runtime_id": "qwen3-0.6b-q6_k", "manifest_version": 1, "display_name": "Qwen3 0.6B (Q6_K)",
    "interpreter": "Qwen/Qwen3-0.6B", "adapter_format": "gguf_lora",
    "prompt_template": {"format": "rendered_text", "placeholder": "{INPUT_PLACEHOLDER}"},
    "program_assets": {"adapter_filename": "adapter.gguf", "prefix_cache_required": false,
                       "prefix_cache_filename": null, "prefix_tokens_filename": null},
    "base_inference": {"contract_version": 1, "format": "rendered_text", "placeholder": "{INPUT_PLACEHOLDER}",
                       "template": "<|im_start|>user\n{INPUT_PLACEHOLDER}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"},
    "local_sdk": {"supported": true, "n_ctx": 2048},
    "js_sdk": {"supported": false, "base_model": null, "prefix_cache_supported": false}})J");
  j["local_sdk"]["base_model"] = base;
  return j;
}

json expected_gpt2() {
  json base = {{"provider", "huggingface"},
               {"repo", "programasweights/GPT2-GGUF-Q8_0"},
               {"file", "gpt2-q8_0.gguf"},
               {"url", "https://huggingface.co/programasweights/GPT2-GGUF-Q8_0/resolve/main/gpt2-q8_0.gguf"},
               {"size_bytes", 139804832},
               {"sha256", kGpt2Sha}};
  json j = json::parse(R"J({
    "runtime_id": "gpt2-q8_0", "manifest_version": 1, "display_name": "GPT-2 124M (Q8_0)",
    "interpreter": "gpt2", "adapter_format": "gguf_lora",
    "prompt_template": {"format": "rendered_text", "placeholder": "{INPUT_PLACEHOLDER}"},
    "program_assets": {"adapter_filename": "adapter.gguf", "prefix_cache_required": true,
                       "prefix_cache_filename": "prefix_cache.bin", "prefix_tokens_filename": "prefix_tokens.json"},
    "base_inference": {"contract_version": 1, "format": "rendered_text", "placeholder": "{INPUT_PLACEHOLDER}",
                       "template": "{INPUT_PLACEHOLDER}"},
    "local_sdk": {"supported": true, "n_ctx": 2048},
    "js_sdk": {"supported": true, "prefix_cache_supported": true}})J");
  j["local_sdk"]["base_model"] = base;
  j["js_sdk"]["base_model"] = base;
  return j;
}

// meta.json of a program paw wrote before this change for one of its own tiny models:
// base_model.size (not size_bytes), local_sdk.supported true and no download source.
json legacy_paw_meta(const std::string& file, uint64_t size, const std::string& sha) {
  return {{"version", 4},
          {"interpreter", "paw/tiny"},
          {"spec", "triage"},
          {"runtime_id", "paw-tiny"},
          {"runtime",
           {{"runtime_id", "paw-tiny"},
            {"manifest_version", 1},
            {"interpreter", "paw/tiny"},
            {"adapter_format", "gguf_lora"},
            {"local_sdk",
             {{"supported", true},
              {"n_ctx", 2048},
              {"base_model", {{"file", file}, {"size", size}, {"sha256", sha}, {"arch", "qwen3"}}}}}}}};
}

std::string checker() { return python() + " " + source_dir() + "/tests/reference/manifest_check.py"; }

// Runs the independent checker; returns its exit status, stdout in *out.
int check(const std::string& args, std::string* out = nullptr) {
  std::string o;
  int rc = run_command(checker() + " " + args, &o);
  if (out) *out = o;
  return rc;
}

json check_json(const std::string& args) {
  std::string out;
  check(args, &out);
  return json::parse(out);
}

std::string problem_of(const json& manifest, bool require_local = false) {
  return paw::reference_manifest_problem(manifest, require_local);
}

}  // namespace

TEST(ReferenceManifest, BuiltInsAreTheReferenceCanonicalManifests) {
  EXPECT_EQ(paw::builtin_runtime_manifest("Qwen/Qwen3-0.6B")->to_json(), expected_qwen3());
  EXPECT_EQ(paw::builtin_runtime_manifest("gpt2-q8_0")->to_json(), expected_gpt2());
  EXPECT_EQ(problem_of(expected_qwen3(), true), "");
  EXPECT_EQ(problem_of(expected_gpt2(), true), "");
  // paw's base mode prompt is the reference's base_inference contract.
  EXPECT_EQ(expected_qwen3()["base_inference"]["template"], paw::builtin_runtime_manifest("qwen3-0.6b-q6_k")->raw["base_inference"]["template"]);
}

TEST(ReferenceManifest, ReadsSizeBytesAndTheLegacySize) {
  json q = expected_qwen3();
  auto m = paw::RuntimeManifest::from_json(q, "x");
  EXPECT_EQ(m.base_model_size.value(), 622733120u);
  EXPECT_EQ(m.provider, "huggingface");
  EXPECT_EQ(m.repo, "programasweights/Qwen3-0.6B-GGUF-Q6_K");

  // What older paw versions wrote: size, read as size_bytes and written back as size_bytes.
  json legacy = q;
  legacy["local_sdk"]["base_model"].erase("size_bytes");
  legacy["local_sdk"]["base_model"]["size"] = 622733120;
  m = paw::RuntimeManifest::from_json(legacy, "x");
  EXPECT_EQ(m.base_model_size.value(), 622733120u);
  EXPECT_EQ(m.to_json()["local_sdk"]["base_model"]["size_bytes"], 622733120);
  EXPECT_FALSE(m.to_json()["local_sdk"]["base_model"].contains("size"));
  // Both, agreeing: fine. Disagreeing: an error naming both.
  legacy["local_sdk"]["base_model"]["size_bytes"] = 622733120;
  EXPECT_NO_THROW(paw::RuntimeManifest::from_json(legacy, "x"));
  legacy["local_sdk"]["base_model"]["size_bytes"] = 622733121;
  try {
    paw::RuntimeManifest::from_json(legacy, "x");
    ADD_FAILURE();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("size_bytes"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("legacy field 'size'"), std::string::npos) << e.what();
  }
  // size_bytes is a positive integer.
  for (const json& bad : {json(0), json(-5), json("12"), json(true), json(1.5)}) {
    json r = q;
    r["local_sdk"]["base_model"]["size_bytes"] = bad;
    EXPECT_THROW(paw::RuntimeManifest::from_json(r, "x"), paw::Error) << bad.dump();
    EXPECT_NE(problem_of(r), "") << bad.dump();
  }
}

TEST(ReferenceManifest, KeepsFieldsItDoesNotModel) {
  json q = expected_qwen3();
  q["future_field"] = {{"a", 1}};
  q["local_sdk"]["gpu"] = "any";
  q["local_sdk"]["base_model"]["mirror"] = "https://example.org/q.gguf";
  q["js_sdk"]["extra"] = true;
  auto m = paw::RuntimeManifest::from_json(q, "x");
  EXPECT_EQ(m.to_json(), q);
  // Modelled fields are written in the reference's names; the rest stays.
  m.base_model_sha256.clear();
  m.n_ctx = 4096;
  json out = m.to_json();
  EXPECT_TRUE(out["local_sdk"]["base_model"]["sha256"].is_null());
  EXPECT_EQ(out["local_sdk"]["n_ctx"], 4096);
  EXPECT_EQ(out["local_sdk"]["gpu"], "any");
  EXPECT_EQ(out["future_field"]["a"], 1);
  EXPECT_EQ(out["base_inference"], q["base_inference"]);
  // `version` (a synonym paw reads) is written as manifest_version.
  json v = q;
  v.erase("manifest_version");
  v["version"] = 1;
  json back = paw::RuntimeManifest::from_json(v, "x").to_json();
  EXPECT_EQ(back["manifest_version"], 1);
  EXPECT_FALSE(back.contains("version"));
}

TEST(ReferenceManifest, RulesAgreeWithTheIndependentChecker) {
  // Each manifest: expected verdict of the documented rules (true = valid).
  const json paw_only = paw::paw_runtime_manifest("paw-tiny-qwen3.gguf", 8681152, std::string(64, 'a'), "qwen3", 2048).to_json();
  std::vector<std::pair<json, bool>> cases;
  auto with = [](json j, const std::string& ptr, const json& v) {
    j[json::json_pointer(ptr)] = v;
    return j;
  };
  auto without = [](json j, const std::string& parent, const std::string& key) {
    j[json::json_pointer(parent)].erase(key);
    return j;
  };
  cases.push_back({expected_qwen3(), true});
  cases.push_back({expected_gpt2(), true});
  cases.push_back({paw_only, true});
  cases.push_back({paw::test::meta_v4()["runtime"], true});   // sha256 null, no size_bytes: the reference fills them
  cases.push_back({with(paw_only, "/local_sdk/supported", true), false});          // supported, nothing to download
  cases.push_back({with(paw_only, "/local_sdk/base_model", "x.gguf"), false});     // base_model not an object
  cases.push_back({with(paw_only, "/local_sdk/base_model", nullptr), true});
  cases.push_back({with(paw_only, "/runtime_id", "-bad"), false});
  cases.push_back({with(paw_only, "/runtime_id", "paw tiny"), false});
  cases.push_back({with(paw_only, "/manifest_version", 2), false});
  cases.push_back({with(paw_only, "/manifest_version", true), false});
  cases.push_back({without(paw_only, "", "manifest_version"), false});
  cases.push_back({with(paw_only, "/interpreter", ""), false});
  cases.push_back({with(paw_only, "/adapter_format", "peft"), false});
  cases.push_back({without(paw_only, "", "local_sdk"), false});
  cases.push_back({without(paw_only, "/local_sdk", "supported"), false});
  cases.push_back({with(paw_only, "/local_sdk/n_ctx", 0), false});
  cases.push_back({with(paw_only, "/prompt_template/format", "chat"), false});
  cases.push_back({with(paw_only, "/program_assets/adapter_filename", "lora.gguf"), false});
  cases.push_back({with(expected_qwen3(), "/local_sdk/base_model/size_bytes", 622733121), false});
  cases.push_back({with(expected_qwen3(), "/local_sdk/base_model/size_bytes", nullptr), true});
  cases.push_back({with(expected_qwen3(), "/local_sdk/base_model/sha256", std::string(64, '0')), false});
  cases.push_back({with(expected_qwen3(), "/local_sdk/base_model/sha256", "abc"), false});
  cases.push_back({with(expected_qwen3(), "/local_sdk/base_model/file", "other.gguf"), false});
  cases.push_back({with(expected_qwen3(), "/local_sdk/base_model/file", "a/b.gguf"), false});
  cases.push_back({with(expected_qwen3(), "/local_sdk/base_model/url", nullptr), true});   // provider + repo suffice
  cases.push_back({without(expected_qwen3(), "/local_sdk", "n_ctx"), false});
  cases.push_back({with(expected_qwen3(), "/local_sdk/n_ctx", 4096), false});
  cases.push_back({with(expected_gpt2(), "/program_assets/prefix_cache_required", false), false});
  cases.push_back({with(expected_gpt2(), "/base_inference/template", "{INPUT_PLACEHOLDER}{INPUT_PLACEHOLDER}"), false});
  cases.push_back({with(expected_gpt2(), "/interpreter", "gpt2-medium"), false});
  cases.push_back({with(expected_gpt2(), "/js_sdk", "anything"), true});   // not a reference rule

  const std::string dir = scratch_dir("manifest-rules");
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [m, valid] = cases[i];
    EXPECT_EQ(problem_of(m).empty(), valid) << i << ": " << problem_of(m) << "\n" << m.dump();
    const std::string f = dir + "/m" + std::to_string(i) + ".json";
    write_bytes(f, m.dump());
    std::string out;
    EXPECT_EQ(check("manifest " + f, &out) == 0, valid) << i << ": checker says " << out << m.dump();
  }
  // A paw-only manifest is valid but names no base model the reference can use.
  write_bytes(dir + "/paw.json", paw_only.dump());
  EXPECT_NE(check("manifest " + dir + "/paw.json --require-local"), 0);
  EXPECT_NE(problem_of(paw_only, true), "");
}

TEST(ReferenceManifest, PawOnlyManifest) {
  auto m = paw::paw_runtime_manifest("S.gguf", 5841280, std::string(64, 'b'), "qwen3", 512);
  EXPECT_EQ(m.runtime_id, "paw-s");
  EXPECT_EQ(m.interpreter, "paw/S");
  EXPECT_FALSE(m.local_supported);
  EXPECT_TRUE(m.runs_in_paw());
  json j = m.to_json();
  EXPECT_EQ(j["local_sdk"]["supported"], false);
  EXPECT_EQ(j["paw_native"]["supported"], true);
  EXPECT_EQ(j["local_sdk"]["base_model"]["size_bytes"], 5841280);
  EXPECT_EQ(j["local_sdk"]["base_model"]["arch"], "qwen3");
  EXPECT_EQ(j["local_sdk"]["n_ctx"], 512);
  EXPECT_EQ(j["js_sdk"]["supported"], false);
  EXPECT_EQ(paw::paw_runtime_manifest("paw-tiny-qwen3.gguf", 1, "", "qwen3", 2048).runtime_id, "paw-tiny-qwen3");
  EXPECT_EQ(paw::paw_runtime_manifest("My Model+v2.gguf", 1, "", "qwen3", 2048).runtime_id, "paw-my-model-v2");
  // The reference's own file (same sha256 and size) gets the canonical manifest.
  auto q = paw::paw_runtime_manifest("renamed.gguf", 622733120, kQwenSha, "qwen3", 512);
  EXPECT_EQ(q.to_json(), expected_qwen3());
  EXPECT_EQ(paw::paw_runtime_manifest("renamed.gguf", 622733121, kQwenSha, "qwen3", 512).runtime_id, "paw-renamed");
}

TEST(ReferenceManifest, WhatPackAndImportWriteKeepsTheRules) {
  const std::string root = scratch_dir("manifest-writes");
  const std::string cache_dir = root + "/cache";
  // 1. a reference-shaped program, 2. a legacy paw-only program (size, supported without a
  // download source), 3. one without program_id and with a manifest missing defaults.
  write_v4_folder(root + "/ref");
  const std::string model = root + "/tiny.gguf";
  write_bytes(model, model_gguf("qwen3"));
  const uint64_t model_size = fs::file_size(model);
  const std::string model_sha = paw::sha256_file_hex(model);
  json legacy = legacy_paw_meta("tiny.gguf", model_size, model_sha);
  legacy["program_id"] = "1111222233334444aaaabbbbccccdddd";
  write_bundle_folder(root + "/legacy", legacy.dump(2), qwen3_template(), adapter_gguf("qwen3"));
  json sparse = {{"version", 4},
                 {"interpreter", "paw/tiny"},
                 {"runtime", {{"runtime_id", "paw-tiny"}, {"local_sdk", {{"base_model", {{"file", "tiny.gguf"}, {"size", model_size}}}}}}}};
  write_bundle_folder(root + "/sparse", sparse.dump(), qwen3_template("Sparse."), adapter_gguf("qwen3"));

  paw::ProgramCache cache(cache_dir);
  for (const char* name : {"ref", "legacy", "sparse"}) {
    SCOPED_TRACE(name);
    const std::string src = root + "/" + name;
    const paw::Bundle before = paw::read_bundle(src);
    const std::string out = root + "/" + name + ".paw";
    const std::string id = paw::pack_directory(src, out);
    EXPECT_EQ(id, before.id());   // repairs never change the id
    json r = check_json("bundle " + out);
    EXPECT_EQ(r["valid"], true) << r.dump();
    auto imported = cache.import(src);
    EXPECT_EQ(imported.id, id);
    r = check_json("program " + imported.dir);
    EXPECT_EQ(r["valid"], true) << r.dump();
    EXPECT_EQ(paw::reference_meta_problem(paw::read_bundle(imported.dir).meta.json, id), "");
    EXPECT_NE(paw::reference_meta_problem(paw::read_bundle(imported.dir).meta.json, "ffffffffffffffff"), "");
    // paw still reads the same base model from what it wrote.
    auto cached = paw::read_bundle(imported.dir).meta.effective_manifest();
    auto orig = before.meta.effective_manifest();
    ASSERT_TRUE(cached && orig);
    EXPECT_EQ(cached->base_model_file, orig->base_model_file);
    EXPECT_EQ(cached->base_model_size, orig->base_model_size);
    EXPECT_EQ(cached->runs_in_paw(), orig->runs_in_paw());
  }
  // A reference bundle that keeps the rules is written byte for byte.
  EXPECT_EQ(read_bytes(cache_dir + "/programs/0123456789abcdef0123456789abcdef/meta.json"), read_bytes(root + "/ref/meta.json"));
  // The legacy program is now paw-only: valid for the reference, not runnable by it.
  json r = check_json("program " + cache_dir + "/programs/1111222233334444aaaabbbbccccdddd");
  EXPECT_EQ(r["reference_runs_locally"], false);
  EXPECT_TRUE(r["runtime_id"].is_null());
  const auto meta = paw::read_bundle(cache_dir + "/programs/1111222233334444aaaabbbbccccdddd").meta;
  EXPECT_EQ(meta.json["runtime"]["local_sdk"]["supported"], false);
  EXPECT_EQ(meta.json["runtime"]["paw_native"]["supported"], true);
  EXPECT_EQ(meta.json["runtime"]["local_sdk"]["base_model"]["size_bytes"], model_size);
  EXPECT_FALSE(meta.json["runtime"]["local_sdk"]["base_model"].contains("size"));
  // ... and paw runs it from base_models/ without --model.
  fs::create_directories(cache_dir + "/base_models");
  fs::copy_file(model, cache_dir + "/base_models/tiny.gguf");
  paw::BaseModelOptions o;
  o.cache_dir = cache_dir;
  o.use_env_override = false;
  auto resolved = paw::resolve_base_model(meta, o);
  EXPECT_EQ(resolved.path, cache_dir + "/base_models/tiny.gguf");
  EXPECT_TRUE(resolved.sha256_verified);
  std::string out;
  EXPECT_EQ(check("cache " + cache_dir, &out), 0) << out;
}

TEST(ReferenceManifest, RefusesToWriteWhatBreaksTheRules) {
  const std::string root = scratch_dir("manifest-refused");
  struct Case {
    const char* name;
    json meta;
    std::string needle;
  };
  json wrong_size = meta_v4();
  wrong_size["runtime"]["local_sdk"]["base_model"]["size_bytes"] = 1;
  json other_interp = meta_v4();
  other_interp["interpreter"] = "gpt2";
  json bad_rid = meta_v4();
  bad_rid["runtime_id"] = "gpt2-q8_0";
  json no_rid = legacy_paw_meta("tiny.gguf", 10, "");
  no_rid.erase("runtime_id");
  no_rid["runtime"].erase("runtime_id");
  json rmv = meta_v4();
  rmv["runtime_id"] = "bad id";
  const Case cases[] = {
      {"size", wrong_size, "size_bytes"},
      {"interp", other_interp, "interpreter"},
      {"rid", bad_rid, "runtime_id"},
      {"norid", no_rid, "runtime_id"},
      {"badrid", rmv, "runtime_id"},
  };
  paw::ProgramCache cache(root + "/cache");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string dir = root + "/" + c.name;
    write_bundle_folder(dir, c.meta.dump(), qwen3_template(), adapter_gguf("qwen3"));
    for (int step = 0; step < 2; ++step) {
      try {
        if (step == 0) paw::pack_directory(dir, dir + ".paw");
        else cache.import(dir);
        ADD_FAILURE() << "written";
      } catch (const paw::Error& e) {
        EXPECT_NE(std::string(e.what()).find("reference SDK's rules"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << e.what();
      }
    }
    EXPECT_FALSE(fs::exists(dir + ".paw"));
  }
  EXPECT_TRUE(cache.list().empty());
}
