// Encodes texts with Hugging Face's tokenizers.js (@huggingface/tokenizers) using a given
// tokenizer.json (+ optional tokenizer_config.json) — the reference for paw's BPE trainer tests.
//
// usage: node hf_encode_trained.mjs <npm cache dir> <tokenizer.json> <texts.jsonl> [tokenizer_config.json]
// texts.jsonl: one {"text": ...} per line. Prints one JSON array of id arrays to stdout.
import fs from "node:fs";
import path from "node:path";

const [cacheDir, tokPath, textsPath, cfgPath] = process.argv.slice(2);
if (!cacheDir || !tokPath || !textsPath) {
  console.error("usage: node hf_encode_trained.mjs <npm cache dir> <tokenizer.json> <texts.jsonl> [tokenizer_config.json]");
  process.exit(2);
}
const modules = path.join(cacheDir, "node_modules");
const { Tokenizer } = await import(path.join(modules, "@huggingface/tokenizers/dist/tokenizers.mjs"));
const tj = JSON.parse(fs.readFileSync(tokPath, "utf8"));
const cfg = cfgPath ? JSON.parse(fs.readFileSync(cfgPath, "utf8")) : {};
const tok = new Tokenizer(tj, cfg);
const texts = fs
  .readFileSync(textsPath, "utf8")
  .split("\n")
  .filter((l) => l.length > 0)
  .map((l) => JSON.parse(l).text);
process.stdout.write(JSON.stringify(texts.map((t) => Array.from(tok.encode(t).ids))));
