// Deterministic ZIP writing with libzip into memory: fixed order, time, mode, compression.
#include <sys/stat.h>
#include <zip.h>

#include "paw/util/error.hpp"
#include "program/zip_io.hpp"

namespace paw::program_detail {
namespace {

constexpr zip_uint16_t kDosTime1980 = 0;        // 00:00:00
constexpr zip_uint16_t kDosDate1980 = (0 << 9) | (1 << 5) | 1;   // 1980-01-01 (years since 1980, month, day)

[[noreturn]] void fail(const std::string& what, const std::string& label) {
  throw Error("cannot write ZIP: " + what, label, "is the disk or memory full?");
}

}  // namespace

std::vector<uint8_t> write_zip(const std::vector<ZipEntryIn>& entries, const std::string& label) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* buf = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (!buf) fail(zip_error_strerror(&err), label);
  zip_t* za = zip_open_from_source(buf, ZIP_TRUNCATE, &err);
  if (!za) {
    std::string msg = zip_error_strerror(&err);
    zip_source_free(buf);
    zip_error_fini(&err);
    fail(msg, label);
  }
  zip_error_fini(&err);
  zip_source_keep(buf);   // survive zip_close so the written bytes can be read back
  auto abort_with = [&](const std::string& msg) {
    zip_discard(za);
    zip_source_free(buf);
    fail(msg, label);
  };
  for (const ZipEntryIn& e : entries) {
    zip_source_t* s = zip_source_buffer(za, e.bytes.data(), e.bytes.size(), 0);
    if (!s) abort_with(zip_strerror(za));
    zip_int64_t idx = zip_file_add(za, e.name.c_str(), s, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(s);
      abort_with(zip_strerror(za));
    }
    auto i = static_cast<zip_uint64_t>(idx);
    if (zip_set_file_compression(za, i, e.deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, e.deflate ? 9 : 0) != 0 ||
        zip_file_set_dostime(za, i, kDosTime1980, kDosDate1980, 0) != 0 ||
        zip_file_set_external_attributes(za, i, 0, ZIP_OPSYS_UNIX, static_cast<zip_uint32_t>(S_IFREG | 0644) << 16) != 0)
      abort_with(zip_strerror(za));
  }
  if (zip_close(za) != 0) abort_with(zip_strerror(za));

  std::vector<uint8_t> out;
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_source_stat(buf, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) || zip_source_open(buf) != 0) {
    zip_source_free(buf);
    fail("cannot read back the archive", label);
  }
  out.resize(st.size);
  uint64_t got = 0;
  while (got < st.size) {
    zip_int64_t n = zip_source_read(buf, out.data() + got, st.size - got);
    if (n <= 0) break;
    got += static_cast<uint64_t>(n);
  }
  zip_source_close(buf);
  zip_source_free(buf);
  if (got != st.size) fail("short read of the archive", label);
  return out;
}

}  // namespace paw::program_detail
