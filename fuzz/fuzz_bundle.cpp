// libFuzzer target for program bundles: any byte string read as a .paw (and as meta.json)
// must either be accepted or refused with paw::Error — no crash, no sanitizer report, no
// allocation past the (small) caps below. An accepted bundle must survive a round trip:
// packed again it reads back with the same id and bytes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "paw/program/bundle.hpp"
#include "paw/program/program_bundle.hpp"
#include "paw/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  paw::BundleReadOptions ro;
  ro.keep_extras = true;
  ro.limits.max_file_bytes = 1u << 20;
  ro.limits.max_members = 16;
  ro.limits.max_meta_bytes = 64u << 10;
  ro.limits.max_template_bytes = 256u << 10;
  ro.limits.max_adapter_bytes = 1u << 20;
  ro.limits.max_extra_bytes = 64u << 10;
  ro.limits.max_total_bytes = 2u << 20;
  try {
    paw::Bundle b = paw::read_bundle_zip(std::span<const uint8_t>(data, size), "fuzz.paw", ro);
    const std::string id = b.id();
    std::vector<uint8_t> again = paw::pack_bundle_bytes(b);
    paw::Bundle b2 = paw::read_bundle_zip(again, "fuzz-repacked.paw", ro);
    if (b2.id() != id || b2.adapter != b.adapter || b2.prompt_template != b.prompt_template ||
        b2.meta_json != b.meta_json || b2.extras.size() != b.extras.size())
      __builtin_trap();
    paw::ProgramBundle p = paw::ProgramBundle::from_bundle(std::move(b2));
    if (p.template_prefix.size() + p.template_suffix.size() + 19 != p.prompt_template.size()) __builtin_trap();
    (void)p.meta.effective_manifest();
  } catch (const paw::Error&) {
    // Refusing bad input with a paw::Error is the expected outcome.
  }
  try {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    paw::ProgramMeta m = paw::parse_program_meta(text, "fuzz meta.json");
    (void)paw::canonical_meta_json(m.json);
    (void)m.effective_manifest();
  } catch (const paw::Error&) {
  }
  return 0;
}
