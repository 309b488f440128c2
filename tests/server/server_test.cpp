// `paw serve` over real loopback HTTP: the reference REST routes (compile, infer, programs,
// slugs, download, runtimes, compilers), the OpenAI-style routes (plain and streamed), auth,
// limits and errors, the program budget, a slow client, a bounded load test, and SIGTERM.
// Outputs are checked against the same program run through the C++ API (paw::Program), and
// downloads against the cache's own bundle read back from the ZIP bytes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "paw/compiler/compiler.hpp"
#include "paw/program/bundle.hpp"
#include "paw/util/error.hpp"
#include "paw/run.hpp"
#include "paw/server/server.hpp"
#include "common/test_env.hpp"

namespace paw::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct Models {
  std::string dir, interp, compiler;
};

const Models& models() {
  static const Models m = [] {
    Models x;
    x.dir = scratch_dir("server_models");
    x.interp = x.dir + "/interp.gguf";
    x.compiler = x.dir + "/compiler.gguf";
    const std::string t = tool_path("paw-fixture");
    const std::string enc = x.dir + "/enc.gguf";
    for (const std::string& cmd : {t + " model --arch qwen3 --preset tiny --seed 1 -o " + x.interp,
                                   t + " model --arch qwen3 --preset tiny --seed 2 -o " + enc,
                                   t + " compiler --encoder " + enc + " --interpreter " + x.interp +
                                       " --prefix-tokens 4 --n-bases 2 --seed 3 -o " + x.compiler})
      if (run_command(cmd) != 0) throw std::runtime_error("fixture failed: " + cmd);
    return x;
  }();
  return m;
}

// A server on a free loopback port, serving in a thread for the test's lifetime.
struct Running {
  std::unique_ptr<server::Server> srv;
  std::thread th;
  std::string cache;
  explicit Running(server::ServeOptions o, const std::string& name) {
    cache = scratch_dir(name);
    o.port = 0;
    o.model = models().interp;
    if (o.compiler.empty()) o.compiler = models().compiler;
    o.cache_dir = cache;
    o.threads = 1;
    o.log = [](std::string_view) {};
    srv = std::make_unique<server::Server>(o);
    th = std::thread([this] { srv->listen(); });
  }
  ~Running() {
    srv->stop();
    th.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", srv->port());
    c.set_read_timeout(60, 0);
    return c;
  }
};

json post(httplib::Client& c, const std::string& path, const json& body, int want, const httplib::Headers& h = {}) {
  auto r = c.Post(path.c_str(), h, body.dump(), "application/json");
  if (!r) {
    ADD_FAILURE() << "no response from " << path;
    return nullptr;
  }
  EXPECT_EQ(r->status, want) << path << ": " << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("application/json", 0), 0u) << path;
  return json::parse(r->body, nullptr, false);
}

json get(httplib::Client& c, const std::string& path, int want, const httplib::Headers& h = {}) {
  auto r = c.Get(path.c_str(), h);
  if (!r) {
    ADD_FAILURE() << "no response from " << path;
    return nullptr;
  }
  EXPECT_EQ(r->status, want) << path << ": " << r->body;
  return json::parse(r->body, nullptr, false);
}

const char* kSpecA = "Answer yes or no: is the input a question?";
const char* kSpecB = "Answer yes or no: is the input about the weather?";

// The output the C++ API gives for the same program, input and limits.
std::string api_output(const std::string& cache, const std::string& id, const std::string& input, int64_t max_tokens) {
  ProgramOptions po;
  po.cache_dir = cache;
  po.log = [](std::string_view, std::string_view) {};
  static const Interpreter interp = Interpreter::open(models().interp);
  RunOptions ro;
  ro.max_tokens = max_tokens;
  return Program::open(id, interp, po).run(input, ro).output;
}

TEST(Serve, CompileSaysWhereAnExpertsCompilerRoutedTheSpec) {
  const std::string experts = models().dir + "/experts.gguf";
  ASSERT_EQ(run_command(tool_path("paw-fixture") + " compiler --encoder " + models().dir + "/enc.gguf --interpreter " +
                        models().interp + " --prefix-tokens 4 --n-bases 6 --seed 3 --coef-activation softmax " +
                        "--experts dates,reviews -o " + experts),
            0);
  server::ServeOptions o;
  o.compiler = experts;
  Running s(o, "serve_experts");
  auto c = s.client();
  const json a = post(c, "/api/v1/compile", {{"spec", kSpecA}}, 200);
  ASSERT_TRUE(a.contains("experts")) << a.dump();
  ASSERT_EQ(a["experts"].size(), 2u);
  EXPECT_GE(a["experts"][0]["weight"].get<double>(), a["experts"][1]["weight"].get<double>());
  EXPECT_NEAR(a["experts"][0]["weight"].get<double>() + a["experts"][1]["weight"].get<double>(), 1.0, 1e-5);
  EXPECT_EQ(std::set<std::string>({a["experts"][0]["name"], a["experts"][1]["name"]}),
            (std::set<std::string>{"dates", "reviews"}));
  // No examples in the spec: the router's choice.
  EXPECT_EQ(a["expert"], a["experts"][0]["name"]);
  EXPECT_EQ(a["expert_chosen_by"], "router");
  // The same program as `paw compile` on the same files.
  const std::string with_example = std::string(kSpecA) + "\nInput: is it raining?\nOutput: yes";
  const json e = post(c, "/api/v1/compile", {{"spec", with_example}}, 200);
  EXPECT_EQ(e["expert_chosen_by"], "router");
  std::string cli;
  const std::string spec_file = models().dir + "/expert_spec.txt";
  std::ofstream(spec_file) << with_example;
  ASSERT_EQ(run_command(tool_path("paw") + " compile --compiler " + experts + " --interpreter " + models().interp + " --spec-file " +
                            spec_file + " -o " + models().dir + "/expert_cli.paw --json",
                        &cli),
            0);
  EXPECT_EQ(json::parse(cli)["program_id"], e["program_id"]);
  EXPECT_EQ(json::parse(cli)["expert"], e["expert"]);
  // "expert" forces one; an unknown one is a 422 naming the field and the experts.
  EXPECT_EQ(post(c, "/api/v1/compile", {{"spec", with_example}, {"expert", "reviews"}}, 200)["expert_chosen_by"], "option");
  const json bad = post(c, "/api/v1/compile", {{"spec", with_example}, {"expert", "weather"}}, 422);
  EXPECT_NE(bad.dump().find("reviews"), std::string::npos) << bad.dump();
}

TEST(Serve, CompileInferAndTheReferenceRoutes) {
  Running s({}, "serve_ref");
  auto c = s.client();
  EXPECT_EQ(get(c, "/health", 200)["status"], "ok");

  const json a = post(c, "/api/v1/compile", {{"spec", kSpecA}, {"slug", "questions"}, {"name", "Questions"}}, 200);
  ASSERT_TRUE(a.is_object());
  EXPECT_EQ(a["status"], "ready");
  EXPECT_EQ(a["slug"], "questions");
  EXPECT_EQ(a["version"], 1);
  EXPECT_EQ(a["version_action"], "created");
  EXPECT_EQ(a["compiler_snapshot"], "paw-fixture compiler");
  EXPECT_FALSE(a.contains("experts"));  // an ordinary compiler routes nowhere
  EXPECT_EQ(a["compiler_kind"], "mapper");
  EXPECT_EQ(a["runtime_id"], "paw-interp");
  EXPECT_TRUE(a["timings"]["total_ms"].is_number());
  const std::string id_a = a["program_id"];
  const json b = post(c, "/api/v1/compile", {{"spec", kSpecB}, {"slug", "questions"}}, 200);
  EXPECT_EQ(b["version"], 2);
  EXPECT_EQ(b["version_action"], "new_version");
  const std::string id_b = b["program_id"];
  EXPECT_EQ(post(c, "/api/v1/compile", {{"spec", kSpecA}}, 200)["cached"], true);

  // infer by id, by slug (latest) and by slug@v1: the C++ API's outputs.
  const json i1 = post(c, "/api/v1/infer", {{"program_id", id_a}, {"input", "is it raining?"}, {"max_tokens", 5}}, 200);
  EXPECT_EQ(i1["output"], api_output(s.cache, id_a, "is it raining?", 5));
  EXPECT_LE(i1["tokens_generated"].get<int>(), 5);
  EXPECT_TRUE(i1["latency_ms"].is_number());
  EXPECT_EQ(post(c, "/api/v1/infer", {{"program_id", "questions"}, {"input", "sunny"}, {"max_tokens", 4}}, 200)["program_id"], id_b);
  EXPECT_EQ(post(c, "/api/v1/infer", {{"program_id", "questions@v1"}, {"input", "sunny"}, {"max_tokens", 4}}, 200)["output"],
            api_output(s.cache, id_a, "sunny", 4));

  EXPECT_EQ(get(c, "/api/v1/programs/resolve/questions", 200)["program_id"], id_b);
  EXPECT_EQ(get(c, "/api/v1/programs/resolve/questions@v1", 200)["program_id"], id_a);
  const json vs = get(c, "/api/v1/programs/questions/versions", 200);
  ASSERT_EQ(vs["versions"].size(), 2u);
  EXPECT_EQ(vs["versions"][0]["program_id"], id_a);
  EXPECT_EQ(vs["versions"][0]["name"], "Questions");
  EXPECT_EQ(vs["latest_version"], 2);

  const json list = get(c, "/api/v1/programs?per_page=1&page=2", 200);
  EXPECT_EQ(list["total"], 2);
  EXPECT_EQ(list["programs"].size(), 1u);
  EXPECT_EQ(get(c, "/api/v1/programs?q=weather", 200)["programs"][0]["program_id"], id_b);
  const json one = get(c, "/api/v1/programs/" + id_a, 200);
  EXPECT_EQ(one["spec"], kSpecA);
  EXPECT_EQ(one["meta"]["program_id"], id_a);

  // The download is the cached program: its bytes read back as a bundle with the same id.
  auto d = c.Get(("/api/v1/programs/" + id_a + "/download").c_str());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 200);
  EXPECT_EQ(d->get_header_value("Content-Type"), "application/zip");
  const std::vector<uint8_t> bytes(d->body.begin(), d->body.end());
  EXPECT_EQ(read_bundle_zip(bytes, "download.paw").id(), id_a);

  const json rt = get(c, "/api/v1/models/runtimes/paw-interp", 200);
  EXPECT_EQ(rt["runtime_id"], "paw-interp");
  EXPECT_EQ(rt["local_sdk"]["base_model"]["size_bytes"], fs::file_size(models().interp));
  EXPECT_EQ(get(c, "/api/v1/models/runtimes/qwen3-0.6b-q6_k", 200)["interpreter"], "Qwen/Qwen3-0.6B");
  EXPECT_EQ(get(c, "/api/v1/models/runtimes/nope", 404)["error"], "not_found");
  const json comps = get(c, "/api/v1/models/compilers", 200);
  ASSERT_EQ(comps["compilers"].size(), 1u);
  EXPECT_EQ(comps["compilers"][0]["name"], "paw-fixture compiler");

  const json pre = post(c, "/api/v1/compile/precheck", {{"spec", kSpecA}}, 200);
  EXPECT_EQ(pre["ok"], true);
  EXPECT_EQ(pre["program_id"], id_a);
  EXPECT_EQ(pre["cached"], true);
  EXPECT_EQ(post(c, "/api/v1/compile/precheck", {{"spec", "  "}}, 200)["ok"], false);
}

TEST(Serve, OpenAiRoutesMatchInferAndStream) {
  Running s({}, "serve_openai");
  auto c = s.client();
  const std::string id = post(c, "/api/v1/compile", {{"spec", kSpecA}, {"slug", "q"}}, 200)["program_id"];
  const std::string want = api_output(s.cache, id, "is it raining?", 6);

  const json comp = post(c, "/v1/completions", {{"model", "q"}, {"prompt", "is it raining?"}, {"max_tokens", 6}}, 200);
  EXPECT_EQ(comp["object"], "text_completion");
  EXPECT_EQ(comp["choices"][0]["text"], want);
  EXPECT_EQ(comp["model"], id);
  EXPECT_GT(comp["usage"]["prompt_tokens"].get<int>(), 0);
  const json chat = post(c, "/v1/chat/completions",
                         {{"model", id}, {"max_tokens", 6},
                          {"messages", {{{"role", "system"}, {"content", "ignored"}}, {{"role", "user"}, {"content", "is it raining?"}}}}},
                         200);
  EXPECT_EQ(chat["object"], "chat.completion");
  EXPECT_EQ(chat["choices"][0]["message"]["content"], want);

  // Streamed: the text pieces add up to the same output, then [DONE].
  for (bool is_chat : {false, true}) {
    json body = {{"model", "q"}, {"max_tokens", 6}, {"stream", true}};
    if (is_chat) body["messages"] = {{{"role", "user"}, {"content", "is it raining?"}}};
    else body["prompt"] = "is it raining?";
    auto r = c.Post(is_chat ? "/v1/chat/completions" : "/v1/completions", body.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
    std::string text, rest = r->body;
    bool done = false, finished = false;
    for (size_t at; (at = rest.find("\n\n")) != std::string::npos; rest = rest.substr(at + 2)) {
      const std::string ev = rest.substr(0, at);
      ASSERT_EQ(ev.rfind("data: ", 0), 0u) << ev;
      if (ev == "data: [DONE]") {
        done = true;
        continue;
      }
      const json j = json::parse(ev.substr(6));
      const json& ch = j["choices"][0];
      if (!ch["finish_reason"].is_null()) finished = true;
      if (is_chat) text += ch["delta"].value("content", "");
      else text += ch["text"].get<std::string>();
    }
    EXPECT_TRUE(done && finished);
    EXPECT_EQ(text, want) << (is_chat ? "chat" : "completions");
  }
  const json models_list = get(c, "/v1/models", 200);
  bool has_id = false, has_slug = false;
  for (const auto& m : models_list["data"]) has_id |= m["id"] == id, has_slug |= m["id"] == "q";
  EXPECT_TRUE(has_id && has_slug);
}

TEST(Serve, BadRequestsGetClearErrors) {
  server::ServeOptions o;
  o.max_body_bytes = 4096;
  o.max_input_tokens = 50;
  o.max_tokens_limit = 16;
  Running s(o, "serve_errors");
  auto c = s.client();
  const std::string id = post(c, "/api/v1/compile", {{"spec", kSpecA}}, 200)["program_id"];
  struct Case {
    std::string path, body;
    int status;
    std::string code;
  } cases[] = {
      {"/api/v1/infer", "{not json", 400, "invalid_json"},
      {"/api/v1/infer", "[1,2]", 400, "invalid_json"},
      {"/api/v1/infer", R"({"input": "x"})", 422, "missing_field"},
      {"/api/v1/infer", R"({"program_id": 5, "input": "x"})", 422, "invalid_field"},
      {"/api/v1/infer", R"({"program_id": ")" + id + R"(", "input": "x", "max_tokens": "many"})", 422, "invalid_field"},
      {"/api/v1/infer", R"({"program_id": ")" + id + R"(", "input": "x", "max_tokens": 17})", 422, "max_tokens_too_large"},
      {"/api/v1/infer", R"({"program_id": ")" + id + R"(", "input": "x", "temperature": -1})", 422, "invalid_field"},
      {"/api/v1/infer", R"({"program_id": "nope", "input": "x"})", 404, "not_found"},
      {"/api/v1/infer", R"({"program_id": "../../etc/passwd", "input": "x"})", 400, "invalid_program_ref"},
      {"/api/v1/infer", R"({"program_id": ")" + id + R"(", "input": ")" + std::string(600, 'a') + " " + std::string(600, 'b') + R"("})",
       413, "input_too_long"},
      {"/api/v1/infer", std::string(5000, ' '), 413, "body_too_large"},
      {"/api/v1/compile", R"({"spec": "   "})", 422, "invalid_spec"},
      {"/api/v1/compile", R"({"spec": "x", "slug": "Bad Slug"})", 422, "invalid_slug"},
      {"/api/v1/compile", R"({"spec": "x", "compiler": "gpt-9"})", 404, "unknown_compiler"},
      {"/api/v1/nothing", "{}", 404, "not_found"},
  };
  for (const Case& k : cases) {
    auto r = c.Post(k.path.c_str(), k.body, "application/json");
    ASSERT_TRUE(r) << k.path;
    EXPECT_EQ(r->status, k.status) << k.body.substr(0, 80) << " -> " << r->body;
    const json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r->body;
    EXPECT_EQ(j["error"], k.code) << r->body;
    EXPECT_TRUE(j["message"].is_string() && !j["message"].get<std::string>().empty());
    EXPECT_FALSE(j["request_id"].get<std::string>().empty());
    EXPECT_EQ(j["message"].get<std::string>().find(s.cache), std::string::npos) << "leaks a server path: " << r->body;
  }
  // Limits name the limit.
  auto r = c.Post("/api/v1/infer", json{{"program_id", id}, {"input", "x"}, {"max_tokens", 99}}.dump(), "application/json");
  EXPECT_NE(r->body.find("16"), std::string::npos);
  // OpenAI routes answer errors in OpenAI's shape.
  const json oe = post(c, "/v1/completions", {{"model", "nope"}, {"prompt", "x"}}, 404);
  EXPECT_EQ(oe["error"]["code"], "not_found");
  EXPECT_EQ(post(c, "/v1/chat/completions", {{"model", id}, {"messages", json::array()}}, 422)["error"]["code"], "invalid_field");
}

// --programs DIR: the folder's .paw files are imported at start and served; a damaged one is
// skipped with a warning, not fatal.
TEST(Serve, ProgramsFolderIsImportedAtStart) {
  const std::string dir = scratch_dir("serve_programs_dir");
  const compiler::Compiler comp = compiler::Compiler::open(models().compiler);
  const compiler::CompiledProgram p = comp.compile(kSpecA);
  p.write(dir + "/a.paw");
  std::ofstream(dir + "/broken.paw") << "not a zip";
  server::ServeOptions o;
  o.program_dirs = {dir};
  Running s(o, "serve_programs");
  auto c = s.client();
  const json list = get(c, "/api/v1/programs", 200);
  ASSERT_EQ(list["total"], 1);
  EXPECT_EQ(list["programs"][0]["program_id"], p.program_id);
  EXPECT_EQ(post(c, "/api/v1/infer", {{"program_id", p.program_id}, {"input", "hi"}, {"max_tokens", 3}}, 200)["output"],
            api_output(s.cache, p.program_id, "hi", 3));
  server::ServeOptions bad;
  bad.program_dirs = {dir + "/missing"};
  EXPECT_THROW(Running(bad, "serve_programs_bad"), Error);
}

TEST(Serve, ApiKeyGuardsEveryRouteButHealth) {
  server::ServeOptions o;
  o.api_key = "s3cret-key";
  Running s(o, "serve_auth");
  auto c = s.client();
  EXPECT_EQ(get(c, "/health", 200)["status"], "ok");
  EXPECT_EQ(get(c, "/api/v1/programs", 401)["error"], "unauthorized");
  EXPECT_EQ(get(c, "/api/v1/programs", 401, {{"X-API-Key", "s3cret-kez"}})["error"], "unauthorized");
  EXPECT_EQ(get(c, "/v1/models", 401)["error"]["code"], "unauthorized");
  EXPECT_EQ(get(c, "/api/v1/programs", 200, {{"X-API-Key", "s3cret-key"}})["total"], 0);
  EXPECT_EQ(get(c, "/api/v1/programs", 200, {{"Authorization", "Bearer s3cret-key"}})["total"], 0);
  post(c, "/api/v1/compile", {{"spec", kSpecA}}, 401);
}

TEST(Serve, PerClientCapAnswers429WithRetryAfter) {
  server::ServeOptions o;
  o.max_per_client = 0;  // every request is over the cap
  Running s(o, "serve_429");
  auto c = s.client();
  auto r = c.Get("/api/v1/programs");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  EXPECT_EQ(get(c, "/health", 429)["error"], "too_many_requests");
}

// A raw TCP connection to the server (for tests that pace their own reads or writes); -1 on failure.
int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

// A streamed answer holds its client's slot until the stream ends, not only until the
// handler has started it: with a cap of 1, a second request while the first stream is being
// read gets 429, and one after the stream gets 200.
TEST(Serve, StreamHoldsItsClientSlotUntilItEnds) {
  server::ServeOptions o;
  o.max_per_client = 1;
  Running s(o, "serve_stream_slot");
  auto c = s.client();
  const std::string id = post(c, "/api/v1/compile", {{"spec", kSpecA}}, 200)["program_id"];
  // The stream over a raw socket, so the test reads it at its own pace.
  const int fd = connect_loopback(s.srv->port());
  ASSERT_GE(fd, 0);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string body = json{{"model", id}, {"prompt", "hello"}, {"max_tokens", 400}, {"stream", true}}.dump();
  const std::string req = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
                          "application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  std::string got;
  char buf[4096];
  ssize_t n = 0;
  while (got.find("data: ") == std::string::npos && (n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  ASSERT_NE(got.find("data: "), std::string::npos) << got;
  const bool ended = got.find("[DONE]") != std::string::npos;
  // The stream has begun and is not over (the server is still generating or writing).
  auto second = c.Get("/api/v1/programs");
  ASSERT_TRUE(second);
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  ::close(fd);
  EXPECT_NE(got.find("[DONE]"), std::string::npos) << "the stream did not finish";
  if (!ended) EXPECT_EQ(second->status, 429) << "the stream's slot was free while it was still streaming";
  get(c, "/api/v1/programs", 200);   // the stream is over: its slot is free again
}

TEST(Serve, EvictedProgramsReloadUnderATinyBudget) {
  server::ServeOptions o;
  o.program_budget_bytes = 1;  // one opened program at a time
  Running s(o, "serve_budget");
  auto c = s.client();
  const std::string a = post(c, "/api/v1/compile", {{"spec", kSpecA}}, 200)["program_id"];
  const std::string b = post(c, "/api/v1/compile", {{"spec", kSpecB}}, 200)["program_id"];
  const std::string wa = api_output(s.cache, a, "hello", 5), wb = api_output(s.cache, b, "hello", 5);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(post(c, "/api/v1/infer", {{"program_id", a}, {"input", "hello"}, {"max_tokens", 5}}, 200)["output"], wa);
    EXPECT_EQ(post(c, "/api/v1/infer", {{"program_id", b}, {"input", "hello"}, {"max_tokens", 5}}, 200)["output"], wb);
    EXPECT_EQ(get(c, "/health", 200)["programs_loaded"], 1);
  }
}

// A client that sends half a request and stalls is cut off after the read timeout, and others
// are served meanwhile.
TEST(Serve, StalledClientIsDisconnected) {
  server::ServeOptions o;
  o.read_timeout_s = 1;
  Running s(o, "serve_slow");
  const int fd = connect_loopback(s.srv->port());
  ASSERT_GE(fd, 0);
  const std::string part = "POST /api/v1/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"program_id\"";
  ASSERT_EQ(::send(fd, part.data(), part.size(), 0), static_cast<ssize_t>(part.size()));
  auto c = s.client();
  EXPECT_EQ(get(c, "/health", 200)["status"], "ok");
  const auto t0 = std::chrono::steady_clock::now();
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[4096];
  ssize_t n;
  std::string got;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(fd);
  EXPECT_EQ(n, 0) << "the server did not close the stalled connection";
  EXPECT_LT(waited, 8.0);
  EXPECT_EQ(got.find("200 OK"), std::string::npos) << got;
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string k;
  while (in >> k)
    if (k == "VmRSS:") {
      long v = 0;
      in >> v;
      return v;
    }
  return 0;
}

// 2,000 requests from 16 connections at once: no error, outputs right, memory bounded.
TEST(Serve, BoundedLoadTest) {
  server::ServeOptions o;
  o.max_per_client = 64;
  Running s(o, "serve_load");
  auto c = s.client();
  const std::string a = post(c, "/api/v1/compile", {{"spec", kSpecA}}, 200)["program_id"];
  const std::string b = post(c, "/api/v1/compile", {{"spec", kSpecB}}, 200)["program_id"];
  const std::string wa = api_output(s.cache, a, "hello", 3), wb = api_output(s.cache, b, "hello", 3);
  post(c, "/api/v1/infer", {{"program_id", a}, {"input", "hello"}, {"max_tokens", 3}}, 200);  // warm
  const long rss0 = rss_kib();
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 16; ++t)
    ts.emplace_back([&, t] {
      httplib::Client cl("127.0.0.1", s.srv->port());
      cl.set_read_timeout(60, 0);
      for (int i = 0; i < 125; ++i) {
        const bool use_a = (t + i) % 2 == 0;
        const json body = {{"program_id", use_a ? a : b}, {"input", "hello"}, {"max_tokens", 3}};
        auto r = cl.Post("/api/v1/infer", body.dump(), "application/json");
        if (r && r->status == 200 && json::parse(r->body)["output"] == (use_a ? wa : wb)) ++ok;
        else {
          ++bad;
          ADD_FAILURE() << (r ? std::to_string(r->status) + " " + r->body : "no response: " + httplib::to_string(r.error()));
        }
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 2000);
  EXPECT_EQ(bad.load(), 0);
  // Concurrent calls were decoded together (ServeOptions::max_batch, 8 by default).
  const json batching = get(c, "/api/v1/health", 200)["batching"];
  EXPECT_EQ(batching["max_batch"], 8);
  EXPECT_GE(batching["max_rows"].get<int64_t>(), 2) << batching.dump();
  EXPECT_GT(batching["steps"].get<int64_t>(), 0);
#if defined(__SANITIZE_ADDRESS__)
  (void)rss0;  // ASan's quarantine holds freed memory on purpose: RSS says nothing there
#else
  EXPECT_LT(rss_kib() - rss0, 200 * 1024) << "RSS grew by " << (rss_kib() - rss0) << " KiB";
#endif
}

// Many programs at once, with and without batched decoding: every output equals the program
// run alone through the C++ API, streamed or not.
TEST(Serve, BatchedAndUnbatchedCallsGiveTheProgramsOutputs) {
  // No batching; batching; batching with prompts fed 3 tokens per step (joins over many steps).
  for (const auto& [max_batch, step_tokens] : std::vector<std::pair<int, int64_t>>{{0, 128}, {4, 128}, {4, 3}}) {
    SCOPED_TRACE("max_batch " + std::to_string(max_batch) + ", max_step_tokens " + std::to_string(step_tokens));
    server::ServeOptions o;
    o.max_batch = max_batch;
    o.max_step_tokens = step_tokens;
    o.max_per_client = 32;
    Running s(o, "serve_batch_" + std::to_string(max_batch) + "_" + std::to_string(step_tokens));
    auto c = s.client();
    const std::vector<std::string> specs = {kSpecA, kSpecB, "Answer yes or no: is the input a greeting?",
                                            "Reply with the input's first word."};
    std::vector<std::string> ids, want;
    const std::vector<std::string> inputs = {"hello there", "is it raining?", "good morning", "what now"};
    for (size_t i = 0; i < specs.size(); ++i) {
      ids.push_back(post(c, "/api/v1/compile", {{"spec", specs[i]}}, 200)["program_id"]);
      want.push_back(api_output(s.cache, ids.back(), inputs[i], 6));
    }
    std::atomic<int> ok{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 8; ++t)
      ts.emplace_back([&, t] {
        httplib::Client cl("127.0.0.1", s.srv->port());
        cl.set_read_timeout(60, 0);
        for (int i = 0; i < 6; ++i) {
          const size_t p = static_cast<size_t>(t + i) % ids.size();
          const bool stream = (t + i) % 3 == 0;
          if (stream) {   // OpenAI-style SSE: the pieces concatenate to the output
            const json body = {{"model", ids[p]}, {"prompt", inputs[p]}, {"max_tokens", 6}, {"stream", true}};
            auto r = cl.Post("/v1/completions", body.dump(), "application/json");
            std::string text;
            if (r && r->status == 200)
              for (size_t at = 0; (at = r->body.find("data: {", at)) != std::string::npos; ++at) {
                const size_t end = r->body.find("\n\n", at);
                const json ev = json::parse(r->body.substr(at + 6, end - at - 6));
                if (ev["choices"][0].contains("text")) text += ev["choices"][0]["text"].get<std::string>();
              }
            if (text == want[p]) ++ok;
            else ADD_FAILURE() << "streamed '" << text << "' for program " << p << ", want '" << want[p] << "'";
          } else {
            const json body = {{"program_id", ids[p]}, {"input", inputs[p]}, {"max_tokens", 6}};
            auto r = cl.Post("/api/v1/infer", body.dump(), "application/json");
            if (r && r->status == 200 && json::parse(r->body)["output"] == want[p]) ++ok;
            else ADD_FAILURE() << (r ? r->body : "no response") << " for program " << p << ", want '" << want[p] << "'";
          }
        }
      });
    for (auto& t : ts) t.join();
    EXPECT_EQ(ok.load(), 48);
    EXPECT_EQ(get(c, "/api/v1/health", 200)["batching"]["max_batch"], max_batch);
  }
}

// The CLI: prints its address, serves, and on SIGTERM finishes and exits 0.
TEST(Serve, CliStopsCleanlyOnSigterm) {
  const std::string cache = scratch_dir("serve_cli");
  const std::string out = cache + "/out.txt", err = cache + "/err.txt";
  // Everything the child needs is made before the fork: the child only execs (building the
  // fixture models there ran commands from a forked child and left its folder behind).
  const Models& m = models();
  const std::string paw = tool_path("paw");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::freopen(out.c_str(), "w", stdout);
    ::freopen(err.c_str(), "w", stderr);
    ::execl(paw.c_str(), "paw", "serve", "--port", "0", "--model", m.interp.c_str(), "--compiler", m.compiler.c_str(),
            "--cache-dir", cache.c_str(), "-t", "1", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string url;
  for (int i = 0; i < 100 && url.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream in(out);
    std::string line;
    if (std::getline(in, line) && line.rfind("paw serve: http://", 0) == 0) url = line.substr(11);
  }
  ASSERT_FALSE(url.empty()) << "the server did not print its address";
  httplib::Client c(url);
  EXPECT_EQ(get(c, "/health", 200)["status"], "ok");
  ::kill(pid, SIGTERM);
  int st = 0;
  ::waitpid(pid, &st, 0);
  EXPECT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 0);
  std::ifstream e(err);
  const std::string log((std::istreambuf_iterator<char>(e)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("SIGTERM"), std::string::npos) << log;
}

}  // namespace
}  // namespace paw::test
