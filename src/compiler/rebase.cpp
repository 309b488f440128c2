// Rebasing an experts compiler's programs (paw/compiler/rebase.hpp).
#include "paw/compiler/rebase.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "paw/compiler/compiler.hpp"
#include "paw/compiler/format.hpp"
#include "paw/formats/gguf.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/error.hpp"

namespace paw::compiler {
namespace {

// The one program of a control compiler (it ignores the spec; any text stands in for one).
std::map<std::string, LoraWeights> control_program(const Compiler& c, const std::string& role) {
  if (c.info().spec_conditioned)
    throw Error("the " + role + " compiler must be a control compiler (one program for every spec)", c.info().path,
                "pass the control the experts started from (--from) and the one it became (--to)");
  return c.adapter_weights(c.coefficients("(the control ignores the spec)"));
}

void check_same_target(const CompilerInfo& e, const CompilerInfo& c) {
  const std::string hint = "the experts and both controls must be trained for one interpreter with one LoRA shape";
  if (c.interp_sha256 != e.interp_sha256)
    throw Error("made for another interpreter (" + c.interp_name + ") than the experts (" + e.interp_name + ")", c.path, hint);
  if (c.rank != e.rank || c.alpha != e.alpha || c.modules != e.modules)
    throw Error("its programs' rank, alpha or modules differ from the experts'", c.path, hint);
}

// A control compiler's one program, checked against the experts, with where it came from.
struct ControlProgram {
  std::map<std::string, LoraWeights> weights;  // interpreter tensor name -> A/B
  std::string path, sha256;                     // the file and its SHA-256 (the compiler's fingerprint)
};

ControlProgram load_control(const std::string& path, const CompilerInfo& experts, const std::string& role) {
  const Compiler c = Compiler::open(path);
  check_same_target(experts, c.info());
  return {control_program(c, role), path, c.info().fingerprint};
}

}  // namespace

void rebase_experts(const std::string& experts_path, const std::string& from_path, const std::string& to_path,
                    const std::string& out, const RebaseOptions& o) {
  if (from_path.empty() != to_path.empty())
    throw Error("--from and --to go together", from_path.empty() ? to_path : from_path,
                "give both controls (the experts' start and the control it became), or neither with --set");
  const bool move = !from_path.empty();
  if (!move && o.set_experts.empty())
    throw Error("nothing to do: no controls to move the experts by and no expert to set", experts_path,
                "give --from and --to, or --set EXPERT=CONTROL.gguf");
  std::vector<const std::string*> inputs = {&experts_path};
  if (move) inputs.insert(inputs.end(), {&from_path, &to_path});
  for (const auto& [name, path] : o.set_experts) inputs.push_back(&path);
  for (const std::string* in : inputs)
    if (same_file(*in, out)) throw Error("the output is one of the inputs", out, "write the rebased compiler under another name");
  const Compiler experts = Compiler::open(experts_path);
  const CompilerInfo& ei = experts.info();
  if (ei.experts.empty())
    throw Error("not an experts compiler (no compiler.experts)", experts_path,
                "rebase a compiler whose programs are per-family experts, e.g. the export of train/recipes/CF.json");
  const int64_t E = static_cast<int64_t>(ei.experts.size());

  ControlProgram from, to;
  if (move) {
    from = load_control(from_path, ei, "--from");
    to = load_control(to_path, ei, "--to");
  }
  std::map<int64_t, ControlProgram> set_program;  // expert index -> the program it is set to
  for (const auto& [name, path] : o.set_experts) {
    const auto it = std::find(ei.experts.begin(), ei.experts.end(), name);
    if (it == ei.experts.end())
      throw Error("no expert named '" + name + "'", experts_path, "`paw info` on the experts compiler lists its experts");
    set_program[it - ei.experts.begin()] = load_control(path, ei, "--set " + name);
  }

  const GGUFFile src = GGUFFile::open(experts_path);
  GGUFWriter w;
  // Inherited compiler.rebase.* keys (the input was rebased before) stay only while they still
  // describe some expert: new controls move every expert, and an expert set now has a new source.
  const bool all_set = set_program.size() == static_cast<size_t>(E);
  for (const auto& [k, v] : src.metadata()) {
    if ((k == key::rebase_from || k == key::rebase_to) && (move || all_set)) continue;
    if (k.rfind(key::rebase_set_prefix, 0) == 0 && move) continue;
    w.set(k, v);
  }
  w.set(key::name, GGUFValue::string(o.name.empty() ? ei.name + " rebased" : o.name));
  if (move) {
    w.set(key::rebase_from, GGUFValue::string(from.sha256));
    w.set(key::rebase_to, GGUFValue::string(to.sha256));
  }
  for (const auto& [e, c] : set_program)
    w.set(std::string(key::rebase_set_prefix) + ei.experts[static_cast<size_t>(e)], GGUFValue::string(c.sha256));

  const std::string prefix = "compiler.bases.";  // compiler.bases.<module>.a / .b
  for (const GGUFTensorInfo& t : src.tensors()) {
    if (t.name.rfind(prefix, 0) != 0) {
      w.add_tensor(t.name, t.type, t.ne, t.data, t.n_bytes);
      continue;
    }
    if (t.type != DType::F32)
      throw Error("basis tensor '" + t.name + "' is not F32", experts_path, "rebase the trainer's F32 export");
    const bool is_a = t.name.compare(t.name.size() - 2, 2, ".a") == 0;
    const std::string module = t.name.substr(prefix.size(), t.name.size() - prefix.size() - 2);
    const std::string tensor = module_tensor(module);
    std::vector<float> v(static_cast<size_t>(t.n_elements()));
    std::memcpy(v.data(), t.data, t.n_bytes);
    // A bases: [n_bases * r rows, n_in]; B bases: [n_bases * n_out rows, r]; basis l*E + e is expert e's.
    const size_t per_basis = ei.n_bases > 0 ? v.size() / static_cast<size_t>(ei.n_bases) : 0;
    if (per_basis == 0 || per_basis * static_cast<size_t>(ei.n_bases) != v.size() || ei.n_bases < ei.interp_n_layer * E)
      throw Error("basis tensor '" + t.name + "' does not hold " + std::to_string(ei.n_bases) + " bases", experts_path,
                  "the experts compiler is damaged; export it again");
    for (int64_t l = 0; l < ei.interp_n_layer; ++l) {
      const std::string base = "blk." + std::to_string(l) + "." + tensor + ".weight";
      // One program's factor for this layer and module, checked against the basis size.
      auto factor = [&](const ControlProgram& c) -> const std::vector<float>& {
        const auto f = c.weights.find(base);
        if (f == c.weights.end())
          throw Error("the control has no program for '" + base + "'", c.path, "the controls and the experts differ");
        const std::vector<float>& x = is_a ? f->second.a : f->second.b;
        if (x.size() != per_basis)
          throw Error("basis tensor '" + t.name + "' does not match the controls' programs", experts_path,
                      "the controls and the experts differ in shape");
        return x;
      };
      const std::vector<float>* df = move ? &factor(from) : nullptr;
      const std::vector<float>* dg = move ? &factor(to) : nullptr;
      for (int64_t e = 0; e < E; ++e) {
        float* basis = v.data() + static_cast<size_t>(l * E + e) * per_basis;
        if (const auto s = set_program.find(e); s != set_program.end()) {
          const std::vector<float>& x = factor(s->second);
          std::copy(x.begin(), x.end(), basis);
        } else if (move) {
          for (size_t i = 0; i < per_basis; ++i) basis[i] += (*dg)[i] - (*df)[i];
        }
      }
      if (o.average_experts) {
        float* first = v.data() + static_cast<size_t>(l * E) * per_basis;
        for (size_t i = 0; i < per_basis; ++i) {
          double sum = 0;
          for (int64_t e = 0; e < E; ++e) sum += first[static_cast<size_t>(e) * per_basis + i];
          for (int64_t e = 0; e < E; ++e) first[static_cast<size_t>(e) * per_basis + i] = static_cast<float>(sum / E);
        }
      }
    }
    w.add_tensor(t.name, DType::F32, t.ne, v.data(), v.size() * sizeof(float));
  }
  w.write(out);
}

}  // namespace paw::compiler
