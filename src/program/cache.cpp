// The program cache: atomic imports, listing with clean-up, removal, locked reads/writes.
#include "paw/program/cache.hpp"
#include "paw/program/slugs.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "paw/program/base_model.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/error.hpp"
#include "program/file_lock.hpp"
#include "program/fs_util.hpp"
#include "program/text_checks.hpp"

namespace paw {
namespace {

using namespace program_detail;
using Mode = FileLock::Mode;

const char* const kRequired[3] = {kMetaMember, kTemplateMember, kAdapterMember};

std::vector<std::string> dir_names(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

bool is_dir_nofollow(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// A program folder is usable only when all three required members are regular files.
bool is_complete(const std::string& dir) {
  if (!is_dir_nofollow(dir)) return false;
  for (const char* name : kRequired) {
    struct stat st;
    if (::lstat((dir + "/" + name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  }
  return true;
}

bool is_temp_name(const std::string& n) {
  return n.rfind(".tmp-", 0) == 0 || n.rfind(".rm-", 0) == 0 || n.find(".old-") != std::string::npos;
}

std::span<const uint8_t> as_bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

bool same_bytes(const std::optional<std::vector<uint8_t>>& a, std::span<const uint8_t> b) {
  return a && a->size() == b.size() && std::equal(a->begin(), a->end(), b.begin());
}

}  // namespace

ProgramCache::ProgramCache(std::string root) : root_(root.empty() ? default_cache_dir() : std::move(root)) {}

std::string ProgramCache::programs_dir() const { return root_ + "/programs"; }
std::string ProgramCache::base_models_dir() const { return root_ + "/base_models"; }

std::string ProgramCache::program_dir(const std::string& id) const {
  if (!is_valid_program_id(id))
    throw Error("'" + printable(id) + "' is not a program id (16-64 lowercase hex digits)", root_, "see `paw ls`");
  return programs_dir() + "/" + id;
}

namespace {

struct Paths {
  std::string programs, locks;
  std::string cache_lock() const { return locks + "/cache.lock"; }
  std::string program_lock(const std::string& id) const { return locks + "/" + id + ".lock"; }
};

Paths ensure_dirs(const std::string& root) {
  Paths p{root + "/programs", root + "/locks"};
  std::error_code ec;
  std::filesystem::create_directories(p.programs, ec);
  if (!ec) std::filesystem::create_directories(p.locks, ec);
  if (!ec) std::filesystem::create_directories(root + "/base_models", ec);
  if (ec) throw Error("cannot create cache folders: " + ec.message(), root, "set PAW_CACHE_DIR to a writable folder");
  return p;
}

// Under the exclusive cache lock nobody else is working in the cache (every other user
// holds it shared), so every temporary is garbage and every incomplete folder is stale.
size_t clean_locked(const Paths& p) {
  size_t removed = 0;
  for (const std::string& n : dir_names(p.programs)) {
    const std::string path = p.programs + "/" + n;
    if (is_temp_name(n)) {
      remove_tree(path);
      ++removed;
      continue;
    }
    if (!is_valid_program_id(n) || !is_dir_nofollow(path)) continue;
    if (!is_complete(path)) {
      remove_tree(path);
      ++removed;
      continue;
    }
    // Leftovers of an interrupted atomic file write inside a program: ".<name>.tmp-XXXX".
    for (const std::string& f : dir_names(path))
      if (f.size() > 1 && f[0] == '.' && f.find(".tmp-") != std::string::npos) {
        remove_tree(path + "/" + f);
        ++removed;
      }
  }
  if (removed) fsync_dir(p.programs);
  return removed;
}

// The cache lock every worker holds shared; when nobody else is in the cache, clean first.
FileLock enter_cache(const Paths& p) {
  if (auto ex = FileLock::try_acquire(p.cache_lock(), Mode::Exclusive)) {
    clean_locked(p);
    ex->downgrade();
    return std::move(*ex);
  }
  return FileLock::acquire(p.cache_lock(), Mode::Shared);
}

}  // namespace

size_t ProgramCache::clean() {
  if (!is_dir_nofollow(programs_dir())) return 0;
  Paths p = ensure_dirs(root_);
  auto ex = FileLock::try_acquire(p.cache_lock(), Mode::Exclusive);
  return ex ? clean_locked(p) : 0;
}

ImportResult ProgramCache::import(const std::string& bundle_path, const ImportOptions& opts) {
  BundleReadOptions ro;
  ro.limits = opts.limits;
  return import(read_bundle(bundle_path, ro), opts);
}

ImportResult ProgramCache::import(const Bundle& b, const ImportOptions& opts) {
  const std::string id = b.id();
  // The reference SDK shares this cache: meta.json carries the id the program is filed under
  // and a runtime manifest in the reference's shape (docs/FORMATS.md "Runtime manifest").
  const std::string meta_json = meta_json_for_writing(b, id);
  Paths p = ensure_dirs(root_);
  FileLock cache_lock = enter_cache(p);
  FileLock lock = FileLock::acquire(p.program_lock(id), Mode::Exclusive);
  const std::string dest = program_dir(id);

  ImportResult r;
  r.id = id;
  r.dir = dest;
  struct stat st;
  bool exists = ::lstat(dest.c_str(), &st) == 0;
  if (exists && is_complete(dest)) {
    DirFd d(dest);
    const std::string where = dest;
    bool same = same_bytes(read_member_file(d, kMetaMember, opts.limits.max_meta_bytes, where), as_bytes(meta_json)) &&
                same_bytes(read_member_file(d, kTemplateMember, opts.limits.max_template_bytes, where),
                           as_bytes(b.prompt_template)) &&
                same_bytes(read_member_file(d, kAdapterMember, opts.limits.max_adapter_bytes, where), b.adapter);
    if (same) {
      r.already_present = true;
      return r;
    }
    if (!opts.force)
      throw Error("a different program with id " + id + " is already in the cache", dest,
                  "`paw rm " + id + "` first, or import with --force to replace it");
    r.replaced = true;
  }

  std::string staged = make_temp_dir(p.programs, ".tmp-" + id + "-");
  try {
    {
      DirFd d(staged);
      write_new_file(d, kMetaMember, as_bytes(meta_json), staged + "/" + kMetaMember);
      write_new_file(d, kTemplateMember, as_bytes(b.prompt_template), staged + "/" + kTemplateMember);
      write_new_file(d, kAdapterMember, b.adapter, staged + "/" + kAdapterMember);
    }
    ::chmod(staged.c_str(), 0755);
    fsync_dir(staged);
    replace_dir(staged, dest);   // also replaces a stale, incomplete folder
    fsync_dir(p.programs);
  } catch (...) {
    remove_tree(staged);
    throw;
  }
  return r;
}

std::vector<CacheEntry> ProgramCache::list() {
  std::vector<CacheEntry> out;
  if (!is_dir_nofollow(programs_dir())) return out;
  Paths p = ensure_dirs(root_);
  FileLock cache_lock = enter_cache(p);
  for (const std::string& n : dir_names(p.programs)) {
    const std::string dir = p.programs + "/" + n;
    if (!is_valid_program_id(n) || !is_complete(dir)) continue;
    CacheEntry e;
    e.id = n;
    e.dir = dir;
    for (const char* m : kRequired) {
      struct stat st;
      if (::lstat((dir + "/" + m).c_str(), &st) == 0) e.size_bytes += static_cast<uint64_t>(st.st_size);
    }
    try {
      DirFd d(dir);
      auto bytes = read_member_file(d, kMetaMember, 1u << 20, dir + "/" + kMetaMember);
      if (!bytes) throw Error("meta.json vanished", dir);
      ProgramMeta meta = parse_program_meta(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()),
                                            dir + "/" + kMetaMember);
      e.interpreter = meta.interpreter;
      e.spec = meta.spec().value_or("");
      e.created_at = meta.created_at().value_or("");
      if (auto it = meta.json.find("compiler_snapshot"); it != meta.json.end() && it->is_string()) e.compiler = it->get<std::string>();
    } catch (const Error& err) {
      e.problem = err.what();
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string ProgramCache::resolve_id(const std::string& ref) {
  if (is_valid_program_id(ref) && is_complete(programs_dir() + "/" + ref)) return ref;
  if (ref.size() < 4)
    throw Error("program id prefix '" + printable(ref) + "' is too short", root_, "give at least 4 characters of the id");
  std::vector<std::string> matches;
  for (const std::string& n : dir_names(programs_dir()))
    if (n.rfind(ref, 0) == 0 && is_valid_program_id(n) && is_complete(programs_dir() + "/" + n)) matches.push_back(n);
  if (matches.empty())
    throw Error("no program '" + printable(ref) + "' in the cache", programs_dir(),
                "`paw ls` lists cached programs and their slugs; `paw import X.paw` adds one");
  if (matches.size() > 1) {
    std::string list;
    for (size_t i = 0; i < matches.size() && i < 5; ++i) list += (i ? ", " : "") + matches[i];
    if (matches.size() > 5) list += ", ...";
    throw Error("id prefix '" + ref + "' matches " + std::to_string(matches.size()) + " programs: " + list, programs_dir(),
                "give more characters of the id");
  }
  return matches[0];
}

std::string ProgramCache::resolve_ref(const std::string& ref) {
  if (!is_valid_program_id(ref))
    if (std::optional<std::string> id = SlugRegistry(root_).resolve(ref)) return resolve_id(*id);
  return resolve_id(ref);
}

std::string ProgramCache::remove(const std::string& ref) {
  const std::string id = resolve_id(ref);
  Paths p = ensure_dirs(root_);
  FileLock cache_lock = FileLock::acquire(p.cache_lock(), Mode::Shared);
  FileLock lock = FileLock::acquire(p.program_lock(id), Mode::Exclusive);
  const std::string dir = program_dir(id);
  if (!is_dir_nofollow(dir)) throw Error("program " + id + " is no longer in the cache", dir, "`paw ls` lists cached programs");
  // Rename first so the program disappears at once; the tree is deleted afterwards.
  const std::string trash = p.programs + "/.rm-" + id + "-" + random_hex(8);
  if (::rename(dir.c_str(), trash.c_str()) != 0)
    throw Error(std::string("cannot remove program: ") + std::strerror(errno), dir, "check permissions");
  fsync_dir(p.programs);
  remove_tree(trash);
  return id;
}

Bundle ProgramCache::open(const std::string& ref, const BundleLimits& limits) {
  const std::string id = resolve_ref(ref);
  Paths p = ensure_dirs(root_);
  FileLock cache_lock = FileLock::acquire(p.cache_lock(), Mode::Shared);
  FileLock lock = FileLock::acquire(p.program_lock(id), Mode::Shared);
  const std::string dir = program_dir(id);
  if (!is_complete(dir))
    throw Error("cached program " + id + " is incomplete", dir, "`paw rm " + id + "` and import it again");
  BundleReadOptions ro;
  ro.limits = limits;
  Bundle b = read_bundle(dir, ro);
  if (std::string actual = b.id(); actual != id)
    throw Error("cached program folder " + id + " holds program " + actual, dir,
                "the cache was modified by hand; `paw rm " + id + "` and import it again");
  return b;
}

void ProgramCache::write_program_file(const std::string& id, const std::string& name, std::span<const uint8_t> bytes) {
  const std::string dir = program_dir(id);
  if (std::string prob = file_name_problem(name); !prob.empty())
    throw Error("cannot write '" + printable(name) + "': " + prob, dir, "use a plain file name");
  if (is_required_member(name))
    throw Error("refusing to overwrite required member '" + name + "'", dir, "import the program again to change it");
  Paths p = ensure_dirs(root_);
  FileLock cache_lock = FileLock::acquire(p.cache_lock(), Mode::Shared);
  FileLock lock = FileLock::acquire(p.program_lock(id), Mode::Exclusive);
  if (!is_complete(dir)) throw Error("program " + id + " is not in the cache", dir, "import it first");
  atomic_write_file(dir + "/" + name, bytes);
}

}  // namespace paw
