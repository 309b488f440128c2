#pragma once
// The server's shared state and helpers for its route files (api_reference.cpp,
// api_openai.cpp); server.cpp holds the HTTP glue (auth, limits, request ids, logging).
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "paw/batch.hpp"
#include "paw/compiler/compiler.hpp"
#include "paw/interpreter.hpp"
#include "paw/program/cache.hpp"
#include "paw/run.hpp"
#include "paw/server/server.hpp"
#include "server/program_pool.hpp"

namespace paw::server {

using json = nlohmann::ordered_json;

// An error answered as JSON with an HTTP status (reference shape: {error, message, detail,
// details?, request_id}; OpenAI routes: {error: {message, type, code}}).
struct ApiError {
  int status = 500;
  std::string code;      // "bad_request", "not_found", ...
  std::string message;
  json details;          // null or an object
};

[[noreturn]] void fail(int status, std::string code, std::string message, json details = nullptr);

struct State {
  ServeOptions opts;
  std::unique_ptr<Interpreter> interp;
  std::unique_ptr<ProgramPool> pool;
  std::unique_ptr<BatchRunner> batch;             // null: no batching (ServeOptions::max_batch 0)
  std::unique_ptr<compiler::Compiler> compiler;   // null: no compiler configured
  std::mutex compile_mu;                          // one compile at a time
  std::string model_path, compiler_path;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<uint64_t> requests{0}, generated_tokens{0};

  ProgramCache cache() const { return ProgramCache(opts.cache_dir); }
  // Full id of a program reference (id, slug, slug@vN, unique prefix); 404 when unknown, 400
  // when it cannot be a reference at all.
  std::string resolve(const std::string& ref);
};

// The JSON body of `req` as an object (400 on malformed JSON or another type).
json body_object(const httplib::Request& req);
// Optional typed fields (422 naming the field on a wrong type or range).
std::optional<std::string> opt_string(const json& j, const char* key);
std::string req_string(const json& j, const char* key);
std::optional<int64_t> opt_int(const json& j, const char* key, int64_t lo, int64_t hi);
std::optional<double> opt_number(const json& j, const char* key, double lo, double hi);

// Runs one program call with the server's limits; the result's timing in *latency_ms.
struct InferRequest {
  std::string ref, input;
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature;
  uint64_t seed = 0;
};
struct InferOutcome {
  std::string program_id;
  RunResult result;
  double latency_ms = 0;
};
// `on_text` (may be empty) gets each new piece of output text as it is generated; returning
// false cancels the run (a client that went away).
InferOutcome run_infer(State& st, const InferRequest& r,
                       const std::function<bool(const std::string&)>& on_text = {});

void send_json(httplib::Response& res, int status, const json& j);

// Routes register through `wrap` (auth, per-client cap, JSON errors, request id, log line).
using Wrap = std::function<httplib::Server::Handler(httplib::Server::Handler)>;
void add_reference_routes(httplib::Server& http, State& st, const Wrap& wrap);
void add_openai_routes(httplib::Server& http, State& st, const Wrap& wrap);

}  // namespace paw::server
