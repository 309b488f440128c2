#pragma once
// `paw serve`: one base model, many programs, over HTTP (docs/SERVER.md).
//
//   paw::server::ServeOptions o;
//   o.model = "models/trained/S.gguf";
//   paw::server::Server s(o);       // loads the model, imports --programs folders, binds
//   s.listen();                     // blocks until stop() (e.g. from a SIGTERM handler)
//
// Routes: the reference service's REST API under /api/v1 (infer, compile, programs, slugs,
// downloads, runtimes, compilers) and OpenAI-style /v1/completions, /v1/chat/completions
// (with server-sent events) and /v1/models. Programs come from the program cache; opened ones
// (adapter + prefix KV state) are kept under a memory budget, least recently used evicted.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace paw::server {

struct ServeOptions {
  std::string host = "127.0.0.1";   // loopback only unless asked
  int port = 8080;                   // 0 = any free port (Server::port() says which)
  // Base model GGUF every program runs on. Empty: $PAW_MODEL, else the interpreter the
  // compiler names when that file sits beside the compiler (models/trained/S.gguf).
  std::string model;
  // Compiler GGUF for POST /api/v1/compile. Empty: $PAW_COMPILER, else the shipped
  // models/trained/C.gguf when it exists; none: compile answers 503.
  std::string compiler;
  bool no_compiler = false;   // true: load none (compile routes answer 503), e.g. for a model no compiler fits
  std::string cache_dir;                    // program cache; empty = $PAW_CACHE_DIR or ~/.cache/programasweights
  std::vector<std::string> program_dirs;    // folders of .paw files imported into the cache at start
  std::string api_key;                      // non-empty: every route but /health needs it
  int threads = 0;                          // threads per evaluation (0 = one per physical core)
  // Calls decoded together in one batch (paw::BatchRunner: one forward per generated token
  // for all of them, each with its program's adapter; each holds a KV cache). 0 = no
  // batching: every request runs on its own session, up to max_sessions at once.
  int max_batch = 8;
  // With batching: tokens one forward evaluates — the decoding calls' next tokens plus pieces
  // of joining calls' prompts (BatchOptions::max_step_tokens).
  int64_t max_step_tokens = 128;
  int max_sessions = 4;                     // without batching: evaluations at once (each holds a KV cache); with it, program opens
  int http_threads = 16;                    // connections served at once
  size_t max_body_bytes = 1 << 20;          // larger request bodies: 413
  int64_t max_input_tokens = 1024;          // longer inputs: 413
  int64_t max_tokens_limit = 512;           // max_tokens above it: 422; also the default when absent
  size_t program_budget_bytes = 256u << 20; // opened programs (adapter + prefix KV) kept in memory
  int max_per_client = 8;                   // requests at once per client address; beyond: 429
  int read_timeout_s = 10;                  // a request (headers + body) must arrive within this
  // Log lines (one per request and notes); empty = stderr.
  std::function<void(std::string_view)> log;
};

class Server {
 public:
  // Loads the model (and the compiler, when there is one), imports the program folders and
  // binds the socket. Throws paw::Error (model, compiler, address in use, ...).
  explicit Server(ServeOptions opts);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;        // the bound port
  void listen();           // serves until stop(); in-flight requests finish first
  void stop();             // thread- and signal-safe to call from another thread
  std::string base_url() const;   // "http://host:port"

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace paw::server
