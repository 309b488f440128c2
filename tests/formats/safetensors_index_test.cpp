// Sharded checkpoints (model.safetensors.index.json + shards) and single-file checkpoints
// through one lookup.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "paw/formats/safetensors.hpp"
#include "paw/util/error.hpp"
#include "common/test_env.hpp"

using paw::SafetensorsCheckpoint;
using paw::SafetensorsWriter;

namespace {

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// Two shards as HF names them; tensor values encode (shard, index) so a lookup that went to
// the wrong shard shows up as a wrong value.
std::string make_sharded(const std::string& tag) {
  auto dir = paw::test::scratch_dir(tag);
  SafetensorsWriter s1, s2;
  s1.add_f32("model.embed_tokens.weight", {2, 2}, std::vector<float>{1, 2, 3, 4});
  s1.add_f32("model.layers.0.input_layernorm.weight", {2}, std::vector<float>{10, 11}, paw::STDType::BF16);
  s2.add_f32("model.norm.weight", {2}, std::vector<float>{20, 21}, paw::STDType::F16);
  s2.add_f32("lm_head.weight", {1, 2}, std::vector<float>{30, 31});
  s2.add_f32("unlisted.extra", {1}, std::vector<float>{99});  // present in a shard, absent from the map
  s1.write(dir + "/model-00001-of-00002.safetensors");
  s2.write(dir + "/model-00002-of-00002.safetensors");
  write_text(dir + "/model.safetensors.index.json", R"({
  "metadata": {"total_size": 40},
  "weight_map": {
    "lm_head.weight": "model-00002-of-00002.safetensors",
    "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
    "model.layers.0.input_layernorm.weight": "model-00001-of-00002.safetensors",
    "model.norm.weight": "model-00002-of-00002.safetensors"
  }
})");
  return dir;
}

template <typename Fn>
paw::Error error_of(Fn fn) {
  try {
    fn();
  } catch (const paw::Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error thrown";
  return paw::Error("");
}

}  // namespace

TEST(SafetensorsIndex, CombinesShardsIntoOneLookup) {
  auto dir = make_sharded("st-index");
  for (const auto& path : {dir, dir + "/model.safetensors.index.json"}) {
    auto ck = SafetensorsCheckpoint::open(path);
    EXPECT_EQ(ck.path(), dir + "/model.safetensors.index.json");
    EXPECT_EQ(ck.shards().size(), 2u);
    EXPECT_EQ(ck.size(), 4u);
    EXPECT_EQ(ck.names(), (std::vector<std::string>{"lm_head.weight", "model.embed_tokens.weight",
                                                    "model.layers.0.input_layernorm.weight", "model.norm.weight"}));
    EXPECT_EQ(ck.to_f32("model.embed_tokens.weight"), (std::vector<float>{1, 2, 3, 4}));
    EXPECT_EQ(ck.to_f32("model.layers.0.input_layernorm.weight"), (std::vector<float>{10, 11}));
    EXPECT_EQ(ck.to_f32("model.norm.weight"), (std::vector<float>{20, 21}));
    EXPECT_EQ(ck.to_f32("lm_head.weight"), (std::vector<float>{30, 31}));
    EXPECT_EQ(ck.get("lm_head.weight").shape, (std::vector<int64_t>{1, 2}));
    EXPECT_EQ(ck.shard_of("model.norm.weight").path(), dir + "/model-00002-of-00002.safetensors");
    EXPECT_EQ(ck.find("unlisted.extra"), nullptr);  // only the weight_map is presented
    auto e = error_of([&] { ck.get("model.layers.9.mlp.up_proj.weight"); });
    EXPECT_NE(std::string(e.what()).find("tensor 'model.layers.9.mlp.up_proj.weight' not found"), std::string::npos);
  }
}

TEST(SafetensorsIndex, SingleFileAndFolderWithoutIndex) {
  auto dir = paw::test::scratch_dir("st-single");
  SafetensorsWriter w;
  w.add_f32("a", {3}, std::vector<float>{1, 2, 3});
  w.write(dir + "/model.safetensors");
  for (const auto& path : {dir, dir + "/model.safetensors"}) {
    auto ck = SafetensorsCheckpoint::open(path);
    EXPECT_EQ(ck.shards().size(), 1u);
    EXPECT_EQ(ck.to_f32("a"), (std::vector<float>{1, 2, 3}));
  }
  auto empty = paw::test::scratch_dir("st-empty-dir");
  auto e = error_of([&] { SafetensorsCheckpoint::open(empty); });
  EXPECT_NE(std::string(e.what()).find("no model.safetensors.index.json or model.safetensors"), std::string::npos);
}

TEST(SafetensorsIndex, MissingShardFile) {
  auto dir = make_sharded("st-index-noshard");
  std::filesystem::remove(dir + "/model-00002-of-00002.safetensors");
  auto e = error_of([&] { SafetensorsCheckpoint::open(dir); });
  EXPECT_NE(std::string(e.what()).find("shard file 'model-00002-of-00002.safetensors' (holding tensor 'lm_head.weight') does not exist"),
            std::string::npos)
      << e.what();
  EXPECT_NE(e.where().find("model.safetensors.index.json"), std::string::npos);
}

TEST(SafetensorsIndex, MappedTensorAbsentFromShard) {
  auto dir = make_sharded("st-index-notensor");
  write_text(dir + "/model.safetensors.index.json",
             R"({"weight_map": {"model.norm.weight": "model-00001-of-00002.safetensors"}})");
  auto e = error_of([&] { SafetensorsCheckpoint::open(dir); });
  EXPECT_NE(std::string(e.what()).find("tensor 'model.norm.weight' is mapped to shard 'model-00001-of-00002.safetensors' but that shard does not contain it"),
            std::string::npos)
      << e.what();
}

TEST(SafetensorsIndex, BadIndexFiles) {
  struct Case {
    const char* json;
    const char* fragment;
  };
  const Case cases[] = {
      {R"({"weight_map": )", "index is not valid JSON"},
      {R"([1])", "index is not a JSON object"},
      {R"({"metadata": {"total_size": 1e999}, "weight_map": {}})", "index is not valid JSON"},
      {R"({"metadata": {}})", "field 'weight_map' is missing or not an object"},
      {R"({"weight_map": {}})", "'weight_map' is empty"},
      {R"({"weight_map": {"a": 3}})", "shard file name is not a string"},
      {R"({"weight_map": {"a": "../secret.safetensors"}})", "is not a plain file name"},
      {R"({"weight_map": {"a": "/etc/passwd"}})", "is not a plain file name"},
      {R"({"weight_map": {"a": "sub\\x.safetensors"}})", "is not a plain file name"},
      {R"({"weight_map": {"a": ".."}})", "is not a plain file name"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    auto e = error_of([&] { SafetensorsCheckpoint::parse_index(c.json, "idx.json"); });
    EXPECT_NE(std::string(e.what()).find(c.fragment), std::string::npos) << e.what();
    EXPECT_NE(e.where().find("idx.json"), std::string::npos);
  }
}

TEST(SafetensorsIndex, CorruptShardNamesTheShard) {
  auto dir = make_sharded("st-index-corrupt");
  write_text(dir + "/model-00001-of-00002.safetensors", "junk");
  auto e = error_of([&] { SafetensorsCheckpoint::open(dir); });
  EXPECT_NE(e.where().find("model-00001-of-00002.safetensors"), std::string::npos) << e.what();
}
