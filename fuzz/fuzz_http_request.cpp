// libFuzzer target for `paw serve`'s request handling: each input is sent as raw bytes over a
// loopback connection to one in-process server (the shipped S.gguf and C.gguf, a program
// compiled at start under the slug "f", tight limits), and whatever comes back is read until the
// server closes. The server must never crash (ASan/UBSan), every answer must start with an HTTP
// status line, and /health must keep answering 200. Seeds: fuzz/corpus/fuzz_http_request (raw
// requests for every route, good and bad).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "paw/compiler/compiler.hpp"
#include "paw/program/cache.hpp"
#include "paw/program/slugs.hpp"
#include "paw/server/server.hpp"

namespace {

// Never destroyed: the serving thread runs until the process exits.
paw::server::Server* g_server = nullptr;
std::string g_cache;
int g_port = 0;

// Sends the bytes and reads the answer: up to 1.5 s for its first byte (an incomplete request
// waits for the server's 1 s read timeout), then until 150 ms of silence or the server closes
// (a kept-alive connection stays open). The write side stays open: cpp-httplib drops a request
// whose connection was half-closed before it answered.
std::string exchange(const uint8_t* data, size_t size) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) std::abort();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(g_port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();   // the server is gone
  size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;   // the server may close early (bad request line, body too large)
    sent += static_cast<size_t>(n);
  }
  std::string got;
  char buf[8192];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, got.empty() ? 1500 : 150) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
    if (got.size() > (1u << 20)) break;
  }
  ::close(fd);
  return got;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string src = PAW_SOURCE_DIR;
  const char* tmp = std::getenv("TMPDIR");
  const std::string cache = std::string(tmp && *tmp ? tmp : "/tmp") + "/paw-fuzz-http-" + std::to_string(::getpid());
  std::filesystem::remove_all(cache);
  // One program to run, by slug and by id.
  const paw::compiler::Compiler c = paw::compiler::Compiler::open(src + "/models/trained/C.gguf");
  const paw::compiler::CompiledProgram p = c.compile("Answer yes or no.\nInput: is it on\nOutput: yes");
  paw::ProgramCache(cache).import(p.bundle);
  paw::SlugRegistry(cache).assign("f", p.program_id);
  paw::server::ServeOptions o;
  o.port = 0;
  o.model = src + "/models/trained/S.gguf";
  o.compiler = src + "/models/trained/C.gguf";
  o.cache_dir = cache;
  o.threads = 1;
  o.max_sessions = 2;
  o.http_threads = 4;
  o.max_body_bytes = 64 * 1024;
  o.max_input_tokens = 256;
  o.max_tokens_limit = 8;
  o.read_timeout_s = 1;
  o.max_per_client = 1000;
  o.log = [](std::string_view) {};
  g_server = new paw::server::Server(o);
  g_cache = cache;
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(g_cache, ec);
  });
  g_port = g_server->port();
  std::thread([] { g_server->listen(); }).detach();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string got = exchange(data, size);
  if (!got.empty() && got.rfind("HTTP/1.1 ", 0) != 0) {
    std::fprintf(stderr, "answer without a status line: %.200s\n", got.c_str());
    std::abort();
  }
  static unsigned n = 0;
  if (++n % 64 == 0) {
    const std::string health = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const std::string h = exchange(reinterpret_cast<const uint8_t*>(health.data()), health.size());
    if (h.rfind("HTTP/1.1 200", 0) != 0) {
      std::fprintf(stderr, "/health stopped answering: %.200s\n", h.c_str());
      std::abort();
    }
  }
  return 0;
}
