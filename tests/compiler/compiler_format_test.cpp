// Shared compiler definitions: spec normalisation, template rendering, layer choice, the
// coefficient layout and the encoder input (paw/compiler/format.hpp).
#include <gtest/gtest.h>

#include "paw/compiler/format.hpp"
#include "paw/util/error.hpp"

namespace paw::compiler {
namespace {

TEST(CompilerFormat, NormalizeSpecKeepsLineContentAndTrimsTheRest) {
  EXPECT_EQ(normalize_spec("  \r\n\nClassify  it.\t \r\nInput: a  b\n\n\n\nOutput: x \n\n"),
            "Classify  it.\nInput: a  b\n\nOutput: x");  // blank ends dropped; inner double spaces kept
  EXPECT_EQ(normalize_spec("one\rtwo"), "one\ntwo");
  EXPECT_EQ(normalize_spec(" \t\n \n"), "");
  EXPECT_EQ(normalize_spec("  indented first line"), "  indented first line");
}

TEST(CompilerFormat, RenderTemplateSubstitutesThePseudoProgramOnce) {
  const std::string t = prompted_template();
  const std::string r = render_template(t, "Do X.");
  EXPECT_EQ(r, "<|im_start|>user\nDo X.\n[INPUT]\n{INPUT_PLACEHOLDER}\n[END_INPUT]\n<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_THROW(render_template("no placeholders", "x"), Error);
  EXPECT_THROW(render_template(t + "{PSEUDO_PROGRAM}", "x"), Error);
  EXPECT_THROW(render_template(t, "a spec with {INPUT_PLACEHOLDER} in it"), Error);
}

TEST(CompilerFormat, DepthRatioLayersFollowThePublishedRule) {
  // Qwen3-0.6B (28 layers) from a 36-layer compiler: int((l+1)*36/28) - 1.
  const auto l = depth_ratio_layers(28, 36);
  ASSERT_EQ(l.size(), 28u);
  for (int64_t i = 0; i < 28; ++i) EXPECT_EQ(l[static_cast<size_t>(i)], (i + 1) * 36 / 28 - 1) << i;
  EXPECT_EQ(l.front(), 0);
  EXPECT_EQ(l.back(), 35);
  EXPECT_EQ(depth_ratio_layers(6, 6), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  // A shallower encoder: the first layers clamp at 0.
  EXPECT_EQ(depth_ratio_layers(3, 2), (std::vector<int64_t>{0, 0, 1}));
}

TEST(CompilerFormat, CoefficientIndexIsLayerModuleBasisAB) {
  const int64_t M = 7, NB = 8;
  EXPECT_EQ(coef_index(0, 0, 0, 0, M, NB), 0);
  EXPECT_EQ(coef_index(0, 0, 0, 1, M, NB), 1);
  EXPECT_EQ(coef_index(0, 0, 1, 0, M, NB), 2);
  EXPECT_EQ(coef_index(0, 1, 0, 0, M, NB), 2 * NB);
  EXPECT_EQ(coef_index(1, 0, 0, 0, M, NB), 2 * NB * M);
  EXPECT_EQ(sorted_modules({"q", "k", "v", "o", "gate", "up", "down"}),
            (std::vector<std::string>{"down", "gate", "k", "o", "q", "up", "v"}));
  EXPECT_EQ(module_tensor("o"), "attn_output");
  EXPECT_EQ(module_tensor("gate"), "ffn_gate");
  EXPECT_THROW(module_tensor("qkv"), Error);
}

}  // namespace
}  // namespace paw::compiler
