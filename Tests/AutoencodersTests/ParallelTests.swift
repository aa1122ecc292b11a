import CGemm
import Dispatch
import XCTest
@testable import Autoencoders

/// Batches split across threads (Tensor/Parallel.swift): the parts cover every sample once, a
/// region started inside a region runs alone, one started beside another thread's waits for it
/// (so the split never depends on timing), and every layer that splits its batch (convolutions,
/// transposed convolutions, group norm, and through the graph the sample-parallel layers) gives
/// the one-thread results at two and three threads, within rounding (partial gradients are
/// summed in another order).
final class ParallelTests: XCTestCase {
    private var savedThreads = 1, savedMinimum = 0

    override func setUp() {
        savedThreads = Parallel.threadCount
        savedMinimum = Parallel.minimumWorkPerPart
        Parallel.minimumWorkPerPart = 1     // split even the tests' small layers
    }

    override func tearDown() {
        Parallel.threadCount = savedThreads
        Parallel.minimumWorkPerPart = savedMinimum
    }

    func testPartsCoverEverySampleOnceAndCombineSeesThemInOrder() throws {
        Parallel.threadCount = 3
        let caller = try FloatBuffer(count: 4)
        for count in [1, 2, 3, 7, 64] {
            var seen = [Range<Int>?](repeating: nil, count: 3)
            var combined: [UnsafeMutablePointer<Float>] = []
            seen.withUnsafeMutableBufferPointer { slots in
                Parallel.forEachPart(count: count, work: 1 << 30, scratch: caller.pointer, scratchSize: 100) { part, samples, scratch in
                    slots[part] = samples
                    if part == 0 { XCTAssertEqual(scratch, caller.pointer) }
                    scratch.update(repeating: Float(part), count: part == 0 ? 4 : 100)   // the whole promised scratch is writable
                } combine: { scratches in
                    combined = Array(scratches)
                }
            }
            let parts = min(count, 3)
            XCTAssertEqual(combined.count, parts, "count \(count)")
            XCTAssertEqual(combined.first, caller.pointer)
            let ranges = seen.prefix(parts).map { $0! }
            XCTAssertEqual(ranges.first?.lowerBound, 0)
            XCTAssertEqual(ranges.last?.upperBound, count)
            for (a, b) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
            XCTAssertTrue(ranges.allSatisfy { $0.count == count / parts || $0.count == count / parts + 1 }, "\(ranges)")
            for (part, scratch) in combined.enumerated() { XCTAssertEqual(scratch[0], Float(part)) }
        }
    }

    /// A part that no helper has taken when the caller's part 0 is done is run by the caller, with
    /// that part's samples and scratch: here the helpers sleep between regions (5 ms apart, past
    /// their spin), so the caller, whose parts take no time, finds parts to take before a helper
    /// wakes. Every part still runs exactly once, and the combine sees every part's scratch in order.
    func testAPartNoHelperHasTakenYetIsTakenByTheCaller() throws {
        Parallel.threadCount = 3
        let caller = try FloatBuffer(count: 4)
        let me = pthread_self()
        var takenByTheCaller = 0
        for _ in 0..<40 {
            usleep(5_000)
            var runs = [Int](repeating: 0, count: 3), callerRan = [Bool](repeating: false, count: 3)
            var order: [Float] = []
            runs.withUnsafeMutableBufferPointer { runs in
                callerRan.withUnsafeMutableBufferPointer { callerRan in
                    Parallel.forEachPart(count: 3, work: 1 << 30, scratch: caller.pointer, scratchSize: 4) { part, samples, scratch in
                        XCTAssertEqual(samples, part..<(part + 1))
                        runs[part] += 1
                        callerRan[part] = pthread_equal(pthread_self(), me) != 0
                        scratch[0] = Float(part)
                    } combine: { scratches in
                        order = scratches.map { $0[0] }
                    }
                }
            }
            XCTAssertEqual(runs, [1, 1, 1])
            XCTAssertEqual(order, [0, 1, 2])
            XCTAssertTrue(callerRan[0], "part 0 is the caller's")
            if callerRan[1] || callerRan[2] { takenByTheCaller += 1 }
        }
        XCTAssertGreaterThan(takenByTheCaller, 0, "the caller never took a part that no helper had taken")
    }

    func testSmallWorkAndOneThreadAndNestedCallsRunOnTheCaller() throws {
        let caller = try FloatBuffer(count: 1)
        Parallel.threadCount = 2
        var parts = 0
        Parallel.minimumWorkPerPart = 1 << 15
        Parallel.forEachPart(count: 8, work: 100, scratch: caller.pointer) { _, samples, _ in
            XCTAssertEqual(samples, 0..<8)
            parts += 1
        }
        XCTAssertEqual(parts, 1, "too little work to split")
        Parallel.minimumWorkPerPart = 1
        var inner = [Int](repeating: 0, count: 2)
        inner.withUnsafeMutableBufferPointer { slots in
            Parallel.forEachPart(count: 2, work: 1 << 30, scratch: caller.pointer) { part, _, _ in
                // The pool is taken by the outer region: this one runs alone on whichever thread calls it.
                Parallel.forEachPart(count: 4, work: 1 << 30, scratch: caller.pointer) { _, samples, _ in
                    slots[part] += samples.count
                }
            }
        }
        XCTAssertEqual(inner, [4, 4])
        Parallel.threadCount = 1
        parts = 0
        Parallel.forEachPart(count: 8, work: 1 << 30, scratch: caller.pointer) { _, _, _ in parts += 1 }
        XCTAssertEqual(parts, 1)
    }

    func testRegionsOfTwoThreadsAtOnceAreEachSplit() throws {
        Parallel.threadCount = 2
        let scratches = try (0..<4).map { _ in try FloatBuffer(count: 1) }
        var parts = [Int](repeating: 0, count: 4)
        parts.withUnsafeMutableBufferPointer { slots in
            let slots = slots
            DispatchQueue.concurrentPerform(iterations: 4) { caller in
                for _ in 0..<50 {
                    Parallel.forEachPart(count: 6, work: 1 << 30, scratch: scratches[caller].pointer) { _, _, _ in
                    } combine: { all in
                        slots[caller] = max(slots[caller], all.count)
                        if all.count < 2 { slots[caller] = -100 }
                    }
                }
            }
        }
        XCTAssertEqual(parts, [2, 2, 2, 2])
    }

    /// `BLAS.gemm` at several threads: with the OpenBLAS kernel every product, and with the
    /// automatic one those too small for the packed kernels (n < 64 here), run as `Parallel.gemm`:
    /// C in bands of rows (m ≥ n) or of columns. Every transpose of A and B, beta 0 and 1, leading
    /// dimensions wider than the matrices, against a double-precision reference; the part beyond
    /// n in each row of C stays as it was.
    func testGEMMInBandsAgainstAReference() throws {
        defer { try? BLAS.selectGemmKernel("auto") }
        for kernel in ["openblas", "auto"] {
            try BLAS.selectGemmKernel(kernel)
            try checkGEMMInBands(kernel)
        }
    }

    private func checkGEMMInBands(_ kernel: String) throws {
        var seed: UInt64 = 7
        func random() -> Float {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(seed >> 40) % 2001 - 1000) / 1000
        }
        for threads in [2, 3] {
            Parallel.threadCount = threads
            for (m, n, k) in [(70, 20, 33), (20, 70, 33), (256, 64, 300), (5, 3, 4), (48, 48, 1)] {
                let bands = (max(m, n) + 15) / 16   // of 16 rows or columns
                XCTAssertEqual(Parallel.parts(count: bands, work: m * n * k / 4), min(bands, threads), "m \(m) n \(n) k \(k): parts")
                for transposeA in [false, true] {
                    for transposeB in [false, true] {
                        for beta: Float in [0, 1] {
                            let lda = (transposeA ? m : k) + 3, ldb = (transposeB ? k : n) + 2, ldc = n + 5
                            let a = (0..<((transposeA ? k : m) * lda)).map { _ in random() }
                            let b = (0..<((transposeB ? n : k) * ldb)).map { _ in random() }
                            let c0 = (0..<(m * ldc)).map { _ in random() }
                            var c = c0
                            a.withUnsafeBufferPointer { a in
                                b.withUnsafeBufferPointer { b in
                                    c.withUnsafeMutableBufferPointer { c in
                                        BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5,
                                                  a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                                                  beta: beta, c: c.baseAddress!, ldc: ldc)
                                    }
                                }
                            }
                            let what = "\(kernel): threads \(threads) m \(m) n \(n) k \(k) tA \(transposeA) tB \(transposeB) beta \(beta)"
                            for i in 0..<m {
                                for j in 0..<ldc {
                                    guard j < n else {
                                        XCTAssertEqual(c[i * ldc + j], c0[i * ldc + j], "\(what): beyond n at [\(i), \(j)]")
                                        continue
                                    }
                                    var sum = 0.0
                                    for p in 0..<k {
                                        let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                                        let w = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                                        sum += Double(x) * Double(w)
                                    }
                                    let expected = 0.5 * sum + Double(beta) * Double(c0[i * ldc + j])
                                    XCTAssertEqual(Double(c[i * ldc + j]), expected, accuracy: 1e-5 * Double(k).squareRoot() + 1e-6,
                                                   "\(what) [\(i), \(j)]")
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// CGemm's packed kernels split on the library's pool (`Parallel.kernelsUseThePool`): threaded
    /// products and dense inference start no thread of CGemm's own pool, and give the one-thread
    /// results bit for bit (each element is one part's sum over the whole k).
    func testPackedKernelsSplitOnTheLibrarysPool() throws {
        defer { try? BLAS.selectGemmKernel("auto") }
        try XCTSkipIf((try? BLAS.selectGemmKernel("avx512")) == nil && (try? BLAS.selectGemmKernel("avx2")) == nil,
                      "no packed kernel on this CPU")
        let (m, n, k) = (300, 200, 150)
        let a = (0..<(m * k)).map { Float(($0 * 7919) % 1000) / 1000 - 0.5 }
        let b = (0..<(k * n)).map { Float(($0 * 104729) % 1000) / 1000 - 0.5 }
        func product(threads: Int) -> [Float] {
            var c = [Float](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        BLAS.kernelGEMM(transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1, a: a.baseAddress!, lda: k,
                                        b: b.baseAddress!, ldb: n, beta: 0, c: c.baseAddress!, ldc: n, threads: threads)
                    }
                }
            }
            return c
        }
        let alone = product(threads: 1)
        XCTAssertEqual(product(threads: 2), alone)   // installs the runner
        let started = aeg_own_pool_threads()
        Parallel.threadCount = 2
        for threads in [2, 3] { XCTAssertEqual(product(threads: threads), alone, "threads \(threads)") }
        let model = try Model(json: ModelTests.spec(input: 300, hidden: 256, code: 16, activation: "relu"))
        let data = try ModelTests.data(rows: 64, features: 300)
        Parallel.threadCount = 1
        let one = try model.reconstruct(data)
        Parallel.threadCount = 2
        XCTAssertEqual(try model.reconstruct(data).values, one.values, "dense inference split over panels")
        XCTAssertEqual(aeg_own_pool_threads(), started, "CGemm's own pool started no thread")
    }

    func testThreadCountIsWhatWasSet() {
        Parallel.threadCount = 3
        XCTAssertEqual(BLAS.threadCount, 3)
        BLAS.threadCount = 1
        XCTAssertEqual(Parallel.threadCount, 1)
    }

    /// Output, input gradient and parameter gradients of a layer on a batch of 5 (parts of unequal
    /// size) at 1, 2 and 3 threads.
    private func assertSameAtEveryThreadCount(_ make: () throws -> Layer, _ name: String, batch: Int = 5,
                                              file: StaticString = #filePath, line: UInt = #line) throws {
        var reference: [[Float]] = []
        for threads in 1...3 {
            Parallel.threadCount = threads
            let layer = try make()
            let runner = try LayerRunner(layer, batch: batch)
            for (i, parameter) in runner.parameters.enumerated() {
                runner.setParameter(i, randomValues(parameter.count, -0.5, 0.5, seed: UInt64(10 + i)))
            }
            runner.gradients.forEach { $0.set(randomValues($0.count, -0.1, 0.1, seed: 99)) }   // backward accumulates onto these
            let x = randomValues(runner.input.count, -1, 1, seed: 1)
            let y = runner.forward(x)
            let gx = runner.backward(randomValues(runner.output.count, -1, 1, seed: 2))
            let results = [y, gx] + runner.gradients.map(\.array)
            if threads == 1 {
                reference = results
                continue
            }
            for (which, (a, b)) in zip(results, reference).enumerated() {
                let scale = b.reduce(Float(0)) { max($0, abs($1)) }
                let worst = zip(a, b).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
                XCTAssertLessThanOrEqual(worst, 1e-5 * max(1, scale), "\(name) at \(threads) threads, result \(which)", file: file, line: line)
            }
        }
    }

    func testConvolutionsGiveTheSameResultsAtEveryThreadCount() throws {
        try assertSameAtEveryThreadCount({ try Convolution(inputShape: [3, 12, 10], filters: 8, kernel: 3, padding: 1) }, "conv2d k3p1")
        try assertSameAtEveryThreadCount({ try Convolution(inputShape: [4, 11, 9], filters: 6, kernel: 3, stride: 2, padding: 1) }, "conv2d s2")
        try assertSameAtEveryThreadCount({ try Convolution(inputShape: [5, 6, 7], filters: 4, kernel: 1, bias: false) }, "conv2d 1x1")
        try assertSameAtEveryThreadCount({ try Convolution(inputShape: [3, 40], filters: 5, kernel: 5, padding: 2, dilation: 2) }, "conv1d")
        try assertSameAtEveryThreadCount({ try Convolution(inputShape: [2, 9, 10, 11], filters: 4, kernel: 3, padding: 1) }, "conv3d")
        try assertSameAtEveryThreadCount({
            try TransposedConvolution(inputShape: [6, 7, 7], filters: 4, kernel: 3, stride: 2, padding: 1, outputPadding: 1)
        }, "conv_transpose2d s2")
        try assertSameAtEveryThreadCount({ try TransposedConvolution(inputShape: [4, 4, 5, 3], filters: 3, kernel: 2, stride: 2) },
                                         "conv_transpose3d k2s2")
        try assertSameAtEveryThreadCount({ try TransposedConvolution(inputShape: [5, 8, 8], filters: 3, kernel: 1, bias: false) },
                                         "conv_transpose2d 1x1")
    }

    func testGroupNormGivesTheSameResultsAtEveryThreadCount() throws {
        try assertSameAtEveryThreadCount({ try GroupNorm(shape: [8, 10, 12], groups: 4) }, "group_norm 2-D")
        try assertSameAtEveryThreadCount({ try GroupNorm(shape: [6, 5, 6, 7], groups: 3) }, "group_norm 3-D")
    }

    /// A model whose pooling, activation, unpooling, add and upsampling nodes the graph splits:
    /// its objective and every parameter gradient at 1, 2 and 3 threads.
    func testModelGradientsAreTheSameAtEveryThreadCount() throws {
        let spec = #"""
        {"input_shape": [2, 16, 16], "seed": 4,
         "encoder": [{"type": "conv2d", "name": "c1", "filters": 8, "kernel": 3, "padding": 1, "activation": "relu"},
                     {"type": "max_pool2d", "name": "p1", "kernel": 2},
                     {"type": "group_norm", "groups": 2},
                     {"type": "conv2d", "name": "c2", "filters": 8, "kernel": 3, "padding": 1, "activation": "tanh"},
                     {"type": "add", "inputs": ["c2", "p1"]},
                     {"type": "avg_pool2d", "kernel": 2}],
         "decoder": [{"type": "upsample_nearest2d", "scale": 2},
                     {"type": "conv_transpose2d", "filters": 4, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1,
                      "activation": "relu"},
                     {"type": "conv2d", "filters": 2, "kernel": 1, "activation": "sigmoid"}],
         "loss": "bce", "optimizer": {"type": "adam", "lr": 0.001}}
        """#
        let x = randomValues(7 * 2 * 16 * 16, 0.05, 0.95, seed: 5)
        var reference: (Double, [Float]) = (0, [])
        for threads in 1...3 {
            Parallel.threadCount = threads
            let model = try Model(json: spec)
            let trainer = try Trainer(model: model, batchSize: 7)
            model.gradients.zero()
            let objective = trainer.computeGradients(x, rows: 7)
            let gradients = model.gradients.array
            if threads == 1 {
                reference = (objective, gradients)
                continue
            }
            XCTAssertEqual(objective, reference.0, accuracy: 1e-6 * abs(reference.0), "\(threads) threads")
            let scale = reference.1.reduce(Float(0)) { max($0, abs($1)) }
            let worst = zip(gradients, reference.1).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            XCTAssertLessThanOrEqual(worst, 1e-5 * scale, "\(threads) threads")
        }
    }

    /// The 2 × 2 stride-2 backward path overwrites the whole input gradient, the odd last row and
    /// column (in no window) with zeros, and puts gy at each window's maximum.
    func testMaxPool2x2BackwardOverwritesEveryInput() throws {
        let pool = try MaxPool(kernel: 2, inputShape: [2, 7, 9])
        let runner = try LayerRunner(pool, batch: 3)
        runner.forward(randomValues(runner.input.count, -1, 1, seed: 21))
        runner.gradInput.set([Float](repeating: 7, count: runner.gradInput.count))   // stale values
        let gy = randomValues(runner.output.count, -1, 1, seed: 22)
        let gx = runner.backward(gy)
        var expected = [Float](repeating: 0, count: runner.gradInput.count)
        let indices = MaxPool.indices(in: runner.scratch.pointer)
        for plane in 0..<6 {
            for o in 0..<12 { expected[plane * 63 + Int(indices[plane * 12 + o])] += gy[plane * 12 + o] }
        }
        XCTAssertEqual(gx, expected)
    }

    /// The 2 × 2 stride-2 max pooling path against the window rule written out: first maximum in
    /// row-major window order, a NaN over any number (the last NaN of a window), ties included.
    func testMaxPool2x2FollowsTheWindowRule() throws {
        let pool = try MaxPool(kernel: 2, inputShape: [3, 6, 8])
        let runner = try LayerRunner(pool, batch: 2)
        var x = randomValues(runner.input.count, -1, 1, seed: 8).map { ($0 * 4).rounded() / 4 }   // many ties
        x[5] = .nan
        x[17] = .nan
        x[16] = .nan
        x[40] = -.infinity
        x[41] = -.infinity
        x[48] = -.infinity
        x[49] = -.infinity
        let y = runner.forward(x)
        let indices = MaxPool.indices(in: runner.scratch.pointer)
        for plane in 0..<6 {
            for oh in 0..<3 {
                for ow in 0..<4 {
                    var best = -Float.infinity, bestIndex = 2 * oh * 8 + 2 * ow
                    for (h, w) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                        let index = (2 * oh + h) * 8 + 2 * ow + w, value = x[plane * 48 + index]
                        if value > best || value.isNaN { (best, bestIndex) = (value, index) }
                    }
                    let o = plane * 12 + oh * 4 + ow
                    XCTAssertEqual(Int(indices[o]), bestIndex, "plane \(plane) (\(oh), \(ow))")
                    XCTAssertTrue(y[o] == best || (y[o].isNaN && best.isNaN), "plane \(plane) (\(oh), \(ow))")
                }
            }
        }
    }
}
