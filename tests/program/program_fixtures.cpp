#include "program_fixtures.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "paw/formats/gguf.hpp"
#include "common/test_env.hpp"

namespace fs = std::filesystem;

namespace paw::test {

std::string qwen3_template(const std::string& pseudo_program) {
  return "<|im_start|>user\n[PSEUDO_PROGRAM]\n" + pseudo_program +
         "\n[END_PSEUDO_PROGRAM]\n\n[INPUT]\n{INPUT_PLACEHOLDER}\n[END_INPUT]<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
}

namespace {

GGUFWriter lora_writer(const std::string& type, const std::string& arch, float alpha) {
  GGUFWriter w;
  w.set("general.type", GGUFValue::string(type));
  w.set("general.architecture", GGUFValue::string(arch));
  if (type == "adapter") {
    w.set("adapter.type", GGUFValue::string("lora"));
    w.set("adapter.lora.alpha", GGUFValue::f32(alpha));
  }
  return w;
}

void add_pair(GGUFWriter& w, const std::string& base, int64_t n_in, int64_t n_out, int64_t r, float seed) {
  std::vector<float> a(static_cast<size_t>(n_in * r)), b(static_cast<size_t>(r * n_out));
  for (size_t i = 0; i < a.size(); ++i) a[i] = seed + 0.01f * static_cast<float>(i);
  for (size_t i = 0; i < b.size(); ++i) b[i] = -seed + 0.02f * static_cast<float>(i);
  w.add_tensor(base + ".lora_a", DType::F32, {n_in, r}, a.data(), a.size() * 4);
  w.add_tensor(base + ".lora_b", DType::F32, {r, n_out}, b.data(), b.size() * 4);
}

}  // namespace

std::vector<uint8_t> adapter_gguf(const std::string& arch, float alpha) {
  GGUFWriter w = lora_writer("adapter", arch, alpha);
  add_pair(w, "blk.0.attn_q.weight", 16, 16, 4, 0.5f);
  add_pair(w, "blk.0.ffn_up.weight", 16, 32, 4, 0.25f);
  return w.to_bytes();
}

std::vector<uint8_t> model_gguf(const std::string& arch) {
  GGUFWriter w = lora_writer("model", arch, 0);
  std::vector<float> v(64, 1.0f);
  w.add_tensor("token_embd.weight", DType::F32, {16, 4}, v.data(), v.size() * 4);
  return w.to_bytes();
}

nlohmann::json meta_v4(bool with_id) {
  nlohmann::json m = {
      {"version", 4},
      {"spec", "Classify urgency: immediate or wait. Input: server down -> immediate"},
      {"compiler_snapshot", "paw-compiler-2025-06-01"},
      {"interpreter", "Qwen/Qwen3-0.6B"},
      {"lora_rank", 64},
      {"lora_alpha", 16.0},
      {"prefix_steps", 64},
      {"created_at", "2025-06-01T12:00:00Z"},
      {"runtime_id", "qwen3-0.6b-q6_k"},
      {"runtime",
       {{"runtime_id", "qwen3-0.6b-q6_k"},
        {"manifest_version", 1},
        {"display_name", "Qwen3 0.6B (Q6_K)"},
        {"interpreter", "Qwen/Qwen3-0.6B"},
        {"adapter_format", "gguf_lora"},
        {"local_sdk",
         {{"supported", true},
          {"base_model",
           {{"provider", "huggingface"},
            {"repo", "programasweights/Qwen3-0.6B-GGUF-Q6_K"},
            {"file", "qwen3-0.6b-q6_k.gguf"},
            {"url", "https://huggingface.co/programasweights/Qwen3-0.6B-GGUF-Q6_K/resolve/main/qwen3-0.6b-q6_k.gguf"},
            {"sha256", nullptr}}},
          {"n_ctx", 2048}}},
        {"js_sdk", {{"supported", false}, {"base_model", nullptr}, {"prefix_cache_supported", false}}}}},
  };
  if (with_id) m["program_id"] = "0123456789abcdef0123456789abcdef";
  return m;
}

nlohmann::json meta_v3(bool with_id) {
  nlohmann::json m = {
      {"version", 3},
      {"spec", "Say whether the sentence is positive or negative."},
      {"compiler_snapshot", "paw-gpt2-2025-01"},
      {"interpreter", "gpt2"},
      {"lora_rank", 16},
      {"lora_alpha", 32},
      {"prefix_steps", 0},
      {"created_at", 1717243200.5},
  };
  if (with_id) m["program_id"] = "fedcba9876543210fedcba9876543210";
  return m;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good()) << path;
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  write_bytes(path, std::string(bytes.begin(), bytes.end()));
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

void write_bundle_folder(const std::string& dir, const std::string& meta_json, const std::string& prompt_template,
                         const std::vector<uint8_t>& adapter) {
  fs::create_directories(dir);
  write_bytes(dir + "/meta.json", meta_json);
  write_bytes(dir + "/prompt_template.txt", prompt_template);
  write_bytes(dir + "/adapter.gguf", adapter);
}

void write_v4_folder(const std::string& dir) {
  write_bundle_folder(dir, meta_v4().dump(2), qwen3_template(), adapter_gguf("qwen3"));
}

std::string zip_check(const std::string& args) {
  std::string out;
  std::string cmd = python() + " " + source_dir() + "/tests/reference/zip_check.py " + args;
  int rc = run_command(cmd, &out);
  EXPECT_EQ(rc, 0) << cmd;
  return out;
}

void python_zip(const std::string& out, const nlohmann::json& spec) {
  std::string spec_path = out + ".spec.json";
  write_bytes(spec_path, spec.dump());
  zip_check("make '" + out + "' '" + spec_path + "'");
  fs::remove(spec_path);
}

nlohmann::json folder_members_spec(const std::string& dir) {
  return nlohmann::json::array({
      {{"name", "meta.json"}, {"file", dir + "/meta.json"}},
      {{"name", "prompt_template.txt"}, {"file", dir + "/prompt_template.txt"}},
      {{"name", "adapter.gguf"}, {"file", dir + "/adapter.gguf"}, {"compress", "store"}},
  });
}

std::vector<std::string> tree(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec))
    out.push_back(fs::relative(it->path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace paw::test
