#!/usr/bin/python3
"""Builds small PEFT LoRA adapter folders (Qwen3- and GPT-2-shaped) plus the values paw
must recover from them, as an independent reference for tests/adapter/peft_test.cpp.

Run with Debian's interpreter (numpy + torch); neither `peft`, `transformers` nor
`safetensors` is needed: the LoRA layers are rebuilt here exactly as PEFT builds them
(lora_A = nn.Linear(in, r, bias=False), lora_B = nn.Linear(r, out, bias=False),
y = base(x) + lora_B(lora_A(x)) * lora_alpha / r), GPT-2's Conv1D (weight [in, out],
y = x @ W + b) is written out by hand, and the safetensors bytes are packed with json+struct.

Usage: make_peft.py OUT_DIR
Writes OUT_DIR/<case>/{adapter_config.json, adapter_model.safetensors} and
OUT_DIR/<case>/expected.json + expected.bin (float32 LE) for each case in CASES.
"""
import json
import math
import os
import struct
import sys

import torch

# case name -> (arch, stored dtype, r, lora_alpha, rank_pattern, use_rslora)
CASES = {
    "qwen3_f32": ("qwen3", "F32", 32, 16.0, {}, False),
    "qwen3_f16": ("qwen3", "F16", 32, 8.0, {}, False),
    "gpt2_bf16": ("gpt2", "BF16", 8, 16.0, {"mlp.c_fc": 16}, False),
    "qwen3_rslora": ("qwen3", "F32", 4, 2.0, {}, True),
}

TORCH_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def qwen3_modules(n_layer=2, n_embd=64, n_head=4, n_kv=2, head_dim=32, n_ff=96):
    """(HF module path, GGUF base name, n_in, n_out, is_conv1d) for a Qwen3ForCausalLM."""
    out = []
    for i in range(n_layer):
        p = f"model.layers.{i}."
        out += [
            (p + "self_attn.q_proj", f"blk.{i}.attn_q.weight", n_embd, n_head * head_dim, False),
            (p + "self_attn.k_proj", f"blk.{i}.attn_k.weight", n_embd, n_kv * head_dim, False),
            (p + "self_attn.v_proj", f"blk.{i}.attn_v.weight", n_embd, n_kv * head_dim, False),
            (p + "self_attn.o_proj", f"blk.{i}.attn_output.weight", n_head * head_dim, n_embd, False),
            (p + "mlp.gate_proj", f"blk.{i}.ffn_gate.weight", n_embd, n_ff, False),
            (p + "mlp.up_proj", f"blk.{i}.ffn_up.weight", n_embd, n_ff, False),
            (p + "mlp.down_proj", f"blk.{i}.ffn_down.weight", n_ff, n_embd, False),
        ]
    return out


def gpt2_modules(n_layer=2, n_embd=64):
    """The same for a GPT2LMHeadModel; every adapted module is a Conv1D."""
    out = []
    for i in range(n_layer):
        p = f"transformer.h.{i}."
        out += [
            (p + "attn.c_attn", f"blk.{i}.attn_qkv.weight", n_embd, 3 * n_embd, True),
            (p + "attn.c_proj", f"blk.{i}.attn_output.weight", n_embd, n_embd, True),
            (p + "mlp.c_fc", f"blk.{i}.ffn_up.weight", n_embd, 4 * n_embd, True),
            (p + "mlp.c_proj", f"blk.{i}.ffn_down.weight", 4 * n_embd, n_embd, True),
        ]
    return out


def rank_for(module, r, rank_pattern):
    for key, rr in rank_pattern.items():
        if module == key or module.endswith("." + key):
            return rr
    return r


def write_safetensors(path, tensors):
    """tensors: list of (name, torch tensor); dtypes F32/F16/BF16 only."""
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
    header, blobs, offset = {}, [], 0
    for name, t in sorted(tensors, key=lambda kv: kv[0]):
        t = t.contiguous()
        # bf16 has no numpy dtype: reinterpret the 2-byte payload as int16.
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def make_case(out_dir, name, arch, dtype_name, r, alpha, rank_pattern, rslora, seed):
    gen = torch.Generator().manual_seed(seed)
    dtype = TORCH_DTYPES[dtype_name]
    modules = qwen3_modules() if arch == "qwen3" else gpt2_modules()
    os.makedirs(os.path.join(out_dir, name), exist_ok=True)
    tensors, entries, blob = [], [], []

    def put(t):
        off = sum(len(b) for b in blob) // 4
        blob.append(t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes())
        return [off, t.numel()]

    for module, gguf, n_in, n_out, conv1d in modules:
        rr = rank_for(module, r, rank_pattern)
        lora_A = torch.nn.Linear(n_in, rr, bias=False)
        lora_B = torch.nn.Linear(rr, n_out, bias=False)
        with torch.no_grad():
            # Round through the stored dtype so the reference computes with exactly the
            # values in the file (PEFT would run in that dtype; we compare in float32).
            lora_A.weight.copy_(torch.randn(rr, n_in, generator=gen).to(dtype).float())
            lora_B.weight.copy_((0.5 * torch.randn(n_out, rr, generator=gen)).to(dtype).float())
        if conv1d:
            w_conv = torch.randn(n_in, n_out, generator=gen)   # HF Conv1D weight [in, out]
            base = lambda x, w=w_conv: x @ w                    # Conv1D forward (bias zero)
            w_gguf = w_conv.t().contiguous()                    # GGUF: n_out rows of n_in
        else:
            w_lin = torch.randn(n_out, n_in, generator=gen)     # nn.Linear weight [out, in]
            base = lambda x, w=w_lin: torch.nn.functional.linear(x, w)
            w_gguf = w_lin
        scaling = alpha / math.sqrt(rr) if rslora else alpha / rr
        x = torch.randn(n_in, generator=gen)
        with torch.no_grad():
            delta = lora_B(lora_A(x)) * scaling
            y = base(x) + delta
        prefix = "base_model.model." + module
        tensors.append((prefix + ".lora_A.weight", lora_A.weight.detach().to(dtype)))
        tensors.append((prefix + ".lora_B.weight", lora_B.weight.detach().to(dtype)))
        entries.append({
            "module": module, "gguf": gguf, "rank": rr, "n_in": n_in, "n_out": n_out,
            "scaling": scaling,
            "a": put(lora_A.weight), "b": put(lora_B.weight), "x": put(x),
            "delta": put(delta), "w_gguf": put(w_gguf), "y": put(y),
        })

    target = sorted({m.rsplit(".", 1)[1] for m, *_ in modules})
    config = {
        "peft_type": "LORA", "task_type": "CAUSAL_LM",
        "base_model_name_or_path": "Qwen/Qwen3-0.6B" if arch == "qwen3" else "openai-community/gpt2",
        "r": r, "lora_alpha": alpha, "lora_dropout": 0.0, "bias": "none",
        "target_modules": target, "fan_in_fan_out": arch == "gpt2",
        "rank_pattern": rank_pattern, "alpha_pattern": {}, "modules_to_save": None,
        "use_rslora": rslora, "use_dora": False, "inference_mode": True,
    }
    d = os.path.join(out_dir, name)
    with open(os.path.join(d, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    write_safetensors(os.path.join(d, "adapter_model.safetensors"), tensors)
    with open(os.path.join(d, "expected.bin"), "wb") as f:
        for b in blob:
            f.write(b)
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"arch": arch, "r": r, "lora_alpha": alpha, "modules": entries}, f)


def main():
    out_dir = sys.argv[1]
    for i, (name, spec) in enumerate(CASES.items()):
        make_case(out_dir, name, *spec, seed=1234 + i)


if __name__ == "__main__":
    main()
