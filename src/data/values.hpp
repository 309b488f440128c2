#pragma once
// Random field values shared by several families: emails, amounts, ids, people's names, phones.
#include <string>

#include "data/words.hpp"
#include "paw/data/rng.hpp"

namespace paw::data {

std::string random_person(Rng& r);                    // "Maria Lopez"
std::string random_email(Rng& r, const Words& w);     // "maria.lopez@harbor.org"
std::string random_amount(Rng& r);                    // "$1,250.00", "45.20 EUR", "USD 99" ...
std::string random_id(Rng& r, const std::string& prefix);  // "TKT-48213"
std::string random_phone(Rng& r);                     // "555-123-4567", "(555) 123-4567", "+1 555 123 4567"

}  // namespace paw::data
