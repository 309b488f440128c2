// `paw info --json` against an independent GGUF reader (tests/reference/gguf_dump.py, written
// from the GGUF specification): same version, alignment, metadata keys and values, and the
// same tensor table (names, types, shapes, absolute offsets, sizes).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/test_env.hpp"

using nlohmann::json;

namespace {

json run_json(const std::string& cmd) {
  std::string out;
  EXPECT_EQ(paw::test::run_command(cmd, &out), 0) << cmd;
  return json::parse(out);
}

}  // namespace

TEST(CliInfo, GgufJsonMatchesIndependentReader) {
  const std::string model = paw::test::source_dir() + "/models/paw-tiny-qwen3.gguf";
  json ours = run_json(paw::test::tool_path("paw") + " info --json " + model);
  json ref = run_json(paw::test::python() + " " + paw::test::source_dir() + "/tests/reference/gguf_dump.py " + model);

  EXPECT_EQ(ours["version"], ref["version"]);
  EXPECT_EQ(ours["alignment"], ref["alignment"]);
  EXPECT_EQ(ours["file_size"], ref["file_size"]);

  ASSERT_EQ(ours["metadata"].size(), ref["kv"].size());
  for (const auto& kv : ref["kv"]) {
    const std::string key = kv["key"];
    ASSERT_TRUE(ours["metadata"].contains(key)) << key;
    const auto& mine = ours["metadata"][key];
    if (kv["type"] == "array") {
      // Long arrays are abbreviated: count and first elements.
      const auto& values = kv["value"]["values"];
      if (mine.is_object()) {
        EXPECT_EQ(mine["count"], values.size()) << key;
        for (size_t i = 0; i < mine["head"].size(); ++i) EXPECT_EQ(mine["head"][i], values[i]) << key;
      } else {
        EXPECT_EQ(mine, values) << key;
      }
    } else if (kv["type"] == "f32" || kv["type"] == "f64") {
      EXPECT_NEAR(mine.get<double>(), kv["value"].get<double>(), 1e-12) << key;
    } else {
      EXPECT_EQ(mine, kv["value"]) << key;
    }
  }

  const uint64_t data_offset = ref["data_offset"];
  ASSERT_EQ(ours["tensors"].size(), ref["tensors"].size());
  for (size_t i = 0; i < ref["tensors"].size(); ++i) {
    const auto& r = ref["tensors"][i];
    const auto& m = ours["tensors"][i];
    EXPECT_EQ(m["name"], r["name"]);
    EXPECT_EQ(m["type"], r["type"]) << r["name"];
    EXPECT_EQ(m["ne"], r["ne"]) << r["name"];
    EXPECT_EQ(m["offset"].get<uint64_t>(), data_offset + r["offset"].get<uint64_t>()) << r["name"];
    EXPECT_EQ(m["bytes"], r["n_bytes"]) << r["name"];
  }
}

TEST(CliInfo, UnknownFileKindIsAClearError) {
  auto dir = paw::test::scratch_dir("cli-info");
  std::ofstream(dir + "/notes.txt") << "hello";
  std::string cmd = paw::test::tool_path("paw") + " info " + dir + "/notes.txt 2>" + dir + "/err.txt";
  EXPECT_EQ(paw::test::run_command(cmd), 1);
  std::ifstream e(dir + "/err.txt");
  std::string err((std::istreambuf_iterator<char>(e)), std::istreambuf_iterator<char>());
  EXPECT_NE(err.find("notes.txt"), std::string::npos) << err;
  EXPECT_NE(err.find("hint"), std::string::npos) << err;
}

TEST(CliInfo, TruncatedGgufNamesFileAndOffset) {
  auto dir = paw::test::scratch_dir("cli-info-trunc");
  std::ifstream in(paw::test::source_dir() + "/models/paw-tiny-qwen3.gguf", std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  std::ofstream(dir + "/cut.gguf", std::ios::binary) << head;
  std::string cmd = paw::test::tool_path("paw") + " info " + dir + "/cut.gguf 2>" + dir + "/err.txt";
  EXPECT_EQ(paw::test::run_command(cmd), 1);
  std::ifstream e(dir + "/err.txt");
  std::string err((std::istreambuf_iterator<char>(e)), std::istreambuf_iterator<char>());
  EXPECT_NE(err.find("cut.gguf"), std::string::npos) << err;
  EXPECT_NE(err.find("offset"), std::string::npos) << err;
}
