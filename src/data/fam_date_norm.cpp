// date_norm: a date written in one of the spec's 2–3 formats (possibly inside a short phrase)
// rewritten as YYYY-MM-DD. Ambiguous numeric formats are declared (month/day vs day/month).
#include <algorithm>

#include "data/dates.hpp"
#include "data/family.hpp"
#include "data/text.hpp"

namespace paw::data {
namespace {

const std::vector<std::string>& frames() {
  static const std::vector<std::string> v = {
      "{date}",          "{date}",                     "invoice dated {date}",  "meeting on {date}",
      "born {date}",     "deadline: {date}",           "the package shipped {date}", "valid until {date}",
      "see you on {date}!", "we signed the lease on {date}", "date of issue {date}", "last updated {date}",
  };
  return v;
}

class DateNorm final : public Family {
 public:
  const char* name() const override { return "date_norm"; }
  const char* description() const override { return "rewrite a date given in one of several formats as YYYY-MM-DD"; }

  json draw_params(Rng& r, const Words&) const override {
    const auto& names = date_format_names();
    for (;;) {
      std::vector<std::string> f;
      for (size_t i : r.sample_indices(names.size(), static_cast<size_t>(r.range(2, 3)))) f.push_back(names[i]);
      // Month/day and day/month slashes in one spec would make 03/05 ambiguous.
      const bool us = std::find(f.begin(), f.end(), "us_slash") != f.end();
      const bool eu = std::find(f.begin(), f.end(), "eu_slash") != f.end();
      if (us && eu) continue;
      return {{"formats", f}};
    }
  }

  std::string instruction(const json& p, Rng& r) const override {
    const Date show{2021, 3, 5};
    std::vector<std::string> ex;
    for (const auto& f : p.at("formats")) {
      // Appended piece by piece: GCC 12 reports a false -Wrestrict for "\"" + std::string.
      std::string e = "\"";
      e += format_date(show, f);
      e += '"';
      const std::string note = date_format_note(f);
      if (!note.empty()) e += " (" + note + ")";
      ex.push_back(e);
    }
    const std::string list = phrase_list(ex, "or");
    switch (r.below(3)) {
      case 0:
        return "Normalise the date in the input to ISO format YYYY-MM-DD. Dates are written like " + list + ".";
      case 1:
        return "Find the date and rewrite it as year-month-day with zero padding (YYYY-MM-DD). Input dates look like " + list +
               ". Output only the date.";
      default:
        return "Convert dates such as " + list + " into the form 2021-03-05. Answer with the converted date only.";
    }
  }

  Sample sample(const json& p, Rng& r, const Words&) const override {
    const Date dt = random_date(r);
    const std::string f = r.pick(p.at("formats").get<std::vector<std::string>>());
    Sample s;
    s.segs = render(r.pick(frames()), {{"date", format_date(dt, f), true}});
    if (r.chance(0.5)) capitalize_first(s.segs);
    s.output = iso(dt);
    return s;
  }
};

}  // namespace

const Family& family_date_norm() {
  static const DateNorm f;
  return f;
}

}  // namespace paw::data
