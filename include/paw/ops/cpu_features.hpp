#pragma once
// CPU feature checks (CPUID, with the OS's support for the wider register state), for the
// kernel tables (src/ops/dispatch.cpp) and for callers that pick a precision by what the CPU
// does natively (the finetune's bf16 autocast, paw/train/finetune.hpp). Always false off x86.

namespace paw::cpu {

bool has_avx2();         // AVX2 + FMA + F16C, with OS support for the YMM state
bool has_avx512();       // AVX-512 F/BW/VL/DQ + VNNI, with OS support for the ZMM state
bool has_avx512_bf16();  // AVX512_BF16 (vdpbf16ps); optional inside the avx512 table

}  // namespace paw::cpu
