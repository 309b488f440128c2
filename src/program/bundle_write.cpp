// Writing bundles: deterministic .paw bytes, `paw pack`, `paw unpack`.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "paw/program/bundle.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/error.hpp"
#include "program/fs_util.hpp"
#include "program/text_checks.hpp"
#include "program/zip_io.hpp"

namespace paw {
namespace {

using namespace program_detail;

std::span<const uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Whether every entry directly inside `dir` is a regular file (what a bundle folder holds):
// the only kind of folder `unpack --force` will replace.
bool holds_only_files(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return false;
  bool ok = true;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    if (::lstat((dir + "/" + n).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      ok = false;
      break;
    }
  }
  ::closedir(d);
  return ok;
}

bool is_empty_dir(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::is_empty(dir, ec) && !ec;
}

}  // namespace

std::vector<uint8_t> pack_bundle_bytes(const Bundle& b) {
  std::set<std::string> names;
  for (const BundleMember& e : b.extras) {
    if (std::string prob = member_name_problem(e.name); !prob.empty() || is_required_member(e.name) ||
                                                         !names.insert(ascii_lower(e.name)).second)
      throw Error("cannot pack extra member: " + (prob.empty() ? std::string("duplicate name") : prob),
                  b.source + ": member '" + printable(e.name) + "'", "extras must be distinct plain file names");
  }
  std::vector<ZipEntryIn> entries = {
      {kMetaMember, as_bytes(b.meta_json), true},
      {kTemplateMember, as_bytes(b.prompt_template), true},
      // Stored: quantized weights barely compress, and a stored adapter can be read in place.
      {kAdapterMember, b.adapter, false},
  };
  std::vector<const BundleMember*> extras;
  for (const BundleMember& e : b.extras) extras.push_back(&e);
  std::sort(extras.begin(), extras.end(), [](auto* x, auto* y) { return x->name < y->name; });
  for (const BundleMember* e : extras) entries.push_back({e->name, e->bytes, true});
  return write_zip(entries, b.source);
}

std::string assign_program_id(Bundle& b) {
  if (b.meta.program_id) return *b.meta.program_id;
  std::string id = content_program_id(b);
  nlohmann::json j = b.meta.json;
  j["program_id"] = id;
  b.meta_json = j.dump(2, ' ', false, nlohmann::json::error_handler_t::strict) + "\n";
  b.meta = parse_program_meta(b.meta_json, b.source + ": member 'meta.json'");
  return id;
}

std::string meta_json_for_writing(const Bundle& b, const std::string& add_program_id) {
  const std::string where = b.source + ": member 'meta.json'";
  if (auto j = meta_for_writing(b.meta, add_program_id, where))
    return j->dump(2, ' ', false, nlohmann::json::error_handler_t::strict) + "\n";
  return b.meta_json;
}

std::string prepare_for_writing(Bundle& b, bool add_program_id) {
  const std::string id = b.id();   // taken before any repair: repairing never changes it
  std::string meta_json = meta_json_for_writing(b, add_program_id ? id : std::string());
  if (meta_json != b.meta_json) {
    b.meta = parse_program_meta(meta_json, b.source + ": member 'meta.json'");
    b.meta_json = std::move(meta_json);
  }
  return id;
}

void write_bundle(const Bundle& b, const std::string& out_path) {
  Bundle copy = b;
  validate_bundle(copy);
  prepare_for_writing(copy, false);
  atomic_write_file(out_path, std::span<const uint8_t>(pack_bundle_bytes(copy)));
}

std::string pack_directory(const std::string& dir, const std::string& out_path, const PackOptions& opts) {
  BundleReadOptions ro;
  ro.limits = opts.limits;
  ro.keep_extras = true;
  Bundle b = read_bundle(dir, ro);
  if (!opts.extra_files.empty()) {
    DirFd d(dir);
    for (const std::string& name : opts.extra_files) {
      const std::string where = dir + ": extra file '" + printable(name) + "'";
      if (std::string prob = file_name_problem(name); !prob.empty()) throw Error("cannot pack: " + prob, where, "give plain file names inside DIR");
      if (is_required_member(name)) throw Error("is a required member, packed anyway", where, "list only additional files");
      auto bytes = read_member_file(d, name, opts.limits.max_extra_bytes, where);
      if (!bytes) throw Error("no such file", where, "give files inside DIR");
      b.extras.push_back({name, std::move(*bytes)});
    }
  }
  validate_bundle(b, opts.limits);
  const std::string id = prepare_for_writing(b, opts.assign_program_id);
  atomic_write_file(out_path, std::span<const uint8_t>(pack_bundle_bytes(b)));
  return id;
}

Bundle unpack_bundle(const std::string& paw_path, const std::string& out_dir_in, const UnpackOptions& opts) {
  BundleReadOptions ro;
  ro.limits = opts.limits;
  ro.keep_extras = true;
  Bundle b = read_bundle(paw_path, ro);

  std::filesystem::path out = std::filesystem::path(out_dir_in).lexically_normal();
  if (out.has_filename() == false) out = out.parent_path();   // "dir/" -> "dir"
  const std::string out_dir = out.string();
  struct stat st;
  bool exists = ::lstat(out_dir.c_str(), &st) == 0;
  if (exists) {
    if (S_ISLNK(st.st_mode)) throw Error("output is a symbolic link", out_dir, "give a real folder path");
    if (!S_ISDIR(st.st_mode)) throw Error("output exists and is not a folder", out_dir, "choose another output path");
    if (!is_empty_dir(out_dir)) {
      if (!opts.force) throw Error("output folder is not empty", out_dir, "use --force to replace it, or choose another folder");
      if (!holds_only_files(out_dir))
        throw Error("output folder holds subfolders or links; refusing to replace it even with --force", out_dir,
                    "remove it yourself or choose another folder");
    }
  }
  std::string parent = out.has_parent_path() ? out.parent_path().string() : ".";
  std::filesystem::create_directories(parent);
  std::string prefix = ".";   // built step by step: GCC 12 warns falsely on "." + string
  prefix += out.filename().string();
  prefix += ".tmp-";
  std::string staged = make_temp_dir(parent, prefix);
  try {
    {
      DirFd d(staged);
      auto put = [&](const std::string& name, std::span<const uint8_t> bytes) {
        write_new_file(d, name, bytes, staged + "/" + name);
      };
      put(kMetaMember, as_bytes(b.meta_json));
      put(kTemplateMember, as_bytes(b.prompt_template));
      put(kAdapterMember, b.adapter);
      for (const BundleMember& e : b.extras) put(e.name, e.bytes);
    }
    ::chmod(staged.c_str(), 0755);   // mkdtemp makes 0700
    fsync_dir(staged);
    replace_dir(staged, out_dir);
    fsync_dir(parent);
  } catch (...) {
    remove_tree(staged);
    throw;
  }
  return b;
}

}  // namespace paw
