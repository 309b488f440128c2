// `paw rm ID [--cache-dir DIR]` — remove a cached program (full id or unique prefix).
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "paw/program/cache.hpp"

namespace paw::cli {
namespace {

struct RmOptions {
  std::string id;          // program id or a unique prefix (>= 4 characters)
  std::string cache_dir;   // empty: $PAW_CACHE_DIR or ~/.cache/programasweights
};

void run_rm(const RmOptions& o) {
  ProgramCache cache(o.cache_dir);
  std::string id = cache.remove(o.id);
  std::printf("removed program %s\n", id.c_str());
}

}  // namespace

void add_rm_command(CLI::App& app) {
  auto o = std::make_shared<RmOptions>();
  auto* cmd = app.add_subcommand("rm", "Remove a program from the cache");
  cmd->add_option("id", o->id, "Program id or a unique prefix of it (see `paw ls`)")->required();
  cmd->add_option("--cache-dir", o->cache_dir, "Cache folder (default: $PAW_CACHE_DIR or ~/.cache/programasweights)");
  cmd->callback([o] { run_rm(*o); });
}

}  // namespace paw::cli
