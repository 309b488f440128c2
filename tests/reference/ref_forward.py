#!/usr/bin/python3
"""Independent float64 reference forward pass for Qwen3 and GPT-2 GGUF models (+ LoRA).

Used by tests/model and tests/runtime to check paw's interpreter. Written from the published
formats and model definitions only — its own GGUF parser and dequantizers, numpy, nothing
from paw:
  - GGUF: little-endian header "GGUF", version, tensor/kv counts, metadata, tensor directory
    (ne innermost first), data section aligned to general.alignment (default 32).
  - block layouts of ggml's F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K.
  - Qwen3: RMSNorm, Q/K/V, per-head RMSNorm of Q and K, NeoX RoPE, causal GQA attention
    (scale 1/sqrt(head_dim)), SwiGLU MLP, tied or separate head.
  - GPT-2: learned positions, LayerNorm with bias, fused QKV (rows Q, K, V) with bias,
    tanh-GELU MLP, tied head.
  - LoRA (llama.cpp adapter GGUF): y += s * B (A x) with s = user_scale * alpha / rank
    (user_scale when alpha is 0), applied unmerged, or merged into W (--merge).

Usage:
  ref_forward.py --model M.gguf --tokens 1,2,3 [--lora A.gguf[:scale]]... [--merge]
                 [--kv-f16] [--hidden-layers 0,-1] [--greedy N]
Prints JSON: {"logits": [[n_vocab floats] per position], "hidden": {"<layer>": [[n_embd] per
position]}, "greedy": [ids]}.
"""
import argparse
import json
import struct
import sys

import numpy as np

# ---------------------------------------------------------------------------------------
# GGUF reading


class GGUF:
    SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<B",
               10: "<Q", 11: "<q", 12: "<d"}
    # type id -> (elements per block, bytes per block)
    BLOCKS = {0: (1, 4), 1: (1, 2), 30: (1, 2), 8: (32, 34), 2: (32, 18), 3: (32, 20),
              6: (32, 22), 7: (32, 24), 12: (256, 144), 13: (256, 176), 14: (256, 210)}

    def __init__(self, path):
        with open(path, "rb") as f:
            self.buf = f.read()
        self.pos = 0
        if self.buf[:4] != b"GGUF":
            raise ValueError("not a GGUF file")
        self.pos = 4
        version = self._u("<I")
        if version not in (2, 3):
            raise ValueError("unsupported GGUF version %d" % version)
        n_tensors = self._u("<Q")
        n_kv = self._u("<Q")
        self.meta = {}
        for _ in range(n_kv):
            key = self._str()
            self.meta[key] = self._value(self._u("<I"))
        infos = []
        for _ in range(n_tensors):
            name = self._str()
            n_dims = self._u("<I")
            ne = [self._u("<Q") for _ in range(n_dims)]
            type_id = self._u("<I")
            offset = self._u("<Q")
            infos.append((name, ne, type_id, offset))
        align = int(self.meta.get("general.alignment", 32))
        data_start = (self.pos + align - 1) // align * align
        self.tensors = {}
        for name, ne, type_id, offset in infos:
            per_block, block_bytes = self.BLOCKS[type_id]
            n = int(np.prod(ne))
            nbytes = n // per_block * block_bytes
            start = data_start + offset
            self.tensors[name] = (type_id, ne, self.buf[start:start + nbytes])

    def _u(self, fmt):
        size = struct.calcsize(fmt)
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += size
        return v

    def _str(self):
        n = self._u("<Q")
        s = self.buf[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def _value(self, t):
        if t == 8:
            return self._str()
        if t == 9:
            et = self._u("<I")
            n = self._u("<Q")
            return [self._value(et) for _ in range(n)]
        return self._u(self.SCALARS[t])

    def array(self, name):
        """float64 values shaped (ne[1], ne[0]) for matrices, (ne[0],) for vectors."""
        type_id, ne, raw = self.tensors[name]
        v = dequantize(type_id, raw)
        if len(ne) == 1 or all(d == 1 for d in ne[1:]):
            return v.reshape(ne[0])
        return v.reshape(int(np.prod(ne[1:])), ne[0])


# ---------------------------------------------------------------------------------------
# Dequantization (ggml block layouts), float64


def _f16(a):
    return a.astype(np.float64)


def _k_scales(scales):
    """6-bit scales and mins of the 8 sub-blocks of Q4_K / Q5_K super-blocks: (nb, 8) each."""
    s = scales.astype(np.int64)
    sc = np.zeros((s.shape[0], 8), np.int64)
    mn = np.zeros((s.shape[0], 8), np.int64)
    for j in range(4):
        sc[:, j] = s[:, j] & 63
        mn[:, j] = s[:, j + 4] & 63
    for j in range(4, 8):
        sc[:, j] = (s[:, j + 4] & 0xF) | ((s[:, j - 4] >> 6) << 4)
        mn[:, j] = (s[:, j + 4] >> 4) | ((s[:, j] >> 6) << 4)
    return sc, mn


def dequantize(type_id, raw):
    if type_id == 0:
        return np.frombuffer(raw, "<f4").astype(np.float64)
    if type_id == 1:
        return np.frombuffer(raw, "<f2").astype(np.float64)
    if type_id == 30:
        u = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
        return u.view(np.float32).astype(np.float64)
    if type_id == 8:  # Q8_0: d, 32 x int8
        b = np.frombuffer(raw, np.dtype([("d", "<f2"), ("qs", "i1", 32)]))
        return (_f16(b["d"])[:, None] * b["qs"]).reshape(-1)
    if type_id in (2, 3):  # Q4_0 (d; q - 8) / Q4_1 (d, m; q*d + m); low nibbles = 0..15, high = 16..31
        fields = [("d", "<f2")] + ([("m", "<f2")] if type_id == 3 else []) + [("qs", "u1", 16)]
        b = np.frombuffer(raw, np.dtype(fields))
        q = np.concatenate([b["qs"] & 0xF, b["qs"] >> 4], axis=1).astype(np.float64)
        if type_id == 2:
            return ((q - 8) * _f16(b["d"])[:, None]).reshape(-1)
        return (q * _f16(b["d"])[:, None] + _f16(b["m"])[:, None]).reshape(-1)
    if type_id in (6, 7):  # Q5_0 / Q5_1: 5th bits in a u32, bit j -> element j
        fields = [("d", "<f2")] + ([("m", "<f2")] if type_id == 7 else []) + [("qh", "<u4"), ("qs", "u1", 16)]
        b = np.frombuffer(raw, np.dtype(fields))
        qh = b["qh"].astype(np.int64)[:, None]
        bits = (qh >> np.arange(32)[None, :]) & 1
        q = np.concatenate([b["qs"] & 0xF, b["qs"] >> 4], axis=1).astype(np.int64) | (bits << 4)
        if type_id == 6:
            return ((q - 16) * _f16(b["d"])[:, None]).reshape(-1)
        return (q * _f16(b["d"])[:, None] + _f16(b["m"])[:, None]).reshape(-1)
    if type_id in (12, 13):  # Q4_K / Q5_K
        fields = [("d", "<f2"), ("dmin", "<f2"), ("scales", "u1", 12)]
        if type_id == 13:
            fields.append(("qh", "u1", 32))
        fields.append(("qs", "u1", 128))
        b = np.frombuffer(raw, np.dtype(fields))
        nb = b.shape[0]
        sc, mn = _k_scales(b["scales"])
        d = _f16(b["d"])[:, None]
        dmin = _f16(b["dmin"])[:, None]
        y = np.zeros((nb, 256))
        for c in range(4):  # 64 values per chunk: low nibbles (sub-block 2c), high (2c+1)
            ql = b["qs"][:, 32 * c:32 * c + 32].astype(np.int64)
            lo, hi = ql & 0xF, ql >> 4
            if type_id == 13:
                qh = b["qh"].astype(np.int64)
                lo = lo + 16 * ((qh >> (2 * c)) & 1)
                hi = hi + 16 * ((qh >> (2 * c + 1)) & 1)
            y[:, 64 * c:64 * c + 32] = d * sc[:, 2 * c:2 * c + 1] * lo - dmin * mn[:, 2 * c:2 * c + 1]
            y[:, 64 * c + 32:64 * c + 64] = d * sc[:, 2 * c + 1:2 * c + 2] * hi - dmin * mn[:, 2 * c + 1:2 * c + 2]
        return y.reshape(-1)
    if type_id == 14:  # Q6_K: ql (low 4 bits), qh (high 2 bits), int8 scales per 16, d
        b = np.frombuffer(raw, np.dtype([("ql", "u1", 128), ("qh", "u1", 64), ("sc", "i1", 16), ("d", "<f2")]))
        nb = b.shape[0]
        d = _f16(b["d"])[:, None]
        y = np.zeros((nb, 256))
        for half in range(2):
            ql = b["ql"][:, 64 * half:64 * half + 64].astype(np.int64)
            qh = b["qh"][:, 32 * half:32 * half + 32].astype(np.int64)
            sc = b["sc"][:, 8 * half:8 * half + 8].astype(np.float64)
            q1 = ((ql[:, :32] & 0xF) | (((qh >> 0) & 3) << 4)) - 32
            q2 = ((ql[:, 32:] & 0xF) | (((qh >> 2) & 3) << 4)) - 32
            q3 = ((ql[:, :32] >> 4) | (((qh >> 4) & 3) << 4)) - 32
            q4 = ((ql[:, 32:] >> 4) | (((qh >> 6) & 3) << 4)) - 32
            base = 128 * half
            for k, q in enumerate((q1, q2, q3, q4)):
                for part in range(2):  # 16 values share one scale
                    s = sc[:, 2 * k + part:2 * k + part + 1]
                    sl = slice(16 * part, 16 * part + 16)
                    y[:, base + 32 * k + 16 * part:base + 32 * k + 16 * part + 16] = d * s * q[:, sl]
        return y.reshape(-1)
    raise ValueError("no dequantizer for type id %d" % type_id)


# ---------------------------------------------------------------------------------------
# LoRA


class Lora:
    def __init__(self, path, user_scale):
        g = GGUF(path)
        if g.meta.get("general.type") != "adapter" or g.meta.get("adapter.type") != "lora":
            raise ValueError("%s is not a LoRA adapter GGUF" % path)
        self.arch = g.meta.get("general.architecture")
        alpha = float(g.meta.get("adapter.lora.alpha", 0.0))
        self.pairs = {}  # base name -> (A (r, n_in), B (n_out, r), scale)
        for name in g.tensors:
            if not name.endswith(".lora_a"):
                continue
            base = name[:-len(".lora_a")]
            if base.endswith("_norm.weight"):
                continue
            a = g.array(name)
            b = g.array(base + ".lora_b")
            if base == "token_embd.weight":  # flipped: A (n_vocab, r), B (n_embd, r)
                rank = a.shape[1]
            else:
                rank = a.shape[0]
            scale = user_scale * (alpha / rank if alpha != 0 else 1.0)
            self.pairs[base] = (a, b, scale)


# ---------------------------------------------------------------------------------------
# Model


class Model:
    def __init__(self, path, loras, merge, kv_f16):
        self.g = GGUF(path)
        m = self.g.meta
        self.arch = m["general.architecture"]
        p = self.arch + "."
        self.n_layer = m[p + "block_count"]
        self.n_embd = m[p + "embedding_length"]
        self.n_head = m[p + "attention.head_count"]
        self.n_head_kv = m.get(p + "attention.head_count_kv", self.n_head)
        self.head_dim = m.get(p + "attention.key_length", self.n_embd // self.n_head)
        self.head_dim_v = m.get(p + "attention.value_length", self.head_dim)
        if self.arch in ("qwen3", "llama"):
            self.eps = m.get(p + "attention.layer_norm_rms_epsilon", 1e-6)
            self.theta = m.get(p + "rope.freq_base", 10000.0)
        else:
            self.eps = m.get(p + "attention.layer_norm_epsilon", 1e-5)
        self.loras = loras
        self.merge = merge
        self.kv_f16 = kv_f16
        for lo in loras:
            if lo.arch != self.arch:
                raise ValueError("adapter arch %s != model arch %s" % (lo.arch, self.arch))
        self.cache = {}

    def vec(self, name):
        return self.g.array(name)

    def weight(self, name):
        """(n_out, n_in) float64, with LoRA deltas merged in when --merge."""
        if name not in self.cache:
            w = self.g.array(name)
            if self.merge:
                for lo in self.loras:
                    if name in lo.pairs and name != "token_embd.weight":
                        a, b, s = lo.pairs[name]
                        w = w + s * (b @ a)
            self.cache[name] = w
        return self.cache[name]

    def linear(self, name, x, bias=None):
        y = x @ self.weight(name).T
        if not self.merge:
            for lo in self.loras:
                if name in lo.pairs:
                    a, b, s = lo.pairs[name]
                    y = y + s * ((x @ a.T) @ b.T)
        if bias is not None:
            y = y + self.vec(bias)
        return y

    def embed(self, tokens):
        e = self.g.array("token_embd.weight")
        x = e[tokens].copy()
        for lo in self.loras:
            if "token_embd.weight" in lo.pairs:
                a, b, s = lo.pairs["token_embd.weight"]
                x = x + s * (a[tokens] @ b.T)
        return x

    def head(self, h):
        if "output.weight" in self.g.tensors:
            return self.linear("output.weight", h)
        # A tied head uses the base embedding matrix: an embedding LoRA changes lookups only.
        return h @ self.g.array("token_embd.weight").T

    # -- pieces --
    def rmsnorm(self, x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def layernorm(self, x, w, b):
        mu = np.mean(x, axis=-1, keepdims=True)
        var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
        return (x - mu) / np.sqrt(var + self.eps) * w + b

    def rope(self, x, pos):
        """x (T, H, d). qwen3 (NeoX): element i pairs with i + d/2. llama GGUF files (ggml's
        "normal" mode): element 2i pairs with 2i + 1. Both rotate pair i by pos * theta^(-2i/d)."""
        d = x.shape[-1]
        half = d // 2
        freq = self.theta ** (-2.0 * np.arange(half) / d)
        ang = pos[:, None] * freq[None, :]
        c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        if self.arch == "llama":
            x0, x1 = x[..., 0::2], x[..., 1::2]
            out = np.empty_like(x)
            out[..., 0::2] = x0 * c - x1 * s
            out[..., 1::2] = x0 * s + x1 * c
            return out
        x0, x1 = x[..., :half], x[..., half:]
        return np.concatenate([x0 * c - x1 * s, x0 * s + x1 * c], axis=-1)

    def attention(self, q, k, v):
        """q (T, H, d), k (T, Hkv, d), v (T, Hkv, dv): causal, grouped heads."""
        if self.kv_f16:
            k = k.astype(np.float16).astype(np.float64)
            v = v.astype(np.float16).astype(np.float64)
        T, H, d = q.shape
        group = H // k.shape[1]
        out = np.zeros((T, H, v.shape[2]))
        mask = np.triu(np.ones((T, T), bool), 1)
        for h in range(H):
            kh = h // group
            sc = q[:, h, :] @ k[:, kh, :].T / np.sqrt(d)
            sc[mask] = -np.inf
            sc = sc - sc.max(axis=1, keepdims=True)
            p = np.exp(sc)
            p /= p.sum(axis=1, keepdims=True)
            out[:, h, :] = p @ v[:, kh, :]
        return out.reshape(T, -1)

    # -- forward --
    def forward(self, tokens, prefix_rows=None):
        tokens = np.asarray(tokens, np.int64)
        hidden = []
        x = self.embed(tokens)
        if prefix_rows is not None:  # input rows given directly, before the tokens
            x = np.concatenate([prefix_rows, x])
        T = x.shape[0]
        pos = np.arange(T, dtype=np.float64)
        if self.arch == "gpt2":
            x = x + self.g.array("position_embd.weight")[:T]
        for l in range(self.n_layer):
            b = "blk.%d." % l
            if self.arch in ("qwen3", "llama"):
                h = self.rmsnorm(x, self.vec(b + "attn_norm.weight"))
                q = self.linear(b + "attn_q.weight", h).reshape(T, self.n_head, self.head_dim)
                k = self.linear(b + "attn_k.weight", h).reshape(T, self.n_head_kv, self.head_dim)
                v = self.linear(b + "attn_v.weight", h).reshape(T, self.n_head_kv, self.head_dim_v)
                if self.arch == "qwen3":  # llama has no per-head norms
                    q = self.rmsnorm(q, self.vec(b + "attn_q_norm.weight"))
                    k = self.rmsnorm(k, self.vec(b + "attn_k_norm.weight"))
                q = self.rope(q, pos)
                k = self.rope(k, pos)
                x = x + self.linear(b + "attn_output.weight", self.attention(q, k, v))
                h = self.rmsnorm(x, self.vec(b + "ffn_norm.weight"))
                g = self.linear(b + "ffn_gate.weight", h)
                u = self.linear(b + "ffn_up.weight", h)
                x = x + self.linear(b + "ffn_down.weight", g / (1 + np.exp(-g)) * u)
            else:
                E = self.n_embd
                h = self.layernorm(x, self.vec(b + "attn_norm.weight"), self.vec(b + "attn_norm.bias"))
                qkv = self.linear(b + "attn_qkv.weight", h, b + "attn_qkv.bias")
                hd = self.head_dim
                q = qkv[:, :E].reshape(T, self.n_head, hd)
                k = qkv[:, E:2 * E].reshape(T, self.n_head, hd)
                v = qkv[:, 2 * E:].reshape(T, self.n_head, hd)
                x = x + self.linear(b + "attn_output.weight", self.attention(q, k, v), b + "attn_output.bias")
                h = self.layernorm(x, self.vec(b + "ffn_norm.weight"), self.vec(b + "ffn_norm.bias"))
                u = self.linear(b + "ffn_up.weight", h, b + "ffn_up.bias")
                u = 0.5 * u * (1 + np.tanh(np.sqrt(2 / np.pi) * (u + 0.044715 * u ** 3)))
                x = x + self.linear(b + "ffn_down.weight", u, b + "ffn_down.bias")
            hidden.append(x.copy())
        if self.arch in ("qwen3", "llama"):
            h = self.rmsnorm(x, self.vec("output_norm.weight"))
        else:
            h = self.layernorm(x, self.vec("output_norm.weight"), self.vec("output_norm.bias"))
        return self.head(h), hidden


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--lora", action="append", default=[], help="adapter.gguf[:scale]")
    ap.add_argument("--merge", action="store_true", help="merge LoRA deltas into the weights")
    ap.add_argument("--kv-f16", action="store_true", help="round K and V to float16 like an F16 cache")
    ap.add_argument("--hidden-layers", default="")
    ap.add_argument("--greedy", type=int, default=0)
    ap.add_argument("--prefix-rows", default="",
                    help="raw little-endian float32 file of [K, n_embd] input rows placed before the tokens")
    args = ap.parse_args()

    loras = []
    for spec in args.lora:
        path, _, scale = spec.partition(":")
        loras.append(Lora(path, float(scale) if scale else 1.0))
    model = Model(args.model, loras, args.merge, args.kv_f16)
    tokens = [int(t) for t in args.tokens.split(",") if t]
    prefix = None
    if args.prefix_rows:
        prefix = np.fromfile(args.prefix_rows, dtype="<f4").astype(np.float64).reshape(-1, model.n_embd)
    logits, hidden = model.forward(tokens, prefix)
    out = {"logits": logits.tolist()}
    if args.hidden_layers:
        out["hidden"] = {}
        for s in args.hidden_layers.split(","):
            li = int(s)
            out["hidden"][s] = hidden[li].tolist()
    if args.greedy > 0:
        seq = list(tokens)
        gen = []
        last = logits[-1]
        for _ in range(args.greedy):
            nxt = int(np.argmax(last))
            gen.append(nxt)
            seq.append(nxt)
            lg, _ = model.forward(seq)
            last = lg[-1]
        out["greedy"] = gen
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
