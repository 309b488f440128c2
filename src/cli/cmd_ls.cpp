// `paw ls [--json] [--cache-dir DIR]` — list cached programs.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.hpp"
#include "paw/program/cache.hpp"
#include "paw/program/slugs.hpp"

namespace paw::cli {
namespace {

struct LsOptions {
  std::string cache_dir;   // empty: $PAW_CACHE_DIR or ~/.cache/programasweights
  bool json = false;       // one JSON array instead of a table
};

// First `max_bytes` of one line of text, cut on a UTF-8 character boundary.
std::string one_line(std::string s, size_t max_bytes) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "...";
}

std::string human_size(uint64_t bytes) {
  char buf[32];
  if (bytes >= 1000000) std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  else std::snprintf(buf, sizeof buf, "%.1f kB", static_cast<double>(bytes) / 1e3);
  return buf;
}

void run_ls(const LsOptions& o) {
  ProgramCache cache(o.cache_dir);
  auto entries = cache.list();
  const auto slugs = SlugRegistry(cache.root()).by_program();   // * marks a slug's latest version
  if (o.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const CacheEntry& e : entries) {
      nlohmann::json j = {{"id", e.id},           {"dir", e.dir},   {"size_bytes", e.size_bytes},
                          {"interpreter", e.interpreter}, {"spec", e.spec}, {"created_at", e.created_at}};
      j["compiler"] = e.compiler;
      j["slugs"] = nlohmann::json::array();
      if (auto it = slugs.find(e.id); it != slugs.end())
        for (const SlugOf& sn : it->second)
          j["slugs"].push_back({{"slug", sn.slug}, {"version", sn.version}, {"latest", sn.latest}, {"name", sn.name}});
      if (!e.problem.empty()) j["problem"] = e.problem;
      arr.push_back(j);
    }
    std::puts(arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  if (entries.empty()) {
    std::printf("no programs in %s (add one with `paw import X.paw`)\n", cache.programs_dir().c_str());
    return;
  }
  std::printf("%-32s  %-28s  %-16s  %-12s  %9s  %s\n", "ID", "SLUG", "INTERPRETER", "COMPILER", "SIZE", "SPEC");
  for (const CacheEntry& e : entries) {
    std::string spec = e.problem.empty() ? one_line(e.spec, 60) : "(unreadable meta.json: " + one_line(e.problem, 60) + ")";
    // One entry per slug: "dates@v1,v3*" (* = that slug's latest version).
    std::string slug;
    if (auto it = slugs.find(e.id); it != slugs.end()) {
      std::string last;
      for (const SlugOf& sn : it->second) {
        if (sn.slug != last) slug += (slug.empty() ? "" : " ") + sn.slug + "@";
        else slug += ",";
        slug += "v" + std::to_string(sn.version) + (sn.latest ? "*" : "");
        last = sn.slug;
      }
    }
    if (slug.empty()) slug = "-";
    std::printf("%-32s  %-28s  %-16s  %-12s  %9s  %s\n", e.id.c_str(), one_line(slug, 28).c_str(),
                one_line(e.interpreter, 16).c_str(), one_line(e.compiler.empty() ? "-" : e.compiler, 12).c_str(),
                human_size(e.size_bytes).c_str(), spec.c_str());
  }
  if (!slugs.empty()) std::printf("(* = the slug's latest version: `paw run SLUG` runs it)\n");
}

}  // namespace

void add_ls_command(CLI::App& app) {
  auto o = std::make_shared<LsOptions>();
  auto* cmd = app.add_subcommand("ls", "List the programs in the cache");
  cmd->add_flag("--json", o->json, "Print a JSON array of {id, dir, size_bytes, interpreter, spec, created_at, compiler, slugs}");
  cmd->add_option("--cache-dir", o->cache_dir, "Cache folder (default: $PAW_CACHE_DIR or ~/.cache/programasweights)");
  cmd->callback([o] { run_ls(*o); });
}

}  // namespace paw::cli
