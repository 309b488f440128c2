#pragma once
// ZIP reading (hardened) and deterministic ZIP writing, on top of libzip.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "paw/program/bundle.hpp"

namespace paw::program_detail {

// Per-member expansion cap for a member name under `limits`.
uint64_t member_cap(const std::string& name, const BundleLimits& limits);

// Every member of a zip, checked per bundle.hpp's rules. Extras are listed with empty bytes
// unless keep_extras. `label` names the bundle in messages. Exactly one of path / bytes is used.
std::vector<BundleMember> read_zip_members_file(const std::string& path, const BundleLimits& limits, bool keep_extras);
std::vector<BundleMember> read_zip_members_memory(std::span<const uint8_t> bytes, const std::string& label,
                                                  const BundleLimits& limits, bool keep_extras);

struct ZipEntryIn {
  std::string name;
  std::span<const uint8_t> bytes;
  bool deflate = true;
};

// Deterministic archive: entries in the given order, DOS time 1980-01-01 00:00:00, unix
// mode 0100644, deflate level 9 or stored, no extra fields, no comment.
std::vector<uint8_t> write_zip(const std::vector<ZipEntryIn>& entries, const std::string& label);

}  // namespace paw::program_detail
