// Hardened ZIP reading with libzip: caps are checked on the declared sizes before anything
// is inflated and enforced again while inflating.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include "paw/util/checked_math.hpp"
#include "paw/util/error.hpp"
#include "paw/util/mapped_file.hpp"
#include "program/text_checks.hpp"
#include "program/zip_io.hpp"

namespace paw::program_detail {
namespace {

constexpr const char* kRebuildHint = "rebuild the bundle with `paw pack DIR -o X.paw`";

std::string member_where(const std::string& label, const std::string& name) {
  return label + ": member '" + printable(name) + "'";
}

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t rd32(const uint8_t* p) { return rd16(p) | (static_cast<uint32_t>(rd16(p + 2)) << 16); }
uint64_t rd64(const uint8_t* p) { return rd32(p) | (static_cast<uint64_t>(rd32(p + 4)) << 32); }

// Reads the entry count from the end-of-central-directory record (zip64 aware) so a
// directory with millions of entries is refused before libzip allocates for each of them.
// Every plausible record (its comment ends exactly at the end of the file) counts, and the
// largest count wins, so libzip cannot pick a bigger one than we checked.
uint64_t declared_entry_count(std::span<const uint8_t> z, const std::string& label) {
  if (z.size() < 22) throw Error("not a ZIP file (" + std::to_string(z.size()) + " bytes)", label, "a .paw is a ZIP archive");
  size_t lowest = z.size() >= 22 + 65535 ? z.size() - 22 - 65535 : 0;
  bool found = false;
  uint64_t most = 0;
  for (size_t pos = z.size() - 22 + 1; pos-- > lowest;) {
    const uint8_t* e = z.data() + pos;
    if (rd32(e) != 0x06054b50u || pos + 22 + rd16(e + 20) != z.size()) continue;
    found = true;
    uint64_t count = std::max<uint64_t>(rd16(e + 8), rd16(e + 10));
    if (count == 0xFFFF && pos >= 20) {
      const uint8_t* loc = e - 20;
      if (rd32(loc) == 0x07064b50u) {
        uint64_t off = rd64(loc + 8);
        if (off <= z.size() && z.size() - off >= 56 && rd32(z.data() + off) == 0x06064b50u)
          count = std::max(rd64(z.data() + off + 24), rd64(z.data() + off + 32));
      }
    }
    most = std::max(most, count);
  }
  if (!found) throw Error("not a ZIP file (no end-of-central-directory record)", label, "a .paw is a ZIP archive");
  return most;
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

std::string libzip_message(int code) {
  zip_error_t err;
  zip_error_init_with_code(&err, code);
  std::string s = zip_error_strerror(&err);
  zip_error_fini(&err);
  return s;
}

std::unique_ptr<zip_t, ZipCloser> open_zip(std::span<const uint8_t> bytes, int flags, zip_error_t* err) {
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, err);
  if (!src) return nullptr;
  zip_t* za = zip_open_from_source(src, flags, err);
  if (!za) {
    zip_source_free(src);
    return nullptr;
  }
  return std::unique_ptr<zip_t, ZipCloser>(za);
}

// Inflates one member into exactly `declared` bytes; one byte more is a refusal, fewer is a
// truncation. Nothing beyond the declared size (itself capped) is ever held.
std::vector<uint8_t> read_member(zip_t* za, zip_uint64_t index, uint64_t declared, const std::string& where) {
  std::unique_ptr<zip_file_t, ZipFileCloser> f(zip_fopen_index(za, index, 0));
  if (!f) throw Error(std::string("cannot open member: ") + zip_strerror(za), where, kRebuildHint);
  std::vector<uint8_t> out(declared);
  uint64_t got = 0;
  constexpr uint64_t kChunk = 1u << 20;
  while (got < declared) {
    zip_int64_t n = zip_fread(f.get(), out.data() + got, std::min(kChunk, declared - got));
    if (n < 0)
      throw Error(std::string("member data is corrupt: ") + zip_error_strerror(zip_file_get_error(f.get())), where,
                  kRebuildHint);
    if (n == 0)
      throw Error("member is shorter (" + std::to_string(got) + " bytes) than its declared size " + std::to_string(declared),
                  where, "the bundle is truncated or corrupt");
    got += static_cast<uint64_t>(n);
  }
  uint8_t probe;
  zip_int64_t extra = zip_fread(f.get(), &probe, 1);
  if (extra > 0)
    throw Error("member expands beyond its declared size of " + std::to_string(declared) + " bytes (zip bomb?)", where,
                "refusing to inflate it; " + std::string(kRebuildHint));
  if (extra < 0)
    throw Error(std::string("member data is corrupt: ") + zip_error_strerror(zip_file_get_error(f.get())), where,
                kRebuildHint);
  return out;
}

std::vector<BundleMember> read_members(std::span<const uint8_t> bytes, const std::string& label, const BundleLimits& limits,
                                       bool keep_extras) {
  if (bytes.size() > limits.max_file_bytes)
    throw Error("bundle is " + std::to_string(bytes.size()) + " bytes, more than the limit of " +
                    std::to_string(limits.max_file_bytes),
                label, "this is not a program bundle, or a limit needs raising");
  uint64_t declared_count = declared_entry_count(bytes, label);
  if (declared_count > limits.max_members)
    throw Error("bundle has " + std::to_string(declared_count) + " members, more than the limit of " +
                    std::to_string(limits.max_members),
                label, "a program bundle holds meta.json, prompt_template.txt, adapter.gguf and a few extras");

  zip_error_t err;
  zip_error_init(&err);
  auto za = open_zip(bytes, ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!za) {
    int code = zip_error_code_zip(&err);
    zip_error_fini(&err);
    if (code == ZIP_ER_EXISTS) {
      // libzip refuses duplicate names under ZIP_CHECKCONS; reopen leniently to name it.
      zip_error_t err2;
      zip_error_init(&err2);
      auto lenient = open_zip(bytes, ZIP_RDONLY, &err2);
      zip_error_fini(&err2);
      std::string dup = "?";
      if (lenient) {
        std::map<std::string, int> seen;
        for (zip_int64_t i = 0; i < zip_get_num_entries(lenient.get(), 0); ++i)
          if (const char* n = zip_get_name(lenient.get(), static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW))
            if (++seen[n] == 2) dup = n;
      }
      throw Error("duplicate member name", member_where(label, dup), "each member may appear once; " + std::string(kRebuildHint));
    }
    throw Error("not a readable ZIP archive: " + libzip_message(code), label,
                "a .paw is a ZIP archive; the file is corrupt or something else");
  }
  zip_int64_t n_entries = zip_get_num_entries(za.get(), 0);
  if (n_entries < 0 || static_cast<uint64_t>(n_entries) > limits.max_members)
    throw Error("bundle has " + std::to_string(n_entries) + " members, more than the limit of " +
                    std::to_string(limits.max_members),
                label, "a program bundle holds meta.json, prompt_template.txt, adapter.gguf and a few extras");

  struct Entry {
    zip_uint64_t index;
    std::string name;
    uint64_t size;
  };
  std::vector<Entry> entries;
  std::map<std::string, std::string> lower_names;   // lower-case -> first spelling
  uint64_t total = 0;
  for (zip_int64_t i = 0; i < n_entries; ++i) {
    auto idx = static_cast<zip_uint64_t>(i);
    const char* raw = zip_get_name(za.get(), idx, ZIP_FL_ENC_RAW);
    if (!raw) throw Error("member " + std::to_string(i) + " has no readable name", label, kRebuildHint);
    std::string name = raw;
    const std::string where = member_where(label, name);
    if (std::string prob = member_name_problem(name); !prob.empty())
      throw Error("unsafe member name: " + prob, where, "bundle members must be plain top-level file names");
    auto [it, inserted] = lower_names.emplace(ascii_lower(name), name);
    if (!inserted)
      throw Error(it->second == name ? "duplicate member name" : "member name differs from '" + printable(it->second) + "' only by case",
                  where, "each member may appear once; " + std::string(kRebuildHint));

    // Links, devices, directories: the unix mode in the external attributes says so.
    zip_uint8_t opsys = 0;
    zip_uint32_t attr = 0;
    if (zip_file_get_external_attributes(za.get(), idx, 0, &opsys, &attr) == 0 && opsys == ZIP_OPSYS_UNIX) {
      uint32_t mode = attr >> 16;
      uint32_t fmt = mode & S_IFMT;
      if (fmt == S_IFLNK) throw Error("member is a symbolic link", where, "bundles hold regular files only");
      if (fmt != 0 && fmt != S_IFREG)
        throw Error("member is not a regular file (unix mode " + std::to_string(mode) + ")", where,
                    "bundles hold regular files only");
    }
    if (attr & 0x10) throw Error("member is a directory (MS-DOS attribute)", where, "bundles hold regular files only");

    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za.get(), idx, ZIP_FL_UNCHANGED, &st) != 0)
      throw Error(std::string("cannot read member header: ") + zip_strerror(za.get()), where, kRebuildHint);
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
      throw Error("member is encrypted", where, "bundles are not encrypted; " + std::string(kRebuildHint));
    if ((st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
      throw Error("member uses compression method " + std::to_string(st.comp_method) + "; only store (0) and deflate (8) are read",
                  where, kRebuildHint);
    if (!(st.valid & ZIP_STAT_SIZE)) throw Error("member has no declared size", where, kRebuildHint);
    uint64_t cap = member_cap(name, limits);
    if (st.size > cap)
      throw Error("member declares " + std::to_string(st.size) + " bytes, more than the limit of " + std::to_string(cap),
                  where, "this is not a program bundle, or a limit needs raising");
    auto sum = checked_add(total, st.size);
    if (!sum || *sum > limits.max_total_bytes)
      throw Error("members expand to more than the limit of " + std::to_string(limits.max_total_bytes) + " bytes", where,
                  "this is not a program bundle, or a limit needs raising");
    total = *sum;
    entries.push_back({idx, std::move(name), st.size});
  }

  std::vector<BundleMember> out;
  for (const Entry& e : entries) {
    BundleMember m;
    m.name = e.name;
    if (is_required_member(e.name) || keep_extras) m.bytes = read_member(za.get(), e.index, e.size, member_where(label, e.name));
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

uint64_t member_cap(const std::string& name, const BundleLimits& limits) {
  if (name == kMetaMember) return limits.max_meta_bytes;
  if (name == kTemplateMember) return limits.max_template_bytes;
  if (name == kAdapterMember) return limits.max_adapter_bytes;
  return limits.max_extra_bytes;
}

std::vector<BundleMember> read_zip_members_file(const std::string& path, const BundleLimits& limits, bool keep_extras) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw Error(std::string("cannot open bundle: ") + std::strerror(errno), path, "check the path");
  if (!S_ISREG(st.st_mode)) throw Error("bundle is not a regular file", path, "give a .paw file or a bundle folder");
  if (static_cast<uint64_t>(st.st_size) > limits.max_file_bytes)
    throw Error("bundle is " + std::to_string(st.st_size) + " bytes, more than the limit of " +
                    std::to_string(limits.max_file_bytes),
                path, "this is not a program bundle, or a limit needs raising");
  if (st.st_size == 0) throw Error("bundle file is empty", path, "a .paw is a ZIP archive");
  MappedFile map = MappedFile::open(path);
  return read_members(map.bytes(), path, limits, keep_extras);
}

std::vector<BundleMember> read_zip_members_memory(std::span<const uint8_t> bytes, const std::string& label,
                                                  const BundleLimits& limits, bool keep_extras) {
  return read_members(bytes, label, limits, keep_extras);
}

}  // namespace paw::program_detail
