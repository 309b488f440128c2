// `paw serve [--host H] [--port P] [--model M] [--compiler C] [--programs DIR]... [--api-key K |
//            --api-key-file F] [--threads N] [--max-sessions N] ...` — one base model, many
// programs over HTTP (paw/server/server.hpp, docs/SERVER.md). SIGTERM or SIGINT: stop
// accepting, finish the requests in flight, exit 0.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "cli/commands.hpp"
#include "paw/server/server.hpp"
#include "paw/util/error.hpp"

namespace paw::cli {
namespace {

struct ServeCliOptions {
  server::ServeOptions s;
  std::string api_key_file;
  double budget_mib = 256;
};

std::string read_key_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read the API key file", path, "check the path and permissions");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string k = ss.str();
  while (!k.empty() && (k.back() == '\n' || k.back() == '\r' || k.back() == ' ')) k.pop_back();
  if (k.empty()) throw Error("the API key file is empty", path, "write the key on its first line");
  return k;
}

void run_serve(ServeCliOptions& o) {
  if (!o.api_key_file.empty()) {
    if (!o.s.api_key.empty()) throw Error("give the API key once: --api-key or --api-key-file", "paw serve");
    o.s.api_key = read_key_file(o.api_key_file);
  }
  if (o.budget_mib <= 0) throw Error("--program-budget must be positive", "paw serve", "e.g. --program-budget 256 (MiB)");
  o.s.program_budget_bytes = static_cast<size_t>(o.budget_mib * 1024 * 1024);
  // Signals go to one waiting thread (not a handler), which stops the server cleanly.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  server::Server srv(o.s);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGUSR1) return;   // the server stopped by itself
    std::fprintf(stderr, "paw serve: %s: finishing requests in flight, then exiting\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    srv.stop();
  });
  std::printf("paw serve: %s\n", srv.base_url().c_str());
  std::fflush(stdout);
  srv.listen();
  pthread_kill(waiter.native_handle(), SIGTERM);   // wakes the waiter if it still waits (stop() is idempotent)
  waiter.join();
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeCliOptions>();
  auto* cmd = app.add_subcommand("serve", "Serve programs over HTTP: the reference REST API (/api/v1) and OpenAI-style /v1");
  server::ServeOptions& s = o->s;
  cmd->add_option("--host", s.host, "Address to bind (loopback by default; 0.0.0.0 exposes it)")->capture_default_str();
  cmd->add_option("--port", s.port, "Port (0 = any free port, printed at start)")->capture_default_str();
  cmd->add_option("-m,--model", s.model,
                  "Base model GGUF every program runs on (default: $PAW_MODEL, else the interpreter beside the compiler)");
  cmd->add_option("-c,--compiler", s.compiler,
                  "Compiler GGUF for POST /api/v1/compile (default: $PAW_COMPILER, else models/trained/C.gguf)");
  cmd->add_flag("--no-compiler", s.no_compiler, "Load no compiler (POST /api/v1/compile answers 503)");
  cmd->add_option("--programs", s.program_dirs, "Folder of .paw files to import into the cache at start (repeatable)");
  cmd->add_option("--cache-dir", s.cache_dir, "Program cache (default: $PAW_CACHE_DIR or ~/.cache/programasweights)");
  cmd->add_option("--api-key", s.api_key, "Require this key (X-API-Key or Authorization: Bearer) on every route but /health");
  cmd->add_option("--api-key-file", o->api_key_file, "Read the API key from this file's first line");
  cmd->add_option("-t,--threads", s.threads, "Threads per evaluation (0 = one per physical core)")->capture_default_str();
  cmd->add_option("--max-batch", s.max_batch,
                  "Calls decoded together in one batch, one forward per token for all (each holds a KV cache); "
                  "0 = no batching")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  cmd->add_option("--max-step-tokens", s.max_step_tokens,
                  "With batching: tokens per forward, the decoding calls' next tokens plus pieces of joining calls' "
                  "prompts (larger: joins finish sooner, each step takes longer)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{65536}));
  cmd->add_option("--max-sessions", s.max_sessions,
                  "Sessions for opening programs; with --max-batch 0, evaluations at once (each with its own KV cache)")
      ->capture_default_str();
  cmd->add_option("--http-threads", s.http_threads, "Connections served at once")->capture_default_str();
  cmd->add_option("--max-body", s.max_body_bytes, "Largest request body in bytes (larger: 413)")->capture_default_str();
  cmd->add_option("--max-input-tokens", s.max_input_tokens, "Longest input in tokens (longer: 413)")->capture_default_str();
  cmd->add_option("--max-tokens", s.max_tokens_limit, "Largest max_tokens a request may ask (larger: 422); also the default")
      ->capture_default_str();
  cmd->add_option("--program-budget", o->budget_mib,
                  "MiB of opened programs (adapter + prefix KV) kept in memory; least recently used are evicted "
                  "and reopen on demand")
      ->capture_default_str();
  cmd->add_option("--max-per-client", s.max_per_client, "Requests in flight per client address (beyond: 429)")
      ->capture_default_str();
  cmd->add_option("--read-timeout", s.read_timeout_s, "Seconds a client may stall while sending a request")
      ->capture_default_str();
  cmd->callback([o] { run_serve(*o); });
}

}  // namespace paw::cli
