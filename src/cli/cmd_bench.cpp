// `paw bench --model M [--lora A[:S]]... [-p 64,256] [-n 32,128] [-t 1,2] [-r REPS] [--json]
//            [--kv f16|f32]`
// `paw bench --program X.paw [--model M] [-t 1,2] [-r REPS] [--json]`
//
// Throughput in the spirit of llama-bench, so the two can run side by side on one GGUF file:
// - ppN: N random tokens evaluated in one prefill from an empty context (tokens/s = N / time);
// - tgN: N random tokens decoded one at a time from an empty context (tokens/s = N / time);
// each test runs once as warm-up, then REPS times; the median and the sample standard deviation
// of the REPS tokens/s figures are printed. With --lora every test also runs without the
// adapters, the two alternating rep by rep (which goes first alternates too), and the LoRA
// overhead is the median of the per-rep time ratios: paired this way, the drift of a shared
// machine's speed, larger than the overhead, cancels. Also: model load time, peak RSS (VmHWM), the weight
// bytes one decode step streams, and a measured streaming-read bandwidth with the same thread
// count (done after every model test, so its 1 GiB buffer never counts in the RSS figures), so
// that tg can be read as a fraction of the memory-bandwidth bound.
//
// The --program mode measures per-call latency of a program whose prompt prefix is cached:
// each call is Program::run() with a ~30-token input and max_tokens 5 (docs/PERFORMANCE.md).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>


#include "cli/commands.hpp"
#include "paw/util/process_memory.hpp"
#include "cli/model_args.hpp"
#include "paw/ops/bandwidth.hpp"
#include "paw/paw.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"

namespace paw::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchCmdOptions {
  std::string model;
  std::vector<std::string> loras;          // FILE[:SCALE]
  std::vector<int64_t> pp = {64, 256};     // -p: prompt sizes (0 entries dropped)
  std::vector<int64_t> tg = {32, 128};     // -n: generation lengths (0 entries dropped)
  std::vector<int> threads = {0};          // -t: thread counts (0 = one per physical core)
  int reps = 5;                            // -r: timed repetitions after one warm-up
  bool json = false;
  std::string kv = "f16";
  bool no_bandwidth = false;               // skip the 1 GiB read measurement
  bool no_interleave = false;              // Q4_0/Q8_0 weights in place (ModelLoadOptions::interleave)
  std::string program;                     // --program: per-call latency mode
  int64_t program_input_tokens = 30;
  int64_t program_output_tokens = 5;
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Stats {
  double median = 0, stddev = 0;
};
Stats stats(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  if (n > 1) {
    double mean = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(n);
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    s.stddev = std::sqrt(ss / static_cast<double>(n - 1));
  }
  return s;
}

// The weight type that holds most of the linears' bytes ("q8_0", "q6_K", ...).
std::string main_weight_type(const Model& m) {
  std::map<std::string, uint64_t> by_type;
  for (const LinearInfo& li : m.linears())
    by_type[std::string(dtype_name(li.view.type))] +=
        row_bytes(li.view.type, li.view.cols).value_or(0) * static_cast<uint64_t>(li.view.rows);
  std::string best;
  uint64_t most = 0;
  for (const auto& [t, b] : by_type)
    if (b > most) most = b, best = t;
  return best;
}

uint64_t matrix_bytes(const MatrixView& v) {
  return v.data ? row_bytes(v.type, v.cols).value_or(0) * static_cast<uint64_t>(v.rows) : 0;
}

// Weight bytes one decode step reads: every bound tensor except the embedding table, of which
// one row is read — unless the head is tied to it, when the whole table is read as the head.
// Plus every active LoRA pair (A and B are read whole). The KV cache reads are left out.
uint64_t bytes_per_decode_token(const Model& m, const std::vector<ActiveAdapter>& adapters) {
  const MatrixView& emb = m.weights().token_embd.view;
  uint64_t b = m.weight_bytes();
  if (!m.tied_head()) b = b - matrix_bytes(emb) + row_bytes(emb.type, emb.cols).value_or(0);
  for (const ActiveAdapter& a : adapters)
    for (const auto& [name, p] : a.adapter->pairs()) b += matrix_bytes(p.a) + matrix_bytes(p.b);
  return b;
}

std::string human_bytes(uint64_t b) {
  char s[32];
  if (b >= (uint64_t{1} << 30)) std::snprintf(s, sizeof s, "%.2f GiB", static_cast<double>(b) / (1 << 30));
  else std::snprintf(s, sizeof s, "%.2f MiB", static_cast<double>(b) / (1 << 20));
  return s;
}

struct Row {
  int threads = 0;
  int64_t pp = 0, tg = 0;
  bool lora = false;
  Stats tps;
  uint64_t rss = 0;
  Stats overhead;  // +lora rows: time with / time without − 1, per paired rep
};

void run_model_bench(const BenchCmdOptions& o) {
  std::vector<int64_t> pps, tgs;
  for (int64_t v : o.pp) if (v > 0) pps.push_back(v);
  for (int64_t v : o.tg) if (v > 0) tgs.push_back(v);
  if (pps.empty() && tgs.empty()) throw Error("nothing to measure", "paw bench", "give -p and/or -n sizes > 0");
  if (o.reps < 1) throw Error("-r must be >= 1", "paw bench -r");

  const auto t_load = Clock::now();
  ModelLoadOptions lo;
  lo.interleave = !o.no_interleave;
  std::shared_ptr<const Model> model = Model::load(o.model, lo);
  const double load_s = seconds_since(t_load);
  const std::string arch(arch_name(model->arch()));
  std::vector<ActiveAdapter> adapters;
  std::string lora_names;
  for (const std::string& s : o.loras) {
    const LoraSpec spec = parse_lora_spec(s);
    adapters.push_back(ActiveAdapter{LoraAdapter::load(spec.path, arch), spec.scale});
    if (!lora_names.empty()) lora_names += ",";
    lora_names += std::filesystem::path(spec.path).filename().string();
  }

  const std::string model_name = std::filesystem::path(o.model).filename().string();
  const std::string wtype = main_weight_type(*model);
  const uint64_t decode_bytes = bytes_per_decode_token(*model, adapters);
  const uint64_t base_decode_bytes = bytes_per_decode_token(*model, {});
  int64_t max_len = 1;
  for (int64_t v : pps) max_len = std::max(max_len, v);
  for (int64_t v : tgs) max_len = std::max(max_len, v);
  const int64_t n_vocab = model->hparams().n_vocab;
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(n_vocab - 1));
  auto random_tokens = [&](int64_t n) {
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (auto& x : t) x = pick(rng);
    return t;
  };

  std::vector<Row> rows;
  for (int threads : o.threads) {
    SessionOptions so;
    so.n_ctx = max_len;
    so.n_batch = std::max<int64_t>(256, pps.empty() ? 1 : *std::max_element(pps.begin(), pps.end()));
    so.kv_type = o.kv == "f32" ? DType::F32 : DType::F16;
    so.n_threads = threads;
    Session s(model, so);
    s.set_adapters(adapters);
    const int nt = threads > 0 ? threads : default_thread_count();

    // One timed run of a test; the caller has set the adapters.
    auto time_once = [&](int64_t pp, const std::vector<int32_t>& toks) {
      s.reset();
      const auto t0 = Clock::now();
      if (pp > 0) s.prefill(toks);
      else
        for (int32_t t : toks) s.decode(t);
      return seconds_since(t0);
    };
    const bool paired = !adapters.empty();
    auto emit = [&](const Row& r, const std::vector<double>& tps, const std::vector<double>& overhead) {
      rows.push_back(r);
      if (!o.json) return;
      nlohmann::ordered_json j;
      j["model"] = model_name;
      j["type"] = wtype;
      j["lora"] = r.lora ? lora_names : "";
      j["size_bytes"] = model->weight_bytes();
      j["params"] = model->n_params();
      j["kernels"] = kernels().name;
      j["kv_type"] = o.kv;
      j["threads"] = nt;
      j["pp"] = r.pp;
      j["tg"] = r.tg;
      j["reps"] = o.reps;
      j["tokens_per_s"] = r.tps.median;
      j["stddev"] = r.tps.stddev;
      j["samples"] = tps;
      if (r.lora && paired) {
        j["lora_overhead"] = r.overhead.median;
        j["lora_overhead_samples"] = overhead;
      }
      j["rss_bytes"] = r.rss;
      j["load_s"] = load_s;
      j["interleaved_bytes"] = model->interleaved_bytes();
      j["decode_bytes_per_token"] = r.lora ? decode_bytes : base_decode_bytes;
      std::puts(j.dump().c_str());
      std::fflush(stdout);
    };
    auto run_test = [&](int64_t pp, int64_t tg) {
      std::vector<double> with, without, overhead;
      for (int rep = 0; rep <= o.reps; ++rep) {  // rep 0 = warm-up
        const std::vector<int32_t> toks = random_tokens(pp > 0 ? pp : tg);
        double t_with = 0, t_without = 0;
        for (int k = 0; k < (paired ? 2 : 1); ++k) {
          const bool lora = paired ? (rep + k) % 2 == 0 : !adapters.empty();
          if (paired) s.set_adapters(lora ? adapters : std::vector<ActiveAdapter>{});
          (lora ? t_with : t_without) = time_once(pp, toks);
        }
        if (rep == 0) continue;
        const double n = static_cast<double>(toks.size());
        if (paired || !adapters.empty()) with.push_back(n / t_with);
        if (paired) {
          without.push_back(n / t_without);
          overhead.push_back(t_with / t_without - 1.0);
        } else if (adapters.empty()) {
          without.push_back(n / t_without);
        }
      }
      const uint64_t rss = peak_rss_bytes();
      if (!without.empty()) emit(Row{nt, pp, tg, false, stats(without), rss, {}}, without, {});
      if (!with.empty()) emit(Row{nt, pp, tg, true, stats(with), rss, stats(overhead)}, with, overhead);
    };
    for (int64_t pp : pps) run_test(pp, 0);
    for (int64_t tg : tgs) run_test(0, tg);
  }
  const uint64_t rss_models = peak_rss_bytes();

  // Bandwidth last: its 1 GiB buffer must not count in the RSS figures above.
  std::map<int, double> bw;
  if (!o.no_bandwidth && !tgs.empty())
    for (const Row& r : rows) if (!bw.count(r.threads)) bw[r.threads] = measure_read_bandwidth(r.threads);

  if (o.json) {
    for (const auto& [nt, b] : bw) {
      nlohmann::ordered_json j;
      j["model"] = model_name;
      j["type"] = wtype;
      j["lora"] = lora_names;
      j["threads"] = nt;
      j["read_bandwidth_bytes_per_s"] = b;
      j["decode_bytes_per_token"] = decode_bytes;
      j["bandwidth_bound_tokens_per_s"] = b / static_cast<double>(decode_bytes);
      std::puts(j.dump().c_str());
    }
    return;
  }

  const std::string how = model->interleaved_bytes()
                              ? "mmap, " + human_bytes(model->interleaved_bytes()) + " interleaved"
                              : std::string("mmap");
  std::printf("model: %s (%s, %s weights, %.3f B params), kernels %s, KV %s, load %.3f s (%s), %d reps after 1 warm-up\n",
              model_name.c_str(), arch.c_str(), human_bytes(model->weight_bytes()).c_str(),
              static_cast<double>(model->n_params()) / 1e9, kernels().name, o.kv.c_str(), load_s, how.c_str(), o.reps);
  if (!lora_names.empty()) std::printf("lora: %s\n", lora_names.c_str());
  std::printf("\n| %-28s | %10s | %7s | %-6s | %7s | %6s | %18s |\n", "model", "size", "params", "type", "threads",
              "test", "t/s");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(30, '-').c_str(), std::string(11, '-').append(":").c_str(),
              std::string(8, '-').append(":").c_str(), std::string(8, '-').c_str(), std::string(8, '-').append(":").c_str(),
              std::string(7, '-').append(":").c_str(), std::string(19, '-').append(":").c_str());
  for (const Row& r : rows) {
    char test[32], tps[48], params[16];
    std::snprintf(test, sizeof test, "%s%lld", r.pp ? "pp" : "tg", static_cast<long long>(r.pp ? r.pp : r.tg));
    std::snprintf(tps, sizeof tps, "%.2f ± %.2f", r.tps.median, r.tps.stddev);
    std::snprintf(params, sizeof params, "%.2f B", static_cast<double>(model->n_params()) / 1e9);
    std::printf("| %-28s | %10s | %7s | %-6s | %7d | %6s | %18s |\n",
                (model_name + (r.lora ? " +lora" : "")).c_str(), human_bytes(model->weight_bytes()).c_str(),
                params, wtype.c_str(), r.threads, test, tps);
  }
  bool any_overhead = false;
  for (const Row& r : rows) {
    if (!r.lora || adapters.empty()) continue;
    if (!any_overhead) std::printf("\nLoRA overhead (time with / without - 1, median of %d paired reps):\n", o.reps);
    any_overhead = true;
    std::printf("  %s%lld, %d thread%s: %+.1f%% (sd %.1f%%)\n", r.pp ? "pp" : "tg",
                static_cast<long long>(r.pp ? r.pp : r.tg), r.threads, r.threads == 1 ? "" : "s",
                100.0 * r.overhead.median, 100.0 * r.overhead.stddev);
  }
  std::printf("\npeak RSS: %s\n", human_bytes(rss_models).c_str());
  std::printf("weights read per decode token: %.1f MB\n", static_cast<double>(decode_bytes) / 1e6);
  for (const auto& [nt, b] : bw) {
    const double bound = b / static_cast<double>(decode_bytes);
    double best_tg = 0;
    for (const Row& r : rows)
      if (r.threads == nt && r.tg > 0 && r.lora == !adapters.empty()) best_tg = std::max(best_tg, r.tps.median);
    std::printf("%d thread%s: read bandwidth %.1f GB/s -> bound %.1f t/s; best tg %.2f t/s = %.0f%% of bandwidth bound\n",
                nt, nt == 1 ? "" : "s", b / 1e9, bound, best_tg, 100.0 * best_tg / bound);
  }
}

// --program: per-call latency with the prefix cached (Program::run, as `paw run` calls it).
void run_program_bench(const BenchCmdOptions& o) {
  if (o.reps < 1) throw Error("-r must be >= 1", "paw bench -r");
  for (int threads : o.threads) {
    ProgramOptions po;
    po.model_override = o.model;
    po.interpreter.n_threads = threads;
    po.interpreter.max_sessions = 1;
    po.log = [](std::string_view, std::string_view) {};
    const auto t_open = Clock::now();
    Program prog = Program::open(o.program, po);
    const double open_s = seconds_since(t_open);
    const Tokenizer& tok = prog.interpreter().tokenizer();
    // An input of about program_input_tokens tokens: words added until the count is reached.
    static const char* kWords[] = {"invoice", "meeting", "tomorrow", "urgent", "refund", "server", "lunch", "report",
                                   "please", "deadline", "customer", "weekly", "update", "error", "login", "coffee"};
    std::string input;
    for (size_t i = 0; tok.encode(input).size() < static_cast<size_t>(o.program_input_tokens); ++i) {
      if (!input.empty()) input += ' ';
      input += kWords[i % std::size(kWords)];
    }
    RunOptions ro;
    ro.max_tokens = o.program_output_tokens;
    std::vector<double> ms;
    RunResult last;
    for (int rep = 0; rep <= o.reps; ++rep) {
      const auto t0 = Clock::now();
      last = prog.run(input, ro);
      if (rep > 0) ms.push_back(1e3 * seconds_since(t0));
    }
    const Stats st = stats(ms);
    const int nt = threads > 0 ? threads : default_thread_count();
    if (o.json) {
      nlohmann::ordered_json j;
      j["program"] = o.program;
      j["model"] = prog.interpreter().path();
      j["threads"] = nt;
      j["prefix_tokens"] = prog.prefix_tokens();
      j["input_tokens"] = last.input_tokens;
      j["output_tokens"] = last.ids.size();
      j["call_ms"] = st.median;
      j["stddev_ms"] = st.stddev;
      j["open_s"] = open_s;
      j["rss_bytes"] = peak_rss_bytes();
      std::puts(j.dump().c_str());
    } else {
      std::printf("%s on %s, %d thread%s: prefix %lld tokens (cached), input %lld tokens, output %zu tokens: "
                  "%.1f ± %.1f ms per call (open %.2f s, peak RSS %s)\n",
                  o.program.c_str(), prog.interpreter().path().c_str(), nt, nt == 1 ? "" : "s",
                  static_cast<long long>(prog.prefix_tokens()), static_cast<long long>(last.input_tokens),
                  last.ids.size(), st.median, st.stddev, open_s, human_bytes(peak_rss_bytes()).c_str());
    }
  }
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchCmdOptions>();
  auto* cmd = app.add_subcommand("bench", "Measure prompt-processing and generation speed (llama-bench style)");
  cmd->add_option("--model,-m", o->model, "Base model GGUF (with --program: overrides the program's base model)");
  cmd->add_option("--lora", o->loras,
                  "LoRA adapter FILE[:SCALE] to apply unmerged (repeatable); every test then also runs without "
                  "it, alternating rep by rep, and the overhead is reported");
  cmd->add_option("-p,--n-prompt", o->pp, "Prompt sizes for ppN tests, comma separated (0 = none)")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("-n,--n-gen", o->tg, "Generation lengths for tgN tests, comma separated (0 = none)")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Thread counts, comma separated (0 = one per physical core)")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("-r,--repetitions", o->reps, "Timed repetitions of each test (after one warm-up)")->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object per line per test (JSONL)");
  cmd->add_option("--kv", o->kv, "KV cache type: f16 or f32")->check(CLI::IsMember({"f16", "f32"}))->capture_default_str();
  cmd->add_flag("--no-bandwidth", o->no_bandwidth, "Skip the 1 GiB streaming-read bandwidth measurement");
  cmd->add_flag("--no-interleave", o->no_interleave, kNoInterleaveHelp);
  cmd->add_option("--program", o->program, "Per-call latency of this program (.paw file, folder or cached id)");
  cmd->callback([o] {
    if (!o->program.empty()) return run_program_bench(*o);
    if (o->model.empty()) throw Error("--model is required", "paw bench", "give --model FILE.gguf (or --program X.paw)");
    run_model_bench(*o);
  });
}

}  // namespace paw::cli
