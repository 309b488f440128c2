#pragma once
// `paw info` for programs (called from cmd_info.cpp): a .paw file, a bundle folder or a
// cached program id.
#include <string>

namespace paw::cli {

// True when `ref` is a bundle folder (holds meta.json), a ZIP file, or — when no such path
// exists — looks like a program id prefix (4+ lowercase hex digits).
bool is_program_ref(const std::string& ref);

// Prints meta, a template preview, the adapter summary (rank, alpha, type, targets) and the
// base model resolution and check, as text or JSON.
void info_program(const std::string& ref, bool json);

}  // namespace paw::cli
