#!/usr/bin/python3
"""Independent float64 reference of the compile pipeline (docs/FORMATS.md, "Compiler GGUF").

Reads a compiler GGUF with ref_forward's own GGUF parser and Qwen3 forward (numpy, nothing
from paw), runs the encoder over the given token ids, and computes:
  h      = mean over compiler.encoder_layers (with repeats) and the last K positions of the
           residual stream after each layer
  c      = fc2 . GELU_erf(fc1 . h + b1) + b2
  A[l,m] = sum_b c[((l*M + m)*NB + b)*2 + 0] * bases[m].a[b]   (basis b: rows b*r .. b*r+r-1)
  B[l,m] = sum_b c[((l*M + m)*NB + b)*2 + 1] * bases[m].b[b]   (basis b: rows b*n_out ..)
with modules m in compiler.lora.modules order.

Usage: ref_compile.py --compiler C.gguf --tokens 1,2,3
Prints JSON {"coefficients": [...], "adapters": {"blk.0.attn_q.weight": {"a": [[...]], "b": [[...]]}}}.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_forward import Model  # noqa: E402

TENSORS = {"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output",
           "gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compiler", required=True)
    ap.add_argument("--tokens", required=True)
    args = ap.parse_args()
    model = Model(args.compiler, [], False, False)
    meta = model.g.meta
    tokens = [int(t) for t in args.tokens.split(",") if t]
    _, hidden = model.forward(tokens)
    K = meta["compiler.prefix_tokens"]
    layers = list(meta["compiler.encoder_layers"])
    pooled = np.zeros(model.n_embd)
    for l in layers:
        pooled += hidden[l][-K:].sum(axis=0)
    pooled /= K * len(layers)
    g = model.g
    h = g.array("mapper.fc1.weight") @ pooled + g.array("mapper.fc1.bias")
    h = 0.5 * h * (1 + np.vectorize(math.erf)(h / math.sqrt(2)))
    c = g.array("mapper.fc2.weight") @ h + g.array("mapper.fc2.bias")
    modules = list(meta["compiler.lora.modules"])
    NB = meta["compiler.n_bases"]
    r = meta["compiler.lora.rank"]
    L = meta["compiler.interpreter.n_layer"]
    M = len(modules)
    if meta.get("compiler.coef_activation", "linear") == "softmax":
        # each (layer, module, A|B) group: a softmax over the bases (layout [L, M, NB, 2])
        g4 = c.reshape(L, M, NB, 2)
        e = np.exp(g4 - g4.max(axis=2, keepdims=True))
        c = (e / e.sum(axis=2, keepdims=True)).reshape(-1)
    out = {"coefficients": c.tolist(), "adapters": {}}
    for mi, m in enumerate(modules):
        a = g.array("compiler.bases.%s.a" % m)   # [NB*r, n_in]
        b = g.array("compiler.bases.%s.b" % m)   # [NB*n_out, r]
        n_out = b.shape[0] // NB
        for l in range(L):
            A = np.zeros((r, a.shape[1]))
            B = np.zeros((n_out, r))
            for k in range(NB):
                base = ((l * M + mi) * NB + k) * 2
                A += c[base] * a[k * r:(k + 1) * r]
                B += c[base + 1] * b[k * n_out:(k + 1) * n_out]
            out["adapters"]["blk.%d.%s.weight" % (l, TENSORS[m])] = {"a": A.tolist(), "b": B.tolist()}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
