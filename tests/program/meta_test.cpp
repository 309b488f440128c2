// meta.json and runtime manifests.
#include <gtest/gtest.h>

#include "paw/program/meta.hpp"
#include "paw/util/error.hpp"
#include "program_fixtures.hpp"

using nlohmann::json;
using paw::Error;
using paw::parse_program_meta;

namespace {

// Expects parse_program_meta to throw with `needle` in the message.
void expect_refused(const std::string& text, const std::string& needle) {
  try {
    parse_program_meta(text, "t.paw: member 'meta.json'");
    ADD_FAILURE() << "accepted: " << text.substr(0, 200);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("t.paw: member 'meta.json'"), std::string::npos) << e.what();
    EXPECT_FALSE(e.hint().empty()) << e.what();
  }
}

}  // namespace

TEST(ProgramMeta, ReadsV4WithEmbeddedReferenceManifest) {
  auto m = parse_program_meta(paw::test::meta_v4().dump(2), "meta.json");
  EXPECT_EQ(m.version, 4);
  EXPECT_EQ(m.interpreter, "Qwen/Qwen3-0.6B");
  EXPECT_EQ(m.program_id.value(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(m.runtime_id.value(), "qwen3-0.6b-q6_k");
  ASSERT_TRUE(m.runtime.has_value());
  EXPECT_EQ(m.runtime->base_model_file, "qwen3-0.6b-q6_k.gguf");
  EXPECT_EQ(m.runtime->base_model_sha256, "");   // null in the reference manifest
  EXPECT_EQ(m.runtime->n_ctx, 2048);
  EXPECT_TRUE(m.runtime->complete());
  // Every other field is kept verbatim.
  EXPECT_EQ(m.json["compiler_snapshot"], "paw-compiler-2025-06-01");
  EXPECT_FALSE(m.json.contains("js_sdk"));
  EXPECT_EQ(m.json["runtime"]["js_sdk"]["prefix_cache_supported"], false);
  EXPECT_EQ(m.spec().value(), "Classify urgency: immediate or wait. Input: server down -> immediate");
  EXPECT_EQ(m.created_at().value(), "2025-06-01T12:00:00Z");
}

TEST(ProgramMeta, ReadsV3WithoutManifest) {
  auto m = parse_program_meta(paw::test::meta_v3().dump(), "meta.json");
  EXPECT_EQ(m.version, 3);
  EXPECT_EQ(m.interpreter, "gpt2");
  EXPECT_FALSE(m.runtime.has_value());
  EXPECT_EQ(m.created_at().value(), "1717243200.5");
  auto eff = m.effective_manifest();
  ASSERT_TRUE(eff.has_value());
  EXPECT_EQ(eff->runtime_id, "gpt2-q8_0");
}

TEST(ProgramMeta, NullOptionalFieldsMeanAbsent) {
  auto m = parse_program_meta(R"({"version":4,"interpreter":"gpt2","program_id":null,"runtime":null,"runtime_id":null,"spec":null})",
                              "meta.json");
  EXPECT_FALSE(m.program_id.has_value());
  EXPECT_FALSE(m.runtime.has_value());
  EXPECT_FALSE(m.spec().has_value());
}

TEST(ProgramMeta, RefusesBadDocuments) {
  expect_refused("[1,2]", "not a JSON object");
  expect_refused("{\"version\":4,", "not valid JSON");
  expect_refused(R"({"version":4})", "interpreter");
  expect_refused(R"({"version":4,"interpreter":""})", "interpreter");
  expect_refused(R"({"version":4,"interpreter":7})", "interpreter");
  expect_refused(R"({"interpreter":"gpt2"})", "no 'version'");
  expect_refused(R"({"version":2,"interpreter":"gpt2"})", "unsupported bundle version 2");
  expect_refused(R"({"version":5,"interpreter":"gpt2"})", "unsupported bundle version 5");
  expect_refused(R"({"version":"4","interpreter":"gpt2"})", "unsupported bundle version");
  expect_refused(R"({"version":4.0,"interpreter":"gpt2"})", "unsupported bundle version");
  expect_refused(R"({"version":4,"interpreter":"gpt2","program_id":"0123456789ABCDEF"})", "program_id");
  expect_refused(R"({"version":4,"interpreter":"gpt2","program_id":"0123456789abcde"})", "program_id");    // 15
  expect_refused(R"({"version":4,"interpreter":"gpt2","program_id":"0123456789abcdeg"})", "program_id");
  expect_refused(R"({"version":4,"interpreter":"gpt2","program_id":12345678901234567})", "program_id");
  expect_refused(R"({"version":4,"interpreter":"gpt2","program_id":")" + std::string(65, 'a') + "\"}", "program_id");
  expect_refused(R"({"version":4,"interpreter":"gpt2","interpreter":"Qwen/Qwen3-0.6B"})", "twice");
  expect_refused(R"({"version":4,"interpreter":"gpt2","x":{"a":1,"a":2}})", "twice");
  expect_refused(R"({"version":4,"interpreter":"gpt2","lora_rank":-1})", "lora_rank");
  expect_refused(R"({"version":4,"interpreter":"gpt2","lora_alpha":"16"})", "lora_alpha");
  expect_refused(R"({"version":4,"interpreter":"gpt2","spec":5})", "spec");
  expect_refused(R"({"version":4,"interpreter":"gpt2","runtime_id":5})", "runtime_id");
  expect_refused("{\"version\":4,\"interpreter\":\"gp\xff\"}", "UTF-8");
  expect_refused(R"({"version":4,"interpreter":"gpt2","x":1e999})", "number overflow");
  expect_refused("{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}", "levels deep");
}

TEST(ProgramMeta, AcceptsBoundaryIds) {
  EXPECT_TRUE(paw::is_valid_program_id(std::string(16, 'a')));
  EXPECT_TRUE(paw::is_valid_program_id(std::string(64, '0')));
  EXPECT_FALSE(paw::is_valid_program_id(std::string(15, 'a')));
  EXPECT_FALSE(paw::is_valid_program_id(std::string(65, 'a')));
  EXPECT_FALSE(paw::is_valid_program_id("../../etc/passwd0"));
}

TEST(ProgramMeta, RefusesBadRuntimeManifests) {
  auto with_runtime = [](json rt) {
    json m = {{"version", 4}, {"interpreter", "Qwen/Qwen3-0.6B"}, {"runtime", rt}};
    return m.dump();
  };
  json good = paw::test::meta_v4()["runtime"];
  json r = good;
  r["adapter_format"] = "peft_safetensors";
  expect_refused(with_runtime(r), "adapter_format");
  r = good;
  r["manifest_version"] = 2;
  expect_refused(with_runtime(r), "manifest_version");
  r = good;
  r["version"] = 2;
  expect_refused(with_runtime(r), "'version'");
  r = good;
  r["local_sdk"]["base_model"]["file"] = "../../bin/sh";
  expect_refused(with_runtime(r), "not a plain file name");
  r["local_sdk"]["base_model"]["file"] = "/etc/passwd";
  expect_refused(with_runtime(r), "not a plain file name");
  r["local_sdk"]["base_model"]["file"] = ".hidden.gguf";
  expect_refused(with_runtime(r), "not a plain file name");
  r = good;
  r["local_sdk"]["base_model"]["sha256"] = "abc";
  expect_refused(with_runtime(r), "sha256");
  r = good;
  r["local_sdk"]["base_model"]["size"] = -5;
  expect_refused(with_runtime(r), "size");
  expect_refused(with_runtime(json::array()), "must be a JSON object");
}

TEST(RuntimeManifest, BuiltInsMatchThePublishedFiles) {
  auto q = paw::builtin_runtime_manifest("Qwen/Qwen3-0.6B");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->runtime_id, "qwen3-0.6b-q6_k");
  EXPECT_EQ(q->base_model_file, "qwen3-0.6b-q6_k.gguf");
  EXPECT_EQ(q->base_model_size.value(), 622733120u);
  EXPECT_EQ(q->base_model_sha256, "9a16ed5cacba959e63b62e2b6840c3eca2b51c3c3e51d31367ef8e4aafeae33c");
  EXPECT_EQ(q->arch, "qwen3");
  auto g = paw::builtin_runtime_manifest("gpt2");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->runtime_id, "gpt2-q8_0");
  EXPECT_EQ(g->base_model_file, "gpt2-q8_0.gguf");
  EXPECT_EQ(g->base_model_size.value(), 139804832u);
  EXPECT_EQ(g->base_model_sha256, "0aa260efb2cce9def922e0546b88ad731cf1a68554db73fa2d4a0949cfa958c5");
  EXPECT_EQ(g->arch, "gpt2");
  EXPECT_EQ(paw::builtin_runtime_manifest("gpt2-q8_0")->interpreter, "gpt2");
  EXPECT_FALSE(paw::builtin_runtime_manifest("Qwen/Qwen3-32B"));
}

TEST(RuntimeManifest, EmbeddedCompleteManifestWins) {
  json m = paw::test::meta_v4();
  m["runtime"]["runtime_id"] = "custom-q4";
  m["runtime"]["local_sdk"]["base_model"]["file"] = "custom-q4.gguf";
  m["runtime"]["local_sdk"]["base_model"]["size_bytes"] = 1234;
  m["runtime"]["local_sdk"]["base_model"]["arch"] = "qwen3";
  auto meta = parse_program_meta(m.dump(), "meta.json");
  auto eff = meta.effective_manifest();
  EXPECT_EQ(eff->runtime_id, "custom-q4");
  EXPECT_EQ(eff->base_model_file, "custom-q4.gguf");
  EXPECT_EQ(eff->base_model_size.value(), 1234u);

  // An incomplete embedded manifest (no base model file) falls back to the built-in one
  // for runtime_id, as the reference SDK does.
  m["runtime"]["local_sdk"]["base_model"] = nullptr;
  m["runtime_id"] = "gpt2-q8_0";
  eff = parse_program_meta(m.dump(), "meta.json").effective_manifest();
  EXPECT_EQ(eff->runtime_id, "gpt2-q8_0");
  m.erase("runtime_id");
  eff = parse_program_meta(m.dump(), "meta.json").effective_manifest();
  EXPECT_EQ(eff->runtime_id, "qwen3-0.6b-q6_k");   // by interpreter
  m["interpreter"] = "someone/else";
  EXPECT_FALSE(parse_program_meta(m.dump(), "meta.json").effective_manifest());
}

TEST(RuntimeManifest, ToJsonReadsBack) {
  auto q = *paw::builtin_runtime_manifest("Qwen/Qwen3-0.6B");
  auto back = paw::RuntimeManifest::from_json(q.to_json(), "x");
  EXPECT_EQ(back.runtime_id, q.runtime_id);
  EXPECT_EQ(back.base_model_file, q.base_model_file);
  EXPECT_EQ(back.base_model_size, q.base_model_size);
  EXPECT_EQ(back.base_model_sha256, q.base_model_sha256);
  EXPECT_EQ(back.url, q.url);
  EXPECT_EQ(back.provider, "huggingface");
  EXPECT_EQ(q.to_json()["manifest_version"], 1);
  EXPECT_EQ(q.to_json()["local_sdk"]["base_model"]["file"], "qwen3-0.6b-q6_k.gguf");
  // A canonical runtime is written as the reference defines it: no arch (paw knows it from
  // the runtime id); a manifest of any other runtime keeps paw's arch.
  EXPECT_EQ(back.arch, "");
  EXPECT_FALSE(q.to_json()["local_sdk"]["base_model"].contains("arch"));
  auto custom = q;
  custom.runtime_id = "custom-q4";
  EXPECT_EQ(paw::RuntimeManifest::from_json(custom.to_json(), "x").arch, "qwen3");
}

// Hand-written expected canonical form: keys in byte order, no whitespace, program_id
// dropped, raw UTF-8, floats as Python's json.dumps writes them.
TEST(ProgramMeta, CanonicalJson) {
  json m = json::parse(R"({"version": 4, "program_id": "0123456789abcdef", "interpreter": "gpt2",
                           "spec": "caf\u00e9 \"q\"", "lora_alpha": 16.0, "b": [1, 2.5, null, true], "a": {"z": 1, "y": 2}})");
  EXPECT_EQ(paw::canonical_meta_json(m),
            "{\"a\":{\"y\":2,\"z\":1},\"b\":[1,2.5,null,true],\"interpreter\":\"gpt2\",\"lora_alpha\":16.0,"
            "\"spec\":\"caf\xc3\xa9 \\\"q\\\"\",\"version\":4}");
}

TEST(RuntimeManifest, ReferenceManifestGapsFilledFromBuiltIn) {
  auto meta = parse_program_meta(paw::test::meta_v4().dump(), "meta.json");
  auto eff = meta.effective_manifest();
  ASSERT_TRUE(eff);
  EXPECT_EQ(eff->arch, "qwen3");
  EXPECT_EQ(eff->base_model_size.value(), 622733120u);
  EXPECT_EQ(eff->base_model_sha256, "9a16ed5cacba959e63b62e2b6840c3eca2b51c3c3e51d31367ef8e4aafeae33c");
  EXPECT_EQ(eff->display_name, "Qwen3 0.6B (Q6_K)");
}
