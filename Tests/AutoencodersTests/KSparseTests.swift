import XCTest
@testable import Autoencoders

/// KSparse (Sources/Autoencoders/Layers/KSparse.swift): the k largest values of each sample survive,
/// ties at the k-th value keep the earliest positions, and the gradient flows through the kept
/// values only; as a spec layer after a dense code.
final class KSparseTests: XCTestCase {
    /// The reference selection: indices sorted by value descending, then by position.
    private func expectedMask(_ row: ArraySlice<Float>, k: Int) -> [Float] {
        let values = Array(row)
        let order = values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
        var mask = [Float](repeating: 0, count: values.count)
        for i in order.prefix(k) { mask[i] = 1 }
        return mask
    }

    private func assertSelects(_ x: [Float], size: Int, k: Int, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let batch = x.count / size
        let layer = try LayerRunner(KSparse(k: k, shape: [size]), batch: batch)
        let y = layer.forward(x)
        let gy = randomValues(x.count, -1, 1, seed: UInt64(k))
        let gx = layer.backward(gy)
        for n in 0..<batch {
            let range = (n * size)..<((n + 1) * size)
            let mask = expectedMask(x[range], k: k)
            XCTAssertEqual(Array(y[range]), zip(x[range], mask).map { $0 * $1 }, "\(name): sample \(n) output", file: file, line: line)
            XCTAssertEqual(Array(gx[range]), zip(gy[range], mask).map { $0 * $1 }, "\(name): sample \(n) gradient", file: file, line: line)
        }
    }

    func testKeepsExactlyTheKLargestPerSample() throws {
        for (size, k) in [(10, 1), (10, 3), (10, 9), (37, 5), (64, 32), (1, 1)] {
            try assertSelects(randomValues(6 * size, -3, 3, seed: UInt64(size * 100 + k)), size: size, k: k, "size \(size), k \(k)")
        }
        // Sorted ascending and descending rows, and all-negative values.
        let ascending = (0..<12).map { Float($0) }
        try assertSelects(ascending + ascending.reversed() + ascending.map { -$0 - 1 }, size: 12, k: 4, "monotone rows")
    }

    func testTiesKeepTheEarliestPositions() throws {
        let layer = try LayerRunner(KSparse(k: 2, shape: [5]), batch: 3)
        let y = layer.forward([1, 3, 3, 3, 2,
                               2, 2, 2, 2, 2,
                               5, 1, 1, 0, 1])
        XCTAssertEqual(y, [0, 3, 3, 0, 0,
                           2, 2, 0, 0, 0,
                           5, 1, 0, 0, 0])
        // Many ties: values from a set of three, at every k, against the reference.
        var random = RandomGenerator(seed: 70)
        let size = 23
        let x = (0..<(8 * size)).map { _ in Float(random.below(3)) }
        for k in 1...size { try assertSelects(x, size: size, k: k, "ties, k \(k)") }
        // Every sample keeps exactly k values even when they are all equal.
        let constant = try LayerRunner(KSparse(k: 7, shape: [size]), batch: 1)
        let kept = constant.forward([Float](repeating: 0.5, count: size))
        XCTAssertEqual(kept.filter { $0 != 0 }.count, 7)
        XCTAssertEqual(Array(kept.prefix(7)), [Float](repeating: 0.5, count: 7))
    }

    func testGradientFlowsOnlyThroughKeptValues() throws {
        let x: [Float] = [0.1, -2, 4, 0.3, 3, -1]
        let layer = try LayerRunner(KSparse(k: 2, shape: [6]), batch: 1)
        XCTAssertEqual(layer.forward(x), [0, 0, 4, 0, 3, 0])
        XCTAssertEqual(layer.backward([1, 2, 3, 4, 5, 6]), [0, 0, 3, 0, 5, 0])
        // Accumulating adds to what another consumer wrote.
        layer.gradInput.set([10, 10, 10, 10, 10, 10])
        XCTAssertEqual(layer.backward([1, 2, 3, 4, 5, 6], accumulate: true), [10, 10, 13, 10, 15, 10])
    }

    func testKEqualToSizeKeepsEverything() throws {
        let x = randomValues(4 * 9, -2, 2, seed: 71)
        let layer = try LayerRunner(KSparse(k: 9, shape: [9]), batch: 4)
        XCTAssertEqual(layer.forward(x), x)
        let gy = randomValues(4 * 9, -1, 1, seed: 72)
        XCTAssertEqual(layer.backward(gy), gy)
    }

    /// Away from ties (distinct values at least 0.1 apart, step 1e-3) the layer is locally linear.
    func testMatchesFiniteDifferencesAwayFromTies() throws {
        let size = 15, batch = 4
        var x: [Float] = []
        for n in 0..<batch {
            var random = RandomGenerator(seed: UInt64(80 + n))
            var levels = (0..<size).map { Float($0) * 0.2 - 1.4 }
            for i in stride(from: size - 1, to: 0, by: -1) { levels.swapAt(i, random.below(i + 1)) }
            x += levels
        }
        let gy = randomValues(x.count, -1, 1, seed: 89)
        for k in [1, 4, 11] {
            let layer = try LayerRunner(KSparse(k: k, shape: [size]), batch: batch)
            layer.forward(x)
            let gx = layer.backward(gy)
            GradientCheck.check("k_sparse k = \(k) dx", at: x, gradient: gx, step: 1e-3) { layer.weightedOutput($0, gy) }
        }
    }

    // MARK: In a model

    static func spec(k: Int, code: Int = 16) -> String {
        """
        {"input_size": 20, "seed": 5, "loss": "mse", "optimizer": {"type": "sgd", "lr": 0.01},
         "encoder": [{"type": "dense", "units": \(code)}, {"type": "k_sparse", "k": \(k)}],
         "decoder": [{"type": "dense", "units": 20}]}
        """
    }

    func testSpecLayerAfterADenseCode() throws {
        let model = try Model(json: Self.spec(k: 5))
        XCTAssertEqual(model.spec.encoder[1].kind, .kSparse(k: 5))
        XCTAssertEqual(model.nodeNames, ["encoder.0", "encoder.1", "decoder.0"])
        XCTAssertEqual(model.codeSize, 16)
        XCTAssertEqual(model.parameterEntries.map(\.name), ["encoder.0.weight", "encoder.0.bias", "decoder.0.weight", "decoder.0.bias"])
        let x = randomValues(6 * 20, -1, 1, seed: 90)
        let code = try model.encode(try Tensor(shape: [6, 20], values: x)).values
        // The dense layer's output, computed apart, then the reference selection.
        let w = try model.parameter(named: "encoder.0.weight").values, b = try model.parameter(named: "encoder.0.bias").values
        for n in 0..<6 {
            let dense = (0..<16).map { j in (0..<20).reduce(b[j]) { $0 + w[j * 20 + $1] * x[n * 20 + $1] } }
            let mask = expectedMask(dense[...], k: 5)
            let row = Array(code[(n * 16)..<((n + 1) * 16)])
            XCTAssertEqual(row.filter { $0 != 0 }.count, 5, "sample \(n)")
            for j in 0..<16 {
                if mask[j] == 1 {
                    XCTAssertEqual(row[j], dense[j], accuracy: 1e-5, "sample \(n) unit \(j) is kept")
                } else {
                    XCTAssertEqual(row[j], 0, "sample \(n) unit \(j) is dropped")
                }
            }
        }
    }

    /// With one sample, the code layer's bias gradient is zero exactly at the dropped units, and
    /// a training step leaves their bias unchanged.
    func testTrainingGradientSkipsDroppedUnits() throws {
        let model = try Model(json: Self.spec(k: 5))
        let x = randomValues(20, -1, 1, seed: 91)
        let code = try model.encode(try Tensor(shape: [1, 20], values: x)).values
        let trainer = try Trainer(model: model, batchSize: 1)
        _ = trainer.computeGradients(x, rows: 1)
        let entry = try model.parameterEntry(named: "encoder.0.bias")
        let biasGradient = Array(model.gradients.array[entry.offset..<(entry.offset + entry.count)])
        for j in 0..<16 {
            if code[j] == 0 {
                XCTAssertEqual(biasGradient[j], 0, "dropped unit \(j)")
            } else {
                XCTAssertNotEqual(biasGradient[j], 0, "kept unit \(j)")
            }
        }
        model.gradients.zero()
        let before = try model.parameter(named: "encoder.0.bias").values
        _ = try trainer.step(x, rows: 1)
        let after = try model.parameter(named: "encoder.0.bias").values
        for j in 0..<16 { XCTAssertEqual(after[j] == before[j], code[j] == 0, "unit \(j) changes iff kept") }
    }

    func testSpecRejectsKOutsideOneToSize() throws {
        for k in [17, 100] {
            guard let error = assertThrows(.invalidSpec, { () throws(AutoencoderError) in try Model(json: Self.spec(k: k)) }) else { continue }
            XCTAssertTrue(error.message.hasPrefix("encoder[1].k: "), error.message)
        }
        for k in [0, -1] {
            guard let error = assertThrows(.invalidSpec, { () throws(AutoencoderError) in try Model(json: Self.spec(k: k)) }) else { continue }
            XCTAssertTrue(error.message.hasPrefix("encoder[1].k: "), error.message)
        }
        XCTAssertNoThrow(try Model(json: Self.spec(k: 16)), "k = size")
        // In the decoder the path names the decoder entry.
        let decoder = """
            {"input_size": 6, "encoder": [{"type": "dense", "units": 3}],
             "decoder": [{"type": "dense", "units": 6}, {"type": "k_sparse", "k": 7}]}
            """
        if let error = assertThrows(.invalidSpec, { () throws(AutoencoderError) in try Model(json: decoder) }) {
            XCTAssertTrue(error.message.hasPrefix("decoder[1].k: "), error.message)
        }
    }
}
