import COpenBLAS

/// The one place that calls OpenBLAS. Matrices are row-major; `transposeA`/`transposeB` select
/// op(A) = Aᵀ / op(B) = Bᵀ as in CBLAS.
public enum BLAS {
    /// C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C
    @inline(__always)
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// y[m or n] = alpha · op(A) · x + beta · y, A is [m, n] row-major.
    @inline(__always)
    static func gemv(
        transpose: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, blasint(m), blasint(n),
                    alpha, a, blasint(lda), x, 1, beta, y, 1)
    }

    /// The number of threads the library computes with (`Parallel.threadCount`): OpenBLAS's for
    /// one call outside a parallel region, one per part of a batch split inside one.
    public static var threadCount: Int {
        get { Parallel.threadCount }
        set { Parallel.threadCount = newValue }
    }
}
