// `paw import X.paw|DIR [--force] [--offline] [--cache-dir DIR]` — add a program to the cache.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "paw/program/cache.hpp"

namespace paw::cli {
namespace {

struct ImportCliOptions {
  std::string source;      // .paw or bundle folder
  std::string cache_dir;   // empty: $PAW_CACHE_DIR or ~/.cache/programasweights
  bool force = false;      // replace a cached program with the same id and other content
  bool offline = false;    // never use the network (also PAW_OFFLINE=1); imports are local anyway
};

void run_import(const ImportCliOptions& o) {
  // Importing a file or folder never uses the network; --offline is accepted so scripts can
  // pass it to every command, and is forwarded to anything below that might.
  if (o.offline) ::setenv("PAW_OFFLINE", "1", 1);
  ProgramCache cache(o.cache_dir);
  ImportOptions io;
  io.force = o.force;
  ImportResult r = cache.import(o.source, io);
  if (r.already_present) std::printf("program %s is already cached (%s)\n", r.id.c_str(), r.dir.c_str());
  else std::printf("%s program %s into %s\n", r.replaced ? "replaced" : "imported", r.id.c_str(), r.dir.c_str());
}

}  // namespace

void add_import_command(CLI::App& app) {
  auto o = std::make_shared<ImportCliOptions>();
  auto* cmd = app.add_subcommand("import", "Validate a .paw bundle or program folder and add it to the program cache");
  cmd->add_option("source", o->source, ".paw file or program folder")->required();
  cmd->add_flag("--force", o->force, "Replace a cached program that has the same id but different content");
  cmd->add_flag("--offline", o->offline, "Never use the network (same as PAW_OFFLINE=1)");
  cmd->add_option("--cache-dir", o->cache_dir, "Cache folder (default: $PAW_CACHE_DIR or ~/.cache/programasweights)");
  cmd->callback([o] { run_import(*o); });
}

}  // namespace paw::cli
