// batch_programs — serve calls of several programs from many threads with one BatchRunner:
// concurrent calls, whatever their program, advance one token per forward together.
//
//   batch_programs MODEL.gguf PROGRAM... < inputs.txt
//
// Each input line is sent to every program, all calls at once; outputs print in order.
#include <paw/paw.hpp>

#include <iostream>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: batch_programs MODEL.gguf PROGRAM... < inputs.txt\n";
    return 2;
  }
  try {
    paw::Interpreter interp = paw::Interpreter::open(argv[1]);
    std::vector<paw::Program> programs;
    for (int i = 2; i < argc; ++i) programs.push_back(paw::Program::open(argv[i], interp));
    std::vector<std::string> inputs;
    for (std::string line; std::getline(std::cin, line);) inputs.push_back(line);

    paw::BatchRunner batch(interp, {.max_batch = 8});
    std::vector<std::string> outputs(programs.size() * inputs.size());
    std::vector<std::thread> threads;
    for (size_t p = 0; p < programs.size(); ++p)
      for (size_t i = 0; i < inputs.size(); ++i)
        threads.emplace_back([&, p, i] { outputs[p * inputs.size() + i] = batch.run(programs[p], inputs[i]).output; });
    for (auto& t : threads) t.join();
    for (size_t p = 0; p < programs.size(); ++p)
      for (size_t i = 0; i < inputs.size(); ++i)
        std::cout << argv[2 + p] << ": " << inputs[i] << " -> " << outputs[p * inputs.size() + i] << "\n";
    const paw::BatchStats st = batch.stats();
    std::cerr << st.calls << " calls in " << st.steps << " steps, " << (st.steps ? double(st.sequences) / double(st.steps) : 0.0)
              << " calls per step on average\n";
  } catch (const paw::Error& e) {
    std::cerr << "batch_programs: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
