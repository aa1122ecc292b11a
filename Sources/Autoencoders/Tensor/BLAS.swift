import CGemm
import COpenBLAS

/// The one place that calls the math kernels. Matrices are row-major; `transposeA`/`transposeB`
/// select op(A) = Aᵀ / op(B) = Bᵀ as in CBLAS.
///
/// GEMM goes to CGemm: packed micro-kernels for AVX-512F or AVX2 + FMA, chosen at run time from
/// what the CPU and the OS support (and the `AE_GEMM` environment variable), or OpenBLAS's
/// `cblas_sgemm` (docs/ARCHITECTURE.md, "GEMM kernels"). Matrix–vector products stay on OpenBLAS.
public enum BLAS {
    /// C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C, on the library's threads.
    ///
    /// The library's own kernels split C across the library's pool (through CGemm's runner,
    /// `Parallel.kernelsUseThePool`). A product that goes to OpenBLAS
    /// (the OpenBLAS kernel, or a shape too small for the packed kernels) is split across the
    /// library's pool instead (`Parallel.gemm`), each part a single-threaded OpenBLAS call, and
    /// OpenBLAS's own threads stay asleep: after each threaded call they spin-wait for the next
    /// one for up to about a tenth of a second (its THREAD_TIMEOUT), on the cores that the
    /// batch-split layers (`Parallel.forEachPart`) run on next.
    @inline(__always)
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if openblas_get_num_threads() > 1, aeg_sgemm_runs_openblas(m, n, k, alpha) != 0 {
            Parallel.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                          b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        } else {
            kernelGEMM(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                       b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: Int(openblas_get_num_threads()))
        }
    }

    /// `aeg_sgemm` itself: the packed kernels split C over `threads` threads of the library's pool
    /// (1: the calling thread alone); a product it hands to OpenBLAS runs as OpenBLAS is set.
    @inline(__always)
    static func kernelGEMM(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = 1
    ) {
        if threads > 1 { _ = Parallel.kernelsUseThePool }
        aeg_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Int32(threads))
    }

    /// y[rows, n] = act(x[rows, k] · Wᵀ + bias) on weights packed by `aeg_pack_weights`
    /// (CGemm/dense.c), act = ReLU or identity; as many threads as `gemm`.
    @inline(__always)
    static func denseInference(packed: OpaquePointer, rows: Int, x: UnsafePointer<Float>, ldx: Int,
                               bias: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>, ldy: Int) {
        let threads = openblas_get_num_threads()
        if threads > 1 { _ = Parallel.kernelsUseThePool }
        aeg_dense_infer(packed, rows, x, ldx, bias, relu ? 1 : 0, y, ldy, threads)
    }

    /// The GEMM kernel in use: "avx512", "avx2" or "openblas".
    public static var gemmKernel: String { String(cString: aeg_kernel_name(aeg_current_kernel())) }

    /// One line on the GEMM in use: kernel, why it was chosen, OpenBLAS's version, core and
    /// `OPENBLAS_CORETYPE`.
    public static var gemmDescription: String { String(cString: aeg_description()) }

    /// Selects the GEMM kernel ("auto", "avx512", "avx2", "openblas"). Throws, leaving the kernel
    /// unchanged, when the name is unknown or the CPU or the OS lacks what the kernel needs.
    public static func selectGemmKernel(_ name: String) throws(AutoencoderError) {
        var reason = [CChar](repeating: 0, count: 512)
        let status = aeg_select(name, &reason, reason.count)
        let message = "kernel: " + String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if status == -1 { throw .invalidArgument(message) }
        if status != 0 { throw .unsupported(message) }
    }

    /// Floats that `packB` needs for op(B) [k, n].
    static func packedSize(k: Int, n: Int) -> Int { aeg_packed_size(k, n) }

    /// Packs op(B) [k, n] once for many `gemmPackedB` calls (CGemm's aeg_pack_b): returns the
    /// packing, or 0 when there is no kernel for it here (use `gemm`).
    static func packB(transposeB: Bool, k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int, into packed: UnsafeMutablePointer<Float>) -> Int32 {
        aeg_pack_b(transposeB ? 1 : 0, k, n, b, ldb, packed)
    }

    /// C[m, n] = A[m, k] · op(B) + beta · C on the calling thread, op(B) from `packB` (its non-zero packing).
    static func gemmPackedB(packing: Int32, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                            packed: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        aeg_gemm_packed_b(packing, m, n, k, a, lda, packed, beta, c, ldc)
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
