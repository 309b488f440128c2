#pragma once
// Small checks on untrusted text: UTF-8 validity, archive member names, flat file names.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace paw::program_detail {

// Byte offset of the first invalid UTF-8 sequence (overlongs, surrogates and code points
// above U+10FFFF are invalid), or nullopt when the whole string is valid.
std::optional<size_t> first_invalid_utf8(std::string_view s);

// Why a zip member name is unsafe or unsupported, or "" when it is fine. Checks, in order:
// empty, too long, NUL/control characters, invalid UTF-8, absolute path, backslash, drive
// prefix, '..' component, directory entry, nested path.
std::string member_name_problem(std::string_view name);

// Why `name` cannot be a plain file name inside a folder we own ("" when fine): the member
// rules plus no leading '.', so it can never collide with temporaries or lock files.
std::string file_name_problem(std::string_view name);

// ASCII lower-case (for case-variant duplicate detection).
std::string ascii_lower(std::string_view s);

bool is_required_member(std::string_view name);

// Printable form of an untrusted name for messages: control bytes and non-UTF-8 escaped.
std::string printable(std::string_view s, size_t max_len = 120);

}  // namespace paw::program_detail
