// `paw data gen` — write FuzzyBench-synth records (spec, input, output) as JSONL;
// `paw data families` — list the task families with a one-line description.
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "paw/data/generator.hpp"
#include "paw/util/atomic_file.hpp"
#include "paw/util/error.hpp"
#include "paw/util/split.hpp"

namespace paw::cli {
namespace {

struct DataGenOptions {
  data::GenOptions gen;
  std::string families;          // comma list ("" = the default mix)
  std::string heldout_families;  // comma list ("" = keep the default)
  std::string out;               // output path ("" or "-" = stdout)
};

void run_gen(DataGenOptions& o) {
  if (!o.families.empty()) o.gen.families = split_commas(o.families);
  if (!o.heldout_families.empty()) o.gen.heldout_families = split_commas(o.heldout_families);
  const data::Generator g(o.gen);
  if (o.out.empty() || o.out == "-") {
    g.for_each([](const data::Record& r) {
      const std::string line = data::to_jsonl(r) + "\n";
      std::fwrite(line.data(), 1, line.size(), stdout);
    });
    std::fflush(stdout);
    return;
  }
  // Streamed into a temp file and renamed: a reader never sees half a dataset.
  AtomicFileWriter w(o.out);
  g.for_each([&](const data::Record& r) {
    w.write(data::to_jsonl(r));
    w.write("\n");
  });
  w.commit();
  std::fprintf(stderr, "paw data gen: %zu train, %zu heldout_params, %zu heldout_family records -> %s\n",
               g.count(data::Split::Train), g.count(data::Split::HeldoutParams), g.count(data::Split::HeldoutFamily),
               o.out.c_str());
}

}  // namespace

void add_data_command(CLI::App& app) {
  auto* data_cmd = app.add_subcommand("data", "Synthetic FuzzyBench-style training/evaluation data");
  data_cmd->require_subcommand(1);

  auto o = std::make_shared<DataGenOptions>();
  auto* gen = data_cmd->add_subcommand("gen", "Generate (spec, input, output) records as JSONL");
  gen->add_option("--seed", o->gen.seed, "Random seed (same seed and options -> identical bytes)")->capture_default_str();
  gen->add_option("--train", o->gen.n_train, "Records in split 'train'")->capture_default_str();
  gen->add_option("--heldout-params", o->gen.n_heldout_params,
                  "Records in split 'heldout_params' (parameterisations never used in train)")
      ->capture_default_str();
  gen->add_option("--heldout-family", o->gen.n_heldout_family,
                  "Records in split 'heldout_family' (families never used in train)")
      ->capture_default_str();
  gen->add_option("--families", o->families, "Comma-separated families to generate (default: all but the copy tasks; see `paw data families`)");
  gen->add_option("--heldout-families", o->heldout_families,
                  "Comma-separated families kept out of train (default: keyword_tag,pii_redact)");
  gen->add_option("--heldout-fraction", o->gen.heldout_param_fraction,
                  "Share of each family's parameterisations held out")
      ->capture_default_str();
  gen->add_option("--noise", o->gen.noise_rate, "Probability that an input gets noise (typos, casing, spaces, fillers)")
      ->capture_default_str();
  gen->add_option("--min-examples", o->gen.min_examples, "Fewest worked examples per spec")->capture_default_str();
  gen->add_option("--max-examples", o->gen.max_examples, "Most worked examples per spec")->capture_default_str();
  gen->add_option("--max-spec-chars", o->gen.max_spec_chars, "Longest spec (bytes)")->capture_default_str();
  gen->add_option("--max-input-chars", o->gen.max_input_chars, "Longest input (bytes)")->capture_default_str();
  gen->add_option("--max-output-chars", o->gen.max_output_chars, "Longest output (bytes)")->capture_default_str();
  gen->add_option("--words", o->gen.words_path, "English word list (Debian package wamerican)")->capture_default_str();
  gen->add_option("-o,--output", o->out, "Output .jsonl file (default: stdout)");
  gen->callback([o] { run_gen(*o); });

  auto* fams = data_cmd->add_subcommand("families", "List the task families");
  fams->callback([] {
    const data::GenOptions defaults;
    for (const auto& f : data::list_families()) {
      bool held = false;
      for (const auto& h : defaults.heldout_families) held = held || h == f.name;
      const char* note = held ? " [held out by default]" : !f.default_mix ? " [copy task: only when named in --families]" : "";
      std::printf("%-14s %s%s\n", f.name.c_str(), f.description.c_str(), note);
    }
  });
}

}  // namespace paw::cli
