// The GEMM's thread pool (internal to CGemm): persistent workers that spin briefly, then sleep.
#ifndef AEGEMM_POOL_H
#define AEGEMM_POOL_H

/// Runs part(arg, 0) .. part(arg, parts - 1), part 0 on the calling thread, the others on the
/// pool's workers, and returns 1 when all are done. Returns 0 without running anything when the
/// pool is taken by another thread or cannot start its workers: the caller then does the work alone.
int aeg_parallel(int parts, void (*part)(void *arg, int index), void *arg);

#endif
