#pragma once
// Calendar dates and the written forms the date families use ("March 5, 2021", "05.03.2021" ...).
#include <string>
#include <vector>

#include "paw/data/rng.hpp"

namespace paw::data {

struct Date {
  int y = 2000, m = 1, d = 1;
};

bool is_leap(int y);
int days_in_month(int y, int m);
// 0 = Monday .. 6 = Sunday (proleptic Gregorian).
int weekday(const Date& dt);
// Uniform over the days of [y0, y1].
Date random_date(Rng& r, int y0 = 1950, int y1 = 2035);

std::string iso(const Date& dt);  // YYYY-MM-DD
// Format names: iso, us_slash (MM/DD/YYYY), eu_slash (DD/MM/YYYY), eu_dots (DD.MM.YYYY), long_mdy,
// long_dmy, abbr_mdy, abbr_dmy, abbr_dot_mdy, ordinal, ymd_slash, compact, weekday_long, dash_abbr.
const std::vector<std::string>& date_format_names();
std::string format_date(const Date& dt, const std::string& format);
// How a spec describes a format's order, for the ambiguous numeric ones ("" otherwise).
std::string date_format_note(const std::string& format);

const std::vector<std::string>& month_names();  // "January" ..

}  // namespace paw::data
