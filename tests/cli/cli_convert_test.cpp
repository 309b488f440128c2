// `paw convert`: the copy's matrices are the original's values in the new type (F16 bit for
// bit as numpy rounds them; Q8_0/Q4_0 within the error the published block layouts allow), every
// other tensor and all metadata are kept, the copy runs like the numpy reference forward on
// it, and it names its original (paw.source.*) so that a compiler trained for the original
// accepts it while any other model stays refused. Bad input writes nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/cli_model_util.hpp"
#include "common/compiler_fixture.hpp"
#include "tensor/tensor_test_util.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/util/sha256.hpp"

namespace paw {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using test::fixture;
using test::quote;

const char* kPrompt = "<|im_start|>user\nconvert me<|im_end|>";

std::vector<float> values_of(const GGUFTensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.n_elements()));
  for (int64_t r = 0; r < t.rows(); ++r)
    dequantize_row(t.type, t.data + r * (t.n_bytes / t.rows()), v.data() + r * t.ne[0], t.ne[0]);
  return v;
}

// numpy's float16 rounding of `x` (tests/reference/ref_half.py), as bit patterns.
std::vector<uint16_t> numpy_f16(const std::vector<float>& x, const std::string& dir) {
  test::write_file(dir + "/in.f32", x.data(), x.size() * sizeof(float));
  const std::string cmd = test::python() + " " + quote(test::source_dir() + "/tests/reference/ref_half.py") + " " +
                          quote(dir + "/in.f32") + " " + quote(dir + "/out.f16") + " " + quote(dir + "/out.bf16");
  EXPECT_EQ(test::run_command(cmd), 0) << cmd;
  return test::read_file_as<uint16_t>(dir + "/out.f16");
}

// Largest |x - y| within each 32-value block, relative to that block's largest |x|. The block
// layouts bound it: a value is q·d with d stored in F16 (relative rounding ≤ 2⁻¹¹), so the
// error is the level's rounding plus |q|·d·2⁻¹¹. Q8_0: d = amax/127, |q| ≤ 127, half a step;
// Q4_0: d = amax/8, |q| ≤ 8, one whole step at the clamped end of the range.
double worst_block_error(const std::vector<float>& x, const std::vector<float>& y) {
  double worst = 0;
  for (size_t b = 0; b < x.size(); b += 32) {
    double amax = 0, err = 0;
    for (size_t i = b; i < b + 32 && i < x.size(); ++i) {
      amax = std::max(amax, double(std::abs(x[i])));
      err = std::max(err, double(std::abs(x[i] - y[i])));
    }
    if (amax > 0) worst = std::max(worst, err / amax);
  }
  return worst;
}

json convert(const std::string& in, const std::string& out, const std::string& type) {
  return test::paw_json("convert --json -m " + in + " -o " + out + " --type " + type);
}

std::vector<float> paw_logits(const std::string& model, std::vector<int32_t>* ids = nullptr) {
  const json out = test::paw_json("logits --json -t 1 --kv-type f32 --model " + model + " --prompt " + quote(kPrompt));
  if (!out.is_object()) return {};
  if (ids) *ids = out["prompt_ids"].get<std::vector<int32_t>>();
  return out["logits"].get<std::vector<float>>();
}

void check_copy(const std::string& src_path, const std::string& type, DType dtype) {
  SCOPED_TRACE(src_path + " --type " + type);
  const std::string dir = test::scratch_dir("convert-" + type);
  const std::string out = dir + "/copy.gguf";
  const json r = convert(src_path, out, type);
  ASSERT_TRUE(r.is_object());
  const GGUFFile src = GGUFFile::open(src_path), dst = GGUFFile::open(out);

  // Metadata: the original's keys in order with their values (general.file_type aside), then
  // the record of the original.
  std::vector<std::pair<std::string, std::string>> want, got;
  for (const auto& [k, v] : src.metadata()) want.emplace_back(k, k == "general.file_type" ? "" : v.to_display(1 << 20));
  for (const auto& [k, v] : dst.metadata())
    if (k.rfind("paw.source.", 0) != 0) got.emplace_back(k, k == "general.file_type" ? "" : v.to_display(1 << 20));
  if (!src.find("general.file_type")) want.emplace_back("general.file_type", "");
  EXPECT_EQ(got, want);
  EXPECT_EQ(dst.get_u64("general.file_type"), llama_file_type(dtype));
  EXPECT_EQ(dst.get_string("paw.source.name"), fs::path(src_path).filename().string());
  EXPECT_EQ(dst.get_u64("paw.source.size"), fs::file_size(src_path));
  EXPECT_EQ(dst.get_string("paw.source.sha256"), sha256_file_hex(src_path));
  EXPECT_EQ(r["source"]["sha256"], sha256_file_hex(src_path));
  EXPECT_EQ(r["bytes_out"].get<uint64_t>(), fs::file_size(out));

  // Tensors: same names, order and shapes; vectors byte for byte; matrices in the new type.
  ASSERT_EQ(src.tensors().size(), dst.tensors().size());
  int matrices = 0;
  std::vector<float> all_x;                 // every matrix's original values, for one numpy call
  std::vector<const GGUFTensorInfo*> f16s;  // the converted matrices, in the same order
  for (size_t i = 0; i < src.tensors().size(); ++i) {
    const GGUFTensorInfo &s = src.tensors()[i], &d = dst.tensors()[i];
    ASSERT_EQ(s.name, d.name);
    ASSERT_EQ(s.ne, d.ne) << s.name;
    if (s.ne.size() != 2) {
      ASSERT_EQ(d.type, s.type) << s.name;
      ASSERT_EQ(d.n_bytes, s.n_bytes) << s.name;
      EXPECT_EQ(std::memcmp(d.data, s.data, s.n_bytes), 0) << s.name << " was modified";
      continue;
    }
    ++matrices;
    ASSERT_EQ(d.type, dtype) << s.name;
    const std::vector<float> x = values_of(s), y = values_of(d);
    if (dtype == DType::F16) {
      all_x.insert(all_x.end(), x.begin(), x.end());
      f16s.push_back(&d);
    } else {
      const double f16_rel = std::ldexp(1.0, -11);
      const double bound = dtype == DType::Q8_0 ? (0.5 + 127 * f16_rel) / 127 : (1.0 + 8 * f16_rel) / 8;
      EXPECT_LE(worst_block_error(x, y), bound * (1 + 1e-6)) << s.name;
    }
  }
  EXPECT_GT(matrices, 0);
  if (dtype == DType::F16) {
    const std::vector<uint16_t> ref = numpy_f16(all_x, dir);
    ASSERT_EQ(ref.size(), all_x.size());
    size_t at = 0;
    for (const GGUFTensorInfo* d : f16s) {
      EXPECT_EQ(std::memcmp(d->data, ref.data() + at, d->n_bytes), 0) << d->name << ": not numpy's float16 rounding";
      at += static_cast<size_t>(d->n_elements());
    }
  }
  EXPECT_EQ(r["converted"].get<int>() + r["kept"].get<int>() + r["fallback_f16"].get<int>(),
            static_cast<int>(src.tensors().size()));

  // The copy is a model: paw's logits on it equal the numpy reference's forward on it.
  std::vector<int32_t> ids;
  const std::vector<float> logits = paw_logits(out, &ids);
  ASSERT_FALSE(logits.empty());
  test::expect_logits_near(logits.data(), test::last_row(test::reference(out, ids).logits), test::logit_tolerance(dtype),
                           "copy vs reference on the copy");
}

TEST(CliConvert, Qwen3MatricesToF16Q8Q4) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 131");
  check_copy(m, "f16", DType::F16);
  check_copy(m, "q8_0", DType::Q8_0);
  check_copy(m, "q4_0", DType::Q4_0);
}

TEST(CliConvert, QuantizedGpt2ToF16) {
  const std::string m = fixture("model --arch gpt2 --preset tiny --type q8_0 --seed 132");
  check_copy(m, "f16", DType::F16);
}

TEST(CliConvert, AChainOfConversionsNamesTheFirstFile) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 133");
  const std::string dir = test::scratch_dir("convert-chain");
  ASSERT_TRUE(convert(m, dir + "/a.gguf", "f16").is_object());
  const json r = convert(dir + "/a.gguf", dir + "/b.gguf", "q8_0");
  ASSERT_TRUE(r.is_object());
  const GGUFFile b = GGUFFile::open(dir + "/b.gguf");
  EXPECT_EQ(b.get_string("paw.source.name"), fs::path(m).filename().string());
  EXPECT_EQ(b.get_string("paw.source.sha256"), sha256_file_hex(m));
  EXPECT_EQ(r["source"]["name"], fs::path(m).filename().string());
}

TEST(CliConvert, BadInputIsAClearErrorAndWritesNothing) {
  const std::string m = fixture("model --arch qwen3 --preset tiny --type f32 --seed 134");
  const std::string adapter = fixture("lora --rank 8 --alpha 16 --type f32 --seed 135 --model " + m);
  const auto& cf = test::compiler_fixture();
  const std::string dir = test::scratch_dir("convert-bad");
  const std::string text = dir + "/notes.gguf";
  test::write_file(text, "not a gguf", 10);
  const std::string out = dir + "/out.gguf";
  struct Case {
    std::string args, needle;
  };
  const std::vector<Case> cases = {
      {"-m " + m + " -o " + m, "the output is the input file"},
      {"-m " + adapter + " -o " + out, "an adapter, not a model"},
      {"-m " + cf.compiler + " -o " + out, "compiler file"},
      {"-m " + dir + "/missing.gguf -o " + out, "missing.gguf"},
      {"-m " + text + " -o " + out, "notes.gguf"},
      {"-m " + m + " -o " + out + " --type q6_K", "--type"},
  };
  const std::string before = sha256_file_hex(m);
  for (const Case& c : cases) {
    std::string err;
    EXPECT_NE(test::paw_status("convert " + c.args, &err), 0) << c.args;
    EXPECT_NE(err.find(c.needle), std::string::npos) << c.args << "\n" << err;
    EXPECT_FALSE(fs::exists(out)) << c.args;
  }
  EXPECT_EQ(sha256_file_hex(m), before) << "the input was modified";
}

TEST(CliConvert, ACompilerAcceptsACopyOfItsInterpreterOnly) {
  const auto& f = test::compiler_fixture();
  const std::string dir = test::scratch_dir("convert-compiler");
  const std::string copy = dir + "/interp-q8.gguf";
  ASSERT_TRUE(convert(f.interp, copy, "q8_0").is_object());
  const std::string spec = "Say yes when the text is polite.\n\nInput: thanks a lot\nOutput: yes";
  const json c = test::paw_json("compile --json --compiler " + f.compiler + " --spec " + quote(spec) + " -o " + dir +
                                "/p.paw --interpreter " + copy);
  ASSERT_TRUE(c.is_object());
  // The program runs on the copy as on its own base: no "other base" warning.
  std::string out;
  ASSERT_EQ(test::run_command(test::paw_cmd("run " + dir + "/p.paw " + quote("thanks") + " --max-tokens 4 --model " + copy) +
                                  " 2>&1",
                              &out),
            0)
      << out;
  EXPECT_EQ(out.find("warning"), std::string::npos) << out;
  // `paw eval` runs the compiler's programs on the copy and reports the copy's bytes.
  const std::string cases = dir + "/cases.jsonl";
  std::ofstream(cases) << json({{"spec", spec}, {"input", "thanks"}, {"output", "yes"}}).dump() << "\n";
  const json e = test::paw_json("eval -m " + copy + " --mode program --compiler " + f.compiler + " --data " + cases +
                                " --max-tokens 3 -c 256 --json --quiet");
  ASSERT_TRUE(e.is_object());
  EXPECT_EQ(e["models"][0]["total"]["n"], 1);
  EXPECT_EQ(e["models"][0]["model_bytes"].get<uint64_t>(), fs::file_size(copy));

  // A copy of another model, and a file that names the interpreter as its original but has
  // another shape, are refused with what they are; nothing is written.
  const std::string other = dir + "/other-f16.gguf";
  ASSERT_TRUE(convert(f.other_interp, other, "f16").is_object());
  const std::string forged = dir + "/forged.gguf";
  {
    const GGUFFile e = GGUFFile::open(f.encoder);
    GGUFWriter w;
    for (const auto& [k, v] : e.metadata()) w.set(k, v);
    w.set("paw.source.name", GGUFValue::string(fs::path(f.interp).filename().string()));
    w.set("paw.source.size", GGUFValue::u64(fs::file_size(f.interp)));
    w.set("paw.source.sha256", GGUFValue::string(sha256_file_hex(f.interp)));
    for (const auto& t : e.tensors()) w.add_tensor(t.name, t.type, t.ne, t.data, t.n_bytes);
    w.write(forged);
  }
  for (const auto& [file, needle] : std::vector<std::pair<std::string, std::string>>{
           {other, "converted copy of another model"}, {forged, "another shape"}, {f.other_interp, "paw convert"}}) {
    std::string err;
    EXPECT_NE(test::paw_status("compile --compiler " + f.compiler + " --spec " + quote(spec) + " -o " + dir +
                                   "/refused.paw --interpreter " + file,
                               &err),
              0)
        << file;
    EXPECT_NE(err.find(needle), std::string::npos) << file << "\n" << err;
    EXPECT_FALSE(fs::exists(dir + "/refused.paw"));
  }
}

// The shipped F16 interpreter is what its README line says: `paw convert` of S.gguf, byte for
// byte (the conversion itself is checked against numpy above), and the shipped compiler takes it.
TEST(CliConvert, TheShippedF16InterpreterIsTheConversionOfS) {
  const std::string trained = test::source_dir() + "/models/trained";
  const std::string out = test::scratch_dir("convert-shipped") + "/S-f16.gguf";
  ASSERT_TRUE(convert(trained + "/S.gguf", out, "f16").is_object());
  EXPECT_EQ(sha256_file_hex(out), sha256_file_hex(trained + "/S-f16.gguf"));
  std::string err;
  EXPECT_EQ(test::paw_status("compile --compiler " + trained + "/C.gguf --spec " + quote("Reply yes.") + " -o " +
                                 test::scratch_dir("convert-shipped") + "/p.paw --interpreter " + trained + "/S-f16.gguf",
                             &err),
            0)
      << err;
}

}  // namespace
}  // namespace paw
