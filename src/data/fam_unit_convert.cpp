// unit_convert: convert a quantity between two units with an integer factor (km -> m, hours ->
// minutes, feet -> inches, ...), either direction, phrased in several ways; the answer is the
// number, the number with the unit symbol, or with the unit word.
#include <iterator>

#include "data/family.hpp"
#include "data/text.hpp"

namespace paw::data {
namespace {

struct Unit {
  const char* sym;
  const char* one;   // singular word
  const char* many;  // plural word
};
struct Conv {
  Unit big;
  Unit small;
  int64_t factor;  // 1 big = factor small
};
const Conv kConvs[] = {
    {{"km", "kilometer", "kilometers"}, {"m", "meter", "meters"}, 1000},
    {{"m", "meter", "meters"}, {"cm", "centimeter", "centimeters"}, 100},
    {{"cm", "centimeter", "centimeters"}, {"mm", "millimeter", "millimeters"}, 10},
    {{"m", "meter", "meters"}, {"mm", "millimeter", "millimeters"}, 1000},
    {{"kg", "kilogram", "kilograms"}, {"g", "gram", "grams"}, 1000},
    {{"g", "gram", "grams"}, {"mg", "milligram", "milligrams"}, 1000},
    {{"t", "tonne", "tonnes"}, {"kg", "kilogram", "kilograms"}, 1000},
    {{"h", "hour", "hours"}, {"min", "minute", "minutes"}, 60},
    {{"min", "minute", "minutes"}, {"s", "second", "seconds"}, 60},
    {{"d", "day", "days"}, {"h", "hour", "hours"}, 24},
    {{"wk", "week", "weeks"}, {"d", "day", "days"}, 7},
    {{"yr", "year", "years"}, {"mo", "month", "months"}, 12},
    {{"ft", "foot", "feet"}, {"in", "inch", "inches"}, 12},
    {{"yd", "yard", "yards"}, {"ft", "foot", "feet"}, 3},
    {{"mi", "mile", "miles"}, {"ft", "foot", "feet"}, 5280},
    {{"lb", "pound", "pounds"}, {"oz", "ounce", "ounces"}, 16},
    {{"gal", "gallon", "gallons"}, {"qt", "quart", "quarts"}, 4},
    {{"L", "liter", "liters"}, {"mL", "milliliter", "milliliters"}, 1000},
    {{"kB", "kilobyte", "kilobytes"}, {"B", "byte", "bytes"}, 1000},
    {{"GB", "gigabyte", "gigabytes"}, {"MB", "megabyte", "megabytes"}, 1000},
    {{"KiB", "kibibyte", "kibibytes"}, {"B", "byte", "bytes"}, 1024},
    {{"century", "century", "centuries"}, {"yr", "year", "years"}, 100},
    {{"dozen", "dozen", "dozen"}, {"pcs", "piece", "pieces"}, 12},
};
const char* const kOut[] = {"number", "symbol", "word"};

// {x}: the amount; {fs}/{fw}: from-unit symbol/word; {ts}/{tw}: to-unit symbol/plural word.
const std::vector<std::string>& phrasings() {
  static const std::vector<std::string> v = {"how many {tw} are in {x} {fw}?", "{x} {fs} to {ts}",    "convert {x} {fw} into {tw}",
                                             "{x} {fs} in {ts}?",              "what is {x} {fw} in {tw}", "{x} {fw} = ? {ts}"};
  return v;
}

std::string unit_word(const Unit& u, int64_t n) { return n == 1 ? u.one : u.many; }

class UnitConvert final : public Family {
 public:
  const char* name() const override { return "unit_convert"; }
  const char* description() const override { return "convert a quantity between units with an integer factor, either direction"; }

  json draw_params(Rng& r, const Words&) const override {
    const size_t c = r.below(std::size(kConvs));
    const bool down = r.chance(0.5);  // big -> small multiplies
    const Conv& cv = kConvs[c];
    const Unit& from = down ? cv.big : cv.small;
    const Unit& to = down ? cv.small : cv.big;
    return {{"from", from.sym}, {"to", to.sym}, {"conv", c}, {"multiply", down}, {"out", r.pick(kOut)}};
  }

  std::string instruction(const json& p, Rng& r) const override {
    const Conv& cv = kConvs[p.at("conv").get<size_t>()];
    const bool down = p.at("multiply");
    const Unit& from = down ? cv.big : cv.small;
    const Unit& to = down ? cv.small : cv.big;
    const std::string out = p.at("out");
    const std::string fmt = out == "number" ? "Answer with the number only."
                            : out == "symbol" ? std::string("Answer like \"12 ") + to.sym + "\"."
                                              : std::string("Answer like \"12 ") + to.many + "\".";
    const std::string rel = std::string("1 ") + cv.big.one + " = " + std::to_string(cv.factor) + " " + cv.small.many;
    switch (r.below(3)) {
      case 0: return std::string("Convert the quantity from ") + from.many + " to " + to.many + " (" + rel + "). " + fmt;
      case 1: return std::string("Unit conversion, ") + from.sym + " -> " + to.sym + ". Use " + rel + ". " + fmt;
      default: return std::string("Each input asks for an amount of ") + from.many + " expressed in " + to.many + ". " + fmt + " (" + rel + ")";
    }
  }

  Sample sample(const json& p, Rng& r, const Words&) const override {
    const Conv& cv = kConvs[p.at("conv").get<size_t>()];
    const bool down = p.at("multiply");
    const Unit& from = down ? cv.big : cv.small;
    const Unit& to = down ? cv.small : cv.big;
    const int64_t small_side = r.chance(0.8) ? r.range(1, 99) : r.range(100, 999);
    const int64_t x = down ? small_side : small_side * cv.factor;
    const int64_t y = down ? small_side * cv.factor : small_side;
    Sample s;
    s.segs = render(r.pick(phrasings()), {{"x", std::to_string(x), true},
                                          {"fs", from.sym, true},
                                          {"fw", unit_word(from, x), true},
                                          {"ts", to.sym, true},
                                          {"tw", to.many, true}});
    if (r.chance(0.5)) capitalize_first(s.segs);
    const std::string out = p.at("out");
    s.output = std::to_string(y);
    if (out == "symbol") s.output += std::string(" ") + to.sym;
    if (out == "word") s.output += " " + unit_word(to, y);
    return s;
  }
};

}  // namespace

const Family& family_unit_convert() {
  static const UnitConvert f;
  return f;
}

}  // namespace paw::data
