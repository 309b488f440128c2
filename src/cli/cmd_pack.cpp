// `paw pack DIR -o X.paw [--extra FILE]... [--no-assign-id]` — build a deterministic bundle
// from a folder holding meta.json, prompt_template.txt and adapter.gguf.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "paw/program/bundle.hpp"

namespace paw::cli {
namespace {

struct PackCliOptions {
  std::string dir;                  // bundle folder (or a .paw to repack)
  std::string out;                  // output .paw
  std::vector<std::string> extras;  // extra files of DIR to carry (README.md, ...)
  bool no_assign_id = false;        // keep meta.json as is even without program_id
};

void run_pack(const PackCliOptions& o) {
  PackOptions po;
  po.extra_files = o.extras;
  po.assign_program_id = !o.no_assign_id;
  std::string id = pack_directory(o.dir, o.out, po);
  std::printf("wrote %s (program %s)\n", o.out.c_str(), id.c_str());
}

}  // namespace

void add_pack_command(CLI::App& app) {
  auto o = std::make_shared<PackCliOptions>();
  auto* cmd = app.add_subcommand("pack", "Pack a program folder into a .paw bundle (same inputs give the same bytes)");
  cmd->add_option("dir", o->dir, "Folder with meta.json, prompt_template.txt and adapter.gguf")->required();
  cmd->add_option("-o,--output", o->out, "Output .paw file")->required();
  cmd->add_option("--extra", o->extras, "Extra file of DIR to include (repeatable), e.g. README.md");
  cmd->add_flag("--no-assign-id", o->no_assign_id,
                "Do not add a content program_id to meta.json when it has none");
  cmd->callback([o] { run_pack(*o); });
}

}  // namespace paw::cli
