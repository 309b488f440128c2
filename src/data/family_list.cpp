// The family registry: a fixed order, so `paw data families` and round-robin assignment of
// records to families are stable.
#include "data/family.hpp"

namespace paw::data {

const std::vector<const Family*>& all_families() {
  static const std::vector<const Family*> list = {
      &family_classify(),      &family_sentiment(),   &family_extract(),     &family_json_repair(),
      &family_date_norm(),     &family_log_triage(),  &family_intent_route(), &family_closest_match(),
      &family_yes_no(),        &family_list_ops(),    &family_unit_convert(), &family_case_format(),
      &family_keyword_tag(),   &family_pii_redact(),  &family_echo(),        &family_sequence_next(),
      &family_table_lookup(),
  };
  return list;
}

const Family* find_family(std::string_view name) {
  for (const Family* f : all_families()) {
    if (name == f->name()) return f;
  }
  return nullptr;
}

}  // namespace paw::data
