#pragma once
// Small curated vocabularies the families build on (category names, people's names, email
// domains' endings, subjects of reviews ...). Open-ended content comes from the word list.
#include <string>
#include <vector>

namespace paw::data {

const std::vector<std::string>& category_names();  // label names for classify / keyword_tag
const std::vector<std::string>& first_names();     // capitalised
const std::vector<std::string>& last_names();      // capitalised
const std::vector<std::string>& day_words();       // "monday", "tomorrow", ...
const std::vector<std::string>& fallback_labels(); // "other", "none", ...

}  // namespace paw::data
