#!/usr/bin/python3
"""Writes the seed corpus for fuzz_safetensors (fuzz/corpus/fuzz_safetensors/): small valid
files covering every dtype, metadata, scalars and empty tensors, a few near-miss broken
files, and JSON seeds for the index and config.json parsers. Plain json + struct."""
import json
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "fuzz_safetensors")
os.makedirs(out, exist_ok=True)

SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
         "BOOL": 1, "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1}


def st(entries, metadata=None, pad=True):
    header, blob = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + blob


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


write("all_dtypes", st([(f"t.{d.lower()}", d, [2], bytes(range(1, 1 + 2 * s))) for d, s in SIZES.items()],
                       {"format": "pt"}))
write("floats", st([("w", "F32", [2, 2], struct.pack("<4f", 1.5, -2, 0.25, 3e38)),
                    ("h", "F16", [3], struct.pack("<3H", 0x3C00, 0x7C00, 0x0001)),
                    ("b", "BF16", [1], struct.pack("<H", 0x4049)),
                    ("d", "F64", [], struct.pack("<d", 1e300))]))
write("empty_and_scalar", st([("e", "F32", [0, 4], b""), ("s", "I64", [], struct.pack("<q", -1))], pad=False))
write("empty_header", st([]))
OVERLAP = (b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
           b'"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}')
write("overlap", struct.pack("<Q", len(OVERLAP)) + OVERLAP + bytes(8))
write("truncated", st([("w", "F32", [4], bytes(16))])[:-5])
write("index.json", json.dumps({"metadata": {"total_size": 8},
                                "weight_map": {"a": "model-00001-of-00002.safetensors",
                                               "b": "model-00002-of-00002.safetensors"}}).encode())
write("qwen3_config.json", json.dumps({
    "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "vocab_size": 151936, "hidden_size": 1024,
    "intermediate_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8,
    "head_dim": 128, "rms_norm_eps": 1e-6, "rope_theta": 1000000, "max_position_embeddings": 40960,
    "tie_word_embeddings": True, "bos_token_id": 151643, "eos_token_id": 151645, "rope_scaling": None}).encode())
write("gpt2_config.json", json.dumps({
    "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 50257, "n_embd": 768, "n_layer": 12,
    "n_head": 12, "n_positions": 1024, "n_ctx": 1024, "layer_norm_epsilon": 1e-5,
    "activation_function": "gelu_new", "bos_token_id": 50256, "eos_token_id": 50256}).encode())
