#pragma once
// Shared helpers for tests: locations of the source tree, the build tree, the npm reference
// cache and Debian's python3, plus a scratch directory per test.
#include <string>

namespace paw::test {

std::string source_dir();
std::string binary_dir();
// Fresh empty directory under the build tree, unique per call; removed when the process exits
// with every test passed (kept after a failure or with PAW_KEEP_SCRATCH set).
std::string scratch_dir(const std::string& name);
// $PAW_NPM_CACHE or ~/.cache/paw/npm (filled by scripts/setup.sh). Fails the test with a
// clear message if the reference packages are not installed.
std::string npm_cache_dir();
// Debian's interpreter with python3-numpy / python3-torch: $PAW_PYTHON or /usr/bin/python3.
std::string python();
// Runs a shell command, captures stdout (stderr passes through); returns the exit status.
int run_command(const std::string& cmd, std::string* stdout_text = nullptr);
// Path of a built tool (paw, paw-fixture) in the build tree.
std::string tool_path(const std::string& name);

}  // namespace paw::test
