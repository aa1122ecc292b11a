// Which kernel runs: what the CPU has (CPUID) and what the OS saves on a context switch (XGETBV),
// then the AE_GEMM environment variable. A kernel is never run on a CPU or OS without what it
// needs: asking for it (AE_GEMM, aeg_select) is refused with the reason.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aeelementwise.h"
#include "aegemm.h"
#include "aelstm.h"
#include "cpu_features.h"


char *openblas_get_corename(void);
char *openblas_get_config(void);

static const char *const names[] = {"avx512", "avx2", "openblas"};
static const char *const tiles[] = {"packed 12x32 micro-kernel, AVX-512F", "packed 6x16 micro-kernel, AVX2 + FMA",
                                    "cblas_sgemm"};

static _Atomic int current = -1;
static _Atomic int openblas_requested = 0;  // "openblas" named (AE_GEMM, aeg_select), not chosen automatically
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t describe_lock = PTHREAD_MUTEX_INITIALIZER;
static char how_chosen[512] = "automatically";
static char description[1024];

const char *aeg_kernel_name(aeg_kernel kernel) {
    return (unsigned)kernel <= AEG_KERNEL_OPENBLAS ? names[kernel] : "unknown";
}

// Why `kernel` cannot run here (empty when it can).
static void unsupported_reason(aeg_kernel kernel, char *reason, size_t size) {
    reason[0] = 0;
    if (kernel == AEG_KERNEL_OPENBLAS) return;
    aeg_isa_unsupported_reason(kernel == AEG_KERNEL_AVX512 ? AEG_ISA_AVX512F : AEG_ISA_AVX2_FMA, reason, size);
}

int aeg_kernel_supported(aeg_kernel kernel) {
    char reason[256];
    if ((unsigned)kernel > AEG_KERNEL_OPENBLAS) return 0;
    unsupported_reason(kernel, reason, sizeof reason);
    return reason[0] == 0;
}

// OpenBLAS's cores (openblas_get_corename) whose sgemm kernels use AVX-512, and those using at
// least AVX2 + FMA. A DYNAMIC_ARCH OpenBLAS picks its core from the CPU, unless OPENBLAS_CORETYPE
// forces one; an old OpenBLAS on a new CPU may also fall back to a generic core (Prescott).
static const char *const openblas_avx512_cores[] = {"skylakex", "cooperlake", "sapphirerapids", 0};
static const char *const openblas_avx2_cores[] = {"haswell", "zen", "skylakex", "cooperlake", "sapphirerapids", 0};

static int core_in(const char *core, const char *const *cores) {
    for (int i = 0; cores[i]; i++)
        if (strcasecmp(core, cores[i]) == 0) return 1;
    return 0;
}

// The automatic choice: OpenBLAS when its core already uses the widest vectors this CPU and OS
// support (it is as fast as these kernels there, docs/BENCHMARKS.md), else the widest kernel
// here. Deterministic (no timing), so a process always makes the same choice on one machine.
static aeg_kernel best_kernel(char *why, size_t size) {
    const char *core = openblas_get_corename();
    if (!core) core = "unknown";
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    char forced[96] = "";
    if (coretype && coretype[0]) snprintf(forced, sizeof forced, ", as OPENBLAS_CORETYPE=%.40s asks", coretype);
    if (aeg_kernel_supported(AEG_KERNEL_AVX512)) {
        if (core_in(core, openblas_avx512_cores)) {
            snprintf(why, size, "automatically: OpenBLAS's core %.40s has AVX-512 kernels", core);
            return AEG_KERNEL_OPENBLAS;
        }
        snprintf(why, size, "automatically: the CPU has AVX-512F, OpenBLAS runs its %.40s kernels%s", core, forced);
        return AEG_KERNEL_AVX512;
    }
    if (aeg_kernel_supported(AEG_KERNEL_AVX2)) {
        if (core_in(core, openblas_avx2_cores)) {
            snprintf(why, size, "automatically: OpenBLAS's core %.40s has AVX2 kernels", core);
            return AEG_KERNEL_OPENBLAS;
        }
        snprintf(why, size, "automatically: the CPU has AVX2 + FMA, OpenBLAS runs its %.40s kernels%s", core, forced);
        return AEG_KERNEL_AVX2;
    }
    snprintf(why, size, "automatically: the CPU or the OS offers neither AVX-512F nor AVX2 + FMA");
    return AEG_KERNEL_OPENBLAS;
}

// Parses a name: the kernel, or -2 for "auto", or -1 when unknown.
static int parse(const char *name) {
    if (strcmp(name, "auto") == 0) return -2;
    for (int i = 0; i <= AEG_KERNEL_OPENBLAS; i++)
        if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

static int choose(const char *name, char *reason, size_t size, char *how, size_t how_size) {
    int kernel = parse(name);
    if (kernel == -1) {
        snprintf(reason, size, "unknown GEMM kernel \"%.40s\"; expected auto, avx512, avx2 or openblas", name);
        return -1;
    }
    char automatic[256];
    if (kernel == -2) kernel = best_kernel(automatic, sizeof automatic);
    char why[256];
    unsupported_reason((aeg_kernel)kernel, why, sizeof why);
    if (why[0]) {
        snprintf(reason, size, "the %s kernel cannot run here: %s", names[kernel], why);
        return -2;
    }
    atomic_store(&current, kernel);
    atomic_store(&openblas_requested, kernel == AEG_KERNEL_OPENBLAS && parse(name) != -2);
    if (parse(name) == -2) snprintf(how, how_size, "%s", automatic);
    return 0;
}

static void resolve(void) {
    const char *requested = getenv("AE_GEMM");
    char reason[320], how[256];
    if (requested && requested[0]) {
        if (choose(requested, reason, sizeof reason, how, sizeof how) == 0) {
            snprintf(how_chosen, sizeof how_chosen, "AE_GEMM=%.40s%s%.200s", requested, parse(requested) == -2 ? ", " : "",
                     parse(requested) == -2 ? how : "");
            return;
        }
        atomic_store(&current, best_kernel(how, sizeof how));
        snprintf(how_chosen, sizeof how_chosen, "AE_GEMM=%.40s refused (%.160s); %.200s", requested, reason, how);
        fprintf(stderr, "libautoencoders: AE_GEMM=%s refused: %s; using %s\n", requested, reason,
                names[atomic_load(&current)]);
        return;
    }
    atomic_store(&current, best_kernel(how_chosen, sizeof how_chosen));
}

int aeg_openblas_requested(void) {
    aeg_current_kernel();
    return atomic_load(&openblas_requested);
}

aeg_kernel aeg_current_kernel(void) {
    int kernel = atomic_load_explicit(&current, memory_order_relaxed);
    if (kernel >= 0) return (aeg_kernel)kernel;
    pthread_once(&resolve_once, resolve);
    return (aeg_kernel)atomic_load(&current);
}

int aeg_select(const char *name, char *reason, size_t reason_size) {
    char why[320];
    aeg_current_kernel();
    if (!name) name = "(null)";
    char how[256] = "";
    pthread_mutex_lock(&describe_lock);
    int refused = choose(name, why, sizeof why, how, sizeof how);
    if (refused) {
        pthread_mutex_unlock(&describe_lock);
        if (reason && reason_size) snprintf(reason, reason_size, "%s", why);
        return refused;
    }
    snprintf(how_chosen, sizeof how_chosen, "selected as \"%.40s\" by the application%s%.200s", name, how[0] ? "; " : "",
             how);
    pthread_mutex_unlock(&describe_lock);
    return 0;
}

const char *aeg_description(void) {
    aeg_kernel kernel = aeg_current_kernel();
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    const int dense = aeg_dense_kernel(); // inference on pre-packed weights (dense.c)
    pthread_mutex_lock(&describe_lock);
    snprintf(description, sizeof description,
             "%s (%s; %s); %s, core %s, OPENBLAS_CORETYPE=%s; inference: %s%s; element-wise passes: %s, "
             "LSTM cell: %s",
             names[kernel], tiles[kernel], how_chosen, openblas_get_config(), openblas_get_corename(),
             coretype ? coretype : "(unset)", dense >= 0 ? "dense layers on pre-packed weights, " : "dense layers as the GEMM",
             dense >= 0 ? names[dense] : "", aeg_elementwise_instruction_set(), aeg_lstm_instruction_set());
    pthread_mutex_unlock(&describe_lock);
    return description;
}
