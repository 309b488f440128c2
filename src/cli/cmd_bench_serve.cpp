// `paw bench-serve -m MODEL --programs DIR [--clients 1,4,8,16] [--max-batch 0,8] ...` — a
// bounded load generator for `paw serve`: for each --max-batch value it starts a server in
// this process (loopback, any free port, a private program cache), warms every program
// (opened, prefix evaluated), then for each client count C runs C client threads, each
// sending --requests POST /api/v1/infer calls for its own program (client k calls program
// k mod n; distinct programs whenever n >= C) with an input of --input-tokens tokens and
// max_tokens --max-tokens. Reports per level: requests, errors, generated tokens, aggregate
// generated tokens/s (sum over all calls / wall time), client-side latency p50 / p99, the mean
// calls per batched step (the server's /health "batching"), and the throughput ratio
// against the same run's 1-client level and against --max-batch 0 at the same client count.
// Timed assertions belong nowhere: this prints figures; docs/PERFORMANCE.md quotes them.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "paw/server/server.hpp"
#include "paw/tokenizer/tokenizer.hpp"
#include "paw/util/error.hpp"
#include "paw/util/process_memory.hpp"

namespace paw::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct BenchServeOptions {
  std::string model;
  std::string programs;               // folder of .paw files
  std::vector<int> clients = {1, 4, 8, 16};
  std::vector<int> max_batch = {0, 8};
  int requests = 8;                   // per client and level
  int64_t input_tokens = 30;
  int64_t max_tokens = 5;
  int threads = 0;
  int64_t max_step_tokens = 128;
  bool json_lines = false;
};

struct Level {
  int max_batch = 0, clients = 0;
  int requests = 0, errors = 0;
  uint64_t generated = 0;
  double wall_s = 0, tok_s = 0, p50_ms = 0, p99_ms = 0, mean_seqs = 0;
  std::string first_error;
};

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);   // linear between closest ranks
  const auto lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

// An input of about n tokens for this model's tokenizer: words drawn from a fixed list by a
// seeded generator, cut where the count reaches n.
std::string input_of(const Tokenizer& tok, int64_t n, uint32_t seed) {
  static const char* const kWords[] = {"server", "disk", "full", "error", "user", "login", "failed", "payment",
                                       "order",  "late", "refund", "please", "check", "network", "timeout", "urgent"};
  std::mt19937 rng(seed);
  std::string text;
  for (int guard = 0; guard < 4096; ++guard) {
    std::string next = text.empty() ? "" : text + " ";
    next += kWords[rng() % (sizeof kWords / sizeof kWords[0])];
    if (static_cast<int64_t>(tok.encode(next).size()) > n && !text.empty()) break;
    text = std::move(next);
  }
  return text;
}

json health(httplib::Client& c) {
  auto r = c.Get("/api/v1/health");
  if (!r || r->status != 200) throw Error("the benchmark server did not answer /health", "paw bench-serve");
  return json::parse(r->body);
}

std::vector<std::string> program_ids(httplib::Client& c) {
  std::vector<std::string> ids;
  for (int page = 1;; ++page) {
    auto r = c.Get("/api/v1/programs?per_page=100&page=" + std::to_string(page));
    if (!r || r->status != 200) throw Error("the benchmark server did not list its programs", "paw bench-serve");
    const json j = json::parse(r->body);
    for (const json& p : j.at("programs")) ids.push_back(p.at("program_id").get<std::string>());
    if (j.at("programs").size() < 100) break;
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

// One client level against a running server.
Level run_level(const std::string& host, int port, const std::vector<std::string>& ids, const std::vector<std::string>& inputs,
                int clients, const BenchServeOptions& o) {
  Level lv;
  lv.clients = clients;
  std::vector<std::vector<double>> lat(static_cast<size_t>(clients));
  std::atomic<uint64_t> generated{0};
  std::atomic<int> errors{0};
  std::mutex err_mu;
  std::atomic<int> ready{0};
  httplib::Client probe(host, port);
  const json before = health(probe).at("batching");
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int k = 0; k < clients; ++k)
    threads.emplace_back([&, k] {
      httplib::Client c(host, port);
      c.set_read_timeout(600, 0);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);   // a request's headers and body go out at once
      ++ready;
      while (ready.load() < clients) std::this_thread::yield();
      const std::string& id = ids[static_cast<size_t>(k) % ids.size()];
      for (int i = 0; i < o.requests; ++i) {
        const json body = {{"program_id", id},
                           {"input", inputs[static_cast<size_t>(k * o.requests + i) % inputs.size()]},
                           {"max_tokens", o.max_tokens}};
        const auto a = std::chrono::steady_clock::now();
        auto r = c.Post("/api/v1/infer", body.dump(), "application/json");
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
        if (!r || r->status != 200) {
          ++errors;
          std::lock_guard lk(err_mu);
          if (lv.first_error.empty())
            lv.first_error = r ? std::to_string(r->status) + " " + r->body.substr(0, 200) : httplib::to_string(r.error());
          continue;
        }
        generated += json::parse(r->body).at("tokens_generated").get<uint64_t>();
        lat[static_cast<size_t>(k)].push_back(ms);
      }
    });
  for (auto& t : threads) t.join();
  lv.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const json after = health(probe).at("batching");
  std::vector<double> all;
  for (const auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  lv.requests = clients * o.requests;
  lv.errors = errors.load();
  lv.generated = generated.load();
  lv.tok_s = lv.wall_s > 0 ? static_cast<double>(lv.generated) / lv.wall_s : 0;
  lv.p50_ms = percentile(all, 0.50);
  lv.p99_ms = percentile(all, 0.99);
  if (after.contains("steps")) {
    const double steps = after["steps"].get<double>() - before["steps"].get<double>();
    const double seqs = after["sequences"].get<double>() - before["sequences"].get<double>();
    lv.mean_seqs = steps > 0 ? seqs / steps : 0;
  }
  return lv;
}

void run_bench_serve(const BenchServeOptions& o) {
  if (o.requests < 1) throw Error("--requests must be at least 1", "paw bench-serve");
  if (o.input_tokens < 1 || o.max_tokens < 1) throw Error("--input-tokens and --max-tokens must be at least 1", "paw bench-serve");
  for (int c : o.clients)
    if (c < 1 || c > 256) throw Error("--clients takes counts from 1 to 256", "paw bench-serve");
  // A private cache: the programs are imported there, nothing lands in the user's cache.
  const fs::path tmp = fs::temp_directory_path() / ("paw-bench-serve-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{tmp};

  const Tokenizer tok = Tokenizer::load(o.model);
  std::vector<std::string> inputs;
  for (uint32_t s = 0; s < 64; ++s) inputs.push_back(input_of(tok, o.input_tokens, 1000 + s));
  const int most_clients = *std::max_element(o.clients.begin(), o.clients.end());

  std::map<std::pair<int, int>, Level> results;   // (max_batch, clients)
  std::vector<std::string> ids;
  for (int mb : o.max_batch) {
    server::ServeOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.model = o.model;
    so.no_compiler = true;   // no compile route needed (and no compiler fits a benchmark model)
    so.cache_dir = tmp.string();
    so.program_dirs = {o.programs};
    so.threads = o.threads;
    so.max_batch = mb;
    so.max_step_tokens = o.max_step_tokens;
    so.max_sessions = mb > 0 ? 4 : std::max(4, std::min(most_clients, 16));
    so.http_threads = std::max(16, most_clients + 2);
    so.max_per_client = most_clients + 1;   // every client comes from 127.0.0.1
    so.max_tokens_limit = std::max<int64_t>(512, o.max_tokens);
    so.program_budget_bytes = size_t{4} << 30;
    so.log = [](std::string_view) {};
    server::Server srv(so);
    // Serving until this level set ends, however it ends (an error thrown below included).
    struct Serving {
      server::Server& srv;
      std::thread th;
      ~Serving() {
        srv.stop();
        th.join();
      }
    } serving{srv, std::thread([&srv] { srv.listen(); })};
    httplib::Client c(so.host, srv.port());
    c.set_read_timeout(600, 0);
    ids = program_ids(c);
    if (ids.empty()) throw Error("no programs to serve", o.programs, "give a folder of .paw files (paw pack makes them)");
    // Warm-up: every program opened (adapter + prefix) once, outside the timed levels.
    for (const std::string& id : ids) {
      auto r = c.Post("/api/v1/infer", json{{"program_id", id}, {"input", inputs[0]}, {"max_tokens", 1}}.dump(),
                      "application/json");
      if (!r || r->status != 200)
        throw Error("warm-up call of program " + id + " failed" + (r ? ": " + r->body.substr(0, 300) : std::string()),
                    "paw bench-serve");
    }
    for (int clients : o.clients) {
      Level lv = run_level(so.host, srv.port(), ids, inputs, clients, o);
      lv.max_batch = mb;
      results[{mb, clients}] = lv;
      const Level* one = results.count({mb, 1}) ? &results[{mb, 1}] : nullptr;
      const Level* unbatched = mb != 0 && results.count({0, clients}) ? &results[{0, clients}] : nullptr;
      if (o.json_lines) {
        json j = {{"max_batch", mb},         {"clients", clients},   {"programs", std::min<size_t>(ids.size(), clients)},
                  {"requests", lv.requests}, {"errors", lv.errors},  {"input_tokens", o.input_tokens},
                  {"max_tokens", o.max_tokens}, {"generated_tokens", lv.generated}, {"wall_s", lv.wall_s},
                  {"tokens_per_s", lv.tok_s}, {"p50_ms", lv.p50_ms}, {"p99_ms", lv.p99_ms},
                  {"mean_batch_sequences", lv.mean_seqs}};
        if (one && one->tok_s > 0) j["vs_1_client"] = lv.tok_s / one->tok_s;
        if (unbatched && unbatched->tok_s > 0) j["vs_max_batch_0"] = lv.tok_s / unbatched->tok_s;
        if (!lv.first_error.empty()) j["first_error"] = lv.first_error;
        std::printf("%s\n", j.dump().c_str());
      } else {
        if (results.size() == 1)
          std::printf("| max_batch | clients | programs | requests | errors | gen tokens | tok/s | p50 ms | p99 ms | calls/step | vs 1 client | vs max_batch 0 |\n"
                      "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        char r1[32] = "", r0[32] = "";
        if (one && one->tok_s > 0) std::snprintf(r1, sizeof r1, "%.2fx", lv.tok_s / one->tok_s);
        if (unbatched && unbatched->tok_s > 0) std::snprintf(r0, sizeof r0, "%.2fx", lv.tok_s / unbatched->tok_s);
        std::printf("| %d | %d | %zu | %d | %d | %llu | %.1f | %.1f | %.1f | %.2f | %s | %s |\n", mb, clients,
                    std::min<size_t>(ids.size(), static_cast<size_t>(clients)), lv.requests, lv.errors,
                    static_cast<unsigned long long>(lv.generated), lv.tok_s, lv.p50_ms, lv.p99_ms, lv.mean_seqs, r1, r0);
        if (!lv.first_error.empty()) std::printf("  first error: %s\n", lv.first_error.c_str());
      }
      std::fflush(stdout);
    }
  }
  if (!o.json_lines)
    std::printf("input %lld tokens, max_tokens %lld, %d requests per client, %zu programs; peak RSS %.0f MiB\n",
                static_cast<long long>(o.input_tokens), static_cast<long long>(o.max_tokens), o.requests, ids.size(),
                static_cast<double>(peak_rss_bytes()) / (1 << 20));
}

}  // namespace

void add_bench_serve_command(CLI::App& app) {
  auto o = std::make_shared<BenchServeOptions>();
  auto* cmd = app.add_subcommand(
      "bench-serve",
      "Load-test paw serve in this process: aggregate generated tokens/s and latency p50/p99 for several numbers of "
      "concurrent clients, each calling its own program, with and without batched decoding");
  cmd->add_option("-m,--model", o->model, "Base model GGUF the programs run on")->required();
  cmd->add_option("--programs", o->programs, "Folder of .paw files (client k calls program k mod n)")->required();
  cmd->add_option("--clients", o->clients, "Concurrent client counts, comma separated")->delimiter(',')->capture_default_str();
  cmd->add_option("--max-batch", o->max_batch,
                  "Server --max-batch values to compare, comma separated (0 = no batching: a session per call)")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  cmd->add_option("-r,--requests", o->requests, "Calls per client at each level")->capture_default_str();
  cmd->add_option("--input-tokens", o->input_tokens, "Tokens of each call's input (before the template's suffix)")
      ->capture_default_str();
  cmd->add_option("-n,--max-tokens", o->max_tokens, "max_tokens of each call (EOS may end a call earlier)")
      ->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Threads per evaluation (0 = one per physical core)")->capture_default_str();
  cmd->add_option("--max-step-tokens", o->max_step_tokens, "Server --max-step-tokens (tokens per batched forward)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{65536}));
  cmd->add_flag("--json", o->json_lines, "One JSON object per line per level (JSONL)");
  cmd->callback([o] { run_bench_serve(*o); });
}

}  // namespace paw::cli
