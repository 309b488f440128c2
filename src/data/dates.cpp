#include "data/dates.hpp"

#include "data/text.hpp"
#include "paw/util/error.hpp"

namespace paw::data {

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

int weekday(const Date& dt) {
  // Days since 1970-01-01 (a Thursday) by Howard Hinnant's days_from_civil.
  const int y = dt.m <= 2 ? dt.y - 1 : dt.y;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int mp = (dt.m + 9) % 12;
  const int doy = (153 * mp + 2) / 5 + dt.d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long days = static_cast<long>(era) * 146097 + doe - 719468;
  return static_cast<int>(((days % 7) + 7 + 3) % 7);  // 1970-01-01 -> 3 (Thursday)
}

Date random_date(Rng& r, int y0, int y1) {
  Date dt;
  dt.y = static_cast<int>(r.range(y0, y1));
  dt.m = static_cast<int>(r.range(1, 12));
  dt.d = static_cast<int>(r.range(1, days_in_month(dt.y, dt.m)));
  return dt;
}

const std::vector<std::string>& month_names() {
  static const std::vector<std::string> v = {"January", "February", "March",     "April",   "May",      "June",
                                             "July",    "August",   "September", "October", "November", "December"};
  return v;
}

std::string iso(const Date& dt) { return zero_pad(dt.y, 4) + "-" + zero_pad(dt.m, 2) + "-" + zero_pad(dt.d, 2); }

const std::vector<std::string>& date_format_names() {
  static const std::vector<std::string> v = {"iso",      "us_slash",  "eu_slash", "eu_dots",      "long_mdy",
                                             "long_dmy", "abbr_mdy",  "abbr_dmy", "abbr_dot_mdy", "ordinal",
                                             "ymd_slash", "compact",  "weekday_long", "dash_abbr"};
  return v;
}

namespace {
std::string ordinal(int d) {
  const char* suf = "th";
  if (d % 100 < 11 || d % 100 > 13) {
    if (d % 10 == 1) suf = "st";
    if (d % 10 == 2) suf = "nd";
    if (d % 10 == 3) suf = "rd";
  }
  return std::to_string(d) + suf;
}
}  // namespace

std::string format_date(const Date& dt, const std::string& f) {
  const std::string month = month_names()[dt.m - 1];
  const std::string abbr = month.substr(0, 3);
  const std::string y = zero_pad(dt.y, 4), mm = zero_pad(dt.m, 2), dd = zero_pad(dt.d, 2);
  const std::string d = std::to_string(dt.d);
  static const char* kWeekdays[7] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
  if (f == "iso") return y + "-" + mm + "-" + dd;
  if (f == "us_slash") return mm + "/" + dd + "/" + y;
  if (f == "eu_slash") return dd + "/" + mm + "/" + y;
  if (f == "eu_dots") return dd + "." + mm + "." + y;
  if (f == "long_mdy") return month + " " + d + ", " + y;
  if (f == "long_dmy") return d + " " + month + " " + y;
  if (f == "abbr_mdy") return abbr + " " + d + ", " + y;
  if (f == "abbr_dmy") return d + " " + abbr + " " + y;
  if (f == "abbr_dot_mdy") return abbr + ". " + d + " " + y;
  if (f == "ordinal") return "the " + ordinal(dt.d) + " of " + month + " " + y;
  if (f == "ymd_slash") return y + "/" + mm + "/" + dd;
  if (f == "compact") return y + mm + dd;
  if (f == "weekday_long") return std::string(kWeekdays[weekday(dt)]) + ", " + month + " " + d + ", " + y;
  if (f == "dash_abbr") return d + "-" + abbr + "-" + y;
  throw Error("unknown date format '" + f + "'", "data generator");
}

std::string date_format_note(const std::string& f) {
  if (f == "us_slash") return "month/day/year";
  if (f == "eu_slash") return "day/month/year";
  if (f == "eu_dots") return "day.month.year";
  return "";
}

}  // namespace paw::data
