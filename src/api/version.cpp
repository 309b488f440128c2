// paw::version (paw/version.hpp): the numbers come from CMake's project(VERSION).
#include "paw/version.hpp"

#include <string>

namespace paw {

Version version() { return {PAW_VERSION_MAJOR, PAW_VERSION_MINOR, PAW_VERSION_PATCH}; }

std::string version_string() {
  const Version v = version();
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

}  // namespace paw
