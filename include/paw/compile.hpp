#pragma once
// paw::Compiler — turns a spec into a program with a compiler file (the public face of the
// compiler layer, paw/compiler/compiler.hpp; docs/API.md "Compiler").
//
//   paw::Compiler c = paw::Compiler::open();                      // the default compiler
//   paw::Program fn = c.compile_program("Classify urgency: ...", interp);
//   std::string out = fn("server down");
//
//   paw::CompileResult p = c.compile("Classify urgency: ...");    // or keep the .paw bytes
//   p.write("triage.paw");                                        // atomic write
//
// Determinism: the same spec, compiler file and options give the same bytes and program id.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "paw/interpreter.hpp"
#include "paw/run.hpp"

namespace paw {

namespace compiler { class Compiler; }

struct CompileOptions {
  std::string adapter_type;   // "f32", "f16", "q8_0", "q4_0"; empty = the compiler's default
  int n_threads = 0;          // encoder threads; 0 = one per physical core
  // Experts compilers (the shipped one), opt in: check the router's choice with the spec's
  // Input:/Output: examples, run through every expert's program on an interpreter (compile():
  // `check_with`, which must be the compiler's; compile_program(): its own); an expert whose
  // program answers more of them replaces it (docs/API.md "Compiler").
  bool expert_check = false;
  const Interpreter* check_with = nullptr;
  std::string expert{};       // this expert's program, whatever the router says (a name of experts())
};

// An experts compiler's routing of one spec: an expert (e.g. the task family its program was
// trained on) and its weight; a weight of 1.00 means the program is that expert's.
struct ExpertWeight {
  std::string name;
  float weight = 0;
};

struct CompileResult {
  std::string program_id;       // content address of the bundle
  std::string pseudo_program;   // the text the template carries ("spec" strategy: the normalised spec)
  std::vector<uint8_t> paw;     // the .paw file's bytes (deterministic ZIP)
  double compile_ms = 0;        // encoder + mapper + adapter + bundle
  std::vector<ExpertWeight> experts;  // experts compilers: every expert, heaviest first; else empty
  std::string expert;           // experts compilers: the expert whose program this is
  std::string expert_chosen_by; // "router", "examples" (the check overruled the router) or "option" (CompileOptions::expert)
  // Writes the .paw bytes to `path` atomically (a temporary file renamed into place).
  void write(const std::string& path) const;
};

class Compiler {
 public:
  // Opens and validates a compiler GGUF. `path` empty: the default compiler — $PAW_COMPILER,
  // else the only *.gguf in $PAW_CACHE_DIR/compilers/, else the compiler shipped with the
  // source tree paw was built from (models/trained/C.gguf). Throws paw::Error naming the file,
  // key or tensor at fault, or saying that no compiler was found.
  static Compiler open(const std::string& path = {});

  const std::string& path() const;
  const std::string& name() const;                // meta.json compiler_snapshot
  const std::string& interpreter_sha256() const;  // SHA-256 of the interpreter its programs run on
  bool spec_conditioned() const;                  // false: a control compiler (one program for every spec)
  const std::vector<std::string>& experts() const;  // an experts compiler's experts (file order); else empty

  // Throws paw::Error unless `interp` was loaded from the file this compiler was trained for
  // (same size and SHA-256) or from a copy of it in another weight type made by `paw convert`
  // (it names that file as its original and has its shape).
  void check_interpreter(const Interpreter& interp) const;

  // The .paw program of `spec`. Throws paw::Error for an empty or whitespace-only spec, a spec
  // longer than the compiler reads (saying tokens and bytes), an unknown adapter type.
  CompileResult compile(std::string_view spec, const CompileOptions& o = {}) const;

  // compile() then Program::open on `interp` (checked with check_interpreter first). The
  // program is not written anywhere; its prefix is evaluated in this process.
  Program compile_program(std::string_view spec, const Interpreter& interp, const CompileOptions& o = {},
                          const ProgramOptions& po = {}) const;

 private:
  explicit Compiler(std::shared_ptr<const compiler::Compiler> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const compiler::Compiler> impl_;
};

}  // namespace paw
