// Answer scoring rules of paw/eval/match.hpp, case by case.
#include <gtest/gtest.h>

#include "paw/eval/match.hpp"

namespace paw::eval {
namespace {

TEST(Match, ExactIgnoresOnlySurroundingWhitespace) {
  EXPECT_TRUE(exact_match("refund", "refund"));
  EXPECT_TRUE(exact_match(" refund\n", "refund"));
  EXPECT_FALSE(exact_match("Refund", "refund"));
  EXPECT_FALSE(exact_match("re fund", "refund"));
  EXPECT_FALSE(exact_match("", "none"));
  EXPECT_TRUE(exact_match("", "  "));
}

TEST(Match, NormalisedFoldsCaseSpacesQuotesAndFinalPeriod) {
  EXPECT_EQ(normalise_answer("  Track_Order.  "), "track_order");
  EXPECT_EQ(normalise_answer("\"Happy\""), "happy");
  EXPECT_EQ(normalise_answer("a \t\n b"), "a b");
  EXPECT_EQ(normalise_answer("'x'"), "x");
  EXPECT_EQ(normalise_answer("\"unbalanced'"), "\"unbalanced'");
  EXPECT_TRUE(normalised_match("Positive.", "positive"));
  EXPECT_TRUE(normalised_match("prophet  prophet\nbetoken", "prophet prophet betoken"));
  EXPECT_FALSE(normalised_match("positive", "negative"));
  EXPECT_FALSE(normalised_match("2021-03-05", "2021-03-06"));
  // Only one trailing period goes: "1.." stays different from "1".
  EXPECT_FALSE(normalised_match("1..", "1"));
}

TEST(Match, NormalisedComparesJsonByValue) {
  EXPECT_TRUE(normalised_match(R"({"b": [1, 2], "a": true})", R"({"a":true,"b":[1,2]})"));
  EXPECT_TRUE(normalised_match(R"({"n": 1.0})", R"({"n":1})"));
  EXPECT_FALSE(normalised_match(R"({"a":true,"b":[2,1]})", R"({"a":true,"b":[1,2]})"));
  EXPECT_FALSE(normalised_match(R"({"a":true})", R"({"a":true,"b":null})"));
  EXPECT_FALSE(normalised_match(R"({"a":"1"})", R"({"a":1})"));
  // Not JSON on one side: text rules apply (and the texts differ).
  EXPECT_FALSE(normalised_match(R"({"a":true)", R"({"a":true})"));
  // Scalars are text, not JSON: "01" is not "1".
  EXPECT_FALSE(normalised_match("01", "1"));
}

}  // namespace
}  // namespace paw::eval
