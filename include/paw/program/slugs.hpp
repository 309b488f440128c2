#pragma once
// Slugs: human names for cached programs, with versions (docs/FORMATS.md "Slugs").
//
//   $PAW_CACHE_DIR/slugs/<slug>.json   {"slug", "versions": [{"version", "program_id", "name", "created_at"}]}
//
// A slug is 1-64 characters of [a-z0-9_-] starting with a letter or digit, optionally
// preceded by one "owner/" of the same characters (the reference's "username/slug" form; the
// file is then slugs/<owner>~<slug>.json). `slug` resolves to its latest version, `slug@v2`
// (or `slug@2`) to that version. Compiling under an existing slug adds a version unless the
// program is already the latest one. Writes are atomic (temp file + rename) under
// locks/slugs.lock, so concurrent compiles never lose a version.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paw {

struct SlugVersion {
  int version = 0;              // 1, 2, ...
  std::string program_id;
  std::string name;             // display name given at compile time ("" if none)
  std::string created_at;       // ISO 8601 UTC
};

struct SlugRecord {
  std::string slug;
  std::vector<SlugVersion> versions;   // ascending version numbers
  const SlugVersion& latest() const { return versions.back(); }
};

// One slug version naming a program (SlugRegistry::by_program).
struct SlugOf {
  std::string slug;
  int version = 0;
  bool latest = false;   // the slug's latest version
  std::string name;
};

// What assigning a program to a slug did (the reference's `version_action`).
struct SlugAssignment {
  std::string slug;
  int version = 0;
  std::string action;   // "created" (first version), "new_version", or "unchanged" (already the latest)
};

// A parsed slug reference: "slug", "owner/slug", "slug@v3", "slug@3".
struct SlugRef {
  std::string slug;
  std::optional<int> version;   // absent: the latest
};

// "" when `slug` is a legal slug, else what is wrong with it (for an Error with a hint).
std::string slug_problem(std::string_view slug);
// Parses "slug[@vN]"; nullopt when it is not a legal slug reference.
std::optional<SlugRef> parse_slug_ref(std::string_view ref);
// A legal slug made from a display name ("Date normaliser!" -> "date-normaliser"); "" when
// nothing is left.
std::string slugify(std::string_view name);

class SlugRegistry {
 public:
  // cache_root: empty = default_cache_dir(). Nothing is created until something is written.
  explicit SlugRegistry(std::string cache_root = {});

  const std::string& dir() const { return dir_; }
  // Throws paw::Error naming the slug and the rule when it is illegal.
  static void check(std::string_view slug);

  SlugAssignment assign(const std::string& slug, const std::string& program_id, const std::string& name = {});
  std::optional<SlugRecord> find(const std::string& slug) const;
  // Program id for "slug" / "slug@vN"; nullopt when `ref` is not a slug reference or the
  // slug is unknown; throws when the slug exists but the version does not.
  std::optional<std::string> resolve(std::string_view ref) const;
  // Every slug, sorted; unreadable files are skipped.
  std::vector<SlugRecord> list() const;
  // Every slug version by program id; each program's in slug, then version order.
  std::map<std::string, std::vector<SlugOf>> by_program() const;

 private:
  std::string file_for(const std::string& slug) const;
  std::string root_, dir_;
};

}  // namespace paw
