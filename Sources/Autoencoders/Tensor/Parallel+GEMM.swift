import CGemm

extension Parallel {
    /// Rows or columns of C per unit of the split: a multiple of OpenBLAS's micro-tile sides, and
    /// one AVX-512 vector of a row.
    private static let gemmBand = 16

    /// C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C with C cut into bands (of rows when
    /// m ≥ n, else of columns) run as the parts of one region of the library's pool, each part a
    /// single-threaded product: the products `BLAS.gemm` hands to OpenBLAS (see there why).
    ///
    /// Each element of C is one part's product over the whole k, so the result does not depend
    /// on the split beyond what the kernel's blocking of m and n gives.
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                     alpha: Float, a: UnsafePointer<Float>, lda: Int,
                     b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        let byRows = m >= n
        let extent = byRows ? m : n
        let bands = (extent + gemmBand - 1) / gemmBand
        // Two parts from 256 K multiply-adds, where OpenBLAS itself would start a second thread
        // (SMP_THRESHOLD_MIN 65,536 × GEMM_MULTITHREAD_THRESHOLD 4, interface/gemm.c): a
        // multiply-add counts a quarter of the memory-bound element of `minimumWorkPerPart`.
        let work = m * n * k / 4
        forEachRange(count: bands, work: work) { part in
            let first = part.lowerBound * gemmBand, last = min(part.upperBound * gemmBand, extent)
            if byRows {
                BLAS.kernelGEMM(transposeA: transposeA, transposeB: transposeB, m: last - first, n: n, k: k, alpha: alpha,
                                a: a + (transposeA ? first : first * lda), lda: lda, b: b, ldb: ldb,
                                beta: beta, c: c + first * ldc, ldc: ldc)
            } else {
                BLAS.kernelGEMM(transposeA: transposeA, transposeB: transposeB, m: m, n: last - first, k: k, alpha: alpha,
                                a: a, lda: lda, b: b + (transposeB ? first * ldb : first), ldb: ldb,
                                beta: beta, c: c + first, ldc: ldc)
            }
        }
    }

    /// CGemm's packed kernels split their work (aeg_sgemm's bands, dense inference's panels) on
    /// this pool rather than on CGemm's own, so that one set of helper threads serves every
    /// kernel and layer: two pools would take turns spinning on the same cores after each other's
    /// regions. Installed on the first threaded kernel call (`BLAS`); a kernel call inside a
    /// region, or while the pool cannot start helpers, runs its parts on the calling thread.
    static let kernelsUseThePool: Void = aeg_set_parallel_runner { parts, part, argument in
        guard let part else { return 0 }
        let count = Int(parts)
        // Every one of CGemm's parts runs, even if the pool gives fewer parts than asked.
        let ran = WorkerPool.shared.run(parts: count, count: count, scratch: unusedScratch, scratchSize: 0,
                                        { _, indices, _ in for index in indices { part(argument, Int32(index)) } },
                                        combine: { _ in })
        return ran ? 1 : 0
    }
}
