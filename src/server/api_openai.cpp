// OpenAI-style routes: /v1/completions and /v1/chat/completions (model = a program id or
// slug; the prompt, or the last user message, is the program's input; stream = server-sent
// events) and /v1/models (the cached programs).
#include <ctime>

#include "paw/program/slugs.hpp"
#include "server/server_internal.hpp"

namespace paw::server {
namespace {

// The input of a chat request: the last user message's text (a string, or the text parts of
// a content array).
std::string chat_input(const json& body) {
  auto it = body.find("messages");
  if (it == body.end() || !it->is_array() || it->empty())
    fail(422, "invalid_field", "field 'messages' must be a non-empty array", {{"field", "messages"}});
  for (auto m = it->rbegin(); m != it->rend(); ++m) {
    if (!m->is_object()) fail(422, "invalid_field", "every message must be an object", {{"field", "messages"}});
    if (m->value("role", "") != "user") continue;
    const auto c = m->find("content");
    if (c != m->end() && c->is_string()) return c->get<std::string>();
    if (c != m->end() && c->is_array()) {
      std::string text;
      for (const auto& part : *c)
        if (part.is_object() && part.value("type", "") == "text" && part.contains("text") && part["text"].is_string())
          text += part["text"].get<std::string>();
      return text;
    }
    fail(422, "invalid_field", "the user message has no text content", {{"field", "messages"}});
  }
  fail(422, "invalid_field", "no message with role 'user'", {{"field", "messages"}});
}

InferRequest common(const json& body) {
  InferRequest r;
  r.ref = req_string(body, "model");
  r.max_tokens = opt_int(body, "max_tokens", 0, 1 << 20);
  r.temperature = opt_number(body, "temperature", 0.0, 10.0);
  r.seed = static_cast<uint64_t>(opt_int(body, "seed", 0, INT64_MAX).value_or(0));
  return r;
}

std::string completion_id(const char* kind) {
  static std::atomic<uint64_t> n{0};
  return std::string(kind) + "-paw-" + std::to_string(static_cast<long long>(std::time(nullptr))) + "-" + std::to_string(++n);
}

void completion(State& st, const httplib::Request& req, httplib::Response& res, bool chat) {
  const json body = body_object(req);
  InferRequest r = common(body);
  if (chat) {
    r.input = chat_input(body);
  } else {
    const auto p = body.find("prompt");
    if (p == body.end() || !(p->is_string() || (p->is_array() && p->size() == 1 && (*p)[0].is_string())))
      fail(422, "invalid_field", "field 'prompt' must be a string (or an array of one string)", {{"field", "prompt"}});
    r.input = p->is_string() ? p->get<std::string>() : (*p)[0].get<std::string>();
  }
  const bool stream = body.contains("stream") && body["stream"].is_boolean() && body["stream"].get<bool>();
  const std::string id = completion_id(chat ? "chatcmpl" : "cmpl");
  const long long created = static_cast<long long>(std::time(nullptr));
  const char* object = chat ? "chat.completion" : "text_completion";

  if (!stream) {
    const InferOutcome o = run_infer(st, r);
    const size_t n_out = o.result.ids.size();
    json choice = {{"index", 0}, {"finish_reason", o.result.stopped_at_eos ? "stop" : "length"}};
    if (chat) choice["message"] = {{"role", "assistant"}, {"content", o.result.output}};
    else choice["text"] = o.result.output;
    send_json(res, 200,
              json{{"id", id},
                   {"object", object},
                   {"created", created},
                   {"model", o.program_id},
                   {"choices", json::array({choice})},
                   {"usage",
                    {{"prompt_tokens", o.result.prefix_tokens + o.result.input_tokens},
                     {"completion_tokens", n_out},
                     {"total_tokens", o.result.prefix_tokens + o.result.input_tokens + static_cast<int64_t>(n_out)}}}});
    return;
  }
  // Validate and resolve before the 200 goes out, so errors are still plain JSON errors.
  const std::string program_id = st.resolve(r.ref);
  r.ref = program_id;
  const char* chunk_object = chat ? "chat.completion.chunk" : "text_completion";
  auto chunk = [=](const std::string& text, const json& finish) {
    json choice = {{"index", 0}, {"finish_reason", finish}};
    if (chat) choice["delta"] = text.empty() && finish.is_null() ? json{{"role", "assistant"}} : json{{"content", text}};
    else choice["text"] = text;
    const json j = {{"id", id}, {"object", chunk_object}, {"created", created}, {"model", program_id},
                    {"choices", json::array({choice})}};
    return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
  };
  State* s = &st;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [s, r, chunk, chat](size_t, httplib::DataSink& sink) {
    if (chat) {
      const std::string first = chunk("", nullptr);
      if (!sink.write(first.data(), first.size())) return false;
    }
    std::string tail;
    try {
      const InferOutcome o = run_infer(*s, r, [&](const std::string& piece) {
        const std::string ev = chunk(piece, nullptr);
        return sink.is_writable() && sink.write(ev.data(), ev.size());   // false: the client left; stop
      });
      if (o.result.cancelled) return false;
      tail = chunk("", o.result.stopped_at_eos ? "stop" : "length");
    } catch (const ApiError& e) {
      tail = "data: " + json{{"error", {{"message", e.message}, {"type", "invalid_request_error"}, {"code", e.code}}}}.dump() + "\n\n";
    } catch (const std::exception& e) {
      tail = "data: " + json{{"error", {{"message", e.what()}, {"type", "server_error"}, {"code", "internal_error"}}}}.dump() + "\n\n";
    }
    tail += "data: [DONE]\n\n";
    sink.write(tail.data(), tail.size());
    sink.done();
    return true;
  });
}

void models_route(State& st, const httplib::Request&, httplib::Response& res) {
  json data = json::array();
  for (const CacheEntry& e : st.cache().list())
    data.push_back({{"id", e.id}, {"object", "model"}, {"created", 0}, {"owned_by", "paw"}});
  for (const SlugRecord& r : SlugRegistry(st.opts.cache_dir).list())
    data.push_back({{"id", r.slug}, {"object", "model"}, {"created", 0}, {"owned_by", "paw"}, {"program_id", r.latest().program_id}});
  send_json(res, 200, json{{"object", "list"}, {"data", data}});
}

}  // namespace

void add_openai_routes(httplib::Server& http, State& st, const Wrap& wrap) {
  http.Post("/v1/completions", wrap([&st](const httplib::Request& q, httplib::Response& r) { completion(st, q, r, false); }));
  http.Post("/v1/chat/completions", wrap([&st](const httplib::Request& q, httplib::Response& r) { completion(st, q, r, true); }));
  http.Get("/v1/models", wrap([&st](const httplib::Request& q, httplib::Response& r) { models_route(st, q, r); }));
}

}  // namespace paw::server
