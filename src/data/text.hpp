#pragma once
// Small text helpers shared by the families: templates with {slots} rendered into segments,
// joins, "a, b or c" phrases, case changes.
#include <string>
#include <string_view>
#include <vector>

#include "data/noise.hpp"

namespace paw::data {

struct Slot {
  std::string name;   // placeholder name in the template, without braces
  std::string value;
  bool keep = false;  // the value carries the answer: protect it from noise
};

// Renders "I paid {amount} on {date}" into segments: literal text (noisable) and slot values
// (kept or not as the slot says). Unknown placeholders are left as written.
std::vector<Seg> render(std::string_view tmpl, const std::vector<Slot>& slots);
// The same, as plain text.
std::string render_text(std::string_view tmpl, const std::vector<Slot>& slots);

std::string join(const std::vector<std::string>& items, std::string_view sep);
// "a", "a or b", "a, b or c" (conj = "or" / "and").
std::string phrase_list(const std::vector<std::string>& items, std::string_view conj);
std::string capitalize(std::string s);
std::string upper(std::string s);
std::string lower(std::string s);
// Upper-cases the first letter of the input when the first segment is not kept.
void capitalize_first(std::vector<Seg>& segs);

// Integer with a fixed number of digits ("%0*d" without locale concerns).
std::string zero_pad(int64_t v, int width);

}  // namespace paw::data
