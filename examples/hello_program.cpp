// hello_program — run a paw program from C++ with the public API only.
//
//   hello_program MODEL.gguf PROGRAM [INPUT...]
//
// MODEL.gguf is the base model (e.g. qwen3-0.6b-q6_k.gguf), PROGRAM a .paw file, a bundle
// folder or a cached program id. Each INPUT (default: one line per input from stdin) is run
// through the program.
#include <paw/paw.hpp>

#include <iostream>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: hello_program MODEL.gguf PROGRAM [INPUT...]\n";
    return 2;
  }
  try {
    // One base model in memory, shared by every program and thread.
    paw::Interpreter interp = paw::Interpreter::open(argv[1]);
    // The program: LoRA adapter + prompt template; its evaluated prompt prefix is cached on
    // disk ($PAW_CACHE_DIR/programs/<id>/prefix_kv_cache.bin) for the next process.
    paw::Program fn = paw::Program::open(argv[2], interp);

    std::vector<std::string> inputs(argv + 3, argv + argc);
    if (inputs.empty())
      for (std::string line; std::getline(std::cin, line);) inputs.push_back(line);

    // Calls are thread-safe: run the inputs in parallel, print in order.
    std::vector<std::string> outputs(inputs.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < inputs.size(); ++i) threads.emplace_back([&, i] { outputs[i] = fn(inputs[i]); });
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < inputs.size(); ++i) std::cout << inputs[i] << " -> " << outputs[i] << "\n";

    // Options per call: a token budget, sampling.
    if (!inputs.empty()) {
      paw::RunResult r = fn.run(inputs[0], {.max_tokens = 4, .temperature = 0.7f, .seed = 1});
      std::cout << "sampled, 4 tokens at most: " << r.output << " (" << r.prefix_tokens << " prefix + "
                << r.input_tokens << " input tokens)\n";
    }
  } catch (const paw::Error& e) {
    std::cerr << "hello_program: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
