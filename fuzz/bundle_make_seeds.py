#!/usr/bin/python3
"""Writes the seed corpus of fuzz_bundle (fuzz/corpus/fuzz_bundle/): small .paw bundles in the
reference shape (v4 Qwen3 with an embedded runtime manifest, v3 GPT-2 with a README), a few
hostile ones (zip-slip, symlink member, duplicate member) and a bare meta.json. Standard
library only; the adapter GGUF is written by hand from the GGUF spec.

Usage: fuzz/bundle_make_seeds.py [OUT_DIR]   (default: fuzz/corpus/fuzz_bundle next to this file)
"""
import json
import os
import struct
import sys
import zipfile

STRING, F32_T = 8, 6


def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def adapter_gguf(arch, rank=2, n_in=4, n_out=4):
    kv = [("general.type", STRING, gstr("adapter")),
          ("general.architecture", STRING, gstr(arch)),
          ("adapter.type", STRING, gstr("lora")),
          ("adapter.lora.alpha", F32_T, struct.pack("<f", 16.0))]
    tensors = [("blk.0.attn_q.weight.lora_a", [n_in, rank]), ("blk.0.attn_q.weight.lora_b", [rank, n_out])]
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv))
    for k, t, v in kv:
        out += gstr(k) + struct.pack("<I", t) + v
    offset, datas = 0, []
    for name, ne in tensors:
        n = ne[0] * ne[1]
        out += gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        out += struct.pack("<IQ", 0, offset)  # F32
        data = b"".join(struct.pack("<f", 0.125 * i) for i in range(n))
        datas.append(data)
        offset += (len(data) + 31) // 32 * 32
    out += b"\0" * ((-len(out)) % 32)
    for d in datas:
        out += d + b"\0" * ((-len(d)) % 32)
    return out


TEMPLATE = ("<|im_start|>user\n[PSEUDO_PROGRAM]\nClassify urgency.\n[END_PSEUDO_PROGRAM]\n\n[INPUT]\n"
            "{INPUT_PLACEHOLDER}\n[END_INPUT]<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n")
META_V4 = {"version": 4, "program_id": "0123456789abcdef0123456789abcdef", "spec": "triage",
           "interpreter": "Qwen/Qwen3-0.6B", "lora_rank": 2, "lora_alpha": 16.0, "prefix_steps": 0,
           "runtime_id": "qwen3-0.6b-q6_k",
           "runtime": {"runtime_id": "qwen3-0.6b-q6_k", "manifest_version": 1, "adapter_format": "gguf_lora",
                       "interpreter": "Qwen/Qwen3-0.6B",
                       "local_sdk": {"supported": True, "n_ctx": 2048,
                                     "base_model": {"file": "qwen3-0.6b-q6_k.gguf", "sha256": None}}}}
META_V3 = {"version": 3, "interpreter": "gpt2", "spec": "sentiment", "created_at": 1717243200.5}


def write_zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, extra in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name == "adapter.gguf" else zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = extra.get("mode", 0o100644) << 16
            zf.writestr(info, data)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "corpus", "fuzz_bundle")
    os.makedirs(out, exist_ok=True)
    v4 = [("meta.json", json.dumps(META_V4, indent=2), {}), ("prompt_template.txt", TEMPLATE, {}),
          ("adapter.gguf", adapter_gguf("qwen3"), {})]
    v3 = [("meta.json", json.dumps(META_V3), {}), ("prompt_template.txt", "Review: {INPUT_PLACEHOLDER}\nSentiment:", {}),
          ("adapter.gguf", adapter_gguf("gpt2"), {}), ("README.md", "# sentiment\n", {})]
    write_zip(os.path.join(out, "v4_qwen3.paw"), v4)
    write_zip(os.path.join(out, "v3_gpt2_readme.paw"), v3)
    write_zip(os.path.join(out, "zip_slip.paw"), v4 + [("../x", "escaped", {})])
    write_zip(os.path.join(out, "symlink.paw"), v4[:2] + [("adapter.gguf", "/etc/passwd", {"mode": 0o120777})])
    import warnings
    warnings.simplefilter("ignore")
    write_zip(os.path.join(out, "duplicate.paw"), v4 + [("meta.json", json.dumps(META_V3), {})])
    with open(os.path.join(out, "meta_v4.json"), "w") as f:
        json.dump(META_V4, f)


if __name__ == "__main__":
    main()
