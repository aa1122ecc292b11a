import CGemm
import XCTest
@testable import Autoencoders

/// Inference on pre-packed weights (CGemm/dense.c, Model/PackedWeights.swift): the kernel against
/// a double-precision reference on every packed kernel this CPU runs (edge tiles, one sample and
/// a few, k split into slabs, bias, fused ReLU, tied layout, one and two threads); and models,
/// whose inference must follow every parameter write and agree with the OpenBLAS path.
final class PackedInferenceTests: KernelTestCase {
    private var packedKernels: [String] {
        ["avx512", "avx2"].filter { (try? BLAS.selectGemmKernel($0)) != nil }
    }

    private func check(kByN: Bool, m: Int, n: Int, k: Int, bias: Bool, relu: Bool, threads: Int,
                       file: StaticString = #filePath, line: UInt = #line) {
        var random = RandomGenerator(seed: UInt64(m * 7919 + n * 31 + k))
        let ldw = (kByN ? n : k) + 3, ldx = k + 2, ldy = n + 4
        let w = (0..<((kByN ? k : n) * ldw)).map { _ in random.uniform() * 2 - 1 }
        let x = (0..<(m * ldx)).map { _ in random.uniform() * 2 - 1 }
        let b = (0..<n).map { _ in random.uniform() - 0.5 }
        var y = [Float](repeating: 7, count: m * ldy)
        guard let packed = w.withUnsafeBufferPointer({ aeg_pack_weights(kByN ? 1 : 0, n, k, $0.baseAddress!, ldw) }) else {
            return XCTFail("no pack", file: file, line: line)
        }
        defer { aeg_packed_weights_free(packed) }
        XCTAssertGreaterThanOrEqual(aeg_packed_weights_floats(packed), k * n, file: file, line: line)
        BLAS.threadCount = threads
        x.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { b in
                y.withUnsafeMutableBufferPointer { y in
                    aeg_dense_infer(packed, m, x.baseAddress!, ldx, bias ? b.baseAddress! : nil, relu ? 1 : 0,
                                    y.baseAddress!, ldy, Int32(threads))
                }
            }
        }
        for i in 0..<m {
            for j in 0..<ldy {
                guard j < n else {
                    XCTAssertEqual(y[i * ldy + j], 7, "padding written at [\(i), \(j)]", file: file, line: line)
                    continue
                }
                var sum = bias ? Double(b[j]) : 0
                for p in 0..<k { sum += Double(x[i * ldx + p]) * Double(kByN ? w[p * ldw + j] : w[j * ldw + p]) }
                if relu { sum = max(sum, 0) }
                XCTAssertEqual(Double(y[i * ldy + j]), sum, accuracy: 1e-5 * Double(k).squareRoot() + 1e-6,
                               "m \(m) n \(n) k \(k) [\(i), \(j)]", file: file, line: line)
            }
        }
    }

    func testThePackedKernelsAgainstAReference() throws {
        let kernels = packedKernels
        try XCTSkipIf(kernels.isEmpty, "this CPU has neither AVX-512F nor AVX2 + FMA")
        for kernel in kernels {
            try BLAS.selectGemmKernel(kernel)
            // (1, 520, 200), (2, 300, 129), (3, 784, 50): a few samples split across threads (64 K multiply-adds and more).
            for (m, n, k) in [(1, 1, 1), (1, 33, 7), (1, 520, 200), (2, 70, 321), (2, 300, 129), (3, 784, 50), (4, 17, 9), (12, 32, 320),
                              (13, 100, 700), (25, 48, 64), (40, 130, 33)] {
                for threads in [1, 2] {
                    check(kByN: false, m: m, n: n, k: k, bias: true, relu: m % 2 == 0, threads: threads)
                    check(kByN: true, m: m, n: n, k: k, bias: m % 3 != 0, relu: m % 2 == 1, threads: threads)
                }
            }
        }
    }

    func testASamplesOutputDoesNotDependOnItsBatch() throws {
        let model = try Model(json: ModelTests.spec(input: 50, hidden: 70, code: 9, activation: "relu"))
        let data = try ModelTests.data(rows: 30, features: 50)
        let batch = try model.reconstruct(data)
        for row in [0, 13, 29] {
            let one = try model.reconstruct(Tensor(shape: [1, 50], values: Array(data.values[(row * 50)..<(row * 50 + 50)])))
            for j in 0..<50 {
                XCTAssertEqual(one.values[j], batch.values[row * 50 + j], accuracy: 1e-5)
            }
        }
    }

    /// Packed and OpenBLAS paths agree, for own and tied weights, and inference follows every
    /// parameter write (set_parameter, training) instead of keeping stale packed weights.
    func testInferenceFollowsParameterWritesAndMatchesOpenBLAS() throws {
        try XCTSkipIf(packedKernels.isEmpty, "this CPU has neither AVX-512F nor AVX2 + FMA")
        for tied in [false, true] {
            let model = try Model(json: ModelTests.spec(input: 50, hidden: 70, code: 9, activation: "relu", tied: tied))
            let data = try ModelTests.data(rows: 30, features: 50)
            func agree(_ message: String) throws {
                try BLAS.selectGemmKernel("auto")
                let packed = try model.reconstruct(data), code = try model.encode(data)
                try BLAS.selectGemmKernel("openblas")
                let plain = try model.reconstruct(data), plainCode = try model.encode(data)
                try BLAS.selectGemmKernel("auto")
                for (a, b) in zip(packed.values, plain.values) { XCTAssertEqual(a, b, accuracy: 1e-5, message) }
                for (a, b) in zip(code.values, plainCode.values) { XCTAssertEqual(a, b, accuracy: 1e-5, message) }
            }
            try agree("tied \(tied), fresh")
            let before = try model.reconstruct(data)
            let name = model.parameterEntries.first { $0.name.hasSuffix("weight") }!.name
            let weight = try model.parameter(named: name)
            try weight.values.map { $0 * 0.5 }.withUnsafeBufferPointer { try model.setParameter(named: name, values: $0) }
            let after = try model.reconstruct(data)
            XCTAssertNotEqual(before.values, after.values, "tied \(tied): inference ignored set_parameter")
            try agree("tied \(tied), after set_parameter")
            let trainer = try Trainer(model: model, batchSize: 30)
            _ = try data.values.withUnsafeBufferPointer { try trainer.step($0.baseAddress!, rows: 30) }
            try agree("tied \(tied), after a training step")
        }
    }
}
