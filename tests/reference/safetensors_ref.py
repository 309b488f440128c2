#!/usr/bin/python3
"""Independent safetensors reference for paw's tests (no `safetensors` package: plain
json + struct + torch bytes, written from the format description, not from paw's code).

  safetensors_ref.py write OUT.safetensors
      Writes a file with several dtypes/shapes and metadata; prints JSON describing what a
      correct reader must return (float tensors as float32 bit patterns computed by torch,
      integer tensors as ints).
  safetensors_ref.py read IN.safetensors SOURCE.json
      Parses a file written by paw; checks its layout and that every float tensor's bytes
      equal torch's conversion of the float32 source values in SOURCE.json
      ({name: {"f32_bits": [...]}} or {name: {"ints": [...]}}); prints a JSON report.
"""
import json
import struct
import sys

import torch

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
FLOATS = {"F64", "F32", "F16", "BF16"}


def f32_bits(t):
    """float32 tensor -> list of uint32 bit patterns."""
    t = t.to(torch.float32).contiguous().reshape(-1)
    return [v & 0xFFFFFFFF for v in t.view(torch.int32).tolist()]


def tensor_bytes(t):
    t = t.contiguous().reshape(-1)
    if t.numel() == 0:
        return b""
    return t.view(torch.uint8).numpy().tobytes() if t.dtype != torch.bool else t.to(torch.uint8).numpy().tobytes()


def from_bytes(raw, dtype_name, shape):
    n = 1
    for d in shape:
        n *= d
    if n == 0:
        return torch.zeros(shape, dtype=DTYPES[dtype_name])
    if dtype_name == "BOOL":
        return torch.frombuffer(bytearray(raw), dtype=torch.uint8).to(torch.bool).reshape(shape)
    return torch.frombuffer(bytearray(raw), dtype=DTYPES[dtype_name]).reshape(shape)


def cmd_write(out_path):
    g = torch.Generator().manual_seed(1234)
    tensors = [  # deliberately not in name order: the reader must not depend on it
        ("model.layers.0.w", torch.randn(3, 4, generator=g, dtype=torch.float32)),
        ("half", torch.tensor([0.0, -0.0, 1.0, 65504.0, 5.96e-8, float("inf"), -2.5, 0.1], dtype=torch.float16)),
        ("bf", (torch.randn(2, 3, generator=g) * 100).to(torch.bfloat16)),
        ("dbl", torch.tensor([1e-3, 3.5, 1e300, -1e-50, -7.25, 0.1], dtype=torch.float64)),
        ("ids", torch.tensor([-(2**40), 0, 2**62], dtype=torch.int64)),
        ("i32", torch.tensor([[-1, 2], [3, -2**31]], dtype=torch.int32)),
        ("i16", torch.tensor([-32768, 32767], dtype=torch.int16)),
        ("i8", torch.tensor([-128, 5, 127], dtype=torch.int8)),
        ("u8", torch.tensor([0, 200, 255], dtype=torch.uint8)),
        ("mask", torch.tensor([True, False, True], dtype=torch.bool)),
        ("scalar", torch.tensor(2.75, dtype=torch.float32)),
        ("empty", torch.zeros(0, 3, dtype=torch.float32)),
    ]
    name_of = {v: k for k, v in DTYPES.items()}
    header = {"__metadata__": {"format": "pt", "note": "written by safetensors_ref.py \u00fc"}}
    blobs, offset = [], 0
    for name, t in tensors:
        raw = tensor_bytes(t)
        header[name] = {"dtype": name_of[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(out_path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)

    expect = {"metadata": header["__metadata__"], "tensors": {}}
    for name, t in tensors:
        e = {"dtype": name_of[t.dtype], "shape": list(t.shape)}
        if t.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
            e["f32_bits"] = f32_bits(t)
        else:
            e["ints"] = [int(v) for v in t.reshape(-1).to(torch.int64).tolist()]
        expect["tensors"][name] = e
    print(json.dumps(expect))


def same_floats(a, b):
    """Bitwise equality of two float tensors of one dtype, NaN == NaN (payloads differ by design)."""
    if a.numel() == 0:
        return True
    both_nan = torch.isnan(a.to(torch.float32)) & torch.isnan(b.to(torch.float32))
    bits_a = a.reshape(-1).view(torch.uint8).reshape(a.numel(), -1)
    bits_b = b.reshape(-1).view(torch.uint8).reshape(b.numel(), -1)
    eq = (bits_a == bits_b).all(dim=1)
    return bool((eq | both_nan.reshape(-1)).all())


def cmd_read(in_path, source_path):
    with open(in_path, "rb") as f:
        blob = f.read()
    with open(source_path) as f:
        source = json.load(f)
    (n,) = struct.unpack("<Q", blob[:8])
    raw_header = blob[8:8 + n]
    text = raw_header.decode("utf-8")
    stripped = text.rstrip(" ")
    header = json.loads(text)
    keys = list(json.JSONDecoder(object_pairs_hook=lambda kv: kv).decode(text))
    data = blob[8 + n:]
    report = {
        "header_len": n,
        # the reference pads the JSON with fewer than 8 spaces to a multiple of 8 bytes
        "padded_with_spaces": n % 8 == 0 and stripped.endswith("}") and len(text) - len(stripped) < 8,
        "key_order": [k for k, _ in keys],
        "metadata": header.get("__metadata__", {}),
        "tensors": {},
    }
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        spans.append((b, e, name))
        t = from_bytes(data[b:e], info["dtype"], info["shape"])
        r = {"dtype": info["dtype"], "shape": info["shape"], "data_offsets": [b, e]}
        src = source.get(name, {})
        if info["dtype"] in FLOATS and "f32_bits" in src:
            bits = torch.tensor([v - (1 << 32) if v >= (1 << 31) else v for v in src["f32_bits"]], dtype=torch.int32)
            ref = bits.view(torch.float32).to(DTYPES[info["dtype"]]).reshape(info["shape"])
            r["match"] = same_floats(t, ref)
        elif "ints" in src:
            r["match"] = [int(v) for v in t.reshape(-1).to(torch.int64).tolist()] == src["ints"]
        else:
            r["match"] = False
        report["tensors"][name] = r
    spans.sort()
    pos, contiguous = 0, True
    for b, e, _ in spans:
        contiguous &= b == pos
        pos = e
    report["contiguous"] = contiguous and pos == len(data)
    report["data_order"] = [name for _, _, name in spans]
    print(json.dumps(report))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        cmd_write(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "read":
        cmd_read(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
