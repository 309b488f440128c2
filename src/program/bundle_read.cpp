// Reading bundles (ZIP or folder), validating members, content ids.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "paw/program/bundle.hpp"
#include "paw/util/error.hpp"
#include "paw/util/sha256.hpp"
#include "program/adapter_check.hpp"
#include "program/fs_util.hpp"
#include "program/text_checks.hpp"
#include "program/zip_io.hpp"

namespace paw {
namespace {

using namespace program_detail;

const char* const kRequired[3] = {kMetaMember, kTemplateMember, kAdapterMember};

std::string member_where(const std::string& source, const char* name) { return source + ": member '" + name + "'"; }

[[noreturn]] void missing(const std::string& source, const char* name, const std::string& case_variant) {
  std::string hint = case_variant.empty()
                         ? "a bundle holds meta.json, prompt_template.txt and adapter.gguf"
                         : "found '" + printable(case_variant) + "': member names are case-sensitive";
  throw Error(std::string("missing required member '") + name + "'", source, hint);
}

// Zip members -> Bundle (required members must be present; extras kept when asked).
Bundle from_members(std::vector<BundleMember> members, const std::string& source, bool keep_extras) {
  Bundle b;
  b.source = source;
  bool have[3] = {false, false, false};
  for (BundleMember& m : members) {
    if (m.name == kMetaMember) {
      b.meta_json.assign(m.bytes.begin(), m.bytes.end());
      have[0] = true;
    } else if (m.name == kTemplateMember) {
      b.prompt_template.assign(m.bytes.begin(), m.bytes.end());
      have[1] = true;
    } else if (m.name == kAdapterMember) {
      b.adapter = std::move(m.bytes);
      have[2] = true;
    } else if (keep_extras) {
      b.extras.push_back(std::move(m));
    }
  }
  for (int i = 0; i < 3; ++i) {
    if (have[i]) continue;
    std::string variant;
    for (const BundleMember& m : members)
      if (ascii_lower(m.name) == kRequired[i]) variant = m.name;
    missing(source, kRequired[i], variant);
  }
  std::sort(b.extras.begin(), b.extras.end(), [](const BundleMember& x, const BundleMember& y) { return x.name < y.name; });
  return b;
}

Bundle read_folder(const std::string& dir, const BundleLimits& limits) {
  DirFd d(dir);
  Bundle b;
  b.source = dir;
  for (const char* name : kRequired) {
    auto bytes = read_member_file(d, name, member_cap(name, limits), member_where(dir, name));
    if (!bytes) {
      std::string variant;
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (ascii_lower(e.path().filename().string()) == name) variant = e.path().filename().string();
      missing(dir, name, variant);
    }
    if (std::string_view(name) == kMetaMember) b.meta_json.assign(bytes->begin(), bytes->end());
    else if (std::string_view(name) == kTemplateMember) b.prompt_template.assign(bytes->begin(), bytes->end());
    else b.adapter = std::move(*bytes);
  }
  return b;
}

size_t count_occurrences(std::string_view hay, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = hay.find(needle); pos != std::string_view::npos; pos = hay.find(needle, pos + needle.size())) ++n;
  return n;
}

}  // namespace

void validate_bundle(Bundle& b, const BundleLimits& limits) {
  MetaLimits ml;
  ml.max_bytes = limits.max_meta_bytes;
  b.meta = parse_program_meta(b.meta_json, member_where(b.source, kMetaMember), ml);

  const std::string tw = member_where(b.source, kTemplateMember);
  if (b.prompt_template.size() > limits.max_template_bytes)
    throw Error("template is " + std::to_string(b.prompt_template.size()) + " bytes, more than the limit of " +
                    std::to_string(limits.max_template_bytes),
                tw, "this is not a program bundle, or a limit needs raising");
  if (auto bad = first_invalid_utf8(b.prompt_template))
    throw Error("template is not valid UTF-8 (byte offset " + std::to_string(*bad) + ")", tw,
                "save prompt_template.txt as UTF-8");
  size_t n = count_occurrences(b.prompt_template, kInputPlaceholder);
  if (n != 1)
    throw Error("template contains {INPUT_PLACEHOLDER} " + std::to_string(n) + " times; it must appear exactly once", tw,
                "the placeholder marks where each input goes");

  const std::string aw = member_where(b.source, kAdapterMember);
  if (b.adapter.size() > limits.max_adapter_bytes)
    throw Error("adapter is " + std::to_string(b.adapter.size()) + " bytes, more than the limit of " +
                    std::to_string(limits.max_adapter_bytes),
                aw, "this is not a program bundle, or a limit needs raising");
  b.adapter_arch = check_adapter_gguf(b.adapter, aw);
  // The adapter must fit the base model the program names.
  if (auto m = b.meta.effective_manifest(); m && !m->arch.empty() && m->arch != b.adapter_arch)
    throw Error("adapter architecture '" + printable(b.adapter_arch) + "' does not match interpreter '" +
                    printable(b.meta.interpreter) + "' (" + m->arch + ")",
                aw, "the adapter was made for another base model");

  for (const BundleMember& e : b.extras) {
    if (std::string prob = member_name_problem(e.name); !prob.empty() || is_required_member(e.name))
      throw Error("bad extra member name: " + (prob.empty() ? std::string("duplicates a required member") : prob),
                  b.source + ": member '" + printable(e.name) + "'", "extras must be plain top-level file names");
    if (e.bytes.size() > limits.max_extra_bytes)
      throw Error("extra member is larger than the limit of " + std::to_string(limits.max_extra_bytes) + " bytes",
                  b.source + ": member '" + printable(e.name) + "'", "keep extras (README, notes) small");
  }
}

Bundle read_bundle(const std::string& path, const BundleReadOptions& opts) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw Error(std::string("cannot open bundle: ") + std::strerror(errno), path, "give a .paw file or a bundle folder");
  Bundle b = S_ISDIR(st.st_mode)
                 ? read_folder(path, opts.limits)
                 : from_members(read_zip_members_file(path, opts.limits, opts.keep_extras), path, opts.keep_extras);
  validate_bundle(b, opts.limits);
  return b;
}

Bundle read_bundle_zip(std::span<const uint8_t> bytes, const std::string& name, const BundleReadOptions& opts) {
  Bundle b = from_members(read_zip_members_memory(bytes, name, opts.limits, opts.keep_extras), name, opts.keep_extras);
  validate_bundle(b, opts.limits);
  return b;
}

std::string content_program_id(const Bundle& b) {
  Sha256 h;
  h.update(std::string_view("paw-program-v1\0", 15));
  auto member = [&](std::string_view name, const void* data, uint64_t len) {
    h.update(name);
    h.update(std::string_view("\0", 1));
    uint8_t le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(len >> (8 * i));
    h.update(le, 8);
    h.update(data, len);
  };
  std::string meta = canonical_meta_json(b.meta.json);
  member(kMetaMember, meta.data(), meta.size());
  member(kTemplateMember, b.prompt_template.data(), b.prompt_template.size());
  member(kAdapterMember, b.adapter.data(), b.adapter.size());
  return h.hex_digest().substr(0, 32);
}

std::string Bundle::id() const { return meta.program_id ? *meta.program_id : content_program_id(*this); }

}  // namespace paw
