// Fuzz target: tokenizer.json parsing and, when the bytes load, encode/decode.
// Input layout: <tokenizer.json bytes> [NUL <text to encode>]. Without a NUL, the first 256
// bytes of the input are also encoded as text. Invalid files must end in paw::Error; any other
// exception, crash or sanitizer report is a bug. decode() must always return valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"
#include "tokenizer/unicode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  const std::string_view json = in.substr(0, nul);
  const std::string_view text = nul == std::string_view::npos ? in.substr(0, 256) : in.substr(nul + 1);
  try {
    const paw::Tokenizer t = paw::Tokenizer::from_hf_json_text(json, {}, "fuzz.json");
    for (bool parse_special : {true, false}) {
      paw::EncodeOptions opt;
      opt.parse_special = parse_special;
      opt.add_bos = true;
      const std::vector<int32_t> ids = t.encode(text, opt);
      for (int32_t id : ids) {
        if (id < 0 || id >= t.n_vocab()) std::abort();  // encode must only emit vocabulary ids
        (void)t.token_bytes(id);
        (void)t.token_type(id);
      }
      for (bool skip : {false, true}) {
        const std::string out = t.decode(ids, {.skip_special = skip});
        if (!paw::tok::is_valid_utf8(out)) std::abort();
      }
    }
    (void)t.token_id(text);
  } catch (const paw::Error&) {
    // Rejected input: expected.
  }
  return 0;
}
