// The GEMM's thread pool, unless the library installed its own (aeg_set_parallel_runner: then
// every split goes there and this pool never starts a thread). One job at a time: a caller takes
// the pool with a trylock (a second thread calling GEMM meanwhile runs on its own thread instead
// of waiting), publishes the job by bumping `generation`, runs part 0 itself and waits for the
// workers. Workers and the caller spin for a few microseconds before sleeping on a condition
// variable, so back-to-back GEMMs of a training step do not pay a futex wake-up each (OpenBLAS's
// own threads do the same).
#define _GNU_SOURCE
#include "pool.h"

#include "aegemm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define AEG_MAX_WORKERS 63
#define AEG_SPIN 4000

static pthread_mutex_t pool_busy = PTHREAD_MUTEX_INITIALIZER;  // held by the caller of a job
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;  // guards the sleeps
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static _Atomic unsigned generation;
static _Atomic int pending;
static int workers;
static int job_parts;
static void (*job_part)(void *, int);
static void *job_arg;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static _Atomic(aeg_parallel_runner) installed_runner;

void aeg_set_parallel_runner(aeg_parallel_runner runner) {
    atomic_store_explicit(&installed_runner, runner, memory_order_release);
}

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker(void *start) {
    uintptr_t packed = (uintptr_t)start;
    int index = (int)(packed & 0xff);
    unsigned seen = (unsigned)(packed >> 8);
    for (;;) {
        unsigned now = atomic_load_explicit(&generation, memory_order_acquire);
        for (int spin = 0; spin < AEG_SPIN && now == seen; spin++) {
            relax();
            now = atomic_load_explicit(&generation, memory_order_acquire);
        }
        if (now == seen) {
            pthread_mutex_lock(&pool_lock);
            while ((now = atomic_load_explicit(&generation, memory_order_acquire)) == seen)
                pthread_cond_wait(&pool_wake, &pool_lock);
            pthread_mutex_unlock(&pool_lock);
        }
        seen = now;
        if (index < job_parts) job_part(job_arg, index);
        if (atomic_fetch_sub_explicit(&pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool_lock);
            pthread_cond_signal(&pool_done);
            pthread_mutex_unlock(&pool_lock);
        }
    }
    return 0;
}

// A child of fork() has none of the parent's workers.
static void forget_workers(void) {
    workers = 0;
    pthread_mutex_init(&pool_busy, 0);
    pthread_mutex_init(&pool_lock, 0);
    pthread_cond_init(&pool_wake, 0);
    pthread_cond_init(&pool_done, 0);
}

static void install_atfork(void) { pthread_atfork(0, 0, forget_workers); }

static _Atomic int forked_child;
static pthread_once_t fork_watch_once = PTHREAD_ONCE_INIT;

static void note_fork(void) { atomic_store_explicit(&forked_child, 1, memory_order_relaxed); }

static void watch_fork(void) { pthread_atfork(0, 0, note_fork); }

int aeg_forked_since_first_call(void) {
    pthread_once(&fork_watch_once, watch_fork);
    return atomic_load_explicit(&forked_child, memory_order_relaxed);
}

int aeg_own_pool_threads(void) {
    pthread_mutex_lock(&pool_busy);
    int started = workers;
    pthread_mutex_unlock(&pool_busy);
    return started;
}

int aeg_parallel(int parts, void (*part)(void *arg, int index), void *arg) {
    if (parts < 2) return 0;
    aeg_parallel_runner runner = atomic_load_explicit(&installed_runner, memory_order_acquire);
    if (runner) return runner(parts, part, arg);
    if (parts > AEG_MAX_WORKERS + 1) parts = AEG_MAX_WORKERS + 1;
    pthread_once(&atfork_once, install_atfork);
    if (pthread_mutex_trylock(&pool_busy) != 0) return 0;
    while (workers < parts - 1) {
        unsigned seen = atomic_load_explicit(&generation, memory_order_acquire);
        uintptr_t start = (uintptr_t)(workers + 1) | ((uintptr_t)seen << 8);
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attributes, worker, (void *)start);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        workers++;
    }
    if (workers < parts - 1) parts = workers + 1;
    if (parts < 2) {
        pthread_mutex_unlock(&pool_busy);
        return 0;
    }
    job_part = part;
    job_arg = arg;
    job_parts = parts;
    atomic_store_explicit(&pending, workers, memory_order_relaxed);
    pthread_mutex_lock(&pool_lock);
    atomic_fetch_add_explicit(&generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool_wake);
    pthread_mutex_unlock(&pool_lock);
    part(arg, 0);
    for (int spin = 0; spin < AEG_SPIN && atomic_load_explicit(&pending, memory_order_acquire) > 0; spin++) relax();
    if (atomic_load_explicit(&pending, memory_order_acquire) > 0) {
        pthread_mutex_lock(&pool_lock);
        while (atomic_load_explicit(&pending, memory_order_acquire) > 0) pthread_cond_wait(&pool_done, &pool_lock);
        pthread_mutex_unlock(&pool_lock);
    }
    pthread_mutex_unlock(&pool_busy);
    return 1;
}
