#include "data/values.hpp"

#include "data/pools.hpp"
#include "data/text.hpp"

namespace paw::data {

std::string random_person(Rng& r) { return r.pick(first_names()) + " " + r.pick(last_names()); }

std::string random_email(Rng& r, const Words& w) {
  static const char* const kTld[] = {"com", "org", "net", "io", "co"};
  const std::string first = lower(r.pick(first_names()));
  const std::string last = lower(r.pick(last_names()));
  std::string local;
  switch (r.below(4)) {
    case 0: local = first + "." + last; break;
    case 1: local = first + std::to_string(r.range(1, 99)); break;
    case 2: local = first.substr(0, 1) + last; break;
    default: local = first + "_" + last; break;
  }
  return local + "@" + w.pick(r) + "." + r.pick(kTld);
}

std::string random_amount(Rng& r) {
  const int64_t whole = r.chance(0.2) ? r.range(1000, 9999) : r.range(1, 999);
  const int64_t cents = r.range(0, 99);
  const bool with_cents = r.chance(0.6);
  std::string num = std::to_string(whole);
  std::string grouped = whole >= 1000 ? num.substr(0, num.size() - 3) + "," + num.substr(num.size() - 3) : num;
  const std::string frac = with_cents ? "." + zero_pad(cents, 2) : "";
  switch (r.below(5)) {
    case 0: return "$" + grouped + frac;
    case 1: return num + frac + " EUR";
    case 2: return "USD " + num + frac;
    case 3: return num + frac + " dollars";
    default: return "$" + num + frac;
  }
}

std::string random_id(Rng& r, const std::string& prefix) {
  const int digits = static_cast<int>(r.range(4, 6));
  std::string d;
  for (int i = 0; i < digits; ++i) d.push_back(static_cast<char>('0' + (i == 0 ? r.range(1, 9) : r.range(0, 9))));
  return prefix + "-" + d;
}

std::string random_phone(Rng& r) {
  const std::string a = std::to_string(r.range(201, 989));
  const std::string b = std::to_string(r.range(200, 999));
  const std::string c = zero_pad(r.range(0, 9999), 4);
  switch (r.below(3)) {
    case 0: return a + "-" + b + "-" + c;
    case 1: return "(" + a + ") " + b + "-" + c;
    default: return "+1 " + a + " " + b + " " + c;
  }
}

}  // namespace paw::data
