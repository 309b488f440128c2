// The slug registry: legal slugs, slug@vN references, versions added only for new programs,
// resolution through the cache (full id > slug > id prefix), damaged files, and concurrent
// writers that must not lose a version.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "paw/program/cache.hpp"
#include "paw/program/slugs.hpp"
#include "paw/util/error.hpp"
#include "common/test_env.hpp"

namespace paw::test {
namespace {

const std::string kIdA = "0123456789abcdef0123456789abcdef";
const std::string kIdB = "fedcba9876543210fedcba9876543210";

TEST(Slugs, LegalAndIllegal) {
  for (const char* ok : {"dates", "date-normaliser", "a", "x_1", "alice/triage", "0abc"}) EXPECT_EQ(slug_problem(ok), "") << ok;
  struct Bad {
    const char* slug;
    const char* why;
  } bad[] = {{"", "empty"}, {"Dates", "a-z"}, {"-x", "start"}, {"a b", "a-z"}, {"../x", "a-z"}, {"a/b/c", "one '/'"},
             {"a/", "empty"}, {"/a", "owner"}, {"x.y", "a-z"}, {"caf\xc3\xa9", "a-z"}};
  for (const Bad& b : bad) {
    const std::string p = slug_problem(b.slug);
    EXPECT_NE(p.find(b.why), std::string::npos) << b.slug << ": " << p;
  }
  EXPECT_NE(slug_problem(std::string(65, 'a')), "");
  EXPECT_EQ(slug_problem(std::string(64, 'a')), "");
  EXPECT_THROW(SlugRegistry::check("Bad Slug"), Error);
}

TEST(Slugs, References) {
  auto r = parse_slug_ref("dates@v2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->slug, "dates");
  EXPECT_EQ(r->version, 2);
  EXPECT_EQ(parse_slug_ref("dates@3")->version, 3);
  EXPECT_FALSE(parse_slug_ref("dates")->version);
  EXPECT_EQ(parse_slug_ref("me/dates@v10")->slug, "me/dates");
  for (const char* bad : {"dates@", "dates@v", "dates@v0", "dates@vx", "dates@v1@v2", "Dates", "@v1", "dates@v1234567"})
    EXPECT_FALSE(parse_slug_ref(bad)) << bad;
}

TEST(Slugs, Slugify) {
  EXPECT_EQ(slugify("Date normaliser!"), "date-normaliser");
  EXPECT_EQ(slugify("  --Hello,  World--  "), "hello-world");
  EXPECT_EQ(slugify("\xc3\xa9\xc3\xa9"), "");
  EXPECT_EQ(slugify(std::string(100, 'a')).size(), 64u);
}

TEST(Slugs, VersionsOnlyForNewPrograms) {
  SlugRegistry reg(scratch_dir("slugs_versions"));
  auto a = reg.assign("dates", kIdA, "Dates");
  EXPECT_EQ(a.version, 1);
  EXPECT_EQ(a.action, "created");
  a = reg.assign("dates", kIdA);
  EXPECT_EQ(a.version, 1);
  EXPECT_EQ(a.action, "unchanged");
  a = reg.assign("dates", kIdB);
  EXPECT_EQ(a.version, 2);
  EXPECT_EQ(a.action, "new_version");
  a = reg.assign("dates", kIdA);  // back to the first program: a third version, the latest
  EXPECT_EQ(a.version, 3);
  EXPECT_EQ(*reg.resolve("dates"), kIdA);
  EXPECT_EQ(*reg.resolve("dates@v2"), kIdB);
  EXPECT_EQ(*reg.resolve("dates@1"), kIdA);
  EXPECT_THROW(reg.resolve("dates@v4"), Error);
  EXPECT_FALSE(reg.resolve("other"));
  EXPECT_FALSE(reg.resolve("not a slug"));
  reg.assign("me/dates", kIdB);
  EXPECT_EQ(*reg.resolve("me/dates"), kIdB);
  const auto all = reg.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].slug, "dates");
  EXPECT_EQ(all[0].versions.size(), 3u);
  EXPECT_EQ(all[0].versions[0].name, "Dates");
  EXPECT_EQ(all[1].slug, "me/dates");
  EXPECT_THROW(reg.assign("Bad", kIdA), Error);
  EXPECT_THROW(reg.assign("ok", "not-an-id"), Error);
}

TEST(Slugs, DamagedFileIsAClearErrorAndHidesOnlyItsSlug) {
  const std::string root = scratch_dir("slugs_damaged");
  SlugRegistry reg(root);
  reg.assign("good", kIdA);
  std::ofstream(root + "/slugs/bad.json") << "{\"slug\": \"bad\", \"versions\": [";
  try {
    reg.resolve("bad");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
  }
  EXPECT_EQ(reg.list().size(), 1u);
  EXPECT_EQ(*reg.resolve("good"), kIdA);
}

TEST(Slugs, ConcurrentWritersLoseNoVersion) {
  const std::string root = scratch_dir("slugs_concurrent");
  constexpr int kProcs = 6;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      try {
        SlugRegistry reg(root);
        for (int i = 0; i < 5; ++i) {
          char id[33];
          std::snprintf(id, sizeof id, "%016x%016x", p + 1, i + 1);
          reg.assign("shared", id);
        }
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int st = 0;
    ::waitpid(k, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  const auto rec = SlugRegistry(root).find("shared");
  ASSERT_TRUE(rec);
  ASSERT_EQ(rec->versions.size(), static_cast<size_t>(kProcs * 5));
  std::set<std::string> ids;
  for (size_t i = 0; i < rec->versions.size(); ++i) {
    EXPECT_EQ(rec->versions[i].version, static_cast<int>(i + 1));
    ids.insert(rec->versions[i].program_id);
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kProcs * 5));
}

TEST(Slugs, CacheResolvesIdThenSlugThenPrefix) {
  const std::string root = scratch_dir("slugs_cache");
  // Two complete fake programs are not needed: resolve_ref reaches resolve_id, whose error
  // names the id the slug pointed at.
  SlugRegistry(root).assign("dates", kIdA);
  ProgramCache cache(root);
  try {
    cache.resolve_ref("dates");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(kIdA), std::string::npos) << e.what();
  }
  try {
    cache.resolve_ref("nodates");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no program 'nodates'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace paw::test
