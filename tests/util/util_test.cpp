#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "paw/util/atomic_file.hpp"
#include "paw/util/checked_math.hpp"
#include "paw/util/error.hpp"
#include "paw/util/mapped_file.hpp"
#include "paw/util/sha256.hpp"
#include "paw/util/split.hpp"
#include "paw/util/cpu_topology.hpp"
#include "common/test_env.hpp"

namespace fs = std::filesystem;

TEST(Error, MessageCarriesWhereWhatHint) {
  paw::Error e("bad magic", "x.gguf at byte offset 0", "not a GGUF file");
  EXPECT_STREQ(e.what(), "x.gguf at byte offset 0: bad magic (hint: not a GGUF file)");
  EXPECT_EQ(e.hint(), "not a GGUF file");
}

TEST(CheckedMath, DetectsOverflow) {
  EXPECT_FALSE(paw::checked_add(UINT64_MAX, 1).has_value());
  EXPECT_FALSE(paw::checked_mul(1ull << 33, 1ull << 33).has_value());
  EXPECT_EQ(*paw::checked_align_up(33, 32), 64u);
  EXPECT_EQ(*paw::checked_align_up(64, 32), 64u);
  EXPECT_FALSE(paw::checked_align_up(UINT64_MAX - 3, 32).has_value());
}

// Published test vectors (FIPS 180-2).
TEST(Sha256, KnownVectors) {
  EXPECT_EQ(paw::sha256_hex(std::string_view("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(paw::sha256_hex(std::string_view("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AtomicFile, WritesCompleteFileAndLeavesNoTemp) {
  auto dir = paw::test::scratch_dir("atomic");
  auto path = dir + "/out.bin";
  paw::atomic_write_file(path, std::string_view("hello"));
  EXPECT_EQ(paw::read_file_to_string(path), "hello");
  paw::atomic_write_file(path, std::string_view("second"));
  EXPECT_EQ(paw::read_file_to_string(path), "second");
  int n = 0;
  for (auto& e : fs::directory_iterator(dir)) { (void)e; ++n; }
  EXPECT_EQ(n, 1);
}

TEST(AtomicFile, UncommittedWriterLeavesTargetUntouched) {
  auto dir = paw::test::scratch_dir("atomic2");
  auto path = dir + "/out.bin";
  paw::atomic_write_file(path, std::string_view("old"));
  {
    paw::AtomicFileWriter w(path);
    w.write("partial");
  }
  EXPECT_EQ(paw::read_file_to_string(path), "old");
  int n = 0;
  for (auto& e : fs::directory_iterator(dir)) { (void)e; ++n; }
  EXPECT_EQ(n, 1);
}

TEST(MappedFile, MapsBytesAndNamesMissingPath) {
  auto dir = paw::test::scratch_dir("map");
  paw::atomic_write_file(dir + "/f", std::string_view("abcdef"));
  auto m = paw::MappedFile::open(dir + "/f");
  ASSERT_EQ(m.size(), 6u);
  EXPECT_EQ(m.data()[3], 'd');
  try {
    paw::MappedFile::open(dir + "/missing");
    FAIL() << "expected paw::Error";
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos);
  }
}

TEST(Split, CommasKeepOrderAndDropEmptyItems) {
  using V = std::vector<std::string>;
  EXPECT_EQ(paw::split_commas("q,k,v"), (V{"q", "k", "v"}));
  EXPECT_EQ(paw::split_commas(",a,,b,"), (V{"a", "b"}));
  EXPECT_EQ(paw::split_commas(""), V{});
  EXPECT_EQ(paw::split_commas("one"), V{"one"});
  EXPECT_EQ(paw::split_commas(" a , b"), (V{" a ", " b"}));  // no trimming: names are taken as given
}

// Physical cores against an independent count: lscpu's (core, socket) pairs of the CPUs this
// process may run on (Python's os.sched_getaffinity).
TEST(CpuTopology, PhysicalCoresMatchLscpu) {
  const std::string cmd = paw::test::python() +
                          " -c \"import os,subprocess;a=os.sched_getaffinity(0);"
                          "rows=[l.split(',') for l in subprocess.run(['lscpu','-p=cpu,core,socket'],capture_output=True,"
                          "text=True).stdout.splitlines() if l and l[0]!='#'];"
                          "print(len({(r[1],r[2]) for r in rows if int(r[0]) in a}))\"";
  std::string out;
  if (paw::test::run_command(cmd, &out) != 0 || out.empty()) GTEST_SKIP() << "lscpu not available";
  EXPECT_EQ(paw::physical_core_count(), std::stoi(out));
}
