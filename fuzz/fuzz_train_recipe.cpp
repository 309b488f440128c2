// Fuzz target: training recipes (paw/train/recipe.hpp) from JSON text, stages included — the
// merge of each stage over its recipe and the strict key checks. Text that is not JSON is the
// JSON library's business; for JSON, anything invalid must end in paw::Error naming the key.
// Any other exception, crash or sanitizer report is a bug. Built from src/train/recipe.cpp
// alone (no libtorch), which is why the fuzz build can have it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "paw/train/recipe.hpp"
#include "paw/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  try {
    const paw::train::Recipe r = paw::train::parse_recipe(j, "fuzz.json");
    // A parsed curriculum is consistent: stage i+1 starts from what stage i exports.
    for (size_t i = 1; i < r.stages.size(); ++i)
      if (r.stages[i].model.init != r.stages[i - 1].exp.path || r.stages[i - 1].exp.path.empty()) std::abort();
    for (const auto& s : r.stages)
      if (!s.stages.empty() || s.stage_name.empty()) std::abort();
  } catch (const paw::Error&) {
  }
  return 0;
}
