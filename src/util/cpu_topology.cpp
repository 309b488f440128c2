// Physical cores of the affinity mask from sysfs (see paw/util/cpu_topology.hpp).
#include "paw/util/cpu_topology.hpp"

#include <sched.h>

#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace paw {
namespace {

bool read_int(const std::string& path, long* out) {
  std::ifstream f(path);
  return static_cast<bool>(f >> *out);
}

}  // namespace

int physical_core_count() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) != 0) return 0;
  std::set<std::pair<long, long>> cores;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &mask)) continue;
    const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    long package = 0, core = 0;
    if (!read_int(dir + "physical_package_id", &package) || !read_int(dir + "core_id", &core)) return 0;
    cores.emplace(package, core);
  }
  return static_cast<int>(cores.size());
}

}  // namespace paw
