import Dispatch
import XCTest
@testable import Autoencoders

/// Model (Sources/Autoencoders/Model/): determinism, initialisation, tied weights, input scaling,
/// inference (encode, decode, reconstruct, score) and concurrent inference.
final class ModelTests: XCTestCase {
    /// A dense autoencoder input→hidden→code→hidden→input; `extra` holds more root keys (`"schedule": {...}`).
    static func spec(input: Int = 12, hidden: Int = 8, code: Int = 3, activation: String = "tanh", outputActivation: String = "identity",
                     loss: String = "mse", tied: Bool = false, seed: Int = 1, optimizer: String = #"{"type": "adam", "lr": 0.01}"#,
                     extra: String = "") -> String {
        """
        {"input_size": \(input), "seed": \(seed), "tied_weights": \(tied), "loss": "\(loss)", "optimizer": \(optimizer),\(extra.isEmpty ? "" : " \(extra),")
         "encoder": [{"type": "dense", "units": \(hidden), "activation": "\(activation)"}, {"type": "dense", "units": \(code)}],
         "decoder": [{"type": "dense", "units": \(hidden), "activation": "\(activation)"}, {"type": "dense", "units": \(input), "activation": "\(outputActivation)"}]}
        """
    }

    static func data(rows: Int, features: Int = 12, seed: UInt64 = 99) throws -> Tensor {
        try Tensor(shape: [rows, features], values: randomValues(rows * features, -1, 1, seed: seed))
    }

    // MARK: Determinism

    func testSameSeedTrainsBitIdenticallyAndAnotherSeedDoesNot() throws {
        let data = try Self.data(rows: 40)
        var options = TrainingOptions()
        options.epochs = 3
        options.batchSize = 8
        func trained(seed: Int) throws -> (initial: [Float], final: [Float]) {
            let model = try Model(json: Self.spec(seed: seed))
            let initial = model.parameters.array
            _ = try model.fit(data, options: options)
            return (initial, model.parameters.array)
        }
        let first = try trained(seed: 5), second = try trained(seed: 5), other = try trained(seed: 6)
        assertIdentical(first.initial, second.initial, "initial parameters")
        assertIdentical(first.final, second.final, "trained parameters")
        XCTAssertNotEqual(first.initial, other.initial)
        XCTAssertNotEqual(first.final, other.final)
        XCTAssertNotEqual(first.initial, first.final)
    }

    // MARK: Initialisation

    /// Statistics of a 300→400 weight (120,000 draws) under each initializer.
    func testInitializerStatistics() throws {
        let fanIn = 300.0, fanOut = 400.0
        // (name, expected variance, uniform bound or nil for a normal)
        let cases: [(String, Double, Double?)] = [
            ("he_uniform", 2 / fanIn, (6 / fanIn).squareRoot()),
            ("xavier_uniform", 2 / (fanIn + fanOut), (6 / (fanIn + fanOut)).squareRoot()),
            ("pytorch", 1 / (3 * fanIn), 1 / fanIn.squareRoot()),
            ("he_normal", 2 / fanIn, nil),
            ("xavier_normal", 2 / (fanIn + fanOut), nil),
            ("lecun_normal", 1 / fanIn, nil),
        ]
        for (name, variance, bound) in cases {
            let model = try Model(json: #"{"input_size": 300, "encoder": [{"type": "dense", "units": 400, "init": "\#(name)"}], "decoder": [{"type": "dense", "units": 300}]}"#)
            let w = try model.parameter(named: "encoder.0.weight").values.map(Double.init)
            let n = Double(w.count)
            let mean = w.reduce(0, +) / n
            let sampleVariance = w.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
            XCTAssertLessThan(abs(mean), 5 * (variance / n).squareRoot(), "\(name) mean")
            XCTAssertEqual(sampleVariance / variance, 1, accuracy: 0.02, "\(name) variance")
            let largest = w.reduce(0) { max($0, abs($1)) }
            if let bound {
                XCTAssertLessThanOrEqual(largest, bound, "\(name) bound")
                XCTAssertGreaterThan(largest, 0.99 * bound, "\(name) reaches its bound")
            } else {
                // A normal puts 4.55% of its mass beyond 2σ.
                let beyond = Double(w.filter { abs($0) > 2 * variance.squareRoot() }.count) / n
                XCTAssertEqual(beyond, 0.0455, accuracy: 0.004, "\(name) tails")
            }
            let bias = try model.parameter(named: "encoder.0.bias").values
            if name == "pytorch" {
                XCTAssertTrue(bias.allSatisfy { abs(Double($0)) <= bound! } && bias.contains { $0 != 0 }, "pytorch draws biases")
            } else {
                XCTAssertEqual(bias, [Float](repeating: 0, count: 400), "\(name): biases start at zero")
            }
        }
        let constant = try Model(json: #"{"input_size": 3, "init": "ones", "encoder": [{"type": "dense", "units": 2}], "decoder": [{"type": "dense", "units": 3, "init": "zeros"}]}"#)
        XCTAssertEqual(try constant.parameter(named: "encoder.0.weight").values, [1, 1, 1, 1, 1, 1])
        XCTAssertEqual(try constant.parameter(named: "decoder.0.weight").values, [0, 0, 0, 0, 0, 0])
    }

    /// Without "init", the activation picks: He for ReLU, Xavier for sigmoid, LeCun normal for SELU.
    func testDefaultInitializerFollowsTheActivation() throws {
        let model = try Model(json: """
            {"input_size": 200, "encoder": [{"type": "dense", "units": 300, "activation": "relu"}, {"type": "dense", "units": 100, "activation": "selu"}],
             "decoder": [{"type": "dense", "units": 200, "activation": "sigmoid"}]}
            """)
        let relu = try model.parameter(named: "encoder.0.weight").values
        XCTAssertLessThanOrEqual(relu.map(abs).max()!, (6 / Float(200)).squareRoot())
        XCTAssertGreaterThan(relu.map(abs).max()!, 0.99 * (6 / Float(200)).squareRoot())
        let sigmoid = try model.parameter(named: "decoder.0.weight").values
        XCTAssertLessThanOrEqual(sigmoid.map(abs).max()!, (6 / Float(300)).squareRoot())
        XCTAssertGreaterThan(sigmoid.map(abs).max()!, 0.99 * (6 / Float(300)).squareRoot())
        let selu = try model.parameter(named: "encoder.1.weight").values.map(Double.init)
        XCTAssertEqual(selu.reduce(0) { $0 + $1 * $1 } / Double(selu.count), 1.0 / 300, accuracy: 0.05 / 300)
    }

    // MARK: Tied weights

    func testTiedWeightsShareStorageAndAccumulateGradients() throws {
        let tied = try Model(json: Self.spec(tied: true)), untied = try Model(json: Self.spec(tied: false))
        XCTAssertEqual(untied.parameterCount - tied.parameterCount, 12 * 8 + 8 * 3)
        XCTAssertFalse(tied.parameterEntries.contains { $0.name.hasPrefix("decoder") && $0.name.hasSuffix("weight") })
        // Give the untied model the tied one's weights: decoder weights are the encoder's, transposed.
        for entry in tied.parameterEntries {
            try tied.parameter(named: entry.name).values.withUnsafeBufferPointer { try untied.setParameter(named: entry.name, values: $0) }
        }
        for (decoder, encoder, rows, columns) in [("decoder.0.weight", "encoder.1.weight", 3, 8), ("decoder.1.weight", "encoder.0.weight", 8, 12)] {
            let w = try tied.parameter(named: encoder).values
            let transposed = (0..<(rows * columns)).map { w[($0 % rows) * columns + $0 / rows] }
            try transposed.withUnsafeBufferPointer { try untied.setParameter(named: decoder, values: $0) }
        }
        let data = try Self.data(rows: 6), x = data.values
        assertClose(try tied.reconstruct(data).values, try untied.reconstruct(data).values, relative: 1e-6,
                    "tied and transposed untied reconstruct alike")

        // The tied encoder weight's gradient is the sum of both uses.
        let tiedTrainer = try Trainer(model: tied, batchSize: 6), untiedTrainer = try Trainer(model: untied, batchSize: 6)
        _ = tiedTrainer.computeGradients(x, rows: 6)
        _ = untiedTrainer.computeGradients(x, rows: 6)
        func gradient(_ model: Model, _ name: String) throws -> [Float] {
            let entry = try model.parameterEntry(named: name)
            return Array(UnsafeBufferPointer(start: model.gradients.pointer + entry.offset, count: entry.count))
        }
        let encoderPart = try gradient(untied, "encoder.0.weight"), decoderPart = try gradient(untied, "decoder.1.weight")   // [8,12], [12,8]
        let summed: [Float] = (0..<96).map { (i: Int) -> Float in encoderPart[i] + decoderPart[(i % 12) * 8 + i / 12] }
        assertClose(try gradient(tied, "encoder.0.weight"), summed, relative: 1e-5, "tied dW = dW_enc + dW_decᵀ")

        // And the whole gradient agrees with finite differences of the model's loss.
        let p = tied.parameters.array
        GradientCheck.check("tied model", at: p, gradient: tied.gradients.array, step: 1e-3) { values in
            tied.parameters.set(values)
            defer { tied.parameters.set(p) }
            return (try? tiedTrainer.evaluate(x, rows: 6)) ?? .nan
        }
    }

    // MARK: Inference

    func testInputScalingIsAppliedInsideAndReconstructionsAreInDataSpace() throws {
        let scaled = try Model(json: Self.spec()), plain = try Model(json: Self.spec())
        let offset = randomValues(12, 100, 200, seed: 1), scale = randomValues(12, 5, 10, seed: 2)
        try scaled.setInputScaling(InputScaling(offset: offset, scale: scale))
        let raw = try Self.data(rows: 5).values.enumerated().map { $0.element * scale[$0.offset % 12] + offset[$0.offset % 12] }
        let normalized = raw.enumerated().map { ($0.element - offset[$0.offset % 12]) / scale[$0.offset % 12] }
        let x = try Tensor(shape: [5, 12], values: raw), xNormalized = try Tensor(shape: [5, 12], values: normalized)
        assertClose(try scaled.encode(x).values, try plain.encode(xNormalized).values, relative: 1e-5, "code")
        let expected = try plain.reconstruct(xNormalized).values.enumerated().map { $0.element * scale[$0.offset % 12] + offset[$0.offset % 12] }
        assertClose(try scaled.reconstruct(x).values, expected, relative: 1e-5, "reconstruction in data space")
        XCTAssertThrowsError(try scaled.setInputScaling(InputScaling(offset: [0], scale: [1])))
    }

    /// score = mean over features of (x̂ − x)² in the scaled space (after σ for a logits loss).
    func testScoreIsPerSampleMSEInScaledSpace() throws {
        for loss in ["mse", "bce_with_logits"] {
            let model = try Model(json: Self.spec(loss: loss))
            let offset = randomValues(12, -1, 1, seed: 3), scale = randomValues(12, 0.5, 2, seed: 4)
            try model.setInputScaling(InputScaling(offset: offset, scale: scale))
            let x = try Self.data(rows: 7)
            let reconstruction = try model.reconstruct(x).values
            let expected: [Float] = (0..<7).map { r in
                (0..<12).reduce(Float(0)) { sum, j in
                    let i = r * 12 + j
                    let d = (reconstruction[i] - offset[j]) / scale[j] - (x.values[i] - offset[j]) / scale[j]
                    return sum + d * d
                } / 12
            }
            assertClose(try model.score(x), expected, relative: 1e-4, "\(loss) score")
        }
    }

    /// Without input scaling, score is exactly the serial mean of (reconstruct(x) − x)² per sample:
    /// the two calls apply the same output σ (CGemm's, where it runs), so an anomaly score
    /// recomputed from `reconstruct` agrees to the last bit.
    func testScoreAgreesWithReconstructBitForBit() throws {
        for loss in ["mse", "bce_with_logits"] {
            let model = try Model(json: Self.spec(loss: loss))
            for rows in [1, 7, 300] {
                let x = try Self.data(rows: rows)
                let reconstruction = try model.reconstruct(x).values
                let expected: [Float] = (0..<rows).map { r in
                    var sum: Float = 0
                    for j in 0..<12 {
                        let d = reconstruction[r * 12 + j] - x.values[r * 12 + j]
                        sum += d * d
                    }
                    return sum / 12
                }
                let scores = try model.score(x)
                let differing = (0..<rows).filter { scores[$0].bitPattern != expected[$0].bitPattern }
                XCTAssertEqual(differing, [], "\(loss), \(rows) rows: \(differing.prefix(3).map { (scores[$0], expected[$0]) })")
            }
        }
    }

    func testInputScalingFit() throws {
        // Feature 0 varies, feature 1 is constant (its scale falls back to 1).
        let data: [Float] = [1, 5, 3, 5, 8, 5, 4, 5]
        let standard = try InputScaling.fit(.standardize, data: data, rows: 4, features: 2)
        XCTAssertEqual(standard.offset, [4, 5])
        XCTAssertEqual(standard.scale[0], (26.0 / 4).squareRoot(), accuracy: 1e-6, "population standard deviation")
        XCTAssertEqual(standard.scale[1], 1)
        let minMax = try InputScaling.fit(.minMax, data: data, rows: 4, features: 2)
        XCTAssertEqual(minMax.offset, [1, 5])
        XCTAssertEqual(minMax.scale, [7, 1])
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try InputScaling(offset: [0], scale: [0]) }
        // A subnormal scale has an infinite reciprocal: every scaled input would be infinite.
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try InputScaling(offset: [0], scale: [1e-40]) }
        XCTAssertNoThrow(try InputScaling(offset: [0], scale: [1e-30]))
        assertThrows(.numeric) { () throws(AutoencoderError) in try InputScaling(offset: [.nan], scale: [1]) }
        assertThrows(.shapeMismatch) { () throws(AutoencoderError) in try InputScaling(offset: [0, 1], scale: [1]) }
    }

    func testDecodeOfEncodeEqualsReconstruct() throws {
        let model = try Model(json: Self.spec())
        try model.setInputScaling(InputScaling(offset: randomValues(12, -1, 1, seed: 5), scale: randomValues(12, 0.5, 2, seed: 6)))
        for rows in [1, 5, 300] {
            let x = try Self.data(rows: rows)
            let code = try model.encode(x)
            XCTAssertEqual(code.shape, [rows, 3])
            assertIdentical(try model.decode(code).values, try model.reconstruct(x).values, "decode(encode(x)), \(rows) rows")
        }
    }

    func testInferenceRejectsBadInput() throws {
        let model = try Model(json: Self.spec())
        var values = try Self.data(rows: 3).values
        values[14] = .nan
        let error = assertThrows(.numeric) { () throws(AutoencoderError) in try model.reconstruct(Tensor(shape: [3, 12], values: values)) }
        XCTAssertTrue(error?.message.contains("sample 1") ?? false, error?.message ?? "")
        assertThrows(.shapeMismatch) { () throws(AutoencoderError) in try model.encode(Tensor(shape: [2, 11], values: randomValues(22, 0, 1, seed: 1))) }
        assertThrows(.shapeMismatch) { () throws(AutoencoderError) in try model.setParameter(named: "encoder.0.bias", values: UnsafeBufferPointer(start: nil, count: 0)) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try model.parameter(named: "encoder.9.weight") }
    }

    /// Several threads reconstructing, encoding and scoring at once get exactly the serial results,
    /// for batches (several chunks of 256 rows) and for single rows.
    func testConcurrentInferenceGivesIdenticalResults() throws {
        let model = try Model(json: Self.spec())
        let x = try Self.data(rows: 300)
        let single = try Self.data(rows: 1, seed: 7)
        let expected = [try model.reconstruct(x).values, try model.encode(x).values, try model.score(x), try model.reconstruct(single).values]
        let threads = 8
        var results = [[[Float]]](repeating: [], count: threads)
        let collect = DispatchQueue(label: "results")
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            var mine: [[Float]] = []
            for _ in 0..<5 {
                mine = [(try? model.reconstruct(x).values) ?? [], (try? model.encode(x).values) ?? [],
                        (try? model.score(x)) ?? [], (try? model.reconstruct(single).values) ?? []]
            }
            collect.sync { results[thread] = mine }
        }
        for (thread, result) in results.enumerated() {
            XCTAssertEqual(result.count, expected.count, "thread \(thread)")
            for (index, (ours, serial)) in zip(result, expected).enumerated() {
                assertIdentical(ours, serial, "thread \(thread), result \(index)")
            }
        }
    }
}
