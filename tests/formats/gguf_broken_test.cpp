// A corpus of deliberately broken GGUF images, each assembled byte by byte. Every one must be
// refused with a paw::Error carrying its specific message, the file name, the byte offset and
// a hint — and nothing may crash, hang or allocate gigabytes (huge counts fail before any
// allocation; the suite also runs under ASan/UBSan).
#include <gtest/gtest.h>

#include <functional>

#include "gguf_bytes.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/util/error.hpp"

using paw::GGUFFile;
using paw::test::GgufBytes;

namespace {

struct Broken {
  std::string name;
  std::function<GgufBytes()> build;
  std::string fragment;         // in what_failed()
  std::string where_fragment;   // in where(): key / tensor / header context
  int64_t offset = -1;          // expected byte offset in where(), -1 = don't check
};

// A valid prefix: header + nothing, so cases can append their own entries.
GgufBytes with_header(uint64_t n_tensors, uint64_t n_kv) {
  GgufBytes g;
  g.header(3, n_tensors, n_kv);
  return g;
}

// One f32 tensor entry with the given shape/type/offset, padded data of `data_bytes`.
GgufBytes one_tensor(const std::vector<int64_t>& ne, uint32_t type, uint64_t offset, size_t data_bytes) {
  GgufBytes g = with_header(1, 0);
  g.tensor("w", ne, type, offset);
  g.pad(32).zeros(data_bytes);
  return g;
}

std::vector<Broken> corpus() {
  std::vector<Broken> c;
  c.push_back({"wrong magic", [] {
                 GgufBytes g;
                 g.raw("GGML", 4).u32(3).u64(0).u64(0);
                 return g;
               },
               "not a GGUF file (bad magic 47 47 4d 4c)", "header", 0});
  c.push_back({"old ggjt magic", [] {
                 GgufBytes g;
                 g.raw("tjgg", 4).u32(3).u64(0).u64(0);
                 return g;
               },
               "bad magic", "header", 0});
  c.push_back({"empty file", [] { return GgufBytes{}; }, "truncated header", "header", 0});
  c.push_back({"truncated header", [] {
                 GgufBytes g;
                 g.raw("GGUF", 4).u32(3).u32(0);
                 return g;
               },
               "truncated header: the file has 12 bytes", "header", 0});
  c.push_back({"v1 file", [] {
                 GgufBytes g;  // v1 used u32 counts: 16-byte header
                 g.raw("GGUF", 4).u32(1).u32(0).u32(0);
                 return g;
               },
               "GGUF version 1 is not supported", "header", 4});
  c.push_back({"unknown version", [] {
                 GgufBytes g;
                 g.header(4, 0, 0);
                 return g;
               },
               "unsupported GGUF version 4", "header", 4});
  c.push_back({"big-endian", [] {
                 GgufBytes g;
                 g.raw("GGUF", 4).raw("\0\0\0\3", 4).u64(0).u64(0);
                 return g;
               },
               "big-endian GGUF is not supported", "header", 4});
  c.push_back({"huge tensor count", [] { return with_header(uint64_t{1} << 50, 0); },
               "tensor count 1125899906842624 cannot fit", "header", 8});
  c.push_back({"huge metadata count", [] { return with_header(0, UINT64_MAX); },
               "metadata count 18446744073709551615 cannot fit", "header", 16});
  c.push_back({"truncated in key", [] {
                 GgufBytes g = with_header(0, 1);
                 g.u64(20).raw("general", 7);
                 return g;
               },
               "file ends inside a string of 20 bytes (7 left)", "key #0", 24});
  c.push_back({"truncated in string value", [] {
                 GgufBytes g = with_header(0, 1);
                 g.key("general.name", 8).u64(10).raw("abc", 3);
                 return g;
               },
               "file ends inside a string of 10 bytes (3 left)", "key 'general.name'", 24 + 8 + 12 + 4});
  c.push_back({"huge string length", [] {
                 GgufBytes g = with_header(0, 1);
                 g.key("general.name", 8).u64(uint64_t{1} << 62).raw("abc", 3);
                 return g;
               },
               "string length 4611686018427387904 is larger than the whole file", "key 'general.name'", 48});
  c.push_back({"huge array count", [] {
                 GgufBytes g = with_header(0, 1);
                 g.key("tokenizer.ggml.tokens", 9).u32(8).u64(uint64_t{1} << 61).str("a");
                 return g;
               },
               "array count 2305843009213693952 of string", "key 'tokenizer.ggml.tokens'",
               24 + 8 + 21 + 4 + 4});
  c.push_back({"huge u64 array count", [] {
                 GgufBytes g = with_header(0, 1);
                 g.key("x", 9).u32(10).u64(UINT64_MAX).u8(1);
                 return g;
               },
               "array count 18446744073709551615 of u64 needs at least 2^64 bytes but only 1 remain", "key 'x'", -1});
  c.push_back({"too many metadata elements", [] {
                 // Fits the file (1 byte each) but would cost ~48 bytes per element in memory.
                 GgufBytes g = with_header(0, 2);
                 g.key("a", 9).u32(0).u64(4).zeros(4);
                 g.key("b", 9).u32(0).u64(uint64_t{1} << 23).zeros(size_t{1} << 23);
                 return g;
               },
               "metadata arrays hold more than 8388608 elements in total", "key 'b'", -1});
  c.push_back({"truncated in value", [] {
                 GgufBytes g = with_header(0, 1);
                 g.key("x", 10 /* u64 */).u32(1);
                 return g;
               },
               "file ends inside a u64 value (needs 8 bytes, 4 left)", "key 'x'", -1});
  c.push_back({"bad metadata type id", [] {
                 GgufBytes g = with_header(0, 1);
                 g.key("x", 13).u32(0);
                 return g;
               },
               "unknown metadata value type 13", "key 'x'", 24 + 9});
  c.push_back({"bad array element type", [] {
                 GgufBytes g = with_header(0, 1);
                 g.key("x", 9).u32(77).u64(0);
                 return g;
               },
               "unknown metadata value type 77 (an array element type)", "key 'x'", 24 + 9 + 4});
  c.push_back({"bool not 0 or 1", [] {
                 GgufBytes g = with_header(0, 1);
                 g.key("x", 7).u8(2);
                 return g;
               },
               "bool value 2 is neither 0 nor 1", "key 'x'", -1});
  c.push_back({"nesting too deep", [] {
                 GgufBytes g = with_header(0, 1);
                 g.key("x", 9);
                 for (int i = 0; i < 17; ++i) g.u32(9).u64(1);
                 g.u32(0).u64(0);
                 return g;
               },
               "arrays nested deeper than 16 levels", "key 'x'", -1});
  c.push_back({"duplicate key", [] {
                 GgufBytes g = with_header(0, 2);
                 g.kv_u32("a", 1).kv_u32("a", 2);
                 return g;
               },
               "duplicate metadata key 'a'", "key 'a'", 24 + 17});
  c.push_back({"alignment zero", [] {
                 GgufBytes g = with_header(0, 1);
                 g.kv_u32("general.alignment", 0);
                 return g;
               },
               "general.alignment 0 is not a non-zero power of two", "key 'general.alignment'", 24 + 8 + 17 + 4});
  c.push_back({"alignment not a power of two", [] {
                 GgufBytes g = with_header(0, 1);
                 g.kv_u32("general.alignment", 48);
                 return g;
               },
               "general.alignment 48 is not a non-zero power of two", "key 'general.alignment'", -1});
  c.push_back({"alignment wrong type", [] {
                 GgufBytes g = with_header(0, 1);
                 g.key("general.alignment", 10).u64(32);
                 return g;
               },
               "general.alignment must be u32, found u64", "key 'general.alignment'", -1});
  c.push_back({"huge tensor name", [] {
                 GgufBytes g = with_header(1, 0);
                 g.u64(UINT64_MAX - 3).zeros(40);
                 return g;
               },
               "string length 18446744073709551612 is larger than the whole file", "tensor #0 name", 24});
  c.push_back({"truncated tensor entry", [] {
                 GgufBytes g = with_header(1, 0);
                 g.str("w").u32(2).i64(4).zeros(12);  // missing ne[1]'s last bytes, type, offset
                 return g;
               },
               "file ends inside", "tensor 'w'", -1});
  c.push_back({"n_dims 0", [] { return one_tensor({}, 0, 0, 32); }, "n_dims 0 is out of range 1..4", "tensor 'w'",
               24 + 9});
  c.push_back({"n_dims 5", [] { return one_tensor({1, 1, 1, 1, 1}, 0, 0, 32); }, "n_dims 5 is out of range 1..4",
               "tensor 'w'", 24 + 9});
  c.push_back({"negative ne", [] { return one_tensor({4, -1}, 0, 0, 32); }, "ne[1] = -1 is negative", "tensor 'w'",
               24 + 9 + 4 + 8});
  c.push_back({"ne product overflow", [] { return one_tensor({int64_t{1} << 32, int64_t{1} << 32}, 0, 0, 32); },
               "element count overflows 64 bits at ne[1]", "tensor 'w'", -1});
  c.push_back({"ne product overflow behind a zero", [] { return one_tensor({0, INT64_MAX, 2}, 0, 0, 32); },
               "element count overflows 64 bits at ne[2]", "tensor 'w'", -1});
  c.push_back({"bad tensor type id", [] { return one_tensor({4}, 99, 0, 32); }, "tensor 'w' has unknown type id 99",
               "tensor 'w'", 24 + 9 + 4 + 8});
  c.push_back({"removed q4_2 type id", [] { return one_tensor({32}, 4, 0, 32); }, "has unknown type id 4",
               "tensor 'w'", -1});
  c.push_back({"row not whole blocks", [] { return one_tensor({16}, 2 /* q4_0 */, 0, 32); },
               "ne[0] = 16 is not a multiple of the q4_0 block size 32", "tensor 'w'", -1});
  c.push_back({"byte size overflow", [] { return one_tensor({int64_t{1} << 62}, 0 /* f32: 4 bytes each */, 0, 32); },
               "data size overflows 64 bits", "tensor 'w'", -1});
  c.push_back({"misaligned data offset", [] { return one_tensor({4}, 0, 4, 64); },
               "data offset 4 is not a multiple of the alignment 32", "tensor 'w'", 24 + 9 + 4 + 8 + 4});
  c.push_back({"offset past end", [] { return one_tensor({8}, 0, 0, 16); },
               "tensor data runs past end of file: needs bytes [64, 96) but the file has 80", "tensor 'w'", 24});
  c.push_back({"offset far past end", [] { return one_tensor({8}, 0, UINT64_MAX - 31, 32); },
               "tensor data runs past end of file", "tensor 'w'", 24});
  c.push_back({"duplicate tensor name", [] {
                 GgufBytes g = with_header(2, 0);
                 g.tensor("w", {8}, 0, 0).tensor("w", {8}, 0, 32);
                 g.pad(32).zeros(64);
                 return g;
               },
               "duplicate tensor name 'w'", "tensor 'w'", 24 + 33});
  return c;
}

}  // namespace

TEST(GGUFBroken, EachCaseFailsWithItsOwnMessage) {
  for (const auto& bc : corpus()) {
    SCOPED_TRACE(bc.name);
    GgufBytes g = bc.build();
    try {
      GGUFFile::parse(g.b, "broken.gguf");
      ADD_FAILURE() << "accepted a broken file";
    } catch (const paw::Error& e) {
      std::string msg = e.what();
      EXPECT_NE(e.what_failed().find(bc.fragment), std::string::npos) << msg;
      EXPECT_NE(e.where().find("broken.gguf at byte offset"), std::string::npos) << msg;
      EXPECT_NE(e.where().find(bc.where_fragment), std::string::npos) << msg;
      if (bc.offset >= 0) {
        EXPECT_NE(e.where().find("at byte offset " + std::to_string(bc.offset) + " "), std::string::npos) << msg;
      }
      EXPECT_FALSE(e.hint().empty()) << msg;
    }
  }
}

// Every prefix of a valid file, and every single-byte corruption of it, must give either a
// valid parse or a paw::Error — never another exception, a crash or a sanitizer report.
TEST(GGUFBroken, EveryTruncationAndByteFlipIsHandled) {
  GgufBytes g = with_header(2, 3);
  g.kv_str("general.architecture", "gpt2");
  g.key("a", 9).u32(8).u64(2).str("x").str("yz");
  g.key("n", 9).u32(9).u64(1).u32(5).u64(2).u32(1).u32(2);
  g.tensor("t0", {32, 2}, 8, 0).tensor("t1", {3}, 0, 96);
  g.pad(32).zeros(68).pad(32).zeros(12).pad(32);
  ASSERT_NO_THROW(GGUFFile::parse(g.b, "good.gguf"));

  size_t last_data_end = g.size() - 20;  // end of t1's 12 bytes
  for (size_t n = 0; n < g.size(); ++n) {
    std::vector<uint8_t> prefix(g.b.begin(), g.b.begin() + n);
    if (n < last_data_end) {
      EXPECT_THROW(GGUFFile::parse(prefix, "cut.gguf"), paw::Error) << "prefix " << n;
    } else {
      EXPECT_NO_THROW(GGUFFile::parse(prefix, "cut.gguf")) << "prefix " << n;  // only padding missing
    }
  }
  for (size_t i = 0; i < g.size(); ++i) {
    for (uint8_t v : {uint8_t{0x00}, uint8_t{0xFF}, uint8_t{0x80}, uint8_t{0x05}}) {
      std::vector<uint8_t> m = g.b;
      m[i] = v;
      try {
        GGUFFile f = GGUFFile::parse(m, "flip.gguf");
        for (const auto& t : f.tensors()) {
          ASSERT_LE(t.file_offset + t.n_bytes, m.size());
        }
      } catch (const paw::Error&) {
      }
    }
  }
}

TEST(GGUFBroken, OpenNamesTheMissingPath) {
  try {
    GGUFFile::open("/nonexistent/dir/model.gguf");
    FAIL();
  } catch (const paw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.gguf"), std::string::npos);
  }
}
