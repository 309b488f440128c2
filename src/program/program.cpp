// ProgramBundle: a validated bundle shaped for the runner.
#include "paw/program/program_bundle.hpp"

#include <sys/stat.h>

#include "paw/program/cache.hpp"
#include "paw/util/error.hpp"

namespace paw {

ProgramBundle ProgramBundle::from_bundle(Bundle b, const std::string& folder) {
  ProgramBundle p;
  p.id = b.id();
  p.source = b.source;
  size_t at = b.prompt_template.find(kInputPlaceholder);
  if (at == std::string::npos)   // validate_bundle guarantees it; a hand-made Bundle may not
    throw Error("template has no {INPUT_PLACEHOLDER}", b.source + ": member 'prompt_template.txt'",
                "validate the bundle first (read_bundle)");
  p.template_prefix = b.prompt_template.substr(0, at);
  p.template_suffix = b.prompt_template.substr(at + std::string_view(kInputPlaceholder).size());
  p.prompt_template = std::move(b.prompt_template);
  p.manifest = b.meta.effective_manifest();
  p.meta = std::move(b.meta);
  p.adapter_arch = std::move(b.adapter_arch);
  p.adapter_gguf = std::make_shared<const std::vector<uint8_t>>(std::move(b.adapter));
  if (!folder.empty()) p.adapter_path = folder + "/" + kAdapterMember;
  return p;
}

ProgramBundle open_program(const std::string& ref, ProgramCache& cache, const BundleLimits& limits) {
  struct stat st;
  if (::stat(ref.c_str(), &st) == 0) {
    BundleReadOptions ro;
    ro.limits = limits;
    Bundle b = read_bundle(ref, ro);
    return ProgramBundle::from_bundle(std::move(b), S_ISDIR(st.st_mode) ? ref : std::string());
  }
  const std::string id = cache.resolve_ref(ref);
  ProgramBundle p = ProgramBundle::from_bundle(cache.open(id, limits), cache.program_dir(id));
  p.cache_dir = cache.program_dir(id);
  return p;
}

}  // namespace paw
