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
  // validate_bundle guarantees the placeholder; a hand-made Bundle may lack it (the error names it).
  TemplateParts parts = split_template(b.prompt_template, b.source + ": member 'prompt_template.txt'");
  p.template_prefix = std::move(parts.prefix);
  p.template_suffix = std::move(parts.suffix);
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
