// What this CPU has (CPUID) and what the OS saves on a context switch (XGETBV), for every kernel
// choice in CGemm: the float GEMM (cpu.c), the int8 GEMM (int8.c), and through them the packed,
// dense and LSTM-cell kernels. Internal to CGemm.
#ifndef AEGEMM_CPU_FEATURES_H
#define AEGEMM_CPU_FEATURES_H

#include <stddef.h>

/// The instruction sets the kernels are compiled for (per function, `target` attributes).
typedef enum {
    AEG_ISA_AVX2,        ///< AVX + AVX2: the int8 kernel
    AEG_ISA_AVX2_FMA,    ///< AVX + AVX2 + FMA: the float kernels
    AEG_ISA_AVX512F,     ///< AVX-512F
    AEG_ISA_AVX512_VNNI  ///< AVX-512F + AVX512_VNNI
} aeg_isa;

/// Why this CPU or OS cannot run code for `isa`: the missing CPUID bit, or the register state the
/// OS does not save (XCR0); an empty string when it can. CPUID and XGETBV are read once per
/// process (in a virtual machine CPUID traps to the hypervisor, which is slow).
void aeg_isa_unsupported_reason(aeg_isa isa, char *reason, size_t size);

#endif
