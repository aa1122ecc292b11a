import XCTest
@testable import Autoencoders

/// CrossEntropy (Sources/Autoencoders/Losses/CrossEntropy.swift): per-pixel softmax cross-entropy
/// with PyTorch's 'mean' and 'sum', the ignore label, argmax to a label map, and label validation.
final class CrossEntropyTests: XCTestCase {
    /// (PyTorch's reduced loss, upstream · ∂L/∂z)
    private func loss(_ z: [Float], _ labels: [Float], batch: Int, classes: Int, reduction: CrossEntropy.Reduction,
                      upstream: Float = 1, ignoreLabel: Int = CrossEntropy.defaultIgnoreLabel) throws -> (Double, [Float]) {
        let gradient = try FloatBuffer(count: z.count)
        let value = CrossEntropy.loss(logits: z, labels: labels, batch: batch, classes: classes,
                                      positions: labels.count / batch, reduction: reduction,
                                      gradient: gradient.pointer, upstream: upstream, ignoreLabel: ignoreLabel)
        return (value, gradient.array)
    }

    /// Σℓ over counted pixels and their number, in Double with the maximum subtracted.
    private func reference(_ z: [Float], _ labels: [Float], batch: Int, classes: Int,
                           ignoreLabel: Int = CrossEntropy.defaultIgnoreLabel) -> (Double, Int) {
        let positions = labels.count / batch
        var total = 0.0, counted = 0
        for n in 0..<batch {
            for p in 0..<positions {
                let label = Int(labels[n * positions + p])
                if label == ignoreLabel { continue }
                let logits = (0..<classes).map { Double(z[(n * classes + $0) * positions + p]) }
                let m = logits.max()!
                total += m + _log(logits.reduce(0.0) { $0 + exp($1 - m) }) - logits[label]
                counted += 1
            }
        }
        return (total, counted)
    }

    // MARK: Golden

    /// loss_cross_entropy_{mean,sum}: logits [2, 4, 3, 5], int64 targets [2, 3, 5].
    func testMatchesPyTorchForBothReductions() throws {
        for (caseName, reduction) in [("loss_cross_entropy_mean", CrossEntropy.Reduction.mean), ("loss_cross_entropy_sum", .sum)] {
            XCTAssertEqual(try Fixtures.shape(caseName, "x"), [2, 4, 3, 5])
            let z = try Fixtures.values(caseName, "x")
            let labels = try Fixtures.integers(caseName, "target").map(Float.init)
            let gy = try Fixtures.values(caseName, "gy")[0]
            try CrossEntropy.validateLabels(labels, batch: 2, shape: [3, 5], classes: 4)
            let (value, unit) = try loss(z, labels, batch: 2, classes: 4, reduction: reduction)
            let (_, scaled) = try loss(z, labels, batch: 2, classes: 4, reduction: reduction, upstream: gy)
            try Fixtures.assertGolden([Float(value)], caseName, "loss")
            try Fixtures.assertGolden(unit, caseName, "gx_unit")
            try Fixtures.assertGolden(scaled, caseName, "gx")

            // The low-level form: the sum, the count, and scale · ∂ℓ/∂z.
            let gradient = try FloatBuffer(count: z.count)
            let scale: Float = reduction == .mean ? gy / 30 : gy
            let (sum, counted) = CrossEntropy.evaluate(logits: z, labels: labels, batch: 2, classes: 4, positions: 15,
                                                       gradient: gradient.pointer, scale: scale)
            XCTAssertEqual(counted, 30)
            XCTAssertEqual(sum, reduction == .mean ? value * 30 : value, accuracy: 1e-9 * abs(sum))
            try Fixtures.assertGolden(gradient.array, caseName, "gx")
            XCTAssertEqual(CrossEntropy.evaluate(logits: z, labels: labels, batch: 2, classes: 4, positions: 15,
                                                 gradient: nil, scale: 1).sum, sum, "the sum does not depend on the gradient")
        }
    }

    // MARK: Ignored pixels

    /// Ignored pixels add nothing, get a zero gradient, and leave the mean's divisor: the mean is
    /// over the counted pixels, as in PyTorch.
    func testIgnoredPixelsAreExcludedFromSumMeanAndGradient() throws {
        let batch = 2, classes = 3, positions = 6
        let z = randomValues(batch * classes * positions, -3, 3, seed: 1)
        var labels = (0..<(batch * positions)).map { Float($0 % classes) }
        for i in [1, 4, 7, 8] { labels[i] = -100 }
        let (sum, count) = reference(z, labels, batch: batch, classes: classes)
        XCTAssertEqual(count, 8)
        XCTAssertEqual(CrossEntropy.countedPixels(labels: labels, count: labels.count, classes: classes), 8)
        let (mean, gradient) = try loss(z, labels, batch: batch, classes: classes, reduction: .mean)
        XCTAssertEqual(mean, sum / 8, accuracy: 1e-5 * abs(sum / 8))
        let (total, _) = try loss(z, labels, batch: batch, classes: classes, reduction: .sum)
        XCTAssertEqual(total, sum, accuracy: 1e-5 * abs(sum))
        for n in 0..<batch {
            for p in 0..<positions where labels[n * positions + p] == -100 {
                for c in 0..<classes { XCTAssertEqual(gradient[(n * classes + c) * positions + p], 0, "ignored pixel \(n), \(p)") }
            }
        }
        // Changing an ignored pixel's logits changes nothing.
        var changed = z
        changed[(0 * classes + 2) * positions + 1] = 50
        XCTAssertEqual(try loss(changed, labels, batch: batch, classes: classes, reduction: .mean).0, mean)
        // Every pixel ignored: 'mean' is 0/0 = NaN as in PyTorch, with a zero gradient; 'sum' is 0.
        let none = [Float](repeating: -100, count: labels.count)
        let (emptyMean, emptyGradient) = try loss(z, none, batch: batch, classes: classes, reduction: .mean)
        XCTAssertTrue(emptyMean.isNaN)
        XCTAssertTrue(emptyGradient.allSatisfy { $0 == 0 })
        XCTAssertEqual(try loss(z, none, batch: batch, classes: classes, reduction: .sum).0, 0)
    }

    /// Another ignore label (255, common in segmentation data), and one that is a class index.
    func testCustomIgnoreLabels() throws {
        let z = randomValues(2 * 4 * 5, -2, 2, seed: 2)
        var labels: [Float] = [0, 1, 2, 3, 255, 3, 2, 1, 0, 255]
        let (sum255, count255) = reference(z, labels, batch: 2, classes: 4, ignoreLabel: 255)
        XCTAssertEqual(count255, 8)
        XCTAssertEqual(try loss(z, labels, batch: 2, classes: 4, reduction: .sum, ignoreLabel: 255).0, sum255,
                       accuracy: 1e-5 * sum255)
        labels[4] = 0
        labels[9] = 0
        let (sum0, count0) = reference(z, labels, batch: 2, classes: 4, ignoreLabel: 0)
        XCTAssertEqual(count0, 6)
        XCTAssertEqual(try loss(z, labels, batch: 2, classes: 4, reduction: .mean, ignoreLabel: 0).0, sum0 / 6,
                       accuracy: 1e-5 * sum0 / 6)
        try CrossEntropy.validateLabels(labels, batch: 2, shape: [5], classes: 4, ignoreLabel: 0)
    }

    // MARK: Shapes and stability

    /// Signals [N, C, L] longer than one tile, class vectors [N, C], and logits far beyond exp's
    /// range (the log-sum-exp trick keeps them finite).
    func testShapesAndLargeLogitsAgainstADoubleReference() throws {
        for (batch, classes, positions, range) in [(2, 3, 300, Float(4)), (5, 7, 1, 4), (3, 2, 129, 1000), (1, 1, 10, 5)] {
            let z = randomValues(batch * classes * positions, -range, range, seed: UInt64(positions))
            var random = RandomGenerator(seed: 3)
            let labels = (0..<(batch * positions)).map { _ in Float(random.below(classes)) }
            let (sum, count) = reference(z, labels, batch: batch, classes: classes)
            let (value, gradient) = try loss(z, labels, batch: batch, classes: classes, reduction: .sum)
            XCTAssertEqual(value, sum, accuracy: 1e-5 * max(sum, 1), "[\(batch), \(classes), \(positions)], range \(range)")
            XCTAssertEqual(count, batch * positions)
            XCTAssertTrue(gradient.allSatisfy(\.isFinite))
            // Each pixel's gradient sums to zero over the classes (softmax − one-hot).
            for n in 0..<batch {
                for p in 0..<positions {
                    let column = (0..<classes).reduce(Float(0)) { $0 + gradient[(n * classes + $1) * positions + p] }
                    XCTAssertEqual(column, 0, accuracy: 1e-5)
                }
            }
        }
    }

    /// A NaN logit in a counted pixel makes the loss NaN (so divergence is noticed); in an ignored
    /// pixel it changes nothing.
    func testNonFiniteLogits() throws {
        var z = randomValues(2 * 3 * 4, -1, 1, seed: 4)
        let labels: [Float] = [0, 1, -100, 2, 1, 0, 2, 1]
        let (clean, _) = try loss(z, labels, batch: 2, classes: 3, reduction: .sum)
        z[(0 * 3 + 1) * 4 + 2] = .nan                               // sample 0, class 1, ignored pixel 2
        let (ignored, ignoredGradient) = try loss(z, labels, batch: 2, classes: 3, reduction: .sum)
        XCTAssertEqual(ignored, clean, accuracy: 1e-6 * abs(clean))
        XCTAssertEqual(ignoredGradient[(0 * 3 + 1) * 4 + 2], 0)
        z[(1 * 3 + 2) * 4 + 0] = .infinity                          // sample 1, counted pixel 0
        XCTAssertTrue(try loss(z, labels, batch: 2, classes: 3, reduction: .sum).0.isNaN)
        z[(1 * 3 + 2) * 4 + 0] = .nan
        XCTAssertTrue(try loss(z, labels, batch: 2, classes: 3, reduction: .mean).0.isNaN)
    }

    // MARK: Finite differences

    func testGradientMatchesFiniteDifferencesWithIgnoredPixels() throws {
        let batch = 2, classes = 4, positions = 6
        let z = randomValues(batch * classes * positions, -2, 2, seed: 5)
        var random = RandomGenerator(seed: 6)
        var labels = (0..<(batch * positions)).map { _ in Float(random.below(classes)) }
        labels[2] = -100
        labels[9] = -100
        for reduction in [CrossEntropy.Reduction.mean, .sum] {
            let (_, gradient) = try loss(z, labels, batch: batch, classes: classes, reduction: reduction, upstream: 0.7)
            GradientCheck.check("cross-entropy \(reduction)", at: z, gradient: gradient) { value in
                0.7 * CrossEntropy.loss(logits: value, labels: labels, batch: batch, classes: classes, positions: positions,
                                        reduction: reduction, gradient: nil)
            }
        }
    }

    // MARK: Argmax

    func testArgmaxGivesTheMostProbableClassPerPixel() {
        // [2, 3, 4]: sample 0 has a tie (pixel 1: classes 0 and 2) and a NaN (pixel 3, class 1).
        let z: [Float] = [1, 5, 0, 0,     2, 1, 3, 0,    0, 5, 9, -1,
                          -1, -2, -3, 7,  -1, -2, 4, 8,  0, -3, 4, 9]
        var labels = [Int32](repeating: -1, count: 8)
        CrossEntropy.argmax(logits: z, batch: 2, classes: 3, positions: 4, labels: &labels)
        XCTAssertEqual(labels, [1, 0, 2, 0,  2, 0, 1, 2])
        var nan = z
        nan[4 + 3] = .nan
        CrossEntropy.argmax(logits: nan, batch: 2, classes: 3, positions: 4, labels: &labels)
        XCTAssertEqual(Array(labels[0..<4]), [1, 0, 2, 1], "a NaN wins, as in torch.argmax")
        // Longer than a tile, against a direct search.
        let big = randomValues(2 * 5 * 300, -1, 1, seed: 7)
        var bigLabels = [Int32](repeating: -1, count: 600)
        CrossEntropy.argmax(logits: big, batch: 2, classes: 5, positions: 300, labels: &bigLabels)
        for n in 0..<2 {
            for p in 0..<300 {
                let scores = (0..<5).map { big[(n * 5 + $0) * 300 + p] }
                XCTAssertEqual(bigLabels[n * 300 + p], Int32(scores.firstIndex(of: scores.max()!)!))
            }
        }
    }

    // MARK: Validation

    func testValidationNamesTheFirstBadLabel() throws {
        var labels = [Float](repeating: 1, count: 2 * 3 * 5)
        labels[4] = -100
        try CrossEntropy.validateLabels(labels, batch: 2, shape: [3, 5], classes: 4)
        let cases: [(index: Int, value: Float, text: String)] = [
            (1 * 15 + 2 * 5 + 3, 4, "labels[1, 2, 3] = 4"),
            (7, -1, "labels[0, 1, 2] = -1"),
            (14, 1.5, "labels[0, 2, 4] = 1.5"),
            (15, .nan, "labels[1, 0, 0] = nan"),
            (0, 255, "labels[0, 0, 0] = 255"),
        ]
        for (index, value, text) in cases {
            var bad = labels
            bad[index] = value
            bad[29] = 9                                             // a later bad label is not the one named
            let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in
                try CrossEntropy.validateLabels(bad, batch: 2, shape: [3, 5], classes: 4)
            }
            let message = error?.message ?? ""
            XCTAssertTrue(message.hasPrefix(text) && message.contains("0..<4") && message.contains("-100"), message)
        }
        // Class vectors [N]: the position is the sample.
        let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in
            try CrossEntropy.validateLabels([0, 2, 3], batch: 3, shape: [], classes: 3)
        }
        XCTAssertTrue(error?.message.hasPrefix("labels[2] = 3") == true, error?.message ?? "")
        // A label the validator rejects is ignored by evaluate rather than read out of bounds.
        let z = randomValues(2 * 3, -1, 1, seed: 8)
        XCTAssertEqual(CrossEntropy.evaluate(logits: z, labels: [7, 1.5], batch: 2, classes: 3, positions: 1,
                                             gradient: nil, scale: 1).counted, 0)
    }
}
