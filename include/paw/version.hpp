#pragma once
// The version of the paw library (the project version of CMakeLists.txt, set at build time).
#include <string>

namespace paw {

struct Version {
  int major = 0, minor = 0, patch = 0;
};

// The library's version, e.g. {0, 1, 0}.
Version version();
// "0.1.0".
std::string version_string();

}  // namespace paw
