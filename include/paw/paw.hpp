#pragma once
// paw — the public C++ API in one include.
//
//   #include <paw/paw.hpp>
//
//   auto interp = paw::Interpreter::open("qwen3-0.6b-q6_k.gguf");   // one shared base model
//   auto triage = paw::Program::open("triage.paw", interp);         // LoRA + prompt template
//   std::string out = triage("Newsletter: spring picnic");          // "wait"
//
//   // Or let the program find its base model in the cache ($PAW_CACHE_DIR/base_models/):
//   auto fn = paw::Program::open("triage.paw");
//
//   // The adapter-free base interpreter of the reference:
//   auto base = paw::Program::base(interp);
//
//   // Spec -> program with the default compiler (docs/API.md "Compiler"):
//   auto urgent = paw::Compiler::open().compile_program("Classify urgency: ...", interp);
//
//   // Calls of many programs from many threads, decoded together (one forward per token):
//   paw::BatchRunner batch(interp);
//   auto r = batch.run(triage, "Newsletter: spring picnic");
//
// Many programs share one Interpreter (one copy of the weights); a Program may be called
// from many threads at once. Errors are paw::Error (what failed, where, and a hint).
// docs/API.md describes this API.
#include "paw/batch.hpp"
#include "paw/compile.hpp"
#include "paw/interpreter.hpp"
#include "paw/run.hpp"
#include "paw/util/error.hpp"
#include "paw/version.hpp"
