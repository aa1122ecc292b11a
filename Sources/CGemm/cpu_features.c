// CPUID and XGETBV, read once (cpu_features.h).
#include <pthread.h>
#include <stdio.h>

#include "cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define AEG_X86 1
#endif

static struct {
    int leaf1, fma, osxsave, avx, avx2, avx512f, vnni;
    unsigned long long xcr0;
} cpu;
static pthread_once_t read_once = PTHREAD_ONCE_INIT;

static void read_features(void) {
#ifdef AEG_X86
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return;
    cpu.leaf1 = 1;
    cpu.fma = (ecx >> 12) & 1;
    cpu.osxsave = (ecx >> 27) & 1;
    cpu.avx = (ecx >> 28) & 1;
    if (__get_cpuid_max(0, 0) >= 7) {
        __cpuid_count(7, 0, eax, ebx, ecx, edx);
        cpu.avx2 = (ebx >> 5) & 1;
        cpu.avx512f = (ebx >> 16) & 1;
        cpu.vnni = (ecx >> 11) & 1;
    }
    if (cpu.osxsave) {  // XGETBV faults unless the OS has enabled XSAVE
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        cpu.xcr0 = ((unsigned long long)hi << 32) | lo;
    }
#endif
}

void aeg_isa_unsupported_reason(aeg_isa isa, char *reason, size_t size) {
    reason[0] = 0;
#ifdef AEG_X86
    pthread_once(&read_once, read_features);
    if (!cpu.leaf1) {
        snprintf(reason, size, "CPUID leaf 1 is not available");
        return;
    }
    const int wide = isa == AEG_ISA_AVX512F || isa == AEG_ISA_AVX512_VNNI;
    const char *missing = wide && !cpu.avx512f                    ? "AVX-512F (CPUID leaf 7, EBX bit 16)"
                          : isa == AEG_ISA_AVX512_VNNI && !cpu.vnni ? "AVX512_VNNI (CPUID leaf 7, ECX bit 11)"
                          : !wide && !cpu.avx2                      ? "AVX2 (CPUID leaf 7, EBX bit 5)"
                          : isa == AEG_ISA_AVX2_FMA && !cpu.fma     ? "FMA (CPUID leaf 1, ECX bit 12)"
                          : !wide && !cpu.avx                       ? "AVX (CPUID leaf 1, ECX bit 28)"
                                                                    : 0;
    if (missing) {
        snprintf(reason, size, "this CPU lacks %s", missing);
        return;
    }
    if (!cpu.osxsave) {
        snprintf(reason, size, "the OS has not enabled XSAVE (CPUID leaf 1, ECX bit 27): vector registers are not saved");
        return;
    }
    const unsigned long long needed = wide ? 0xe6 : 0x06;  // opmask, zmm halves and zmm16-31; or SSE and AVX state
    if ((cpu.xcr0 & needed) != needed)
        snprintf(reason, size, "the OS does not save the %s registers (XCR0 = 0x%llx, needs bits 0x%llx)",
                 wide ? "AVX-512 (zmm, k)" : "AVX (ymm)", cpu.xcr0, needed);
#else
    (void)isa;
    snprintf(reason, size, "this is not an x86 CPU");
#endif
}
