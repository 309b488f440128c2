#!/usr/bin/python3
"""Independent reference dequantizer for ggml block types, written from the published block
layouts (ggml-common.h) element by element, without looking at paw's C++ code.

Usage: ref_dequant.py MANIFEST
  Each MANIFEST line is "TYPE N IN_FILE OUT_FILE": IN_FILE holds the raw bytes of N elements
  of TYPE (f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_K q5_K q6_K); OUT_FILE receives N
  little-endian float32 values.

Arithmetic is done in float32 with numpy scalars in the same association order as ggml's
reference (e.g. Q4_K is (d*sc)*q - (dmin*m), Q4_1 is q*d + m with two roundings) so results
are bit-exact, not merely close. fp16 fields are decoded by numpy's own float16.
Run with Debian's /usr/bin/python3 (python3-numpy).
"""
import struct
import sys

import numpy as np

F = np.float32


def f16(b, off):
    """The fp16 at byte offset off, as float32 (numpy's IEEE half decoder)."""
    return F(np.frombuffer(b[off:off + 2], dtype="<f2")[0])


def blocks(data, size):
    assert len(data) % size == 0, "truncated block data"
    for off in range(0, len(data), size):
        yield data[off:off + size]


def deq_f32(data):
    return [F(v) for v in np.frombuffer(data, dtype="<f4")]


def deq_f16(data):
    return [F(v) for v in np.frombuffer(data, dtype="<f2")]


def deq_bf16(data):
    # bf16 is the top half of a float32.
    u = np.frombuffer(data, dtype="<u2").astype(np.uint32) << 16
    return [F(v) for v in u.view(np.float32)]


def deq_q8_0(data):
    # block_q8_0 (34 B): d fp16 @0, qs int8[32] @2. y = qs * d.
    out = []
    for b in blocks(data, 34):
        d = f16(b, 0)
        for j in range(32):
            q = struct.unpack_from("b", b, 2 + j)[0]
            out.append(F(q) * d)
    return out


def nibble(byte, high):
    return (byte >> 4) if high else (byte & 0x0F)


def deq_q4_0(data):
    # block_q4_0 (18 B): d fp16 @0, qs[16] @2. Element j < 16 is the low nibble of qs[j],
    # element j >= 16 the high nibble of qs[j-16]. y = (q - 8) * d.
    out = []
    for b in blocks(data, 18):
        d = f16(b, 0)
        for j in range(32):
            q = nibble(b[2 + j % 16], j >= 16)
            out.append(F(q - 8) * d)
    return out


def deq_q4_1(data):
    # block_q4_1 (20 B): d fp16 @0, m fp16 @2, qs[16] @4. y = q*d + m.
    out = []
    for b in blocks(data, 20):
        d, m = f16(b, 0), f16(b, 2)
        for j in range(32):
            q = nibble(b[4 + j % 16], j >= 16)
            out.append(F(q) * d + m)
    return out


def deq_q5_0(data):
    # block_q5_0 (22 B): d fp16 @0, qh u32 LE @2 (bit j = 5th bit of element j), qs[16] @6.
    # y = (q - 16) * d.
    out = []
    for b in blocks(data, 22):
        d = f16(b, 0)
        qh = struct.unpack_from("<I", b, 2)[0]
        for j in range(32):
            q = nibble(b[6 + j % 16], j >= 16) | (((qh >> j) & 1) << 4)
            out.append(F(q - 16) * d)
    return out


def deq_q5_1(data):
    # block_q5_1 (24 B): d @0, m @2, qh u32 LE @4, qs[16] @8. y = q*d + m.
    out = []
    for b in blocks(data, 24):
        d, m = f16(b, 0), f16(b, 2)
        qh = struct.unpack_from("<I", b, 4)[0]
        for j in range(32):
            q = nibble(b[8 + j % 16], j >= 16) | (((qh >> j) & 1) << 4)
            out.append(F(q) * d + m)
    return out


def scale_min_k4(scales, j):
    """6-bit scale and min of sub-block j from the 12 packed bytes (ggml's layout):
    bytes 0-3 low 6 bits = scale 0-3, bytes 4-7 low 6 bits = min 0-3; for j >= 4 the low 4 bits
    come from byte 8+(j-4) (scale: low nibble, min: high nibble) and the top 2 bits from bits
    6-7 of byte j-4 (scale) / byte j (min)."""
    if j < 4:
        return scales[j] & 63, scales[j + 4] & 63
    sc = (scales[j + 4] & 0x0F) | ((scales[j - 4] >> 6) << 4)
    mn = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4)
    return sc, mn


def deq_q4_K(data):
    # block_q4_K (144 B): d @0, dmin @2, scales[12] @4, qs[128] @16. Element e: chunk c = e//64,
    # r = e%64; byte qs[32c + r%32], low nibble for r < 32 else high; sub-block e//32.
    out = []
    for b in blocks(data, 144):
        d, dmin = f16(b, 0), f16(b, 2)
        scales = b[4:16]
        for e in range(256):
            c, r = divmod(e, 64)
            q = nibble(b[16 + 32 * c + r % 32], r >= 32)
            sc, mn = scale_min_k4(scales, e // 32)
            out.append((d * F(sc)) * F(q) - dmin * F(mn))
    return out


def deq_q5_K(data):
    # block_q5_K (176 B): d @0, dmin @2, scales[12] @4, qh[32] @16, qs[128] @48. As Q4_K plus
    # a 5th bit: bit (e//32) of qh[e%32].
    out = []
    for b in blocks(data, 176):
        d, dmin = f16(b, 0), f16(b, 2)
        scales = b[4:16]
        for e in range(256):
            c, r = divmod(e, 64)
            lo = nibble(b[48 + 32 * c + r % 32], r >= 32)
            hi = (b[16 + e % 32] >> (e // 32)) & 1
            sc, mn = scale_min_k4(scales, e // 32)
            out.append((d * F(sc)) * F(lo | (hi << 4)) - dmin * F(mn))
    return out


def deq_q6_K(data):
    # block_q6_K (210 B): ql[128] @0, qh[64] @128, scales int8[16] @192, d fp16 @208.
    # Element e: half h = e//128, r = e%128, group g = r//32 (0..3), l = r%32.
    # Low 4 bits: ql[64h + l + 32*(g%2)], low nibble for g < 2 else high nibble.
    # High 2 bits: bits 2g..2g+1 of qh[32h + l]. Scale: scales[8h + l//16 + 2g].
    # y = (d * scale) * (q - 32).
    out = []
    for b in blocks(data, 210):
        d = f16(b, 208)
        for e in range(256):
            h, r = divmod(e, 128)
            g, l = divmod(r, 32)
            lo = nibble(b[64 * h + l + 32 * (g % 2)], g >= 2)
            hi = (b[128 + 32 * h + l] >> (2 * g)) & 3
            q = (lo | (hi << 4)) - 32
            sc = struct.unpack_from("b", b, 192 + 8 * h + l // 16 + 2 * g)[0]
            out.append((d * F(sc)) * F(q))
    return out


DECODERS = {
    "f32": deq_f32, "f16": deq_f16, "bf16": deq_bf16, "q8_0": deq_q8_0, "q4_0": deq_q4_0,
    "q4_1": deq_q4_1, "q5_0": deq_q5_0, "q5_1": deq_q5_1, "q4_K": deq_q4_K, "q5_K": deq_q5_K,
    "q6_K": deq_q6_K,
}


def main():
    np.seterr(all="ignore")  # overflow to inf is a legitimate result to compare
    with open(sys.argv[1]) as manifest:
        for line in manifest:
            if not line.strip():
                continue
            typ, n, src, dst = line.split()
            with open(src, "rb") as fh:
                vals = DECODERS[typ](fh.read())
            if len(vals) != int(n):
                sys.exit(f"{typ}: decoded {len(vals)} values, expected {n}")
            np.asarray(vals, dtype="<f4").tofile(dst)


if __name__ == "__main__":
    main()
