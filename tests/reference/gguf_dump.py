#!/usr/bin/python3
"""Plain, independent GGUF reader used as a reference by tests/formats/gguf_python_test.cpp.

Written from the published GGUF specification (ggml docs/gguf.md), standard library + numpy
only. Prints one JSON object describing the file:

  version, n_tensors, n_kv, alignment, data_offset, file_size,
  kv:      [{key, type, value}]   arrays: {"elem_type": t, "values": [...]} (nested recursively)
  tensors: [{name, ne, type, type_id, offset, n_bytes, values?}]   values: f32/f16 data as floats
  layout:  llama.cpp's rules — offsets contiguous in directory order with each tensor padded to
           the alignment, and every padding byte zero.

Usage: gguf_dump.py FILE
"""
import json
import struct
import sys

import numpy as np

VALUE_TYPES = {
    0: ("u8", "<B"), 1: ("i8", "<b"), 2: ("u16", "<H"), 3: ("i16", "<h"),
    4: ("u32", "<I"), 5: ("i32", "<i"), 6: ("f32", "<f"), 7: ("bool", "<B"),
    8: ("string", None), 9: ("array", None), 10: ("u64", "<Q"), 11: ("i64", "<q"),
    12: ("f64", "<d"),
}

# ggml type id -> (name, elements per block, bytes per block)
TENSOR_TYPES = {
    0: ("f32", 1, 4), 1: ("f16", 1, 2), 2: ("q4_0", 32, 18), 3: ("q4_1", 32, 20),
    6: ("q5_0", 32, 22), 7: ("q5_1", 32, 24), 8: ("q8_0", 32, 34), 9: ("q8_1", 32, 36),
    10: ("q2_K", 256, 84), 11: ("q3_K", 256, 110), 12: ("q4_K", 256, 144),
    13: ("q5_K", 256, 176), 14: ("q6_K", 256, 210), 15: ("q8_K", 256, 292),
    24: ("i8", 1, 1), 25: ("i16", 1, 2), 26: ("i32", 1, 4), 27: ("i64", 1, 8),
    28: ("f64", 1, 8), 30: ("bf16", 1, 2),
}


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("truncated at %d" % self.pos)
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size))[0]

    def string(self):
        n = self.unpack("<Q")
        return self.take(n).decode("utf-8")

    def value(self, type_id):
        name, fmt = VALUE_TYPES[type_id]
        if name == "string":
            return self.string()
        if name == "array":
            elem = self.unpack("<I")
            count = self.unpack("<Q")
            return {"elem_type": VALUE_TYPES[elem][0],
                    "values": [self.value(elem) for _ in range(count)]}
        v = self.unpack(fmt)
        if name == "bool":
            return bool(v)
        return v


def float_json(v):
    # JSON has no NaN/Inf: spell them as strings so the C++ side can compare.
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return repr(v)
    return v


def clean(v):
    if isinstance(v, dict):
        return {"elem_type": v["elem_type"], "values": [clean(x) for x in v["values"]]}
    return float_json(v)


def main(path):
    with open(path, "rb") as f:
        data = f.read()
    r = Reader(data)
    if r.take(4) != b"GGUF":
        raise ValueError("bad magic")
    version = r.unpack("<I")
    n_tensors = r.unpack("<Q")
    n_kv = r.unpack("<Q")
    kv = []
    alignment = 32
    for _ in range(n_kv):
        key = r.string()
        type_id = r.unpack("<I")
        value = r.value(type_id)
        if key == "general.alignment":
            alignment = value
        kv.append({"key": key, "type": VALUE_TYPES[type_id][0], "value": clean(value)})
    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        n_dims = r.unpack("<I")
        ne = [r.unpack("<q") for _ in range(n_dims)]
        type_id = r.unpack("<I")
        offset = r.unpack("<Q")
        tname, block, bsize = TENSOR_TYPES[type_id]
        rows = 1
        for d in ne[1:]:
            rows *= d
        n_bytes = ne[0] // block * bsize * rows
        tensors.append({"name": name, "ne": ne, "type": tname, "type_id": type_id,
                        "offset": offset, "n_bytes": n_bytes})
    data_offset = (r.pos + alignment - 1) // alignment * alignment

    # llama.cpp's layout: offsets are the running sum of padded sizes; all padding is zero.
    layout_ok = all(b == 0 for b in data[r.pos:data_offset])
    expected = 0
    for t in tensors:
        if t["offset"] != expected:
            layout_ok = False
        start = data_offset + t["offset"]
        end = start + t["n_bytes"]
        padded_end = data_offset + expected + (t["n_bytes"] + alignment - 1) // alignment * alignment
        if end > len(data) or any(b != 0 for b in data[end:padded_end]):
            layout_ok = False
        expected += (t["n_bytes"] + alignment - 1) // alignment * alignment
        if t["type"] in ("f32", "f16"):
            dt = np.float32 if t["type"] == "f32" else np.float16
            arr = np.frombuffer(data, dtype=np.dtype(dt).newbyteorder("<"), count=t["n_bytes"] // np.dtype(dt).itemsize,
                                offset=start)
            t["values"] = [float_json(float(x)) for x in arr.astype(np.float64)]
    if data_offset + expected != len(data) and n_tensors > 0:
        layout_ok = False

    print(json.dumps({
        "version": version, "n_tensors": n_tensors, "n_kv": n_kv, "alignment": alignment,
        "data_offset": data_offset, "file_size": len(data), "kv": kv, "tensors": tensors,
        "layout_ok": layout_ok,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
