#include "program/text_checks.hpp"

#include <cstdint>
#include <cstdio>

#include "paw/program/bundle.hpp"

namespace paw::program_detail {

std::optional<size_t> first_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;   // continuation byte or 0xF8..0xFF as a lead byte
    }
    if (n - i < len) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Shortest form only; no UTF-16 surrogates; nothing above U+10FFFF.
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return i;
    i += len;
  }
  return std::nullopt;
}

std::string member_name_problem(std::string_view name) {
  if (name.empty()) return "empty member name";
  if (name.size() > 255) return "member name longer than 255 bytes";
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7F) return "member name contains a control character";
  if (first_invalid_utf8(name)) return "member name is not valid UTF-8";
  if (name.front() == '/') return "absolute path";
  if (name.find('\\') != std::string_view::npos) return "backslash in member name";
  if (name.size() >= 2 && name[1] == ':' &&
      ((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
    return "drive prefix in member name";
  // Component checks: '..' anywhere is path traversal; '.' and empty components are odd.
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    std::string_view comp = name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (comp == "..") return "'..' component (path traversal)";
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (name.back() == '/') return "directory entry";
  if (name == ".") return "'.' is not a file name";
  if (name.find('/') != std::string_view::npos) return "nested path (members must be at the top level)";
  return {};
}

std::string file_name_problem(std::string_view name) {
  std::string p = member_name_problem(name);
  if (!p.empty()) return p;
  if (name.front() == '.') return "file name starts with '.'";
  if (name.find(':') != std::string_view::npos) return "file name contains ':'";
  return {};
}

std::string ascii_lower(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

bool is_required_member(std::string_view name) {
  return name == kMetaMember || name == kTemplateMember || name == kAdapterMember;
}

std::string printable(std::string_view s, size_t max_len) {
  std::string out;
  bool valid = !first_invalid_utf8(s).has_value();
  for (size_t i = 0; i < s.size() && out.size() < max_len; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F || (!valid && c >= 0x80)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (out.size() >= max_len) out += "...";
  return out;
}

}  // namespace paw::program_detail
