import XCTest
@testable import Autoencoders

/// Masked training and inpainting (Losses/ReconstructionLoss.swift, Training/Trainer.swift,
/// Model/Inpainting.swift): a mask (1 = known, 0 = missing) restricts the loss to the known inputs;
/// `inpaint` keeps the known inputs and fills the missing ones from the reconstruction.
final class InpaintingTests: XCTestCase {
    static let losses: [ReconstructionLoss] = [.mse, .l1, .huber(delta: 0.5), .smoothL1(beta: 0.7), .bce, .bceWithLogits, .correntropy(sigma: 0.8)]

    /// A random 0/1 mask with about `known` of the entries 1.
    static func mask(_ count: Int, known: Float = 0.6, seed: UInt64) -> [Float] {
        randomValues(count, 0, 1, seed: seed).map { $0 < known ? 1 : 0 }
    }

    static func spec(seed: Int = 12) -> String {
        """
        {"input_size": 8, "seed": \(seed), "loss": "mse", "optimizer": {"type": "adam", "lr": 0.01},
         "encoder": [{"type": "dense", "units": 6, "activation": "tanh"}, {"type": "dense", "units": 3}],
         "decoder": [{"type": "dense", "units": 6, "activation": "tanh"}, {"type": "dense", "units": 8}]}
        """
    }

    // MARK: The masked loss

    /// With a mask the sum covers the known elements only and missing elements get a zero gradient;
    /// the known ones get the unmasked gradient.
    func testMaskedLossCountsOnlyKnownElements() throws {
        let n = 300
        let x = randomValues(n, 0.05, 0.95, seed: 120), t = randomValues(n, 0, 1, seed: 121)
        let mask = Self.mask(n, seed: 122)
        let known = (0..<n).filter { mask[$0] == 1 }
        for loss in Self.losses {
            let full = try FloatBuffer(count: n), masked = try FloatBuffer(count: n)
            _ = loss.evaluate(output: x, target: t, count: n, gradient: full.pointer, scale: 0.3)
            let sum = loss.evaluate(output: x, target: t, count: n, gradient: masked.pointer, scale: 0.3, mask: mask)
            let knownSum = loss.evaluate(output: known.map { x[$0] }, target: known.map { t[$0] }, count: known.count, gradient: nil, scale: 1)
            XCTAssertEqual(sum, knownSum, accuracy: 1e-5 * knownSum, "\(loss): sum")
            for i in 0..<n {
                XCTAssertEqual(masked.pointer[i], mask[i] == 1 ? full.pointer[i] : 0, "\(loss): gradient [\(i)]")
            }
            XCTAssertEqual(loss.evaluate(output: x, target: t, count: n, gradient: nil, scale: 1, mask: mask), sum, "\(loss): without gradient")
            // An all-ones mask changes nothing.
            let ones = [Float](repeating: 1, count: n)
            XCTAssertEqual(loss.evaluate(output: x, target: t, count: n, gradient: nil, scale: 1, mask: ones),
                           loss.evaluate(output: x, target: t, count: n, gradient: nil, scale: 1), accuracy: 1e-9, "\(loss): all known")
        }
        // The fused sigmoid + BCE, on logits.
        let z = randomValues(n, -4, 4, seed: 123)
        let full = try FloatBuffer(count: n), masked = try FloatBuffer(count: n)
        _ = ReconstructionLoss.sigmoidBCE(logits: z, target: t, count: n, gradient: full.pointer, scale: 1)
        let sum = ReconstructionLoss.sigmoidBCE(logits: z, target: t, count: n, gradient: masked.pointer, scale: 1, mask: mask)
        let knownSum = ReconstructionLoss.sigmoidBCE(logits: known.map { z[$0] }, target: known.map { t[$0] }, count: known.count, gradient: nil, scale: 1)
        XCTAssertEqual(sum, knownSum, accuracy: 1e-5 * knownSum, "fused: sum")
        assertClose(masked.array, (0..<n).map { mask[$0] == 1 ? full.pointer[$0] : 0 }, rtol: 1e-5, atol: 1e-7, "fused: gradient")
    }

    // MARK: Masked training steps

    func testStepWithAllOnesMaskEqualsUnmaskedStep() throws {
        let x = randomValues(5 * 8, -1, 1, seed: 124)
        let a = try Model(json: Self.spec()), b = try Model(json: Self.spec())
        let ta = try Trainer(model: a, batchSize: 5), tb = try Trainer(model: b, batchSize: 5)
        let ones = [Float](repeating: 1, count: x.count)
        for _ in 0..<3 {
            XCTAssertEqual(try ta.step(x, rows: 5), try tb.step(x, rows: 5, mask: ones))
        }
        assertIdentical(a.parameters.array, b.parameters.array, "parameters after three steps")
    }

    /// The step's loss is the mean over known inputs of (reconstruction of the zero-filled input − x)²,
    /// and whatever the missing positions hold changes neither the loss nor the update.
    func testMissingValuesDoNotAffectTheStep() throws {
        let rows = 6
        let x = randomValues(rows * 8, -1, 1, seed: 125), mask = Self.mask(rows * 8, seed: 126)
        var garbage = x
        for i in garbage.indices where mask[i] == 0 { garbage[i] = 1000 + Float(i) }
        let zeroFilled = zip(x, mask).map { $0 * $1 }

        let a = try Model(json: Self.spec()), b = try Model(json: Self.spec())
        let reconstruction = try a.reconstruct(try Tensor(shape: [rows, 8], values: zeroFilled)).values
        var sum = 0.0, known = 0.0
        for i in x.indices where mask[i] == 1 {
            sum += Double(reconstruction[i] - x[i]) * Double(reconstruction[i] - x[i])
            known += 1
        }
        let lossA = try Trainer(model: a, batchSize: rows).step(x, rows: rows, mask: mask)
        let lossB = try Trainer(model: b, batchSize: rows).step(garbage, rows: rows, mask: mask)
        XCTAssertEqual(lossA, sum / known, accuracy: 1e-6 * lossA)
        XCTAssertEqual(lossA, lossB)
        assertIdentical(a.parameters.array, b.parameters.array, "parameters after the step")
    }

    /// "Any finite value" includes huge ones: their residual overflows to ∞ (and with input scaling
    /// the scaled input itself), which must not reach the loss, its gradient or the network as 0 · ∞.
    func testHugeMissingValuesDoNotAffectTheStep() throws {
        let rows = 6
        let values = randomValues(rows * 8, -1, 1, seed: 141), mask = Self.mask(rows * 8, seed: 142)
        for (loss, scaled) in [("mse", false), ("l1", false), ("huber", false), ("bce_with_logits", false), ("mse", true)] {
            // BCE's targets are probabilities: its known inputs are mapped into [0, 1].
            let x = loss == "bce_with_logits" ? values.map { ($0 + 1) / 2 } : values
            var huge = x
            for i in huge.indices where mask[i] == 0 { huge[i] = i % 2 == 0 ? 3e38 : -3e38 }
            let json = Self.spec().replacingLoss(with: loss)
            let a = try Model(json: json), b = try Model(json: json)
            if scaled {
                let scaling = try InputScaling(offset: [Float](repeating: 0.1, count: 8), scale: [Float](repeating: 0.5, count: 8))
                try a.setInputScaling(scaling)
                try b.setInputScaling(scaling)
            }
            let lossA = try Trainer(model: a, batchSize: rows).step(x, rows: rows, mask: mask)
            let lossB = try Trainer(model: b, batchSize: rows).step(huge, rows: rows, mask: mask)
            XCTAssertEqual(lossA, lossB, "\(loss)\(scaled ? ", scaled" : "")")
            assertIdentical(a.parameters.array, b.parameters.array, "\(loss)\(scaled ? ", scaled" : ""): parameters after the step")
            if scaled {
                assertIdentical(try inpaint(b, huge, mask, rows: rows), try inpaint(b, x, mask, rows: rows).enumerated().map {
                    mask[$0.offset] == 1 ? x[$0.offset] : $0.element
                }, "inpaint with huge missing values")
            }
        }
    }

    func testFitWithMaskIgnoresMissingValues() throws {
        let rows = 24
        let x = randomValues(rows * 8, -1, 1, seed: 127), mask = Self.mask(rows * 8, seed: 128)
        var garbage = x
        for i in garbage.indices where mask[i] == 0 { garbage[i] = -77 }
        var options = TrainingOptions()
        options.epochs = 3
        options.batchSize = 8
        let a = try Model(json: Self.spec()), b = try Model(json: Self.spec())
        let reportA = try x.withUnsafeBufferPointer { (p) throws(AutoencoderError) in try a.fit(p.baseAddress!, rows: rows, mask: mask, options: options) }
        let reportB = try garbage.withUnsafeBufferPointer { (p) throws(AutoencoderError) in try b.fit(p.baseAddress!, rows: rows, mask: mask, options: options) }
        XCTAssertEqual(reportA.trainLoss, reportB.trainLoss)
        assertIdentical(a.parameters.array, b.parameters.array, "parameters after fit")
    }

    // MARK: Inpainting

    func testInpaintKeepsKnownInputsAndFillsMissingFromTheZeroFilledReconstruction() throws {
        let rows = 7
        let model = try Model(json: Self.spec())
        let x = randomValues(rows * 8, -1, 1, seed: 129), mask = Self.mask(rows * 8, seed: 130)
        var garbage = x
        for i in garbage.indices where mask[i] == 0 { garbage[i] = 55 }
        let filled = try inpaint(model, garbage, mask, rows: rows)
        let reconstruction = try model.reconstruct(try Tensor(shape: [rows, 8], values: zip(x, mask).map { $0 * $1 })).values
        for i in x.indices {
            if mask[i] == 1 {
                XCTAssertEqual(filled[i].bitPattern, x[i].bitPattern, "known [\(i)] is kept exactly")
            } else {
                XCTAssertEqual(filled[i], reconstruction[i], "missing [\(i)] comes from the reconstruction")
            }
        }
        // All known: the input itself; all missing: the reconstruction of zeros.
        assertIdentical(try inpaint(model, x, [Float](repeating: 1, count: x.count), rows: rows), x, "all known")
        assertIdentical(try inpaint(model, x, [Float](repeating: 0, count: x.count), rows: rows),
                        try model.reconstruct(Tensor(zeros: [rows, 8])).values, "all missing")
    }

    /// With input scaling, missing inputs are zero in the scaled space: the data-space offset.
    func testInpaintWithInputScalingZeroFillsInTheScaledSpace() throws {
        let rows = 5
        let model = try Model(json: Self.spec())
        let offset = randomValues(8, -0.5, 0.5, seed: 131), scale = randomValues(8, 0.5, 2, seed: 132)
        try model.setInputScaling(try InputScaling(offset: offset, scale: scale))
        let x = randomValues(rows * 8, -1, 1, seed: 133), mask = Self.mask(rows * 8, seed: 134)
        let filled = try inpaint(model, x, mask, rows: rows)
        let atOffset = (0..<x.count).map { mask[$0] == 1 ? x[$0] : offset[$0 % 8] }
        let reconstruction = try model.reconstruct(try Tensor(shape: [rows, 8], values: atOffset)).values
        for i in x.indices {
            XCTAssertEqual(filled[i], mask[i] == 1 ? x[i] : reconstruction[i], accuracy: mask[i] == 1 ? 0 : 1e-5, "[\(i)]")
        }
    }

    /// Many rows (more than one inference chunk) give the same result as row by row.
    func testInpaintAcrossChunks() throws {
        let rows = 300
        let model = try Model(json: Self.spec())
        let x = randomValues(rows * 8, -1, 1, seed: 135), mask = Self.mask(rows * 8, seed: 136)
        let all = try inpaint(model, x, mask, rows: rows)
        for r in [0, 255, 256, 299] {
            let range = (r * 8)..<((r + 1) * 8)
            assertClose(Array(all[range]), try inpaint(model, Array(x[range]), Array(mask[range]), rows: 1), relative: 1e-5, "row \(r)")
        }
    }

    private func inpaint(_ model: Model, _ x: [Float], _ mask: [Float], rows: Int) throws(AutoencoderError) -> [Float] {
        var output = [Float](repeating: .nan, count: x.count)
        try output.withUnsafeMutableBufferPointer { (out) throws(AutoencoderError) in
            try model.inpaint(x, mask: mask, rows: rows, into: out.baseAddress!)
        }
        return output
    }

    // MARK: Rejections

    func testMaskValuesOtherThanZeroOrOneAreRejected() throws {
        let model = try Model(json: Self.spec())
        let x = randomValues(2 * 8, -1, 1, seed: 137)
        for bad: Float in [0.5, -1, 2, .nan] {
            var mask = [Float](repeating: 1, count: x.count)
            mask[9] = bad
            let error = assertThrows(.invalidArgument, { () throws(AutoencoderError) in try inpaint(model, x, mask, rows: 2) })
            XCTAssertTrue(error?.message.hasPrefix("mask") == true, error?.message ?? "")
            assertThrows(.invalidArgument, { () throws(AutoencoderError) in try Trainer(model: model, batchSize: 2).step(x, rows: 2, mask: mask) })
            assertThrows(.invalidArgument, { () throws(AutoencoderError) in try model.fit(x, rows: 2, mask: mask) })
        }
        // Non-finite values at missing positions are still rejected (the input must be finite).
        var mask = [Float](repeating: 1, count: x.count)
        mask[3] = 0
        var bad = x
        bad[3] = .nan
        assertThrows(.numeric, { () throws(AutoencoderError) in try inpaint(model, bad, mask, rows: 2) })
    }

    func testFitWithMaskAndValidationSplitIsRejected() throws {
        let model = try Model(json: Self.spec())
        let rows = 10
        let x = randomValues(rows * 8, -1, 1, seed: 138), mask = Self.mask(rows * 8, seed: 139)
        var options = TrainingOptions()
        options.epochs = 1
        options.validationSplit = 0.2
        let before = model.parameters.array
        let error = assertThrows(.invalidArgument, { () throws(AutoencoderError) in try model.fit(x, rows: rows, mask: mask, options: options) })
        XCTAssertTrue(error?.message.contains("validation_split") == true, error?.message ?? "")
        assertIdentical(model.parameters.array, before, "nothing was trained")
        // Explicit (complete) validation data is fine.
        let validation = randomValues(3 * 8, -1, 1, seed: 140)
        let report = try model.fit(x, rows: rows, mask: mask, validation: validation, validationRows: 3, options: options)
        XCTAssertEqual(report.validationLoss.count, 1)
    }
}

fileprivate extension String {
    /// The spec with its `"loss": "mse"` replaced.
    func replacingLoss(with loss: String) -> String {
        var parts = split(separator: "\"loss\": \"mse\"", omittingEmptySubsequences: false).map(String.init)
        precondition(parts.count == 2)
        parts.insert("\"loss\": \"\(loss)\"", at: 1)
        return parts.joined()
    }
}
