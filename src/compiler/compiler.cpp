// Native compile (see paw/compiler/compiler.hpp): compiler GGUF -> encoder hidden states ->
// mapper -> LoRA from the shared bases -> adapter GGUF + template + meta.json -> bundle.
#include "paw/compiler/compiler.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "paw/compiler/format.hpp"
#include "paw/compiler/spec_examples.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/model/convert.hpp"
#include "paw/model/model.hpp"
#include "paw/program/base_model.hpp"
#include "paw/program/meta.hpp"
#include "paw/runtime/session.hpp"
#include "paw/tensor/quantize.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/error.hpp"
#include "paw/util/sha256.hpp"

namespace paw::compiler {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// A tensor of the compiler file as floats, its GGUF shape checked.
std::vector<float> read_f32(const GGUFFile& f, const std::string& name, const std::vector<int64_t>& ne) {
  const GGUFTensorInfo* t = f.find_tensor(name);
  if (!t) throw Error("tensor '" + name + "' is missing", f.path(), "the compiler file is incomplete or damaged");
  if (t->ne != ne) {
    auto dims = [](const std::vector<int64_t>& v) {
      std::string s;
      for (const int64_t x : v) {
        if (!s.empty()) s += ", ";
        s += std::to_string(x);
      }
      return s;
    };
    const std::string want = dims(ne), got = dims(t->ne);
    throw Error("tensor '" + name + "' has shape [" + got + "], expected [" + want + "]",
                at_offset(f.path(), t->file_offset), "the compiler file does not match its own metadata");
  }
  const auto& tr = traits(t->type);
  if (!tr.can_dequantize)
    throw Error("tensor '" + name + "' has a weight type paw cannot read", at_offset(f.path(), t->file_offset));
  std::vector<float> out(static_cast<size_t>(t->n_elements()));
  const int64_t cols = t->ne[0], rows = t->rows();
  const uint64_t rb = t->n_bytes / static_cast<uint64_t>(std::max<int64_t>(rows, 1));
  for (int64_t r = 0; r < rows; ++r) dequantize_row(t->type, t->data + r * rb, out.data() + r * cols, cols);
  for (float v : out)
    if (!std::isfinite(v))
      throw Error("tensor '" + name + "' holds a non-finite value", at_offset(f.path(), t->file_offset),
                  "the compiler file is damaged");
  return out;
}

int64_t get_int(const GGUFFile& f, const char* key, int64_t lo, int64_t hi) {
  const uint64_t v = f.get_u64(key);
  if (v < static_cast<uint64_t>(lo) || v > static_cast<uint64_t>(hi))
    throw Error(std::string("metadata '") + key + "' = " + std::to_string(v) + " is out of range [" +
                    std::to_string(lo) + ", " + std::to_string(hi) + "]",
                f.path(), "the compiler file is damaged");
  return static_cast<int64_t>(v);
}

// coef_activation "softmax": each (layer, module, A|B) group — the n_bases coefficients at
// stride 2 inside a block of 2 * n_bases (coef_index) — becomes a softmax over the bases.
void softmax_over_bases(std::vector<float>& c, int64_t n_bases) {
  const size_t block = static_cast<size_t>(2 * n_bases);
  for (size_t base = 0; base + block <= c.size(); base += block)
    for (size_t ab = 0; ab < 2; ++ab) {
      double mx = -INFINITY, sum = 0;
      for (size_t b = ab; b < block; b += 2) mx = std::max(mx, static_cast<double>(c[base + b]));
      std::vector<double> e(static_cast<size_t>(n_bases));
      for (size_t b = ab, i = 0; b < block; b += 2, ++i) sum += e[i] = std::exp(static_cast<double>(c[base + b]) - mx);
      for (size_t b = ab, i = 0; b < block; b += 2, ++i) c[base + b] = static_cast<float>(e[i] / sum);
    }
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

}  // namespace

struct Compiler::Impl {
  CompilerInfo info;
  std::shared_ptr<const Model> encoder;
  Tokenizer tok;
  int32_t eos = -1;
  std::vector<float> fc1_w, fc1_b, fc2_w, fc2_b;  // [H, d], [H], [n_coef, H], [n_coef]
  struct Bases {
    std::string tensor;  // GGUF tensor of the module: attn_q, ffn_down, ...
    int64_t n_in = 0, n_out = 0;
    std::vector<float> a, b;  // [n_bases * r, n_in], [n_bases * n_out, r]
  };
  std::vector<Bases> bases;

  // Mapper coefficients of a spec and its pseudo-program; `n_tokens` = the encoder input's length.
  std::vector<float> coefficients(std::string_view spec, std::string_view pseudo_program, int64_t& n_tokens) const;
};

Compiler::Compiler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Compiler::Compiler(Compiler&&) noexcept = default;
Compiler& Compiler::operator=(Compiler&&) noexcept = default;
Compiler::~Compiler() = default;
const CompilerInfo& Compiler::info() const { return impl_->info; }

Compiler Compiler::open(const std::string& path) {
  auto m = std::make_unique<Impl>();
  CompilerInfo& ci = m->info;
  GGUFFile f = GGUFFile::open(path);
  if (f.get_string_or("general.type", "") != kGeneralType)
    throw Error("not a compiler file: general.type is '" + f.get_string_or("general.type", "") + "', not 'compiler'",
                path, "pass a compiler GGUF such as models/trained/C.gguf (paw info tells what a file is)");
  const uint64_t version = f.get_u64(key::version);
  if (version < kOldestFormatVersion || version > kFormatVersion)
    throw Error("compiler format version " + std::to_string(version) + " is not supported (this paw reads " +
                    std::to_string(kOldestFormatVersion) + " to " + std::to_string(kFormatVersion) + ")",
                path, "use a compiler written for this version of paw");
  ci.path = path;
  ci.file_size = f.file_size();
  ci.name = f.get_string(key::name);
  ci.prefix_tokens = get_int(f, key::prefix_tokens, 1, 4096);
  ci.prefix_first_id = get_int(f, key::prefix_first_id, 0, 1 << 24);
  ci.n_bases = get_int(f, key::n_bases, 1, 4096);
  ci.rank = get_int(f, key::lora_rank, 1, 4096);
  ci.mapper_hidden = get_int(f, key::mapper_hidden, 1, 1 << 16);
  ci.alpha = f.get_f64(key::lora_alpha);
  ci.modules = f.get(key::lora_modules).as_string_array();
  if (ci.modules.empty() || sorted_modules(ci.modules) != ci.modules)
    throw Error("compiler.lora.modules must be a non-empty list sorted by name without repeats", path);
  ci.encoder_layers = f.get(key::encoder_layers).as_int_array();
  ci.spec_conditioned = f.get(key::spec_conditioned).as_bool();
  if (version >= 2)
    ci.coef_activation = parse_coef_activation(f.get_string(key::coef_activation), path + ": " + key::coef_activation);
  if (const GGUFValue* e = f.find(key::experts)) {
    const std::string where = path + ": " + key::experts;
    if (e->type() != GGUFType::ARRAY || e->elem_type() != GGUFType::STRING)
      throw Error("compiler.experts must be an array of strings", where);
    ci.experts = e->as_string_array();
    const std::set<std::string> unique(ci.experts.begin(), ci.experts.end());
    if (ci.experts.empty() || unique.size() != ci.experts.size() || unique.count(""))
      throw Error("compiler.experts must name each expert once", where, "one non-empty name per expert");
    if (ci.coef_activation != CoefActivation::Softmax)
      throw Error("compiler.experts needs softmax coefficients", where, "an experts compiler routes with a softmax");
  }
  ci.program_template = f.get_string(key::program_template);
  render_template(ci.program_template, "");  // checks the placeholders
  ci.adapter_type = f.get_string_or(key::adapter_type, "q4_0");
  ci.interp_name = f.get_string(key::interp_name);
  ci.interp_sha256 = f.get_string(key::interp_sha256);
  ci.interp_size = f.get_u64(key::interp_size);
  ci.interp_arch = f.get_string(key::interp_arch);
  ci.interp_n_layer = get_int(f, key::interp_n_layer, 1, 4096);
  ci.interp_n_embd = get_int(f, key::interp_n_embd, 1, 1 << 20);
  ci.interp_n_vocab = get_int(f, key::interp_n_vocab, 1, 1 << 24);
  if (static_cast<int64_t>(ci.encoder_layers.size()) != ci.interp_n_layer)
    throw Error("compiler.encoder_layers lists " + std::to_string(ci.encoder_layers.size()) +
                    " layers, the interpreter has " + std::to_string(ci.interp_n_layer),
                path, "one encoder layer per interpreter layer");
  if (!ci.experts.empty() && ci.n_bases != ci.interp_n_layer * static_cast<int64_t>(ci.experts.size()))
    throw Error("compiler.experts names " + std::to_string(ci.experts.size()) + " experts, but " +
                    std::to_string(ci.n_bases) + " bases are not " + std::to_string(ci.interp_n_layer) +
                    " interpreter layers times that",
                path + ": " + key::experts, "an experts compiler has n_bases = interpreter layers x experts");
  if (ci.interp_name.empty() || ci.interp_name.find('/') != std::string::npos ||
      ci.interp_name.find('\\') != std::string::npos || ci.interp_name == "." || ci.interp_name == "..")
    throw Error("compiler.interpreter.name must be a plain file name", path);

  m->tok = Tokenizer::from_gguf(f);
  m->eos = m->tok.eos_id().value_or(-1);
  if (m->eos < 0) throw Error("the compiler's tokenizer has no EOS token", path, "tokenizer.ggml.eos_token_id is missing");
  ModelLoadOptions lo;
  lo.interleave = false;
  m->encoder = Model::from_gguf(std::move(f), lo);
  const HParams& hp = m->encoder->hparams();
  const GGUFFile& g = *m->encoder->gguf();
  if (hp.arch != Arch::Qwen3) throw Error("the compiler's encoder must be a qwen3 model", path);
  ci.encoder_n_layer = hp.n_layer;
  ci.encoder_n_embd = hp.n_embd;
  ci.encoder_n_ctx = hp.n_ctx_train;
  ci.encoder_params = m->encoder->n_params();
  if (ci.prefix_first_id + ci.prefix_tokens > hp.n_vocab)
    throw Error("the prefix tokens lie outside the encoder's embedding table", path);
  for (const int64_t l : ci.encoder_layers)
    if (l < 0 || l >= hp.n_layer)
      throw Error("compiler.encoder_layers names layer " + std::to_string(l) + " of a " + std::to_string(hp.n_layer) +
                      "-layer encoder",
                  path);

  const int64_t d = hp.n_embd, H = ci.mapper_hidden, NC = ci.n_coefficients();
  m->fc1_w = read_f32(g, "mapper.fc1.weight", {d, H});
  m->fc1_b = read_f32(g, "mapper.fc1.bias", {H});
  m->fc2_w = read_f32(g, "mapper.fc2.weight", {H, NC});
  m->fc2_b = read_f32(g, "mapper.fc2.bias", {NC});
  for (const std::string& kind : ci.modules) {
    Impl::Bases b;
    b.tensor = module_tensor(kind);
    const std::string pa = "compiler.bases." + kind + ".a", pb = "compiler.bases." + kind + ".b";
    const GGUFTensorInfo* ta = g.find_tensor(pa);
    const GGUFTensorInfo* tb = g.find_tensor(pb);
    if (!ta || !tb || ta->ne.size() != 2 || tb->ne.size() != 2 || tb->ne[1] % ci.n_bases != 0)
      throw Error("the bases of module '" + kind + "' are missing or misshapen", path,
                  "expected " + pa + " [n_in, n_bases*rank] and " + pb + " [rank, n_bases*n_out]");
    b.n_in = ta->ne[0];
    b.n_out = tb->ne[1] / ci.n_bases;
    b.a = read_f32(g, pa, {b.n_in, ci.n_bases * ci.rank});
    b.b = read_f32(g, pb, {ci.rank, ci.n_bases * b.n_out});
    m->bases.push_back(std::move(b));
  }
  ci.fingerprint = sha256_file_hex(path);
  return Compiler(std::move(m));
}

void Compiler::check_interpreter(const std::string& p, const std::string& known_sha256) const {
  const CompilerInfo& ci = impl_->info;
  std::error_code ec;
  const auto size = std::filesystem::file_size(p, ec);
  if (ec) throw Error("cannot read the interpreter file", p, "check the path");
  const std::string hint = "this compiler makes programs for " + ci.interp_name + " (" + std::to_string(ci.interp_size) +
                           " bytes, sha256 " + ci.interp_sha256 + ")";
  if (size == ci.interp_size && (known_sha256.empty() ? sha256_file_hex(p) : known_sha256) == ci.interp_sha256) return;
  // A copy of the interpreter in another weight type (`paw convert`) names its original: the
  // same weights, rounded, which the compiler's programs were trained for.
  std::optional<ModelSource> source;
  bool same_shape = false;
  try {
    const GGUFFile f = GGUFFile::open(p);
    source = converted_from(f);
    const std::string arch = f.get_string_or("general.architecture", "");
    same_shape = arch == ci.interp_arch &&
                 f.get_u64_or(arch + ".block_count", 0) == static_cast<uint64_t>(ci.interp_n_layer) &&
                 f.get_u64_or(arch + ".embedding_length", 0) == static_cast<uint64_t>(ci.interp_n_embd);
  } catch (const Error&) {
    // not a GGUF, or a malformed record: not a copy of this interpreter (the error below says why)
  }
  if (source && source->size == ci.interp_size && source->sha256 == ci.interp_sha256) {
    if (same_shape) return;
    throw Error("the interpreter names this compiler's interpreter as its original but has another shape", p,
                hint + "; convert the original again with `paw convert`");
  }
  if (source)
    throw Error("the interpreter is a converted copy of another model (" + source->name + ", sha256 " + source->sha256 + ")",
                p, hint);
  const std::string or_copy = hint + "; a copy made from it by `paw convert` is accepted too";
  if (size != ci.interp_size)
    throw Error("the interpreter is not the one this compiler was trained for (size " + std::to_string(size) +
                    " bytes, expected " + std::to_string(ci.interp_size) + ")",
                p, or_copy);
  throw Error("the interpreter is not the one this compiler was trained for (SHA-256 differs)", p, or_copy);
}

std::vector<float> Compiler::coefficients(std::string_view spec) const {
  int64_t n_tokens = 0;
  return impl_->coefficients(spec, normalize_spec(spec), n_tokens);
}

std::vector<float> Compiler::Impl::coefficients(std::string_view spec, std::string_view pseudo_program,
                                                int64_t& n_tokens) const {
  const Impl& m = *this;
  const CompilerInfo& ci = m.info;
  if (blank(spec)) throw Error("the spec is empty", "spec", "describe the function in words, with a few examples");
  EncoderInputOptions eo;
  eo.eos_id = m.eos;
  eo.prefix_first_id = static_cast<int32_t>(ci.prefix_first_id);
  eo.prefix_tokens = ci.prefix_tokens;
  eo.max_tokens = ci.encoder_n_ctx;
  eo.spec_conditioned = ci.spec_conditioned;
  const std::vector<int32_t> ids = encoder_input(m.tok, spec, pseudo_program, eo);
  n_tokens = static_cast<int64_t>(ids.size());

  SessionOptions so;
  so.n_ctx = static_cast<int64_t>(ids.size());
  so.n_batch = static_cast<int64_t>(ids.size());
  so.kv_type = DType::F32;  // exact mode: the encoder's states as the trainer computes them
  Session s(m.encoder, so);
  const std::set<int64_t> uniq(ci.encoder_layers.begin(), ci.encoder_layers.end());
  EvalOptions ev;
  for (const int64_t l : uniq) ev.hidden_layers.push_back(static_cast<int>(l));
  ev.hidden_last = ci.prefix_tokens;
  s.prefill(ids, ev);
  const HiddenStates& h = s.hidden_states();

  // Mean over the chosen layers (with their multiplicity) and the K prefix positions.
  const int64_t d = ci.encoder_n_embd, H = ci.mapper_hidden, NC = ci.n_coefficients();
  std::vector<double> pooled(static_cast<size_t>(d), 0.0);
  for (const int64_t l : ci.encoder_layers) {
    const size_t li = static_cast<size_t>(std::distance(uniq.begin(), uniq.find(l)));
    for (int64_t r = 0; r < h.n_pos; ++r) {
      const auto row = h.at(li, r);
      for (int64_t i = 0; i < d; ++i) pooled[static_cast<size_t>(i)] += row[static_cast<size_t>(i)];
    }
  }
  const double denom = static_cast<double>(ci.prefix_tokens) * static_cast<double>(ci.encoder_layers.size());
  for (double& v : pooled) v /= denom;
  // hidden = GELU(fc1 · pooled + b1) (erf form), coefficients = fc2 · hidden + b2.
  std::vector<double> hid(static_cast<size_t>(H));
  for (int64_t o = 0; o < H; ++o) {
    double acc = m.fc1_b[static_cast<size_t>(o)];
    const float* w = m.fc1_w.data() + o * d;
    for (int64_t i = 0; i < d; ++i) acc += static_cast<double>(w[i]) * pooled[static_cast<size_t>(i)];
    hid[static_cast<size_t>(o)] = 0.5 * acc * (1.0 + std::erf(acc / std::sqrt(2.0)));
  }
  std::vector<float> c(static_cast<size_t>(NC));
  for (int64_t o = 0; o < NC; ++o) {
    double acc = m.fc2_b[static_cast<size_t>(o)];
    const float* w = m.fc2_w.data() + o * H;
    for (int64_t i = 0; i < H; ++i) acc += static_cast<double>(w[i]) * hid[static_cast<size_t>(i)];
    c[static_cast<size_t>(o)] = static_cast<float>(acc);
  }
  if (ci.coef_activation == CoefActivation::Softmax) softmax_over_bases(c, ci.n_bases);
  return c;
}

std::map<std::string, LoraWeights> Compiler::adapter_weights(const std::vector<float>& c) const {
  const Impl& m = *impl_;
  const CompilerInfo& ci = m.info;
  if (static_cast<int64_t>(c.size()) != ci.n_coefficients())
    throw Error("expected " + std::to_string(ci.n_coefficients()) + " coefficients, got " + std::to_string(c.size()),
                "Compiler::adapter_weights");
  const int64_t M = static_cast<int64_t>(m.bases.size()), NB = ci.n_bases, r = ci.rank;
  std::map<std::string, LoraWeights> pairs;
  for (int64_t l = 0; l < ci.interp_n_layer; ++l) {
    for (int64_t mi = 0; mi < M; ++mi) {
      const Impl::Bases& b = m.bases[static_cast<size_t>(mi)];
      LoraWeights w;
      w.rank = r;
      w.n_in = b.n_in;
      w.n_out = b.n_out;
      std::vector<double> a(static_cast<size_t>(r * b.n_in), 0.0), bb(static_cast<size_t>(b.n_out * r), 0.0);
      for (int64_t k = 0; k < NB; ++k) {
        const double ca = c[static_cast<size_t>(coef_index(l, mi, k, 0, M, NB))];
        const double cb = c[static_cast<size_t>(coef_index(l, mi, k, 1, M, NB))];
        // A basis with both coefficients exactly 0 adds nothing (the bases are finite): an
        // expert's program (expert_coefficients) reads one basis per layer, not all of them.
        if (ca == 0.0 && cb == 0.0) continue;
        const float* pa = b.a.data() + k * r * b.n_in;   // basis k of A: [r, n_in]
        const float* pb = b.b.data() + k * b.n_out * r;  // basis k of B: [n_out, r]
        for (size_t i = 0; i < a.size(); ++i) a[i] += ca * pa[i];
        for (size_t i = 0; i < bb.size(); ++i) bb[i] += cb * pb[i];
      }
      w.a.assign(a.begin(), a.end());
      w.b.assign(bb.begin(), bb.end());
      pairs["blk." + std::to_string(l) + "." + b.tensor + ".weight"] = std::move(w);
    }
  }
  return pairs;
}

namespace {

DType adapter_dtype(const std::string& asked, const CompilerInfo& ci) {
  const std::string type_name = asked.empty() ? ci.adapter_type : asked;  // any case
  const auto type = dtype_from_name(type_name);
  if (!type || (*type != DType::F32 && *type != DType::F16 && *type != DType::Q8_0 && *type != DType::Q4_0))
    throw Error("unknown adapter type '" + type_name + "'", "--adapter-type", "use f32, f16, q8_0 or q4_0");
  return *type;
}

}  // namespace

std::vector<float> Compiler::expert_weights(const std::vector<float>& c) const {
  const CompilerInfo& ci = impl_->info;
  const int64_t E = static_cast<int64_t>(ci.experts.size()), M = static_cast<int64_t>(ci.modules.size());
  if (E == 0) return {};
  if (static_cast<int64_t>(c.size()) != ci.n_coefficients())
    throw Error("coefficients of the wrong size", ci.path, "pass coefficients() of this compiler");
  // Layer 0's expert block of the first module's A coefficients: basis e (= 0 * E + e).
  std::vector<float> w(static_cast<size_t>(E));
  double sum = 0;
  for (int64_t e = 0; e < E; ++e) sum += w[static_cast<size_t>(e)] = c[static_cast<size_t>(coef_index(0, 0, e, 0, M, ci.n_bases))];
  if (sum > 0)
    for (float& v : w) v = static_cast<float>(v / sum);
  return w;
}

std::optional<size_t> Compiler::find_expert(std::string_view name) const {
  const std::vector<std::string>& names = impl_->info.experts;
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return std::nullopt;
  return static_cast<size_t>(it - names.begin());
}

std::vector<float> Compiler::expert_coefficients(size_t e) const {
  const CompilerInfo& ci = impl_->info;
  const int64_t E = static_cast<int64_t>(ci.experts.size()), M = static_cast<int64_t>(ci.modules.size());
  if (E == 0) throw Error("the compiler has no experts", ci.path);
  if (e >= ci.experts.size()) throw Error("expert " + std::to_string(e) + " of " + std::to_string(E), ci.path);
  // Layer l's program is basis l * E + e of each module, with weight 1 on A and B (the
  // trainer's coefficients_of with a one-hot routing).
  std::vector<float> c(static_cast<size_t>(ci.n_coefficients()), 0.0f);
  for (int64_t l = 0; l < ci.interp_n_layer; ++l)
    for (int64_t mi = 0; mi < M; ++mi)
      for (int64_t ab = 0; ab < 2; ++ab)
        c[static_cast<size_t>(coef_index(l, mi, l * E + static_cast<int64_t>(e), ab, M, ci.n_bases))] = 1.0f;
  return c;
}

CompiledProgram Compiler::compile(std::string_view spec, const CompileOptions& o) const {
  const CompilerInfo& ci = impl_->info;
  const auto t0 = Clock::now();
  if (o.pseudo_program_strategy != "spec")
    throw Error("unknown pseudo-program strategy '" + o.pseudo_program_strategy + "'", "--pseudo-program",
                "this build has the \"spec\" strategy (the normalised spec)");
  adapter_dtype(o.adapter_type, ci);  // a bad type fails before the encoder runs

  const std::string pseudo = normalize_spec(spec);
  int64_t encoder_tokens = 0;
  const auto t1 = Clock::now();
  std::vector<float> c = impl_->coefficients(spec, pseudo, encoder_tokens);  // checks the spec
  const double encoder_ms = ms_since(t1);
  const std::vector<float> w = expert_weights(c);
  size_t expert = static_cast<size_t>(std::max_element(w.begin(), w.end()) - w.begin());  // first heaviest
  std::string chosen_by = "router";
  std::vector<ExpertExampleScore> scores;
  double check_ms = 0;
  if (!o.expert.empty()) {
    const std::optional<size_t> named = find_expert(o.expert);
    if (!named) {
      std::string names;
      for (const std::string& n : ci.experts) names += (names.empty() ? "" : ", ") + n;
      throw Error("unknown expert '" + o.expert + "'", "--expert",
                  ci.experts.empty() ? "this compiler has no experts" : "this compiler's experts: " + names);
    }
    expert = *named;
    chosen_by = "option";
    c = expert_coefficients(expert);
  } else if (o.expert_check && !w.empty() && ci.spec_conditioned) {
    const auto tc = Clock::now();
    scores = o.expert_check->score(*this, pseudo, spec_examples(spec), o.adapter_type);
    const size_t pick = o.expert_check->choose(scores, expert);
    if (pick != expert) {
      expert = pick;
      chosen_by = "examples";
      c = expert_coefficients(pick);
    }
    check_ms = ms_since(tc);
  }
  const auto t2 = Clock::now();
  const auto pairs = adapter_weights(c);
  const double mapper_ms = ms_since(t2);
  PackageOptions po;
  po.adapter_type = o.adapter_type;
  po.extra_meta = {{"pseudo_program_strategy", o.pseudo_program_strategy}};
  CompiledProgram p = package(spec, pairs, po);
  p.encoder_tokens = encoder_tokens;
  for (size_t e = 0; e < w.size(); ++e) p.experts.push_back({ci.experts[e], w[e]});
  if (!w.empty()) {
    p.expert = ci.experts[expert];
    p.expert_chosen_by = chosen_by;
    p.example_scores = std::move(scores);
  }
  std::stable_sort(p.experts.begin(), p.experts.end(),
                   [](const CompiledProgram::ExpertRoute& a, const CompiledProgram::ExpertRoute& b) { return a.weight > b.weight; });
  p.timings.encoder_ms = encoder_ms;
  p.timings.mapper_ms = mapper_ms;
  p.timings.expert_check_ms = check_ms;
  p.timings.total_ms = ms_since(t0);
  return p;
}

CompiledProgram Compiler::package(std::string_view spec, const std::map<std::string, LoraWeights>& pairs,
                                  const PackageOptions& o) const {
  const CompilerInfo& ci = impl_->info;
  const auto t0 = Clock::now();
  const DType type = adapter_dtype(o.adapter_type, ci);
  CompiledProgram p;
  p.pseudo_program = normalize_spec(spec);
  if (p.pseudo_program.empty()) throw Error("the spec is empty", "spec", "describe the function in words, with a few examples");
  GGUFWriter w = make_lora_gguf_writer(ci.interp_arch, static_cast<float>(ci.alpha), pairs, type);
  w.set("general.name", GGUFValue::string("paw program (" + ci.name + ")"));
  const std::vector<uint8_t> adapter = w.to_bytes();
  p.timings.adapter_ms = ms_since(t0);

  const auto t4 = Clock::now();
  const std::string stem = std::filesystem::path(ci.interp_name).stem().string();
  // paw-only base (local_sdk.supported false, paw_native.supported true), or the reference's
  // canonical runtime when the interpreter is its published file (docs/FORMATS.md).
  RuntimeManifest rm = paw_runtime_manifest(ci.interp_name, ci.interp_size, ci.interp_sha256, ci.interp_arch,
                                            static_cast<int>(ci.encoder_n_ctx));
  if (!rm.local_supported) rm.display_name = "paw " + stem + " (trained tiny interpreter)";
  nlohmann::json meta = {{"version", 4},
                         {"interpreter", rm.interpreter},
                         {"spec", std::string(spec)},
                         {"compiler_snapshot", ci.name},
                         {"compiler_fingerprint", ci.fingerprint},
                         {"compiler_kind", o.compiler_kind},
                         {"pseudo_program_strategy", "spec"},
                         {"lora_rank", ci.rank},
                         {"lora_alpha", ci.alpha},
                         {"prefix_steps", ci.prefix_tokens},
                         {"adapter_type", std::string(dtype_name(type))},
                         {"runtime_id", rm.runtime_id},
                         {"runtime", rm.to_json()}};
  for (const auto& [k, v] : o.extra_meta.items()) meta[k] = v;
  Bundle& b = p.bundle;
  b.source = "compiled program";
  b.meta_json = meta.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  b.prompt_template = render_template(ci.program_template, p.pseudo_program);
  b.adapter = adapter;
  validate_bundle(b);
  p.program_id = assign_program_id(b);
  p.timings.bundle_ms = ms_since(t4);
  p.timings.total_ms = ms_since(t0);
  return p;
}

std::vector<uint8_t> CompiledProgram::paw_bytes() const { return pack_bundle_bytes(bundle); }

void CompiledProgram::write(const std::string& path) const { atomic_write_file(path, paw_bytes()); }

std::string find_default_compiler(const std::string& given, const std::string& cache_dir) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("PAW_COMPILER"); env && *env) return env;
  const std::string dir = (cache_dir.empty() ? default_cache_dir() : cache_dir) + "/compilers";
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".gguf" && e.is_regular_file()) found.push_back(e.path().string());
  std::sort(found.begin(), found.end());
  if (found.size() == 1) return found[0];
  if (found.size() > 1) {
    std::string list;
    for (const std::string& f : found) list += (list.empty() ? "" : ", ") + std::filesystem::path(f).filename().string();
    throw Error("several compilers in the cache: " + list, dir, "pass --compiler FILE (or set PAW_COMPILER)");
  }
#ifdef PAW_SOURCE_DIR
  // The compiler shipped in the source tree this library was built from.
  const std::string shipped = std::string(PAW_SOURCE_DIR) + "/models/trained/C.gguf";
  if (std::filesystem::exists(shipped)) return shipped;
#endif
  return {};
}

}  // namespace paw::compiler
