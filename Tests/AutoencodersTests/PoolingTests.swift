import XCTest
@testable import Autoencoders

/// MaxPool and AvgPool (Sources/Autoencoders/Layers/Pooling.swift): PyTorch's output sizes, the
/// first-maximum tie rule, padding as −∞ (max) or zeros counted in k² (average), argmax indices in
/// the scratch, backward accumulating over overlapping windows; 1-D as 2-D with H = 1.
final class PoolingTests: XCTestCase {
    static let maxPoolCases = ["max_pool2d_k2s2", "max_pool2d_k2s2_8x6", "max_pool2d_k2s2_ties", "max_pool2d_k3s2p1"]
    static let avgPoolCases = ["avg_pool2d_k2s2", "avg_pool2d_k3s2p1"]

    /// The argmax indices a MaxPool runner left in its scratch.
    private func indices(_ runner: LayerRunner) -> [Int] {
        let view = MaxPool.indices(in: runner.scratch.pointer)
        return (0..<runner.scratch.count).map { Int(view[$0]) }
    }

    /// The case's window, and the runner of the layer `make` builds for its x.
    private func fixtureRunner(_ name: String, _ make: (Int, Int, Int, [Int]) throws -> Layer) throws -> LayerRunner {
        let h = try Fixtures.hyperparameters(name)
        let kernel = try XCTUnwrap(h["kernel_size"]?.intValue, name)
        let shape = try Fixtures.shape(name, "x")
        let layer = try make(kernel, h["stride"]?.intValue ?? kernel, h["padding"]?.intValue ?? 0, Array(shape.dropFirst()))
        XCTAssertEqual([shape[0]] + layer.outputShape, try Fixtures.shape(name, "y"), "\(name): output shape")
        return try LayerRunner(layer, batch: shape[0])
    }

    // MARK: Max pooling

    func testMaxPoolMatchesPyTorch() throws {
        for name in Self.maxPoolCases {
            let runner = try fixtureRunner(name) { try MaxPool(kernel: $0, stride: $1, padding: $2, inputShape: $3) }
            try Fixtures.assertGolden(runner.forward(try Fixtures.values(name, "x")), name, "y")
            XCTAssertEqual(indices(runner), try Fixtures.integers(name, "indices"), "\(name): indices (exact)")
            try Fixtures.assertGolden(runner.backward(try Fixtures.values(name, "gy")), name, "gx")
        }
    }

    /// The first maximum in row-major window order wins; the gradient goes to it alone.
    func testMaxPoolTiesPickTheFirstMaximum() throws {
        let runner = try LayerRunner(MaxPool(kernel: 2, inputShape: [1, 4, 4]), batch: 1)
        let y = runner.forward([0.5, 0.5, 0.25, 0.75,
                                0.5, 0.5, 0.75, 0.75,
                                0.25, 0.25, 1, 1,
                                0.75, 0.75, 1, 1])
        XCTAssertEqual(y, [0.5, 0.75, 0.75, 1])
        XCTAssertEqual(indices(runner), [0, 3, 12, 10])
        XCTAssertEqual(runner.backward([1, 2, 3, 4]), [1, 0, 0, 2,
                                                       0, 0, 0, 0,
                                                       0, 0, 4, 0,
                                                       3, 0, 0, 0])
        // The fixture's own examples: block [0:2, 0:2] all 0.5 -> 0, [0:2, 2:4] -> 3, rows 2:4 x cols 0:2 -> 18.
        let name = "max_pool2d_k2s2_ties"
        let fixture = try LayerRunner(MaxPool(kernel: 2, inputShape: [2, 6, 6]), batch: 1)
        fixture.forward(try Fixtures.values(name, "x"))
        let chosen = indices(fixture)
        XCTAssertEqual([chosen[0], chosen[1], chosen[3]], [0, 3, 18])
        // A constant plane with padding: every window picks its first unpadded element.
        let padded = try LayerRunner(MaxPool(kernel: 3, stride: 2, padding: 1, inputShape: [1, 5, 5]), batch: 1)
        XCTAssertEqual(padded.forward([Float](repeating: 2, count: 25)), [Float](repeating: 2, count: 9))
        XCTAssertEqual(indices(padded), [0, 1, 3, 5, 6, 8, 15, 16, 18])
    }

    /// Padding is −∞, not 0: an all-negative input pools to its own values; an all −∞ window still
    /// points inside the plane; a NaN wins (PyTorch propagates it).
    func testMaxPoolPaddingNegativeValuesAndNaN() throws {
        let runner = try LayerRunner(MaxPool(kernel: 3, stride: 2, padding: 1, inputShape: [1, 3, 3]), batch: 1)
        let x: [Float] = [-5, -4, -3, -6, -7, -8, -2, -9, -1]
        XCTAssertEqual(runner.forward(x), [-4, -3, -2, -1])
        XCTAssertEqual(indices(runner), [1, 2, 6, 8])
        XCTAssertEqual(runner.forward([Float](repeating: -.infinity, count: 9)), [Float](repeating: -.infinity, count: 4))
        XCTAssertEqual(indices(runner), [0, 1, 3, 4])
        let y = runner.forward([1, 2, 3, 4, .nan, 5, 6, 7, 8])
        XCTAssertTrue(y.allSatisfy(\.isNaN), "\(y)")
        XCTAssertEqual(indices(runner), [4, 4, 4, 4])
    }

    /// k3s2p1 on 7×5: 18 inputs are the maximum of two windows, and receive both gradients.
    func testMaxPoolBackwardAccumulatesOverlappingWindows() throws {
        let name = "max_pool2d_k3s2p1"
        let runner = try LayerRunner(MaxPool(kernel: 3, stride: 2, padding: 1, inputShape: [3, 7, 5]), batch: 2)
        runner.forward(try Fixtures.values(name, "x"))
        let counts = runner.backward([Float](repeating: 1, count: runner.output.count))
        XCTAssertEqual(counts.filter { $0 >= 2 }.count, 18)
        XCTAssertEqual(counts.reduce(0, +), Float(runner.output.count))
        // Against a scatter of the fixture's indices.
        let gy = try Fixtures.values(name, "gy"), reference = try Fixtures.integers(name, "indices")
        var expected = [Float](repeating: 0, count: runner.input.count)
        for (o, index) in reference.enumerated() { expected[(o / 12) * 35 + index] += gy[o] }
        XCTAssertEqual(runner.backward(gy), expected)
    }

    /// Away from ties (distinct values 0.05 apart, perturbations at most 5e-3) max pooling is linear.
    func testMaxPoolMatchesFiniteDifferencesAwayFromTies() throws {
        for (kernel, step, padding, shape) in [(2, 2, 0, [3, 7, 5]), (3, 2, 1, [3, 7, 5]), (3, 1, 1, [2, 4, 6]), (4, 3, 2, [2, 9])] {
            let size = shape.reduce(1, *), batch = 2
            var random = RandomGenerator(seed: UInt64(kernel * 10 + padding))
            var x = (0..<(batch * size)).map { Float($0) * 0.05 - Float(batch * size) * 0.025 }
            for i in stride(from: x.count - 1, to: 0, by: -1) { x.swapAt(i, random.below(i + 1)) }
            let runner = try LayerRunner(MaxPool(kernel: kernel, stride: step, padding: padding, inputShape: shape), batch: batch)
            runner.forward(x)
            let gy = randomValues(runner.output.count, -1, 1, seed: 5)
            let gx = runner.backward(gy)
            GradientCheck.check("\(runner.layer.kind) k\(kernel)s\(step)p\(padding) dx", at: x, gradient: gx, step: 1e-3) {
                runner.weightedOutput($0, gy)
            }
        }
    }

    // MARK: Average pooling

    func testAvgPoolMatchesPyTorch() throws {
        for name in Self.avgPoolCases {
            let runner = try fixtureRunner(name) { try AvgPool(kernel: $0, stride: $1, padding: $2, inputShape: $3) }
            try Fixtures.assertGolden(runner.forward(try Fixtures.values(name, "x")), name, "y")
            try Fixtures.assertGolden(runner.backward(try Fixtures.values(name, "gy")), name, "gx")
        }
    }

    /// count_include_pad: a corner window of k3p1 holds 4 inputs and divides by 9.
    func testAvgPoolDividesByTheFullWindowWithPadding() throws {
        let runner = try LayerRunner(AvgPool(kernel: 3, stride: 2, padding: 1, inputShape: [1, 3, 3]), batch: 1)
        XCTAssertEqual(runner.forward([Float](repeating: 1, count: 9)), [Float](repeating: 4 / 9, count: 4))
        XCTAssertEqual(runner.backward([9, 18, 27, 36]), [1, 3, 2, 4, 10, 6, 3, 7, 4])
        // 1-D divides by k.
        let line = try LayerRunner(AvgPool(kernel: 3, stride: 2, padding: 1, inputShape: [1, 4]), batch: 1)
        XCTAssertEqual(line.forward([3, 3, 3, 3]), [2, 3])
    }

    func testAvgPoolMatchesFiniteDifferences() throws {
        for (kernel, stride, padding, shape) in [(2, 2, 0, [3, 7, 5]), (3, 2, 1, [3, 7, 5]), (3, 1, 1, [2, 4, 6]), (4, 3, 2, [2, 9])] {
            let runner = try LayerRunner(AvgPool(kernel: kernel, stride: stride, padding: padding, inputShape: shape), batch: 2)
            let x = randomValues(runner.input.count, -2, 2, seed: UInt64(kernel + 40))
            let gy = randomValues(runner.output.count, -1, 1, seed: 41)
            runner.forward(x)
            let gx = runner.backward(gy)
            GradientCheck.check("\(runner.layer.kind) k\(kernel)s\(stride)p\(padding) dx", at: x, gradient: gx) { runner.weightedOutput($0, gy) }
        }
    }

    // MARK: 1-D

    /// PyTorch's max_pool1d / avg_pool1d written out directly: windows [o·s − p, o·s − p + k).
    private func reference1D(_ x: [Float], length: Int, kernel: Int, stride: Int, padding: Int,
                             max isMax: Bool) -> (y: [Float], indices: [Int]) {
        let outputLength = (length + 2 * padding - kernel) / stride + 1
        var y: [Float] = [], indices: [Int] = []
        for plane in 0..<(x.count / length) {
            for o in 0..<outputLength {
                let positions = (o * stride - padding)..<(o * stride - padding + kernel)
                let inside = positions.filter { $0 >= 0 && $0 < length }
                if isMax {
                    var best = inside[0]
                    for l in inside where x[plane * length + l] > x[plane * length + best] { best = l }
                    y.append(x[plane * length + best])
                    indices.append(best)
                } else {
                    y.append(inside.reduce(Float(0)) { $0 + x[plane * length + $1] } / Float(kernel))
                }
            }
        }
        return (y, indices)
    }

    func testOneDimensionalPoolingMatchesItsDefinition() throws {
        for (kernel, stride, padding, length) in [(2, 2, 0, 9), (3, 2, 1, 10), (3, 1, 1, 7), (5, 3, 2, 11), (1, 1, 0, 4), (4, 4, 0, 4)] {
            let channels = 3, batch = 2
            var random = RandomGenerator(seed: UInt64(length * 7 + kernel))
            let x = (0..<(batch * channels * length)).map { _ in Float(random.below(4)) * 0.5 - 0.75 }  // many ties
            let label = "k\(kernel)s\(stride)p\(padding) L\(length)"
            let expectedMax = reference1D(x, length: length, kernel: kernel, stride: stride, padding: padding, max: true)
            let max = try LayerRunner(MaxPool(kernel: kernel, stride: stride, padding: padding, inputShape: [channels, length]), batch: batch)
            XCTAssertEqual(max.layer.kind, "max_pool1d")
            XCTAssertEqual(max.layer.outputShape, [channels, expectedMax.y.count / (batch * channels)])
            XCTAssertEqual(max.forward(x), expectedMax.y, label)
            XCTAssertEqual(indices(max), expectedMax.indices, label)
            let expectedAvg = reference1D(x, length: length, kernel: kernel, stride: stride, padding: padding, max: false)
            let avg = try LayerRunner(AvgPool(kernel: kernel, stride: stride, padding: padding, inputShape: [channels, length]), batch: batch)
            XCTAssertEqual(avg.layer.kind, "avg_pool1d")
            assertClose(avg.forward(x), expectedAvg.y, rtol: 1e-6, atol: 1e-7, label)
        }
    }

    /// A 1-D layer on [C, L] is the 2-D layer on [C, 1, L] wherever the 2-D one accepts H = 1
    /// (k <= 2p + 1: the window's other rows are all padding), and on k identical rows for p = 0.
    func testOneDimensionalEqualsTwoDimensionalWithHeightOne() throws {
        let channels = 2, length = 9, batch = 2
        let x = randomValues(batch * channels * length, -1, 1, seed: 50)
        let gy1 = { (count: Int) in randomValues(count, -1, 1, seed: 51) }
        for (kernel, stride) in [(3, 2), (3, 1), (2, 2)] {
            let one = try LayerRunner(MaxPool(kernel: kernel, stride: stride, padding: 1, inputShape: [channels, length]), batch: batch)
            let two = try LayerRunner(MaxPool(kernel: kernel, stride: stride, padding: 1, inputShape: [channels, 1, length]), batch: batch)
            XCTAssertEqual(two.layer.outputShape, [channels, 1] + one.layer.outputShape.dropFirst())
            XCTAssertEqual(one.forward(x), two.forward(x), "max k\(kernel)s\(stride)")
            XCTAssertEqual(indices(one), indices(two))
            let gy = gy1(one.output.count)
            XCTAssertEqual(one.backward(gy), two.backward(gy))
            // Average pooling divides by k in 1-D and by k² in 2-D, over the same single row.
            let avgOne = try LayerRunner(AvgPool(kernel: kernel, stride: stride, padding: 1, inputShape: [channels, length]), batch: batch)
            let avgTwo = try LayerRunner(AvgPool(kernel: kernel, stride: stride, padding: 1, inputShape: [channels, 1, length]), batch: batch)
            assertClose(avgTwo.forward(x).map { $0 * Float(kernel) }, avgOne.forward(x), rtol: 1e-6, atol: 1e-7, "avg k\(kernel)s\(stride)")
            assertClose(avgTwo.backward(gy).map { $0 * Float(kernel) }, avgOne.backward(gy), rtol: 1e-6, atol: 1e-7, "avg gx")
        }
        // k identical rows, no padding: one output row, whose argmax lies in row 0.
        let kernel = 3
        let one = try LayerRunner(MaxPool(kernel: kernel, stride: 2, inputShape: [channels, length]), batch: batch)
        let two = try LayerRunner(MaxPool(kernel: kernel, stride: 2, inputShape: [channels, kernel, length]), batch: batch)
        var stacked: [Float] = []
        for plane in 0..<(batch * channels) {
            for _ in 0..<kernel { stacked += x[(plane * length)..<((plane + 1) * length)] }
        }
        XCTAssertEqual(one.forward(x), two.forward(stacked))
        XCTAssertEqual(indices(one), indices(two))
        let gy = gy1(one.output.count), gx = two.backward(gy)
        var rowZero: [Float] = []
        for plane in 0..<(batch * channels) { rowZero += gx[(plane * kernel * length)..<(plane * kernel * length + length)] }
        XCTAssertEqual(one.backward(gy), rowZero)
        XCTAssertEqual(gx.reduce(0) { $0 + abs($1) }, rowZero.reduce(0) { $0 + abs($1) }, "the other rows get nothing")
    }

    // MARK: Contract with the graph

    func testKindsAndShapes() throws {
        let cases: [(Layer, String, [Int])] = [
            (try MaxPool(kernel: 2, inputShape: [3, 7, 5]), "max_pool2d", [3, 3, 2]),
            (try MaxPool(kernel: 3, stride: 2, padding: 1, inputShape: [3, 7, 5]), "max_pool2d", [3, 4, 3]),
            (try MaxPool(kernel: 2, inputShape: [4, 9]), "max_pool1d", [4, 4]),
            (try AvgPool(kernel: 2, stride: 1, inputShape: [1, 3, 3]), "avg_pool2d", [1, 2, 2]),
            (try AvgPool(kernel: 5, stride: 3, padding: 2, inputShape: [2, 11]), "avg_pool1d", [2, 4]),
        ]
        for (layer, kind, shape) in cases {
            XCTAssertEqual(layer.kind, kind)
            XCTAssertEqual(layer.outputShape, shape, kind)
            XCTAssertTrue(layer.parameterDeclarations.isEmpty)
        }
        let pool = try MaxPool(kernel: 2, inputShape: [3, 7, 5])
        XCTAssertEqual(pool.stride, 2, "stride defaults to the kernel")
        XCTAssertEqual(pool.scratchSize(batch: 4), 4 * 18, "one index per output element")
        XCTAssertEqual(try AvgPool(kernel: 2, inputShape: [3, 7, 5]).scratchSize(batch: 4), 0)
    }

    /// Backward writes or adds the input gradient, and skips it when it is nil (the model input).
    func testInputGradientIsWrittenAddedOrSkipped() throws {
        for layer in try [MaxPool(kernel: 3, stride: 2, padding: 1, inputShape: [2, 5, 4]) as Layer,
                          AvgPool(kernel: 3, stride: 2, padding: 1, inputShape: [2, 5, 4]),
                          MaxPool(kernel: 3, stride: 2, padding: 1, inputShape: [2, 7])] {
            let runner = try LayerRunner(layer, batch: 3)
            runner.forward(randomValues(runner.input.count, -1, 1, seed: 60))
            let gy = randomValues(runner.output.count, -1, 1, seed: 61)
            let base = randomValues(runner.input.count, -1, 1, seed: 62)
            runner.gradInput.set(base)
            let gx = runner.backward(gy)
            runner.gradInput.set(base)
            assertClose(runner.backward(gy, accumulate: true), zip(base, gx).map { $0 + $1 }, rtol: 1e-6, atol: 1e-6, "\(layer.kind) accumulates")
            runner.gradInput.set(base)
            runner.backwardWithoutInputGradient(gy)
            XCTAssertEqual(runner.gradInput.array, base, "\(layer.kind) skips a nil input gradient")
        }
    }

    /// All per-call state is in the scratch: two workspaces on one layer do not disturb each other.
    func testStateLivesInTheScratch() throws {
        let layer = try MaxPool(kernel: 2, inputShape: [3, 8, 6])
        let first = try LayerRunner(layer, batch: 2), second = try LayerRunner(layer, batch: 2)
        let x = randomValues(first.input.count, -1, 1, seed: 63), gy = randomValues(first.output.count, -1, 1, seed: 64)
        first.forward(x)
        let alone = first.backward(gy)
        first.forward(x)
        second.forward(randomValues(second.input.count, -1, 1, seed: 65))
        XCTAssertEqual(first.backward(gy), alone)
    }

    func testRejectsBadConfigurations() throws {
        typealias Make = (Int, Int?, Int, [Int]) throws(AutoencoderError) -> Layer
        let makers: [(String, Make)] = [
            ("max_pool", { (k, s, p, shape) throws(AutoencoderError) in try MaxPool(kernel: k, stride: s, padding: p, inputShape: shape) }),
            ("avg_pool", { (k, s, p, shape) throws(AutoencoderError) in try AvgPool(kernel: k, stride: s, padding: p, inputShape: shape) }),
        ]
        for (family, make) in makers {
            let bad: [(Int, Int?, Int, [Int], String)] = [
                (0, nil, 0, [3, 7, 5], "kernel"), (2, 0, 0, [3, 7, 5], "stride"), (2, -1, 0, [3, 7, 5], "stride"),
                (2, nil, -1, [3, 7, 5], "padding"), (3, nil, 2, [3, 7, 5], "padding"), (2, nil, 2, [3, 7, 5], "padding"),
                (6, nil, 0, [3, 7, 5], "kernel"), (8, nil, 1, [3, 7, 5], "kernel"), (6, nil, 0, [2, 5], "kernel"),
                (2, nil, 0, [12], "shape"), (2, nil, 0, [1, 2, 4, 4, 4], "shape"), (2, nil, 0, [0, 4, 4], "shape"), (2, nil, 0, [2, -3], "shape"),
                (2, nil, 0, [1, 1 << 20, 1 << 20], "shape"),
            ]
            for (kernel, stride, padding, shape, subject) in bad {
                let label = "\(family) k\(kernel) s\(String(describing: stride)) p\(padding) \(shape)"
                guard let error = assertThrows(.invalidArgument, { () throws(AutoencoderError) in try make(kernel, stride, padding, shape) }) else {
                    XCTFail(label)
                    continue
                }
                XCTAssertTrue(error.message.hasPrefix(family), "\(label): \(error.message)")
                XCTAssertTrue(error.message.contains(subject), "\(label): \(error.message)")
            }
            // The limits themselves are accepted: p = k/2, and a window exactly the padded input.
            XCTAssertNoThrow(try make(2, nil, 1, [3, 7, 5]))
            XCTAssertNoThrow(try make(7, nil, 1, [3, 7, 5]))
            XCTAssertNoThrow(try make(5, 1, 0, [3, 7, 5]))
            XCTAssertNoThrow(try make(1, nil, 0, [1, 1]))
        }
    }
}
