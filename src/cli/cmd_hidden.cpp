// `paw hidden --model M [--lora FILE[:SCALE]]... --prompt TEXT --layers 0,5,-1 [--last K]
//             [-o file.safetensors] [--no-special]`
// The residual stream after the given layers (0-based; negative counts from the end, -1 = the
// last layer, whose output is the stream before the final norm) at the last K prompt
// positions (K = 0: every position; K larger than the prompt: the whole prompt).
//   -o FILE: a safetensors file with one F32 tensor per layer, named "layer.<index>" with the
//            resolved index (-1 on a 28-layer model -> "layer.27"), shape [K, n_embd], row i
//            = position first_pos + i; __metadata__ holds "prompt_ids" and "layers" (JSON
//            arrays, the latter of resolved indices in request order) and "first_pos".
//   else:    JSON on stdout: {"prompt_ids": [...], "first_pos": P, "layers": [...],
//            "hidden": {"<index>": [[n_embd floats] per position]}}.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/model_args.hpp"
#include "paw/formats/safetensors.hpp"
#include "paw/util/error.hpp"

namespace paw::cli {
namespace {

struct HiddenCmdOptions {
  ModelArgs model;
  std::string prompt;
  std::string layers;       // "0,5,-1"
  int64_t last = 1;         // positions from the end; 0 = all
  std::string out;          // .safetensors; empty = JSON to stdout
  bool no_special = false;
};

std::vector<int> parse_layers(const std::string& s) {
  std::vector<int> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = std::min(s.find(',', start), s.size());
    const std::string item = s.substr(start, comma - start);
    size_t used = 0;
    long v = 0;
    try {
      v = std::stol(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || v < -1000000 || v > 1000000)
      throw Error("invalid layer '" + item + "'", "--layers " + s, "give layer indices like 0,5,-1");
    out.push_back(static_cast<int>(v));
    start = comma + 1;
  }
  return out;
}

void run_hidden(const HiddenCmdOptions& o) {
  if (o.last < 0) throw Error("--last must be >= 0", "paw hidden");
  const std::vector<int> layers = parse_layers(o.layers);
  const LoadedModel m = load_model(o.model);
  const std::vector<int32_t> prompt = tokenize_prompt(m, o.prompt, o.no_special);
  Session s = make_session(m, session_options(o.model, o.model.n_ctx > 0 ? 0 : static_cast<int64_t>(prompt.size())));
  EvalOptions eo;
  eo.hidden_layers = layers;
  eo.hidden_last = o.last;
  s.prefill(prompt, eo);  // resolves and range-checks the layers
  const HiddenStates& h = s.hidden_states();

  std::set<int> seen;
  for (size_t i = 0; i < h.layers.size(); ++i)
    if (!seen.insert(h.layers[i]).second)
      throw Error("layer " + std::to_string(layers[i]) + " is layer " + std::to_string(h.layers[i]) +
                      ", which is already listed",
                  "--layers " + o.layers, "list each layer once");

  if (!o.out.empty()) {
    SafetensorsWriter w;
    w.set_metadata("prompt_ids", nlohmann::json(prompt).dump());
    w.set_metadata("layers", nlohmann::json(h.layers).dump());
    w.set_metadata("first_pos", std::to_string(h.first_pos));
    const size_t per_layer = static_cast<size_t>(h.n_pos * h.n_embd);
    for (size_t li = 0; li < h.layers.size(); ++li)
      w.add_f32("layer." + std::to_string(h.layers[li]), {h.n_pos, h.n_embd},
                std::span<const float>(h.data.data() + li * per_layer, per_layer));
    w.write(o.out);
    return;
  }
  nlohmann::ordered_json j;
  j["prompt_ids"] = prompt;
  j["first_pos"] = h.first_pos;
  j["layers"] = h.layers;
  nlohmann::ordered_json hid = nlohmann::ordered_json::object();
  for (size_t li = 0; li < h.layers.size(); ++li) {
    auto rows = nlohmann::ordered_json::array();
    for (int64_t r = 0; r < h.n_pos; ++r) {
      const auto row = h.at(li, r);
      rows.push_back(std::vector<float>(row.begin(), row.end()));
    }
    hid[std::to_string(h.layers[li])] = std::move(rows);
  }
  j["hidden"] = std::move(hid);
  std::puts(j.dump().c_str());
}

}  // namespace

void add_hidden_command(CLI::App& app) {
  auto o = std::make_shared<HiddenCmdOptions>();
  auto* cmd = app.add_subcommand("hidden", "Dump the residual stream after chosen layers at the last prompt positions");
  add_model_options(cmd, o->model);
  cmd->add_option("--prompt,-p", o->prompt, "Prompt text")->required();
  cmd->add_option("--layers", o->layers, "Comma list of layers, 0-based; negative counts from the end (-1 = last)")
      ->required();
  cmd->add_option("--last", o->last, "Positions from the end of the prompt (0 = all)")->capture_default_str();
  cmd->add_option("-o,--out", o->out, "Write a safetensors file (tensors \"layer.<index>\" [K, n_embd]) instead of JSON");
  cmd->add_flag("--no-special", o->no_special, "Tokenize special-token text in the prompt as plain text");
  cmd->callback([o] { run_hidden(*o); });
}

}  // namespace paw::cli
