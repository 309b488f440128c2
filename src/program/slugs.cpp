// The slug registry (see paw/program/slugs.hpp).
#include "paw/program/slugs.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "paw/program/base_model.hpp"
#include "paw/program/meta.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/error.hpp"
#include "program/file_lock.hpp"

namespace paw {
namespace {

using program_detail::FileLock;
constexpr size_t kMaxSlugPart = 64;

bool slug_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

std::string part_problem(std::string_view p) {
  if (p.empty()) return "is empty";
  if (p.size() > kMaxSlugPart) return "is longer than 64 characters";
  if (p[0] == '-' || p[0] == '_') return "must start with a letter or a digit";
  for (char c : p)
    if (!slug_char(c)) return "may only hold a-z, 0-9, '-' and '_'";
  return {};
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

SlugRecord parse_record(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read the slug file", path);
  std::stringstream ss;
  ss << in.rdbuf();
  SlugRecord r;
  try {
    const nlohmann::json j = nlohmann::json::parse(ss.str());
    r.slug = j.at("slug").get<std::string>();
    for (const auto& v : j.at("versions")) {
      SlugVersion sv;
      sv.version = v.at("version").get<int>();
      sv.program_id = v.at("program_id").get<std::string>();
      sv.name = v.value("name", std::string());
      sv.created_at = v.value("created_at", std::string());
      if (!is_valid_program_id(sv.program_id)) throw Error("bad program_id", path);
      r.versions.push_back(std::move(sv));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("damaged slug file: ") + e.what(), path, "delete it to forget the slug");
  }
  if (r.versions.empty() || !slug_problem(r.slug).empty())
    throw Error("damaged slug file: no versions or an illegal slug", path, "delete it to forget the slug");
  std::sort(r.versions.begin(), r.versions.end(), [](const SlugVersion& a, const SlugVersion& b) { return a.version < b.version; });
  return r;
}

std::string dump_record(const SlugRecord& r) {
  nlohmann::ordered_json j;
  j["slug"] = r.slug;
  j["versions"] = nlohmann::ordered_json::array();
  for (const SlugVersion& v : r.versions)
    j["versions"].push_back({{"version", v.version}, {"program_id", v.program_id}, {"name", v.name}, {"created_at", v.created_at}});
  return j.dump(2) + "\n";
}

}  // namespace

std::string slug_problem(std::string_view slug) {
  const size_t slash = slug.find('/');
  if (slash == std::string_view::npos) return part_problem(slug);
  if (slug.find('/', slash + 1) != std::string_view::npos) return "may hold at most one '/' (owner/slug)";
  if (std::string p = part_problem(slug.substr(0, slash)); !p.empty()) return "owner " + p;
  return part_problem(slug.substr(slash + 1));
}

std::optional<SlugRef> parse_slug_ref(std::string_view ref) {
  SlugRef r;
  const size_t at = ref.find('@');
  std::string_view slug = ref.substr(0, at);
  if (!slug_problem(slug).empty()) return std::nullopt;
  r.slug = std::string(slug);
  if (at != std::string_view::npos) {
    std::string_view v = ref.substr(at + 1);
    if (!v.empty() && (v[0] == 'v' || v[0] == 'V')) v.remove_prefix(1);
    if (v.empty() || v.size() > 6) return std::nullopt;
    int n = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    if (n <= 0) return std::nullopt;
    r.version = n;
  }
  return r;
}

std::string slugify(std::string_view name) {
  std::string s;
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) && u < 0x80) s += static_cast<char>(std::tolower(u));
    else if (!s.empty() && s.back() != '-') s += '-';
  }
  while (!s.empty() && s.back() == '-') s.pop_back();
  if (s.size() > kMaxSlugPart) s.resize(kMaxSlugPart);
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s;
}

SlugRegistry::SlugRegistry(std::string cache_root)
    : root_(cache_root.empty() ? default_cache_dir() : std::move(cache_root)), dir_(root_ + "/slugs") {}

void SlugRegistry::check(std::string_view slug) {
  if (std::string p = slug_problem(slug); !p.empty())
    throw Error("illegal slug '" + std::string(slug.substr(0, 80)) + "': it " + p, "--slug",
                "use 1-64 characters of a-z, 0-9, '-' and '_' (optionally owner/slug), e.g. date-normaliser");
}

std::string SlugRegistry::file_for(const std::string& slug) const {
  std::string f = slug;
  std::replace(f.begin(), f.end(), '/', '~');  // '~' is never in a slug
  return dir_ + "/" + f + ".json";
}

SlugAssignment SlugRegistry::assign(const std::string& slug, const std::string& program_id, const std::string& name) {
  check(slug);
  if (!is_valid_program_id(program_id)) throw Error("not a program id: '" + program_id + "'", "slug " + slug);
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  std::filesystem::create_directories(root_ + "/locks", ec);
  if (ec) throw Error("cannot create the slug folder: " + ec.message(), dir_, "set PAW_CACHE_DIR to a writable folder");
  FileLock lock = FileLock::acquire(root_ + "/locks/slugs.lock", FileLock::Mode::Exclusive);
  const std::string path = file_for(slug);
  SlugRecord r;
  r.slug = slug;
  if (std::filesystem::exists(path)) r = parse_record(path);
  SlugAssignment a{slug, 1, "created"};
  if (!r.versions.empty()) {
    if (r.latest().program_id == program_id) return {slug, r.latest().version, "unchanged"};
    a.version = r.latest().version + 1;
    a.action = "new_version";
  }
  r.versions.push_back({a.version, program_id, name, utc_now()});
  atomic_write_file(path, dump_record(r));
  return a;
}

std::optional<SlugRecord> SlugRegistry::find(const std::string& slug) const {
  if (!slug_problem(slug).empty()) return std::nullopt;
  const std::string path = file_for(slug);
  if (!std::filesystem::exists(path)) return std::nullopt;
  return parse_record(path);
}

std::optional<std::string> SlugRegistry::resolve(std::string_view ref) const {
  const std::optional<SlugRef> r = parse_slug_ref(ref);
  if (!r) return std::nullopt;
  const std::optional<SlugRecord> rec = find(r->slug);
  if (!rec) return std::nullopt;
  if (!r->version) return rec->latest().program_id;
  for (const SlugVersion& v : rec->versions)
    if (v.version == *r->version) return v.program_id;
  throw Error("slug '" + r->slug + "' has no version " + std::to_string(*r->version), file_for(r->slug),
              "it has versions 1.." + std::to_string(rec->latest().version) + " (`paw ls` lists them)");
}

std::vector<SlugRecord> SlugRegistry::list() const {
  std::vector<SlugRecord> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    if (e.path().extension() != ".json") continue;
    try {
      out.push_back(parse_record(e.path().string()));
    } catch (const Error&) {
      // A damaged file hides only its own slug.
    }
  }
  std::sort(out.begin(), out.end(), [](const SlugRecord& a, const SlugRecord& b) { return a.slug < b.slug; });
  return out;
}

std::map<std::string, std::vector<SlugOf>> SlugRegistry::by_program() const {
  std::map<std::string, std::vector<SlugOf>> m;
  for (const SlugRecord& r : list())
    for (const SlugVersion& v : r.versions)
      m[v.program_id].push_back({r.slug, v.version, v.version == r.latest().version, v.name});
  return m;
}

}  // namespace paw
