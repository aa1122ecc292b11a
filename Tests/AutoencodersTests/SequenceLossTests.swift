import XCTest
@testable import Autoencoders

/// Per-step losses over sequence batches: the text autoencoder's cross-entropy (PyTorch golden
/// values with ignore_index, and the same through lengths), and reconstruction losses that skip
/// padded steps.
final class SequenceLossTests: XCTestCase {
    private let fixture = "seq_cross_entropy_ignore"

    func testCrossEntropyWithIgnoreIndexMatchesPyTorch() throws {
        let logits = try Fixtures.values(fixture, "logits"), labels = try Fixtures.integers(fixture, "target").map(Float.init)
        let shape = try Fixtures.shape(fixture, "logits"), upstream = try Fixtures.values(fixture, "gy")[0]
        var gradient = [Float](repeating: .nan, count: logits.count), unit = gradient
        let loss = SequenceLoss.meanCrossEntropy(logits: logits, labels: labels, batch: shape[0], steps: shape[1], vocabulary: shape[2],
                                                 lengths: nil, gradient: &gradient, upstream: upstream)
        _ = SequenceLoss.meanCrossEntropy(logits: logits, labels: labels, batch: shape[0], steps: shape[1], vocabulary: shape[2],
                                          lengths: nil, gradient: &unit)
        try Fixtures.assertGolden([Float(loss)], fixture, "loss")
        try Fixtures.assertGolden(gradient, fixture, "glogits")
        try Fixtures.assertGolden(unit, fixture, "glogits_unit")
        XCTAssertEqual(SequenceLoss.countedSteps(labels: labels, batch: 3, steps: 5, vocabulary: 7, lengths: nil), 10)
    }

    /// Lengths do what the ignore index did: the padded steps' labels (here real classes) and
    /// logits do not matter.
    func testLengthsIgnorePaddedStepsLikeTheIgnoreIndex() throws {
        let logits = try Fixtures.values(fixture, "logits")
        let labels = try Fixtures.integers(fixture, "target").map { $0 == -100 ? Float(3) : Float($0) }
        let lengths: [Int32] = [5, 3, 2]
        var gradient = [Float](repeating: .nan, count: logits.count)
        let loss = SequenceLoss.meanCrossEntropy(logits: logits, labels: labels, batch: 3, steps: 5, vocabulary: 7,
                                                 lengths: lengths, gradient: &gradient)
        try Fixtures.assertGolden([Float(loss)], fixture, "loss")
        try Fixtures.assertGolden(gradient, fixture, "glogits_unit")
        XCTAssertTrue(gradient[(5 * 7 + 3 * 7)..<(10 * 7)].allSatisfy { $0 == 0 }, "padded steps of sample 1")
    }

    func testCrossEntropyGradientMatchesFiniteDifferences() {
        let (batch, steps, vocabulary) = (2, 4, 5)
        let logits = randomValues(batch * steps * vocabulary, -2, 2, seed: 1)
        let labels: [Float] = [0, 4, -100, 2, 1, 1, 3, 0]
        let lengths: [Int32] = [4, 3]
        var gradient = [Float](repeating: 0, count: logits.count)
        _ = SequenceLoss.meanCrossEntropy(logits: logits, labels: labels, batch: batch, steps: steps, vocabulary: vocabulary,
                                          lengths: lengths, gradient: &gradient)
        GradientCheck.check("sequence cross-entropy", at: logits, gradient: gradient) { z in
            SequenceLoss.meanCrossEntropy(logits: z, labels: labels, batch: batch, steps: steps, vocabulary: vocabulary,
                                          lengths: lengths, gradient: nil)
        }
    }

    /// MSE over valid steps only: equal to the MSE of the valid rows, zero gradient at padding,
    /// and right by finite differences.
    func testReconstructionSkipsPaddedSteps() {
        let (batch, steps, features) = (3, 4, 2)
        let output = randomValues(batch * steps * features, -1, 1, seed: 2), target = randomValues(batch * steps * features, -1, 1, seed: 3)
        let lengths: [Int32] = [4, 1, 2]
        let count = SequenceLoss.countedValues(batch: batch, steps: steps, features: features, lengths: lengths)
        XCTAssertEqual(count, 14)
        var gradient = [Float](repeating: .nan, count: output.count)
        let (sum, counted) = SequenceLoss.reconstruction(.mse, output: output, target: target, batch: batch, steps: steps, features: features,
                                                          lengths: lengths, gradient: &gradient, scale: 1 / Float(count))
        XCTAssertEqual(counted, count)
        var expected = 0.0
        for n in 0..<batch {
            for i in 0..<(Int(lengths[n]) * features) {
                let d = Double(output[n * 8 + i]) - Double(target[n * 8 + i])
                expected += d * d
            }
        }
        XCTAssertEqual(sum, expected, accuracy: 1e-5)
        XCTAssertTrue(gradient[10..<16].allSatisfy { $0 == 0 } && gradient[20..<24].allSatisfy { $0 == 0 })
        GradientCheck.check("masked mse", at: output, gradient: gradient) { x in
            SequenceLoss.reconstruction(.mse, output: x, target: target, batch: batch, steps: steps, features: features,
                                        lengths: lengths, gradient: nil, scale: 1).sum / Double(count)
        }
        // Without lengths every step counts.
        XCTAssertEqual(SequenceLoss.reconstruction(.l1, output: output, target: target, batch: batch, steps: steps, features: features,
                                                   lengths: nil, gradient: nil, scale: 1).counted, 24)
    }

    func testLengthValidation() throws {
        let good: [Int32] = [1, 5, 3]
        try good.withUnsafeBufferPointer { p throws(AutoencoderError) in try SequenceLoss.validate(lengths: p.baseAddress!, batch: 3, steps: 5) }
        for (bad, index) in [([Int32(2), 0, 1], 1), ([3, 3, 6], 2), ([-1, 2, 2], 0)] {
            let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in
                try bad.withUnsafeBufferPointer { p throws(AutoencoderError) in try SequenceLoss.validate(lengths: p.baseAddress!, batch: 3, steps: 5) }
            }
            XCTAssertEqual(error?.message, "lengths[\(index)] = \(bad[index]) must be between 1 and T = 5")
        }
    }
}
