import CGemm
import XCTest
@testable import Autoencoders

/// The GEMM wrapper (Tensor/BLAS.swift) on every kernel this CPU can run: the four transpose
/// combinations, leading dimensions wider than the matrices, edge tiles, alpha and beta, one and
/// two threads, against a double-precision reference; and the refusals of kernels that cannot run.
final class GemmTests: KernelTestCase {
    /// The kernels this machine runs (OpenBLAS always; the others when CPUID and XGETBV allow).
    private var runnableKernels: [String] {
        ["avx512", "avx2", "openblas"].filter { (try? BLAS.selectGemmKernel($0)) != nil }
    }

    /// C = alpha op(A) op(B) + beta C in double precision, row-major with leading dimensions.
    private func reference(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float, _ a: [Float], _ lda: Int,
                           _ b: [Float], _ ldb: Int, _ beta: Float, _ c: [Float], _ ldc: Int) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = Double(ta ? a[p * lda + i] : a[i * lda + p]), y = Double(tb ? b[j * ldb + p] : b[p * ldb + j])
                    sum += x * y
                }
                out[i * ldc + j] = Float(Double(alpha) * sum + (beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])))
            }
        }
        return out
    }

    private func check(kernel: String, ta: Bool, tb: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
                       threads: Int, file: StaticString = #filePath, line: UInt = #line) {
        let lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 5
        var random = RandomGenerator(seed: UInt64(m * 10_007 + n * 101 + k))
        let a = (0..<((ta ? k : m) * lda)).map { _ in random.uniform() * 2 - 1 }
        let b = (0..<((tb ? n : k) * ldb)).map { _ in random.uniform() * 2 - 1 }
        // NaN where beta == 0 must not read C, and in the padding columns nobody may write.
        var c = (0..<(m * ldc)).map { _ in beta == 0 ? Float.nan : random.uniform() - 0.5 }
        for i in 0..<m { for j in n..<ldc { c[i * ldc + j] = 7 } }
        let expected = reference(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, beta == 0 ? c.map { $0.isNaN ? 0 : $0 } : c, ldc)
        BLAS.threadCount = threads
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: alpha, a: a.baseAddress!, lda: lda,
                              b: b.baseAddress!, ldb: ldb, beta: beta, c: c.baseAddress!, ldc: ldc)
                }
            }
        }
        var worst: Float = 0
        for i in 0..<m {
            for j in 0..<ldc {
                let got = c[i * ldc + j], want = j < n ? expected[i * ldc + j] : 7
                worst = max(worst, got.isNaN ? .infinity : abs(got - want) / (1 + abs(want)))
            }
        }
        XCTAssertLessThan(worst, 1e-5 * Float(max(k, 1)).squareRoot() + 1e-6,
                          "\(kernel) ta=\(ta) tb=\(tb) m=\(m) n=\(n) k=\(k) alpha=\(alpha) beta=\(beta) threads=\(threads)",
                          file: file, line: line)
    }

    func testEveryKernelMatchesTheReferenceOnEveryTransposeAndEdge() throws {
        // Small products go to OpenBLAS whatever the kernel (Sources/CGemm/gemm.c); the others
        // cover full and partial micro-tiles in both dimensions and k over several slabs.
        let shapes = [(1, 1, 1), (5, 3, 7), (12, 32, 9), (48, 64, 48), (61, 97, 131), (100, 100, 60), (49, 65, 330)]
        for kernel in runnableKernels {
            try BLAS.selectGemmKernel(kernel)
            XCTAssertEqual(BLAS.gemmKernel, kernel)
            for (m, n, k) in shapes {
                for ta in [false, true] {
                    for tb in [false, true] {
                        check(kernel: kernel, ta: ta, tb: tb, m: m, n: n, k: k, alpha: 1, beta: 0, threads: 1)
                        check(kernel: kernel, ta: ta, tb: tb, m: m, n: n, k: k, alpha: 0.75, beta: 1.25, threads: 2)
                    }
                }
            }
        }
    }

    /// Products against a B packed once (CGemm's aeg_pack_b / aeg_gemm_packed_b, the recurrent
    /// step's W_hh): both layouts of B, full and partial tiles, beta 0 (never reading C) and 1,
    /// for each packing this CPU runs; none when OpenBLAS is requested by name.
    func testPackedBMatchesTheReference() throws {
        defer { _ = aeg_packed_select("auto") }
        for packing in ["avx512", "avx2"] where aeg_packed_select(packing) == 0 {
            for (m, n, k) in [(64, 256, 64), (32, 64, 256), (5, 21, 7), (13, 40, 3), (70, 33, 100)] {
                for tb in [false, true] {
                    for beta: Float in [0, 1] {
                        let lda = k + 3, ldb = (tb ? k : n) + 2, ldc = n + 5
                        var random = RandomGenerator(seed: UInt64(m * 131 + n * 7 + k))
                        let a = (0..<(m * lda)).map { _ in random.uniform() * 2 - 1 }
                        let b = (0..<((tb ? n : k) * ldb)).map { _ in random.uniform() * 2 - 1 }
                        var c = (0..<(m * ldc)).map { _ in beta == 0 ? Float.nan : random.uniform() - 0.5 }
                        for i in 0..<m { for j in n..<ldc { c[i * ldc + j] = 7 } }
                        let expected = reference(false, tb, m, n, k, 1, a, lda, b, ldb, beta, beta == 0 ? c.map { $0.isNaN ? 0 : $0 } : c, ldc)
                        var packed = [Float](repeating: .nan, count: BLAS.packedSize(k: k, n: n))
                        let id = BLAS.packB(transposeB: tb, k: k, n: n, b: b, ldb: ldb, into: &packed)
                        XCTAssertNotEqual(id, 0, "\(packing): packed")
                        BLAS.gemmPackedB(packing: id, m: m, n: n, k: k, a: a, lda: lda, packed: packed, beta: beta, c: &c, ldc: ldc)
                        var worst: Float = 0
                        for i in 0..<m {
                            for j in 0..<ldc {
                                let got = c[i * ldc + j], want = j < n ? expected[i * ldc + j] : 7
                                worst = max(worst, got.isNaN ? .infinity : abs(got - want) / (1 + abs(want)))
                            }
                        }
                        XCTAssertLessThan(worst, 1e-5 * Float(k).squareRoot(), "\(packing) tb=\(tb) m=\(m) n=\(n) k=\(k) beta=\(beta)")
                    }
                }
            }
        }
        try BLAS.selectGemmKernel("openblas")
        var packed = [Float](repeating: 0, count: BLAS.packedSize(k: 4, n: 4))
        XCTAssertEqual(BLAS.packB(transposeB: false, k: 4, n: 4, b: [Float](repeating: 1, count: 16), ldb: 4, into: &packed), 0,
                       "nothing of the library's own runs when OpenBLAS is requested by name")
    }

    /// A large enough product to be split across two threads gives the same bits as one thread.
    func testTwoThreadsGiveTheSameBitsAsOne() throws {
        for kernel in runnableKernels where kernel != "openblas" {
            try BLAS.selectGemmKernel(kernel)
            let m = 70, n = 300, k = 200
            var random = RandomGenerator(seed: 3)
            let a = (0..<(m * k)).map { _ in random.uniform() - 0.5 }
            let b = (0..<(k * n)).map { _ in random.uniform() - 0.5 }
            var results: [[Float]] = []
            for threads in [1, 2] {
                BLAS.threadCount = threads
                var c = [Float](repeating: 0, count: m * n)
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            BLAS.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1, a: a.baseAddress!,
                                      lda: k, b: b.baseAddress!, ldb: n, beta: 0, c: c.baseAddress!, ldc: n)
                        }
                    }
                }
                results.append(c)
            }
            XCTAssertEqual(results[0], results[1], kernel)
        }
    }

    func testUnknownAndUnrunnableKernelsAreRefusedWithTheReason() throws {
        try BLAS.selectGemmKernel("openblas")
        XCTAssertThrowsError(try BLAS.selectGemmKernel("avx1024")) { error in
            let error = error as? AutoencoderError
            XCTAssertEqual(error?.kind, .invalidArgument)
            XCTAssertTrue(error?.message.contains("expected auto, avx512, avx2 or openblas") ?? false)
        }
        XCTAssertEqual(BLAS.gemmKernel, "openblas", "a refused choice leaves the kernel unchanged")
        for kernel in ["avx512", "avx2"] where !runnableKernels.contains(kernel) {
            XCTAssertThrowsError(try BLAS.selectGemmKernel(kernel)) { error in
                let error = error as? AutoencoderError
                XCTAssertEqual(error?.kind, .unsupported)
                XCTAssertTrue(error?.message.contains("cannot run here") ?? false, error?.message ?? "")
            }
        }
        try BLAS.selectGemmKernel("auto")
        XCTAssertTrue(BLAS.gemmDescription.hasPrefix(BLAS.gemmKernel + " ("), BLAS.gemmDescription)
        XCTAssertTrue(BLAS.gemmDescription.contains("OPENBLAS_CORETYPE="), BLAS.gemmDescription)
    }
}
