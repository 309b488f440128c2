// `paw serve`: the HTTP glue — model and compiler loading, auth, limits, per-client caps,
// request ids, JSON errors, logging (routes: api_reference.cpp, api_openai.cpp).
#include <openssl/crypto.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "paw/program/cache.hpp"
#include "paw/tokenizer/text_stream.hpp"
#include "paw/util/error.hpp"
#include "server/server_internal.hpp"

namespace paw::server {
namespace fs = std::filesystem;

void fail(int status, std::string code, std::string message, json details) {
  throw ApiError{status, std::move(code), std::move(message), std::move(details)};
}

void send_json(httplib::Response& res, int status, const json& j) {
  res.status = status;
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

json body_object(const httplib::Request& req) {
  json j;
  try {
    j = json::parse(req.body);
  } catch (const json::parse_error& e) {
    fail(400, "invalid_json", std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) fail(400, "invalid_json", "the request body must be a JSON object");
  return j;
}

std::optional<std::string> opt_string(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) fail(422, "invalid_field", std::string("field '") + key + "' must be a string", {{"field", key}});
  return it->get<std::string>();
}

std::string req_string(const json& j, const char* key) {
  auto v = opt_string(j, key);
  if (!v) fail(422, "missing_field", std::string("field '") + key + "' is required", {{"field", key}});
  return *v;
}

std::optional<int64_t> opt_int(const json& j, const char* key, int64_t lo, int64_t hi) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer())
    fail(422, "invalid_field", std::string("field '") + key + "' must be an integer", {{"field", key}});
  const int64_t v = it->get<int64_t>();
  if (v < lo || v > hi)
    fail(422, "invalid_field",
         std::string("field '") + key + "' = " + std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
             std::to_string(hi) + "]",
         {{"field", key}, {"min", lo}, {"max", hi}});
  return v;
}

std::optional<double> opt_number(const json& j, const char* key, double lo, double hi) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) fail(422, "invalid_field", std::string("field '") + key + "' must be a number", {{"field", key}});
  const double v = it->get<double>();
  if (!(v >= lo && v <= hi))
    fail(422, "invalid_field", std::string("field '") + key + "' is out of range", {{"field", key}, {"min", lo}, {"max", hi}});
  return v;
}

std::string State::resolve(const std::string& ref) {
  // A reference is an id, an id prefix or a slug: printable ASCII without path tricks.
  if (ref.empty() || ref.size() > 200) fail(400, "invalid_program_ref", "the program reference is empty or too long");
  for (unsigned char c : ref)
    if (c <= 0x20 || c >= 0x7f || c == '\\') fail(400, "invalid_program_ref", "the program reference has illegal characters");
  if (ref.find("..") != std::string::npos || ref[0] == '/')
    fail(400, "invalid_program_ref", "the program reference has illegal characters");
  try {
    return cache().resolve_ref(ref);
  } catch (const Error& e) {
    // The message names the reference, not the server's folders.
    const std::string what = e.what();
    const bool ambiguous = what.find("matches") != std::string::npos, version = what.find("no version") != std::string::npos;
    fail(404, "not_found",
         "Program not found: " + ref +
             (ambiguous ? " (the id prefix matches several programs)" : version ? " (the slug has no such version)" : ""),
         {{"program", ref}, {"hint", "GET /api/v1/programs lists the programs"}});
  }
}

InferOutcome run_infer(State& st, const InferRequest& r, const std::function<bool(const std::string&)>& on_text) {
  const auto t0 = std::chrono::steady_clock::now();
  InferOutcome out;
  out.program_id = st.resolve(r.ref);
  const int64_t max_tokens = r.max_tokens.value_or(st.opts.max_tokens_limit);
  if (max_tokens > st.opts.max_tokens_limit || max_tokens < 0)
    fail(422, "max_tokens_too_large",
         "max_tokens " + std::to_string(max_tokens) + " is over this server's limit of " +
             std::to_string(st.opts.max_tokens_limit),
         {{"limit", st.opts.max_tokens_limit}});
  const Tokenizer& tok = st.interp->tokenizer();
  const size_t n_input = tok.encode(r.input).size();
  if (static_cast<int64_t>(n_input) > st.opts.max_input_tokens)
    fail(413, "input_too_long",
         "the input has " + std::to_string(n_input) + " tokens; this server takes at most " +
             std::to_string(st.opts.max_input_tokens),
         {{"input_tokens", n_input}, {"limit", st.opts.max_input_tokens}});
  std::shared_ptr<const Program> prog;
  try {
    prog = st.pool->get(out.program_id);
  } catch (const Error& e) {
    fail(422, "program_unusable", std::string("the program cannot run on this server: ") + e.what(),
         {{"program_id", out.program_id}});
  }
  RunOptions ro;
  ro.max_tokens = max_tokens;
  ro.temperature = static_cast<float>(r.temperature.value_or(0.0));
  ro.seed = r.seed;
  // Streaming: the text as it becomes final (paw::TextStream), past the leading whitespace
  // that the final output trims.
  TextStream stream(tok, DecodeOptions{.skip_special = true});
  bool started = false;
  auto hand_out = [&](std::string piece) {
    if (!started) {
      const size_t s = piece.find_first_not_of(" \t\n\r\f\v");
      if (s == std::string::npos) return true;
      piece.erase(0, s);
      started = true;
    }
    return piece.empty() || on_text(piece);
  };
  if (on_text) ro.on_token = [&](int32_t id) { return hand_out(stream.push(id)); };
  try {
    out.result = st.batch ? st.batch->run(*prog, r.input, ro) : prog->run(r.input, ro);
  } catch (const Error& e) {
    fail(422, "run_failed", e.what(), {{"program_id", out.program_id}});
  }
  if (on_text && !out.result.cancelled) hand_out(stream.finish());   // a character held back at the end
  st.generated_tokens += out.result.ids.size();
  out.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

namespace {

std::string new_request_id() {
  static std::atomic<uint64_t> counter{0};
  char buf[40];
  std::snprintf(buf, sizeof buf, "req-%x-%llx", static_cast<unsigned>(::getpid()),
                static_cast<unsigned long long>(++counter));
  return buf;
}

bool key_matches(const std::string& given, const std::string& want) {
  return given.size() == want.size() && CRYPTO_memcmp(given.data(), want.data(), want.size()) == 0;
}

}  // namespace

// Debian's cpp-httplib is built with a listen backlog of 5: when more clients connect at once,
// the kernel's accept queue overflows and a request is lost (16 load-test clients saw read
// errors). listen() again on the bound socket raises the backlog.
class HttpServer : public httplib::Server {
 public:
  bool set_backlog(int n) { return ::listen(svr_sock_, n) == 0; }
};

struct Server::Impl {
  State st;
  HttpServer http;
  int port = 0;
  std::mutex clients_mu;
  std::map<std::string, int> in_flight;   // per client address

  void log(const std::string& line) {
    if (st.opts.log) st.opts.log(line);
    else std::fprintf(stderr, "%s\n", line.c_str());
  }

  // Per-client concurrency: a slot for the request's address, or 429.
  struct Slot {
    Impl* impl = nullptr;
    std::string addr;
    Slot() = default;
    Slot(Slot&& o) noexcept : impl(o.impl), addr(std::move(o.addr)) { o.impl = nullptr; }
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (!impl) return;
      std::lock_guard<std::mutex> g(impl->clients_mu);
      if (--impl->in_flight[addr] <= 0) impl->in_flight.erase(addr);
    }
  };

  static bool is_openai(const std::string& path) { return path.rfind("/v1/", 0) == 0; }

  void answer_error(const httplib::Request& req, httplib::Response& res, const ApiError& e) {
    std::string rid = req.get_header_value("X-Request-Id");
    if (rid.empty() || rid.size() > 64) rid = new_request_id();   // errors raised before a route ran
    res.set_header("X-Request-Id", rid);
    if (is_openai(req.path)) {
      json err = {{"message", e.message}, {"type", e.status >= 500 ? "server_error" : "invalid_request_error"},
                  {"code", e.code}};
      send_json(res, e.status, json{{"error", err}});
    } else {
      json j = {{"error", e.code}, {"message", e.message}, {"detail", e.message}};
      if (!e.details.is_null()) j["details"] = e.details;
      j["request_id"] = rid;
      send_json(res, e.status, j);
    }
    if (e.status == 429) res.set_header("Retry-After", "1");
    if (e.status == 401) res.set_header("WWW-Authenticate", "Bearer");
  }

  // Wraps a route: request id, auth, per-client cap, errors as JSON, one log line.
  httplib::Server::Handler guard(httplib::Server::Handler h, bool needs_key = true) {
    return [this, h, needs_key](const httplib::Request& creq, httplib::Response& res) {
      auto& req = const_cast<httplib::Request&>(creq);
      const auto t0 = std::chrono::steady_clock::now();
      std::string rid = req.get_header_value("X-Request-Id");
      if (rid.empty() || rid.size() > 64) rid = new_request_id();
      req.headers.erase("X-Request-Id");
      req.headers.emplace("X-Request-Id", rid);
      res.set_header("X-Request-Id", rid);
      ++st.requests;
      Slot slot;
      try {
        if (needs_key && !st.opts.api_key.empty()) {
          std::string key = req.get_header_value("X-API-Key");
          const std::string auth = req.get_header_value("Authorization");
          if (key.empty() && auth.rfind("Bearer ", 0) == 0) key = auth.substr(7);
          if (!key_matches(key, st.opts.api_key))
            fail(401, "unauthorized", key.empty() ? "an API key is required (X-API-Key or Authorization: Bearer)"
                                                  : "the API key is wrong");
        }
        {
          std::lock_guard<std::mutex> g(clients_mu);
          int& n = in_flight[req.remote_addr];
          if (n >= st.opts.max_per_client) {
            if (n == 0) in_flight.erase(req.remote_addr);
            fail(429, "too_many_requests",
                 "this client already has " + std::to_string(st.opts.max_per_client) +
                     " requests in flight; retry after the Retry-After seconds",
                 {{"limit", st.opts.max_per_client}});
          }
          ++n;
          slot.impl = this;
          slot.addr = req.remote_addr;
        }
        h(req, res);
        // A streamed answer is written after the handler returns: the slot goes with the
        // stream and is freed when the stream ends (cpp-httplib calls the releaser then).
        if (res.content_provider_ && slot.impl) {
          auto held = std::make_shared<Slot>(std::move(slot));
          res.content_provider_resource_releaser_ = [held, prev = std::move(res.content_provider_resource_releaser_)](bool ok) {
            if (prev) prev(ok);
          };
        }
      } catch (const ApiError& e) {
        answer_error(req, res, e);
      } catch (const Error& e) {
        answer_error(req, res, ApiError{500, "internal_error", e.what(), nullptr});
      } catch (const std::exception& e) {
        answer_error(req, res, ApiError{500, "internal_error", e.what(), nullptr});
      }
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      char line[512];
      std::snprintf(line, sizeof line, "paw serve: %s %s %s -> %d (%.1f ms)", rid.c_str(), req.method.c_str(),
                    req.path.substr(0, 200).c_str(), res.status, ms);
      log(line);
    };
  }
};

Server::Server(ServeOptions opts) : impl_(std::make_unique<Impl>()) {
  State& st = impl_->st;
  st.opts = std::move(opts);
  if (st.opts.cache_dir.empty()) st.opts.cache_dir = ProgramCache().root();

  if (!st.opts.no_compiler) st.compiler_path = compiler::find_default_compiler(st.opts.compiler, st.opts.cache_dir);
  if (!st.compiler_path.empty()) st.compiler = std::make_unique<compiler::Compiler>(compiler::Compiler::open(st.compiler_path));

  st.model_path = st.opts.model;
  if (st.model_path.empty())
    if (const char* env = std::getenv("PAW_MODEL"); env && *env) st.model_path = env;
  if (st.model_path.empty() && st.compiler) {
    const fs::path beside = fs::path(st.compiler_path).parent_path() / st.compiler->info().interp_name;
    if (fs::exists(beside)) st.model_path = beside.string();
  }
  if (st.model_path.empty())
    throw Error("no base model", "paw serve", "pass --model FILE.gguf (or set PAW_MODEL)");
  InterpreterOptions io;
  io.n_threads = st.opts.threads;
  io.max_sessions = st.opts.max_sessions;
  io.cache_dir = st.opts.cache_dir;
  st.interp = std::make_unique<Interpreter>(Interpreter::open(st.model_path, io));
  if (st.compiler) {
    try {
      st.compiler->check_interpreter(st.model_path, st.interp->model_sha256());
    } catch (const Error& e) {
      throw Error(std::string("the compiler does not fit the base model: ") + e.what(), "paw serve",
                  "pass the --model the compiler was trained for, or another --compiler");
    }
  }
  st.pool = std::make_unique<ProgramPool>(*st.interp, st.opts.cache_dir, st.opts.program_budget_bytes);
  if (st.opts.max_batch < 0) throw Error("--max-batch must be 0 (no batching) or more", "paw serve");
  if (st.opts.max_step_tokens < 1) throw Error("--max-step-tokens must be at least 1", "paw serve");
  if (st.opts.max_batch > 0)
    st.batch = std::make_unique<BatchRunner>(
        *st.interp, BatchOptions{.max_batch = st.opts.max_batch, .max_step_tokens = st.opts.max_step_tokens});

  for (const std::string& dir : st.opts.program_dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw Error("not a folder", dir, "--programs takes a folder of .paw files");
    ProgramCache cache(st.opts.cache_dir);
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() != ".paw") continue;
      try {
        cache.import(e.path().string());
      } catch (const Error& err) {
        impl_->log(std::string("paw serve: warning: skipped ") + e.path().string() + ": " + err.what());
      }
    }
  }

  HttpServer& http = impl_->http;
  const size_t n_threads = static_cast<size_t>(std::max(2, st.opts.http_threads));
  http.new_task_queue = [n_threads] { return new httplib::ThreadPool(n_threads); };
  http.set_payload_max_length(st.opts.max_body_bytes);
  http.set_read_timeout(st.opts.read_timeout_s, 0);
  http.set_write_timeout(30, 0);
  http.set_keep_alive_timeout(5);
  // Answers are small and written in pieces (headers, body, stream events): with Nagle's
  // algorithm a piece waits for the client's delayed ACK, ~40 ms per answer on loopback.
  http.set_tcp_nodelay(true);
  http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;   // a route's own JSON error
    ApiError e{res.status, "error", "request failed", nullptr};
    if (res.status == 404) e = {404, "not_found", "no route " + req.method + " " + req.path.substr(0, 200), nullptr};
    if (res.status == 413)
      e = {413, "body_too_large",
           "the request body is over this server's limit of " + std::to_string(impl_->st.opts.max_body_bytes) + " bytes",
           json{{"limit", impl_->st.opts.max_body_bytes}}};
    if (res.status == 400) e = {400, "bad_request", "malformed HTTP request", nullptr};
    impl_->answer_error(req, res, e);
    return httplib::Server::HandlerResponse::Handled;
  }));

  // How well calls are decoded together: steps (forwards), the calls they carried
  // (sequences), the tokens they decoded (rows) and the prompt tokens of joining calls.
  const auto batching = [](const State& s) -> json {
    if (!s.batch) return json{{"max_batch", 0}};
    const BatchStats b = s.batch->stats();
    return json{{"max_batch", s.opts.max_batch},
                {"calls", b.calls},
                {"steps", b.steps},
                {"rows", b.rows},
                {"prompt_tokens", b.prompt_tokens},
                {"sequences", b.sequences},
                {"mean_sequences", b.steps ? static_cast<double>(b.sequences) / static_cast<double>(b.steps) : 0.0},
                {"max_rows", b.max_rows}};
  };
  auto health = [this, batching](const httplib::Request&, httplib::Response& res) {
    const State& s = impl_->st;
    const double up = std::chrono::duration<double>(std::chrono::steady_clock::now() - s.started).count();
    send_json(res, 200,
              json{{"status", "ok"},
                   {"model", fs::path(s.model_path).filename().string()},
                   {"compiler", s.compiler ? json(s.compiler->info().name) : json(nullptr)},
                   {"programs_loaded", s.pool->loaded()},
                   {"program_bytes", s.pool->bytes()},
                   {"requests", s.requests.load()},
                   {"generated_tokens", s.generated_tokens.load()},
                   {"batching", batching(s)},
                   {"uptime_s", up}});
  };
  http.Get("/health", impl_->guard(health, false));
  http.Get("/api/v1/health", impl_->guard(health, false));
  const Wrap wrap = [this](httplib::Server::Handler h) { return impl_->guard(std::move(h)); };
  add_reference_routes(http, st, wrap);
  add_openai_routes(http, st, wrap);

  impl_->port = st.opts.port == 0 ? http.bind_to_any_port(st.opts.host) : (http.bind_to_port(st.opts.host, st.opts.port) ? st.opts.port : -1);
  if (impl_->port > 0 && !impl_->http.set_backlog(SOMAXCONN))
    impl_->log("paw serve: warning: could not raise the listen backlog; bursts of connections may be dropped");
  if (impl_->port <= 0)
    throw Error("cannot listen on " + st.opts.host + ":" + std::to_string(st.opts.port), "paw serve",
                "the port is in use or the address is not local; pick another --port or --host");
}

Server::~Server() = default;

int Server::port() const { return impl_->port; }
std::string Server::base_url() const { return "http://" + impl_->st.opts.host + ":" + std::to_string(impl_->port); }

void Server::listen() {
  impl_->log("paw serve: listening on " + base_url() + " (model " + impl_->st.model_path +
             (impl_->st.compiler ? ", compiler " + impl_->st.compiler_path : std::string(", no compiler")) + ")");
  impl_->http.listen_after_bind();
}

void Server::stop() { impl_->http.stop(); }

}  // namespace paw::server
