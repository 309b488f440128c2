#!/usr/bin/python3
"""Writes the seed corpus of fuzz_gguf (fuzz/corpus/fuzz_gguf/*.gguf): a few small, valid GGUF
files covering every metadata value type, nested arrays, a custom alignment and several
tensor types. Standard library only; written from the GGUF spec, independently of paw's
writer, so tests/formats/gguf_corpus_test.cpp doubles as a cross-implementation check.

Usage: fuzz/gguf_make_seeds.py [OUT_DIR]   (default: fuzz/corpus/fuzz_gguf next to this file)
"""
import os
import struct
import sys

U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<B",
       U64: "<Q", I64: "<q", F64: "<d"}
# ggml type id -> (elements per block, bytes per block)
BLOCKS = {0: (1, 4), 1: (1, 2), 2: (32, 18), 8: (32, 34), 12: (256, 144), 30: (1, 2)}


def gstr(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def payload(t, v):
    """Encoding of a value of type t without its type tag. Arrays: (elem_type, [values])."""
    if t == STRING:
        return gstr(v)
    if t == ARRAY:
        elem, values = v
        return struct.pack("<IQ", elem, len(values)) + b"".join(payload(elem, x) for x in values)
    return struct.pack(FMT[t], v)


def gguf(kv, tensors, alignment=32, version=3):
    """kv: [(key, type, value)]; tensors: [(name, ne, ggml_type, data_bytes)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kv))
    for key, t, v in kv:
        out += gstr(key) + struct.pack("<I", t) + payload(t, v)
    offset = 0
    blobs = []
    for name, ne, gtype, data in tensors:
        block, size = BLOCKS[gtype]
        rows = 1
        for d in ne[1:]:
            rows *= d
        assert len(data) == ne[0] // block * size * rows, name
        out += gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<q", d) for d in ne)
        out += struct.pack("<IQ", gtype, offset)
        padded = (len(data) + alignment - 1) // alignment * alignment
        blobs.append(data + b"\0" * (padded - len(data)))
        offset += padded
    out += b"\0" * ((alignment - len(out) % alignment) % alignment)
    return out + b"".join(blobs)


def seeds():
    yield "minimal.gguf", gguf([], [])
    yield "all_types.gguf", gguf([
        ("general.architecture", STRING, "seed"),
        ("t.u8", U8, 200), ("t.i8", I8, -7), ("t.u16", U16, 65535), ("t.i16", I16, -300),
        ("t.u32", U32, 4000000000), ("t.i32", I32, -123456), ("t.f32", F32, 0.5),
        ("t.bool", BOOL, 1), ("t.str", STRING, "h\u00e9llo \u4e16\u754c"), ("t.empty", STRING, ""),
        ("t.u64", U64, 2**64 - 1), ("t.i64", I64, -2**63), ("t.f64", F64, -1.25),
        ("t.arr.i32", ARRAY, (I32, [1, -2, 3])),
        ("t.arr.str", ARRAY, (STRING, ["a", "", "\u0120b"])),
        ("t.arr.empty", ARRAY, (F32, [])),
        ("t.arr.nested", ARRAY, (ARRAY, [(U8, [1, 2]), (STRING, ["x"]), (BOOL, [])])),
    ], [])
    f32 = struct.pack("<8f", *[0.5 * i - 1 for i in range(8)])
    q8 = b"".join(struct.pack("<H", 0x3C00) + bytes((i * 7) & 0xFF for i in range(32)) for _ in range(2))
    q4k = bytes((i * 13) & 0xFF for i in range(144))
    f16 = struct.pack("<4H", 0x3C00, 0xC000, 0x3800, 0x0000)
    yield "tensors_align64.gguf", gguf([
        ("general.architecture", STRING, "qwen3"), ("general.alignment", U32, 64),
    ], [
        ("token_embd.weight", [4, 2], 0, f32),
        ("blk.0.attn_q.weight", [32, 2], 8, q8),
        ("blk.0.ffn_down.weight", [256], 12, q4k),
        ("output_norm.weight", [4], 1, f16),
    ], alignment=64)
    yield "tokenizer_v2.gguf", gguf([
        ("tokenizer.ggml.model", STRING, "gpt2"),
        ("tokenizer.ggml.tokens", ARRAY, (STRING, ["<|endoftext|>", "a", "b", "\u0120a", "ab"])),
        ("tokenizer.ggml.token_type", ARRAY, (I32, [3, 1, 1, 1, 1])),
        ("tokenizer.ggml.merges", ARRAY, (STRING, ["a b", "\u0120 a"])),
        ("tokenizer.ggml.eos_token_id", U32, 0),
    ], [("blk.0.lora_a", [32, 1, 1, 1], 2, bytes(18))], version=2)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "fuzz_gguf")
    os.makedirs(out_dir, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        print(name, len(data))


if __name__ == "__main__":
    main()
