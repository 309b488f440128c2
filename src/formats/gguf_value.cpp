// GGUFValue: one metadata value (scalar, string or possibly nested array) with typed
// accessors and a short display form for `paw info`.
#include <charconv>
#include <cstdio>
#include <limits>

#include "paw/formats/gguf.hpp"
#include "paw/util/error.hpp"

namespace paw {

std::string_view gguf_type_name(GGUFType t) {
  switch (t) {
    case GGUFType::UINT8: return "u8";
    case GGUFType::INT8: return "i8";
    case GGUFType::UINT16: return "u16";
    case GGUFType::INT16: return "i16";
    case GGUFType::UINT32: return "u32";
    case GGUFType::INT32: return "i32";
    case GGUFType::FLOAT32: return "f32";
    case GGUFType::BOOL: return "bool";
    case GGUFType::STRING: return "string";
    case GGUFType::ARRAY: return "array";
    case GGUFType::UINT64: return "u64";
    case GGUFType::INT64: return "i64";
    case GGUFType::FLOAT64: return "f64";
  }
  return "unknown";
}

namespace {

bool is_unsigned_type(GGUFType t) {
  return t == GGUFType::UINT8 || t == GGUFType::UINT16 || t == GGUFType::UINT32 || t == GGUFType::UINT64;
}
bool is_signed_type(GGUFType t) {
  return t == GGUFType::INT8 || t == GGUFType::INT16 || t == GGUFType::INT32 || t == GGUFType::INT64;
}

// "array of u32" / "string": the full type for error messages.
std::string describe(GGUFType type, GGUFType elem) {
  if (type == GGUFType::ARRAY) return "array of " + std::string(gguf_type_name(elem));
  return std::string(gguf_type_name(type));
}

[[noreturn]] void wrong_type(GGUFType type, GGUFType elem, const char* wanted) {
  throw Error("metadata value is " + describe(type, elem) + ", not " + wanted, "",
              "the file does not follow the expected metadata schema for this key");
}

// Shortest text that reads back to the same float / double.
template <class F>
std::string float_text(F v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// Quoted string with control characters escaped; very long strings (chat templates) are cut
// at a UTF-8 boundary so one key cannot flood the terminal.
std::string quote(const std::string& s) {
  constexpr size_t kMaxShown = 200;
  size_t shown = s.size();
  if (shown > kMaxShown) {
    shown = kMaxShown;
    while (shown > 0 && (static_cast<unsigned char>(s[shown]) & 0xC0) == 0x80) --shown;
  }
  std::string out = "\"";
  for (size_t i = 0; i < shown; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  if (shown < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace

GGUFValue GGUFValue::u8(uint8_t v) { GGUFValue r; r.type_ = GGUFType::UINT8; r.v_ = uint64_t{v}; return r; }
GGUFValue GGUFValue::u16(uint16_t v) { GGUFValue r; r.type_ = GGUFType::UINT16; r.v_ = uint64_t{v}; return r; }
GGUFValue GGUFValue::u32(uint32_t v) { GGUFValue r; r.type_ = GGUFType::UINT32; r.v_ = uint64_t{v}; return r; }
GGUFValue GGUFValue::u64(uint64_t v) { GGUFValue r; r.type_ = GGUFType::UINT64; r.v_ = v; return r; }
GGUFValue GGUFValue::i8(int8_t v) { GGUFValue r; r.type_ = GGUFType::INT8; r.v_ = int64_t{v}; return r; }
GGUFValue GGUFValue::i16(int16_t v) { GGUFValue r; r.type_ = GGUFType::INT16; r.v_ = int64_t{v}; return r; }
GGUFValue GGUFValue::i32(int32_t v) { GGUFValue r; r.type_ = GGUFType::INT32; r.v_ = int64_t{v}; return r; }
GGUFValue GGUFValue::i64(int64_t v) { GGUFValue r; r.type_ = GGUFType::INT64; r.v_ = v; return r; }
// f32 is held as the double of the float, so it converts back to the exact same float.
GGUFValue GGUFValue::f32(float v) { GGUFValue r; r.type_ = GGUFType::FLOAT32; r.v_ = static_cast<double>(v); return r; }
GGUFValue GGUFValue::f64(double v) { GGUFValue r; r.type_ = GGUFType::FLOAT64; r.v_ = v; return r; }
GGUFValue GGUFValue::boolean(bool v) { GGUFValue r; r.type_ = GGUFType::BOOL; r.v_ = v; return r; }
GGUFValue GGUFValue::string(std::string v) { GGUFValue r; r.type_ = GGUFType::STRING; r.v_ = std::move(v); return r; }

GGUFValue GGUFValue::array(GGUFType elem_type, Array elems) {
  for (size_t i = 0; i < elems.size(); ++i) {
    if (elems[i].type() != elem_type)
      throw Error("array element " + std::to_string(i) + " is " + std::string(gguf_type_name(elems[i].type())) +
                      ", but the array's element type is " + std::string(gguf_type_name(elem_type)),
                  "", "all elements of a GGUF array share one type");
  }
  GGUFValue r;
  r.type_ = GGUFType::ARRAY;
  r.elem_type_ = elem_type;
  r.v_ = std::make_shared<Array>(std::move(elems));
  return r;
}

GGUFValue GGUFValue::string_array(const std::vector<std::string>& v) {
  Array a;
  a.reserve(v.size());
  for (const auto& s : v) a.push_back(string(s));
  return array(GGUFType::STRING, std::move(a));
}

GGUFValue GGUFValue::i32_array(const std::vector<int32_t>& v) {
  Array a;
  a.reserve(v.size());
  for (int32_t x : v) a.push_back(i32(x));
  return array(GGUFType::INT32, std::move(a));
}

GGUFValue GGUFValue::f32_array(const std::vector<float>& v) {
  Array a;
  a.reserve(v.size());
  for (float x : v) a.push_back(f32(x));
  return array(GGUFType::FLOAT32, std::move(a));
}

bool GGUFValue::is_integer() const noexcept { return is_unsigned_type(type_) || is_signed_type(type_); }
bool GGUFValue::is_float() const noexcept { return type_ == GGUFType::FLOAT32 || type_ == GGUFType::FLOAT64; }

uint64_t GGUFValue::as_u64() const {
  if (is_unsigned_type(type_)) return std::get<uint64_t>(v_);
  if (type_ == GGUFType::BOOL) return std::get<bool>(v_) ? 1 : 0;
  if (is_signed_type(type_)) {
    int64_t v = std::get<int64_t>(v_);
    if (v < 0)
      throw Error("metadata value " + std::to_string(v) + " is negative where a non-negative integer is needed", "",
                  "the value is out of range for this key");
    return static_cast<uint64_t>(v);
  }
  wrong_type(type_, elem_type_, "an integer");
}

int64_t GGUFValue::as_i64() const {
  if (is_signed_type(type_)) return std::get<int64_t>(v_);
  if (is_unsigned_type(type_)) {
    uint64_t v = std::get<uint64_t>(v_);
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw Error("metadata value " + std::to_string(v) + " does not fit in a signed 64-bit integer", "",
                  "the value is out of range for this key");
    return static_cast<int64_t>(v);
  }
  wrong_type(type_, elem_type_, "an integer");
}

double GGUFValue::as_f64() const {
  if (is_float()) return std::get<double>(v_);
  if (is_unsigned_type(type_)) return static_cast<double>(std::get<uint64_t>(v_));
  if (is_signed_type(type_)) return static_cast<double>(std::get<int64_t>(v_));
  wrong_type(type_, elem_type_, "a number");
}

bool GGUFValue::as_bool() const {
  if (type_ == GGUFType::BOOL) return std::get<bool>(v_);
  wrong_type(type_, elem_type_, "bool");
}

const std::string& GGUFValue::as_string() const {
  if (type_ == GGUFType::STRING) return std::get<std::string>(v_);
  wrong_type(type_, elem_type_, "string");
}

const GGUFValue::Array& GGUFValue::as_array() const {
  if (type_ == GGUFType::ARRAY) return *std::get<std::shared_ptr<Array>>(v_);
  wrong_type(type_, elem_type_, "array");
}

std::vector<std::string> GGUFValue::as_string_array() const {
  if (type_ != GGUFType::ARRAY || elem_type_ != GGUFType::STRING) wrong_type(type_, elem_type_, "array of string");
  std::vector<std::string> out;
  const Array& a = as_array();
  out.reserve(a.size());
  for (const auto& e : a) out.push_back(e.as_string());
  return out;
}

std::vector<int64_t> GGUFValue::as_int_array() const {
  if (type_ != GGUFType::ARRAY || !(is_unsigned_type(elem_type_) || is_signed_type(elem_type_)))
    wrong_type(type_, elem_type_, "array of integers");
  std::vector<int64_t> out;
  const Array& a = as_array();
  out.reserve(a.size());
  for (const auto& e : a) out.push_back(e.as_i64());
  return out;
}

std::vector<float> GGUFValue::as_float_array() const {
  if (type_ != GGUFType::ARRAY || !(is_unsigned_type(elem_type_) || is_signed_type(elem_type_) ||
                                    elem_type_ == GGUFType::FLOAT32 || elem_type_ == GGUFType::FLOAT64))
    wrong_type(type_, elem_type_, "array of numbers");
  std::vector<float> out;
  const Array& a = as_array();
  out.reserve(a.size());
  for (const auto& e : a) out.push_back(static_cast<float>(e.as_f64()));
  return out;
}

std::string GGUFValue::to_display(size_t max_elems) const {
  switch (type_) {
    case GGUFType::UINT8:
    case GGUFType::UINT16:
    case GGUFType::UINT32:
    case GGUFType::UINT64: return std::to_string(std::get<uint64_t>(v_));
    case GGUFType::INT8:
    case GGUFType::INT16:
    case GGUFType::INT32:
    case GGUFType::INT64: return std::to_string(std::get<int64_t>(v_));
    case GGUFType::FLOAT32: return float_text(static_cast<float>(std::get<double>(v_)));
    case GGUFType::FLOAT64: return float_text(std::get<double>(v_));
    case GGUFType::BOOL: return std::get<bool>(v_) ? "true" : "false";
    case GGUFType::STRING: return quote(std::get<std::string>(v_));
    case GGUFType::ARRAY: {
      const Array& a = *std::get<std::shared_ptr<Array>>(v_);
      std::string out = "[";
      size_t shown = a.size() > max_elems ? max_elems : a.size();
      for (size_t i = 0; i < shown; ++i) {
        if (i) out += ", ";
        out += a[i].to_display(max_elems);
      }
      if (shown < a.size()) out += std::string(shown ? ", " : "") + "... (" + std::to_string(a.size()) + " total)";
      out += "]";
      return out;
    }
  }
  return "?";
}

}  // namespace paw
