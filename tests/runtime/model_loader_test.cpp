// load_model_with_tokenizer: the model and the tokenizer of its own file (GGUF metadata read
// separately here through GGUFFile), and a clear error for a missing file.
#include <gtest/gtest.h>

#include <string>

#include "common/model_test_util.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/runtime/model_loader.hpp"
#include "paw/util/error.hpp"

namespace paw {
namespace {

TEST(ModelLoader, GgufModelAndItsOwnTokenizer) {
  const std::string path = test::fixture("model --arch qwen3 --preset tiny --type f32 --seed 3");
  const ModelWithTokenizer m = load_model_with_tokenizer(path);
  ASSERT_TRUE(m.model);
  EXPECT_EQ(m.model->path(), path);
  const Tokenizer direct = Tokenizer::from_gguf(GGUFFile::open(path));
  for (const std::string text : {"hello world", "Ünïcode ✓ 123", ""})
    EXPECT_EQ(m.tokenizer.encode(text), direct.encode(text)) << text;
  EXPECT_EQ(tokenizer_of(*m.model).encode("hello world"), direct.encode("hello world"));
}

TEST(ModelLoader, MissingFileNamesIt) {
  try {
    load_model_with_tokenizer("/nonexistent/model.gguf");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace paw
