// Recipe JSON parsing with strict keys (see paw/train/recipe.hpp). No libtorch.
#include "paw/train/recipe.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "paw/util/error.hpp"

namespace paw::train {

double lr_at(const OptimSettings& o, int64_t step, int64_t total) {
  if (o.warmup_steps > 0 && step < o.warmup_steps)
    return o.lr * static_cast<double>(step + 1) / static_cast<double>(o.warmup_steps);
  const int64_t decay = total - o.warmup_steps;
  if (decay <= 0) return o.lr;
  const double p = std::min(1.0, static_cast<double>(step - o.warmup_steps) / static_cast<double>(decay));
  return o.min_lr + (o.lr - o.min_lr) * 0.5 * (1.0 + std::cos(M_PI * p));
}

namespace {

// Reads the fields of one JSON object, remembering which keys were consumed so that the
// leftovers (typos, unsupported options) are reported.
class Obj {
 public:
  Obj(const nlohmann::json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j_.is_object()) throw Error("expected a JSON object", where_);
  }
  bool has(const std::string& k) {
    seen_.insert(k);
    return j_.contains(k);
  }
  const nlohmann::json& at(const std::string& k) { return (seen_.insert(k), j_.at(k)); }
  std::string field(const std::string& k) const { return where_ + ": " + k; }
  const std::string& where() const { return where_; }

  void get(const std::string& k, std::string& v) {
    if (!has(k)) return;
    if (!at(k).is_string()) throw Error("expected a string", field(k));
    v = at(k).get<std::string>();
  }
  void get(const std::string& k, bool& v) {
    if (!has(k)) return;
    if (!at(k).is_boolean()) throw Error("expected true or false", field(k));
    v = at(k).get<bool>();
  }
  void get(const std::string& k, double& v) {
    if (!has(k)) return;
    if (!at(k).is_number()) throw Error("expected a number", field(k));
    v = at(k).get<double>();
    if (!std::isfinite(v)) throw Error("expected a finite number", field(k));
  }
  template <class I>
  void get_int(const std::string& k, I& v, int64_t lo, int64_t hi) {
    if (!has(k)) return;
    const auto& x = at(k);
    if (!x.is_number_integer()) throw Error("expected an integer", field(k));
    const int64_t n = x.get<int64_t>();
    if (n < lo || n > hi)
      throw Error("value " + std::to_string(n) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]",
                  field(k));
    v = static_cast<I>(n);
  }
  void get(const std::string& k, std::vector<std::string>& v) {
    if (!has(k)) return;
    if (!at(k).is_array()) throw Error("expected an array of strings", field(k));
    v.clear();
    for (const auto& e : at(k)) {
      if (!e.is_string()) throw Error("expected an array of strings", field(k));
      v.push_back(e.get<std::string>());
    }
  }
  void get(const std::string& k, std::vector<int64_t>& v) {
    if (!has(k)) return;
    if (!at(k).is_array()) throw Error("expected an array of integers", field(k));
    v.clear();
    for (const auto& e : at(k)) {
      if (!e.is_number_integer()) throw Error("expected an array of integers", field(k));
      v.push_back(e.get<int64_t>());
    }
  }
  // Throws for keys nobody asked for.
  void done() const {
    for (const auto& [k, v] : j_.items())
      if (!seen_.count(k)) throw Error("unknown key '" + k + "'", where_, "see docs/TRAINING.md for the recipe keys");
  }

 private:
  const nlohmann::json& j_;
  std::string where_;
  std::set<std::string> seen_;
};

constexpr int64_t kBig = int64_t{1} << 40;

void parse_data(Obj o, Recipe::Data& d) {
  o.get("source", d.source);
  if (d.source == "jsonl") {
    o.get("path", d.path);
    if (d.path.empty()) throw Error("a jsonl data source needs \"path\"", o.field("path"));
  } else if (d.source == "generator") {
    data::GenOptions& g = d.gen;
    o.get_int("seed", g.seed, 0, INT64_MAX);
    o.get_int("n_train", g.n_train, 1, kBig);
    o.get_int("n_heldout_params", g.n_heldout_params, 0, kBig);
    o.get_int("n_heldout_family", g.n_heldout_family, 0, kBig);
    o.get("families", g.families);
    o.get("heldout_families", g.heldout_families);
    o.get("heldout_param_fraction", g.heldout_param_fraction);
    o.get("noise_rate", g.noise_rate);
    o.get_int("min_examples", g.min_examples, 1, 12);
    o.get_int("max_examples", g.max_examples, 1, 12);
    o.get_int("max_spec_chars", g.max_spec_chars, 1, kBig);
    o.get_int("max_input_chars", g.max_input_chars, 1, kBig);
    o.get_int("max_output_chars", g.max_output_chars, 1, kBig);
    o.get("words_path", g.words_path);
  } else {
    throw Error("unknown data source '" + d.source + "'", o.field("source"), "use \"generator\" or \"jsonl\"");
  }
  o.done();
}

bool valid_stage_name(const std::string& n) {
  if (n.empty() || n.size() > 64 || n == "." || n == "..") return false;
  for (char c : n) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                    c == '.';
    if (!ok) return false;
  }
  return true;
}

// The stages of a curriculum recipe (see Recipe::stages): each one the base recipe with the
// stage's keys merged over it, then parsed like any recipe, so a typo in a stage is an error.
std::vector<Recipe> parse_stages(const nlohmann::json& base_json, const Recipe& base, const nlohmann::json& list,
                                 const std::string& where) {
  if (!list.is_array() || list.empty())
    throw Error("expected a non-empty array of stage objects", where, "e.g. [{\"name\": \"copy\", \"steps\": 600}, {\"name\": \"mix\"}]");
  if (base.mode != "full")
    throw Error("stages need mode \"full\"", where, "a stage starts from the previous stage's exported model");
  std::vector<Recipe> out;
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    const nlohmann::json& st = list[i];
    if (!st.is_object()) throw Error("expected a JSON object", at);
    if (!st.contains("name") || !st["name"].is_string() || !valid_stage_name(st["name"].get<std::string>()))
      throw Error("every stage needs a \"name\" of letters, digits, '_', '-' or '.'", at,
                  "the name is the stage's checkpoint directory under checkpoint_dir");
    const std::string name = st["name"].get<std::string>();
    if (!names.insert(name).second) throw Error("two stages are named '" + name + "'", at);
    for (const char* k : {"stages", "checkpoint_dir", "log", "tokenizer", "mode"}) {
      if (st.contains(k))
        throw Error(std::string("a stage cannot set \"") + k + "\"", at + ": " + k,
                    "stages share the recipe's checkpoint directory (one sub-directory each), tokenizer and mode");
    }
    const bool last = i + 1 == list.size();
    if (i > 0 && st.contains("model") && st["model"].is_object() && st["model"].contains("init"))
      throw Error("only the first stage may set model.init", at + ": model.init",
                  "later stages start from the previous stage's export");

    nlohmann::json patch = st;
    patch.erase("name");
    nlohmann::json sj = base_json;
    sj.merge_patch(patch);
    const std::string dir = base.checkpoint_dir + "/" + name;
    sj["name"] = base.name + "/" + name;
    sj["checkpoint_dir"] = dir;
    sj.erase("log");
    if (!last) {
      // The hand-over to the next stage: an F32 file in the stage's directory, unless the
      // stage's own export keys (merged over that default, not over the recipe's) say otherwise.
      nlohmann::json handover = {{"path", dir + "/" + name + ".gguf"}, {"type", "f32"}};
      if (patch.contains("export")) handover.merge_patch(patch["export"]);
      sj["export"] = handover;
    }
    if (sj.contains("model") && !sj["model"].is_object()) throw Error("expected a JSON object", at + ": model");
    if (i > 0) {
      if (out.back().exp.path.empty())
        throw Error("stage '" + out.back().stage_name + "' exports nothing for the next stage to start from",
                    where + "[" + std::to_string(i - 1) + "]: export.path");
      sj["model"]["init"] = out.back().exp.path;
    }
    Recipe r = parse_recipe(sj, at + " (" + name + ")");
    r.stage_name = name;
    r.source = st;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

Recipe parse_recipe(const nlohmann::json& j, const std::string& where) {
  Recipe r;
  r.source = j;
  Obj o(j, where);
  o.get("name", r.name);
  o.get_int("seed", r.seed, 0, INT64_MAX);
  o.get_int("threads", r.threads, 0, 1024);
  o.get("precision", r.precision);
  if (r.precision != "f32" && r.precision != "bf16")
    throw Error("precision must be \"f32\" or \"bf16\"", o.field("precision"),
                "bf16 = mixed precision (bfloat16 products, float weights and loss)");
  o.get("mode", r.mode);
  if (r.mode != "full" && r.mode != "lora" && r.mode != "compiler")
    throw Error("mode must be \"full\", \"lora\" or \"compiler\"", o.field("mode"));
  o.get_int("steps", r.steps, 1, kBig);
  o.get_int("log_every", r.log_every, 1, kBig);
  o.get_int("checkpoint_every", r.checkpoint_every, 1, kBig);
  o.get("checkpoint_dir", r.checkpoint_dir);
  if (r.checkpoint_dir.empty()) throw Error("checkpoint_dir must not be empty", o.field("checkpoint_dir"));
  o.get("log", r.log_path);
  if (r.log_path.empty()) r.log_path = r.checkpoint_dir + "/log.jsonl";

  if (!o.has("data")) throw Error("missing \"data\"", where, "name a generator or a JSONL file");
  parse_data(Obj(o.at("data"), where + ": data"), r.data);

  if (o.has("eval")) {
    Obj e(o.at("eval"), where + ": eval");
    e.get_int("every", r.eval.every, 0, kBig);
    e.get_int("n", r.eval.n, 1, kBig);
    e.get("split", r.eval.split);
    e.get("path", r.eval.path);
    if (r.eval.path.empty() && r.eval.split != "heldout_params" && r.eval.split != "heldout_family" &&
        r.eval.split != "train")
      throw Error("eval split must be train, heldout_params or heldout_family", e.field("split"));
    if (r.eval.path.empty() && r.data.source != "generator")
      throw Error("evaluation on a generator split needs a generator data source", e.field("split"),
                  "give eval.path (a JSONL file) instead");
    e.done();
  }

  if (!o.has("tokenizer")) throw Error("missing \"tokenizer\"", where, "name a tokenizer GGUF");
  {
    Obj t(o.at("tokenizer"), where + ": tokenizer");
    t.get("path", r.tokenizer.path);
    if (r.tokenizer.path.empty()) throw Error("tokenizer.path is required", t.field("path"));
    if (t.has("train_if_missing")) {
      Obj tr(t.at("train_if_missing"), t.field("train_if_missing"));
      r.tokenizer.train_if_missing = true;
      tr.get_int("vocab_size", r.tokenizer.vocab_size, 257, 1 << 20);
      tr.get_int("n_records", r.tokenizer.n_records, 1, kBig);
      tr.done();
      if (r.data.source != "generator")
        throw Error("training a tokenizer needs a generator data source", t.field("train_if_missing"));
    }
    t.done();
  }

  if (o.has("model")) {
    Obj m(o.at("model"), where + ": model");
    Recipe::Model& d = r.model;
    m.get("init", d.init);
    m.get("arch", d.arch);
    if (d.arch != "qwen3" && d.arch != "gpt2") throw Error("arch must be qwen3 or gpt2", m.field("arch"));
    m.get_int("n_vocab", d.n_vocab, 0, 1 << 24);
    m.get_int("n_embd", d.n_embd, 1, 1 << 16);
    m.get_int("n_layer", d.n_layer, 1, 1024);
    m.get_int("n_head", d.n_head, 1, 1024);
    m.get_int("n_head_kv", d.n_head_kv, 1, 1024);
    m.get_int("head_dim", d.head_dim, 1, 4096);
    m.get_int("n_ff", d.n_ff, 1, 1 << 20);
    m.get_int("n_ctx", d.n_ctx, 1, 1 << 24);
    m.get("rope_theta", d.rope_theta);
    m.get("norm_eps", d.norm_eps);
    m.get("tied", d.tied);
    m.get("init_std", d.init_std);
    m.done();
  }
  if (r.mode == "lora" && r.model.init.empty())
    throw Error("LoRA training needs a base model", where + ": model.init", "set model.init to the base GGUF");

  if (o.has("lora")) {
    Obj l(o.at("lora"), where + ": lora");
    l.get_int("rank", r.lora.rank, 1, 4096);
    l.get("alpha", r.lora.alpha);
    l.get("targets", r.lora.targets);
    l.get("layers", r.lora.layers);
    l.done();
  }

  if (o.has("compiler")) {
    Obj c(o.at("compiler"), where + ": compiler");
    Recipe::Compiler& d = r.compiler;
    c.get("interpreter", d.interpreter);
    c.get("encoder_init", d.encoder_init);
    c.get_int("prefix_tokens", d.prefix_tokens, 1, 4096);
    c.get_int("n_bases", d.n_bases, 1, 4096);
    c.get_int("rank", d.rank, 1, 4096);
    c.get_int("mapper_hidden", d.mapper_hidden, 0, 1 << 16);
    c.get_int("cases_per_spec", d.cases_per_spec, 1, 64);
    c.get_int("feature_norm_specs", d.feature_norm_specs, 0, 1 << 20);
    c.get("alpha", d.alpha);
    c.get("coef_init", d.coef_init);
    std::string activation = compiler::coef_activation_name(d.coef_activation);
    c.get("coef_activation", activation);
    d.coef_activation = compiler::parse_coef_activation(activation, c.field("coef_activation"));
    c.get("router_logit_std", d.router_logit_std);
    if (!(d.router_logit_std > 0)) throw Error("router_logit_std must be positive", c.field("router_logit_std"));
    c.get("balance_weight", d.balance_weight);
    c.get_int("n_experts", d.n_experts, 0, 4096);
    c.get("init_from", d.init_from);
    if (c.has("family_experts")) {
      const nlohmann::json& fe = c.at("family_experts");
      if (!fe.is_object() || fe.empty())
        throw Error("expected an object {family: control compiler GGUF}", c.field("family_experts"),
                    "e.g. {\"classify\": \"train/out/F-classify.gguf\", \"sentiment\": ...}");
      d.family_experts.clear();
      for (const auto& [fam, path] : fe.items()) {
        if (!path.is_string() || path.get<std::string>().empty())
          throw Error("expected the path of a control compiler GGUF", c.field("family_experts") + "." + fam);
        d.family_experts[fam] = path.get<std::string>();
      }
      std::string known;
      std::set<std::string> names;
      for (const data::FamilyInfo& f : data::list_families()) {
        known += (known.empty() ? "" : ", ") + f.name;
        names.insert(f.name);
      }
      for (const auto& [fam, path] : d.family_experts)
        if (!names.count(fam))
          throw Error("unknown family '" + fam + "'", c.field("family_experts"), "known families: " + known);
      if (d.n_experts != 0 && d.n_experts != static_cast<int64_t>(d.family_experts.size()))
        throw Error("n_experts disagrees with family_experts", c.field("n_experts"),
                    "leave n_experts out: family_experts gives one expert per family");
      if (!d.init_from.empty())
        throw Error("init_from and family_experts both start the experts", c.field("init_from"), "keep one");
      d.n_experts = static_cast<int64_t>(d.family_experts.size());
    }
    c.get("route_weight", d.route_weight);
    if (!(d.route_weight >= 0)) throw Error("route_weight must be 0 or more", c.field("route_weight"));
    c.get("train_bases", d.train_bases);
    c.get("spec_view_prob", d.spec_view_prob);
    if (!(d.spec_view_prob >= 0 && d.spec_view_prob <= 0.5))
      throw Error("spec_view_prob must be in [0, 0.5]", c.field("spec_view_prob"),
                  "each of the two partial views is drawn this often; the whole spec the rest");
    if (d.n_experts > 0 && d.coef_activation != compiler::CoefActivation::Softmax)
      throw Error("experts routing needs softmax coefficients", c.field("n_experts"), "add \"coef_activation\": \"softmax\"");
    if (!d.init_from.empty() && d.n_experts == 0)
      throw Error("init_from starts experts; this recipe has none", c.field("init_from"), "set n_experts");
    if (!(d.balance_weight >= 0)) throw Error("balance_weight must be 0 or more", c.field("balance_weight"));
    c.get_int("pointer_rank", d.pointer_rank, 0, 4096);
    c.get("prompt_spec", d.prompt_spec);
    c.get("prompt_drop_prob", d.prompt_drop_prob);
    if (!(d.prompt_drop_prob >= 0 && d.prompt_drop_prob < 1))
      throw Error("prompt_drop_prob must be in [0, 1)", c.field("prompt_drop_prob"),
                  "for prompts that never carry the spec, set prompt_spec to false");
    c.get("pointer_query_std", d.pointer_query_std);
    if (!(d.pointer_query_std > 0)) throw Error("pointer_query_std must be positive", c.field("pointer_query_std"));
    c.get("pointer_centered", d.pointer_centered);
    c.get("encoder_lr_scale", d.encoder_lr_scale);
    c.get("spec_conditioned", d.spec_conditioned);
    c.get("modules", d.modules);
    c.done();
    if (!d.family_experts.empty() && !d.spec_conditioned)
      throw Error("family experts need the spec: the router reads it", where + ": compiler.spec_conditioned",
                  "set spec_conditioned to true");
  }
  if (r.mode == "compiler") {
    if (r.compiler.interpreter.empty())
      throw Error("compiler training needs an interpreter", where + ": compiler.interpreter",
                  "set compiler.interpreter to the frozen interpreter GGUF (e.g. models/trained/S.gguf)");
    if (r.data.source != "generator")
      throw Error("compiler training draws several cases per spec from the generator", where + ": data.source",
                  "use the generator data source");
  }

  if (o.has("optim")) {
    Obj p(o.at("optim"), where + ": optim");
    OptimSettings& s = r.optim;
    p.get("lr", s.lr);
    p.get("min_lr", s.min_lr);
    p.get_int("warmup_steps", s.warmup_steps, 0, kBig);
    p.get("weight_decay", s.weight_decay);
    p.get("beta1", s.beta1);
    p.get("beta2", s.beta2);
    p.get("eps", s.eps);
    p.get("grad_clip", s.grad_clip);
    p.done();
    if (!(s.lr > 0) || s.min_lr < 0 || s.min_lr > s.lr) throw Error("need lr > 0 and 0 <= min_lr <= lr", p.where());
    if (!(s.beta1 >= 0 && s.beta1 < 1 && s.beta2 >= 0 && s.beta2 < 1 && s.eps > 0 && s.weight_decay >= 0 &&
          s.grad_clip >= 0))
      throw Error("betas must be in [0, 1), eps > 0, weight_decay >= 0, grad_clip >= 0", p.where());
  }

  if (o.has("batch")) {
    Obj b(o.at("batch"), where + ": batch");
    b.get_int("batch_size", r.batch.batch_size, 1, 1 << 16);
    b.get_int("seq_len", r.batch.seq_len, 2, 1 << 20);
    b.get_int("grad_accum", r.batch.grad_accum, 1, 1 << 16);
    b.get("pack", r.batch.pack);
    b.get("loss", r.batch.loss);
    if (r.batch.loss != "output" && r.batch.loss != "all")
      throw Error("batch.loss must be \"output\" or \"all\"", b.field("loss"));
    b.done();
  }

  if (o.has("export")) {
    Obj e(o.at("export"), where + ": export");
    e.get("path", r.exp.path);
    e.get("type", r.exp.type);
    e.done();
  }
  if (r.mode == "compiler" && r.compiler.pointer_rank > 0 && !r.exp.path.empty())
    throw Error("a compiler with the pointer channel cannot be exported yet", where + ": export.path",
                "leave export out: the checkpoint and the eval log are the result");
  if (r.mode == "compiler" && !r.compiler.prompt_spec && !r.exp.path.empty())
    throw Error("a compiler trained without the spec in the prompt cannot be exported: paw compile puts it there",
                where + ": export.path", "leave export out: the checkpoint and the eval log are the result");
  if (o.has("stages")) {
    nlohmann::json base = j;
    base.erase("stages");
    r.stages = parse_stages(base, r, o.at("stages"), where + ": stages");
  }
  o.done();
  return r;
}

Recipe load_recipe(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open the recipe", "file '" + path + "'", "check the --recipe path");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(std::string("invalid JSON: ") + e.what(), "file '" + path + "'");
  }
  return parse_recipe(j, path);
}

}  // namespace paw::train
