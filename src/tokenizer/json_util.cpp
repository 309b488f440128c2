#include "tokenizer/json_util.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "paw/util/error.hpp"

namespace paw::tok {

namespace {
constexpr int kMaxJsonDepth = 64;
}

void check_json_depth(std::string_view text, const std::string& name) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (in_string) {
      if (ch == '\\') {
        ++i;  // skip the escaped character
      } else if (ch == '"') {
        in_string = false;
      }
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      if (++depth > kMaxJsonDepth) {
        throw Error("JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels", at_offset(name, i),
                    "not a tokenizer file");
      }
    } else if (ch == ']' || ch == '}') {
      --depth;
    }
  }
}

nlohmann::json parse_json(std::string_view text, const std::string& name) {
  check_json_depth(text, name);
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(std::string("invalid JSON: ") + e.what(), at_offset(name, e.byte > 0 ? e.byte - 1 : 0),
                "the file is truncated or not JSON");
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("invalid JSON: ") + e.what(), name, "the file is not valid JSON");
  }
}

std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(std::string("cannot open file: ") + std::strerror(errno), path, "check the path");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw Error("read error", path, "check the file");
  return std::move(ss).str();
}

}  // namespace paw::tok
