// `paw convert -m MODEL.gguf --type f16|q8_0|q4_0|f32 -o OUT.gguf [--json]`
// A model's weight matrices in another type (paw/model/convert.hpp): F16 halves an F32 file,
// Q8_0 quarters it. The copy names its original, so a compiler trained for the original
// accepts it (`paw compile --interpreter`, `paw eval`, `paw serve`).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.hpp"
#include "paw/model/convert.hpp"
#include "paw/util/error.hpp"

namespace paw::cli {
namespace {

struct ConvertCliOptions {
  std::string model;
  std::string out;
  std::string type = "f16";  // the matrices' new type
  bool json = false;
};

void run_convert(const ConvertCliOptions& o) {
  ConvertOptions co;
  co.type = *dtype_from_name(o.type);  // CLI11 checked the name
  const ConvertReport r = convert_model_gguf(o.model, o.out, co);
  if (o.json) {
    nlohmann::ordered_json j = {{"output", o.out},
                                {"type", o.type},
                                {"converted", r.converted},
                                {"fallback_f16", r.fallback_f16},
                                {"kept", r.kept},
                                {"bytes_in", r.bytes_in},
                                {"bytes_out", r.bytes_out},
                                {"source", {{"name", r.source_name}, {"sha256", r.source_sha256}}}};
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s -> %s: %d matrices in %s", o.model.c_str(), o.out.c_str(), r.converted, o.type.c_str());
  if (r.fallback_f16 > 0) std::printf(", %d in f16 (rows not whole blocks)", r.fallback_f16);
  std::printf(", %d tensors kept; %.2f MB -> %.2f MB\n", r.kept, r.bytes_in / 1e6, r.bytes_out / 1e6);
  std::printf("a converted copy of %s (sha256 %s): compilers trained for it accept this file\n", r.source_name.c_str(),
              r.source_sha256.c_str());
}

}  // namespace

void add_convert_command(CLI::App& app) {
  auto o = std::make_shared<ConvertCliOptions>();
  auto* cmd = app.add_subcommand(
      "convert", "Store a model GGUF's weight matrices in another type (f16, q8_0, q4_0); a compiler accepts a copy of its interpreter");
  cmd->add_option("-m,--model", o->model, "Model GGUF to convert")->required();
  cmd->add_option("-o,--out", o->out, "Output .gguf (written atomically; not the input)")->required();
  cmd->add_option("--type", o->type,
                  "The matrices' type: f16 (default), q8_0, q4_0 or f32; norms and other vectors keep theirs, and a "
                  "matrix whose rows are not whole 32-value blocks stays f16 under q8_0/q4_0")
      ->check(CLI::IsMember({"f16", "q8_0", "q4_0", "f32"}));
  cmd->add_flag("--json", o->json, "Print one JSON object: output, type, counts, bytes, source");
  cmd->callback([o] { run_convert(*o); });
}

}  // namespace paw::cli
