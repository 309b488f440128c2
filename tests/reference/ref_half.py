#!/usr/bin/python3
"""Independent float32 -> float16 / bfloat16 rounding reference.

Usage: ref_half.py IN_F32 OUT_F16 OUT_BF16
  IN_F32: little-endian float32 values. OUT_F16: their float16 bit patterns (u16 LE) as
  numpy's astype(float16) rounds them (IEEE round-to-nearest-even, subnormals, overflow to
  Inf). OUT_BF16: their bfloat16 bit patterns as torch's .to(torch.bfloat16) rounds them
  (round-to-nearest-even); written only when torch can be imported.
NaN payloads differ between libraries; callers compare NaN-ness only.
Run with Debian's /usr/bin/python3 (python3-numpy, python3-torch).
"""
import sys

import numpy as np


def main():
    src, out_f16, out_bf16 = sys.argv[1:4]
    x = np.fromfile(src, dtype="<f4")
    with np.errstate(all="ignore"):  # overflow to Inf is the expected result for some inputs
        x.astype("<f2").view("<u2").tofile(out_f16)
    try:
        import torch
    except ImportError:
        return
    t = torch.from_numpy(x.copy()).to(torch.bfloat16).view(torch.int16)
    t.numpy().view("<u2").tofile(out_bf16)


if __name__ == "__main__":
    main()
