// What the core's worker pool (Tensor/Parallel.swift) needs from C: atomic operations on a machine
// word (Swift 5.10's standard library has none, and the Synchronization module needs a newer
// language mode), a spin-wait hint, and a way to keep the shared object loaded while its helper
// threads run.
#ifndef AE_POOL_H
#define AE_POOL_H

#include <dlfcn.h>

static inline long ae_atomic_load(const long *word) { return __atomic_load_n(word, __ATOMIC_ACQUIRE); }

static inline void ae_atomic_store(long *word, long value) { __atomic_store_n(word, value, __ATOMIC_RELEASE); }

/// Adds `delta` and returns the value before.
static inline long ae_atomic_fetch_add(long *word, long delta) { return __atomic_fetch_add(word, delta, __ATOMIC_ACQ_REL); }

/// Stores `desired` if the word holds *expected and returns 1; else stores the word's value in
/// *expected and returns 0.
static inline int ae_atomic_compare_exchange(long *word, long *expected, long desired) {
    return __atomic_compare_exchange_n(word, expected, desired, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/// Tells the CPU that this is a spin-wait loop (x86 `pause`).
static inline void ae_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// glibc's Dl_info and dladdr, which <dlfcn.h> declares only under _GNU_SOURCE (not set for the
/// Swift importer): the same four pointers, and the same symbol under another name.
typedef struct {
    const char *file_name;
    void *file_base;
    const char *symbol_name;
    void *symbol_address;
} ae_dl_info;
extern int ae_dladdr(const void *address, ae_dl_info *info) __asm__("dladdr");

/// Keeps the shared object that holds this function loaded until the process ends (as if linked
/// with -z nodelete): helper threads run its code, so a host's dlclose must not unmap it. Nothing
/// happens in an executable.
static inline void ae_pin_this_object(void) {
    ae_dl_info info;
    if (ae_dladdr((const void *)&ae_pin_this_object, &info) != 0 && info.file_name && info.file_name[0])
        (void)dlopen(info.file_name, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

#endif
