import XCTest
@testable import Autoencoders

/// The soft Dice loss (Losses/SoftDice.swift), alone and with cross-entropy, for 2-D and 3-D
/// segmentation with ignore labels; and the Myronenko weighting of a variational branch.
final class DiceLossTests: XCTestCase {
    /// The formula written out in Double: 1 − mean over samples and counted classes of
    /// (2·Σp·t + s) / (Σp² + Σt² + s), skipping ignored positions.
    private func reference(_ z: [Float], _ labels: [Float], batch: Int, classes: Int, positions: Int,
                           smooth: Double, background: Bool, ignore: Int) -> Double {
        var total = 0.0, count = 0
        for n in 0..<batch {
            var p = [[Double]](repeating: [Double](repeating: 0, count: positions), count: classes)
            for i in 0..<positions {
                let values = (0..<classes).map { Double(z[(n * classes + $0) * positions + i]) }
                let m = values.max()!
                let e = values.map { Foundation.exp($0 - m) }
                let sum = e.reduce(0, +)
                for c in 0..<classes { p[c][i] = e[c] / sum }
            }
            for c in (background ? 0 : 1)..<classes {
                var intersection = 0.0, union = 0.0
                for i in 0..<positions where Int(labels[n * positions + i]) != ignore {
                    let t = Int(labels[n * positions + i]) == c ? 1.0 : 0.0
                    intersection += p[c][i] * t
                    union += p[c][i] * p[c][i] + t * t
                }
                total += (2 * intersection + smooth) / (union + smooth)
                count += 1
            }
        }
        return 1 - total / Double(count)
    }

    private struct Case {
        var batch: Int, classes: Int, shape: [Int], smooth: Float, background: Bool
    }

    private let cases = [
        Case(batch: 2, classes: 3, shape: [5, 4], smooth: 1, background: true),        // 2-D
        Case(batch: 2, classes: 2, shape: [3, 4, 3], smooth: 1e-3, background: false),  // 3-D
        Case(batch: 1, classes: 4, shape: [2, 3, 3], smooth: 0.5, background: true),
    ]

    private func data(_ c: Case, seed: UInt64) -> (z: [Float], labels: [Float]) {
        let positions = c.shape.reduce(1, *)
        let z = randomValues(c.batch * c.classes * positions, -2, 2, seed: seed)
        var random = RandomGenerator(seed: seed + 1)
        // Every fifth position ignored (label −100), the rest a class.
        let labels = (0..<(c.batch * positions)).map { i in i % 5 == 3 ? Float(-100) : Float(random.below(c.classes)) }
        return (z, labels)
    }

    func testValueMatchesTheFormula() {
        for (index, c) in cases.enumerated() {
            let positions = c.shape.reduce(1, *)
            let (z, labels) = data(c, seed: UInt64(20 + index))
            let dice = SoftDice(smooth: c.smooth, includeBackground: c.background)
            let value = dice.evaluate(logits: z, labels: labels, batch: c.batch, classes: c.classes, positions: positions,
                                      gradient: nil, scale: 1, ignoreLabel: -100)
            let expected = reference(z, labels, batch: c.batch, classes: c.classes, positions: positions,
                                     smooth: Double(c.smooth), background: c.background, ignore: -100)
            XCTAssertEqual(value, expected, accuracy: 1e-5, "case \(index)")
        }
    }

    /// Perfect, confident predictions give Dice ≈ 0; the smoothing makes an absent class that is
    /// not predicted count as D = 1, not 0/0.
    func testPerfectPredictionAndAbsentClasses() {
        let labels: [Float] = [0, 1, 1, 0, -100, 0]
        var z = [Float](repeating: 0, count: 3 * 6)
        for (i, label) in labels.enumerated() where label >= 0 { z[Int(label) * 6 + i] = 30 }
        let dice = SoftDice(smooth: 1e-4)
        XCTAssertEqual(dice.evaluate(logits: z, labels: labels, batch: 1, classes: 3, positions: 6, gradient: nil, scale: 1,
                                     ignoreLabel: -100), 0, accuracy: 1e-4)
        let wrong = (0..<18).map { Float($0 < 6 ? 0 : ($0 < 12 ? 30 : 0)) }    // everything class 1
        // Class 0: no overlap, D = s/(3 + 5 + s) ≈ 0; class 1: 2·2/(5 + 2) = 4/7; class 2: D = 1.
        XCTAssertEqual(dice.evaluate(logits: wrong, labels: labels, batch: 1, classes: 3, positions: 6, gradient: nil, scale: 1,
                                     ignoreLabel: -100), 1 - (0 + 4.0 / 7 + 1) / 3, accuracy: 1e-3)
    }

    func testGradientMatchesFiniteDifferences() {
        for (index, c) in cases.enumerated() {
            let positions = c.shape.reduce(1, *)
            let (z, labels) = data(c, seed: UInt64(40 + index))
            let dice = SoftDice(smooth: c.smooth, includeBackground: c.background)
            // The gradient is added: start from a known buffer and subtract it.
            var gradient = [Float](repeating: 0.25, count: z.count)
            _ = dice.evaluate(logits: z, labels: labels, batch: c.batch, classes: c.classes, positions: positions,
                              gradient: &gradient, scale: 2, ignoreLabel: -100)
            gradient = gradient.map { $0 - 0.25 }
            for i in 0..<(c.batch * positions) where labels[i] == -100 {
                let n = i / positions, p = i % positions
                for k in 0..<c.classes { XCTAssertEqual(gradient[(n * c.classes + k) * positions + p], 0, "ignored position") }
            }
            GradientCheck.check("dice case \(index)", at: z, gradient: gradient, step: 1e-2) { z in
                2 * dice.evaluate(logits: z, labels: labels, batch: c.batch, classes: c.classes, positions: positions,
                                  gradient: nil, scale: 1, ignoreLabel: -100)
            }
        }
    }

    // MARK: In a model

    /// A tiny 3-D segmentation network with group norm, a residual add, Dice + CE and a
    /// variational branch weighted as Myronenko's.
    static func spec(loss: String = #"{"type": "dice_cross_entropy", "dice_weight": 1, "ce_weight": 0.5, "include_background": false}"#,
                     pool: String = "max_pool3d") -> String {
        """
        {"input_shape": [1, 4, 4, 4],
         "encoder": [{"type": "conv3d", "name": "enc1", "filters": 4, "kernel": 3, "padding": 1},
                     {"type": "group_norm", "groups": 2}, {"type": "tanh"},
                     {"type": "conv3d", "name": "res", "filters": 4, "kernel": 3, "padding": 1},
                     {"type": "add", "name": "enc2", "inputs": ["res", "enc1"]},
                     {"type": "\(pool)", "name": "pool", "kernel": 2}],
         "decoder": [{"type": "upsample_nearest3d", "scale": 2},
                     {"type": "concat", "inputs": ["decoder.0", "enc2"]},
                     {"type": "conv3d", "filters": 3, "kernel": 1}],
         "loss": \(loss),
         "branches": [{"name": "vae", "weight": 0.1, "kl_weight": 0.1, "reduction": "mean", "loss": "mse",
                       "layers": [{"type": "flatten"}, {"type": "variational", "name": "z", "units": 3},
                                  {"type": "dense", "units": 8}, {"type": "reshape", "shape": [1, 2, 2, 2]},
                                  {"type": "conv_transpose3d", "filters": 1, "kernel": 2, "stride": 2, "activation": "sigmoid"}]}],
         "seed": 3}
        """
    }

    static let x: [Float] = randomValues(3 * 64, 0, 1, seed: 12)
    static let labels: [Float] = x.enumerated().map { i, v in i % 7 == 0 ? -100 : (v > 0.66 ? 2 : (v > 0.33 ? 1 : 0)) }

    func testSpecEntries() throws {
        let model = try Model(json: Self.spec())
        XCTAssertEqual(model.spec.lossName, "dice_cross_entropy")
        XCTAssertEqual(model.spec.dice, SoftDice(smooth: 1, includeBackground: false, diceWeight: 1, crossEntropyWeight: 0.5))
        XCTAssertEqual(model.spec.branches[0].klWeight, 0.1)
        XCTAssertTrue(model.spec.branches[0].meanReduction)
        XCTAssertEqual(Double(model.objective.variationalNodes[0].weight), 0.1 / 64, accuracy: 1e-9, "KL divided by the voxels")
        XCTAssertEqual(try Model(json: Self.spec(loss: #""dice""#)).spec.lossName, "dice")
        let unknown = assertThrows(.invalidSpec) { () throws(AutoencoderError) in
            try Model(json: Self.spec(loss: #"{"type": "dice", "ce_weight": 1}"#))
        }
        XCTAssertTrue(unknown?.message.contains("loss") == true, unknown?.message ?? "")
        assertThrows(.invalidSpec) { () throws(AutoencoderError) in try Model(json: Self.spec(loss: #"{"type": "dice", "smooth": 0}"#)) }
    }

    /// The whole objective (Dice + ½·CE + 0.1·branch MSE (mean) + 0.1·KL/64) matches finite
    /// differences along random parameter directions, with the branch's noise fixed. (Average
    /// pooling: a max pooling window's argmax may switch within the step; its gradient is checked
    /// layer by layer in VolumetricLayerTests.)
    func testObjectiveGradientMatchesFiniteDifferences() throws {
        let model = try Model(json: Self.spec(pool: "avg_pool3d"))
        let layer = try XCTUnwrap(model.objective.variationalNodes.first?.layer)
        layer.fixedNoise = randomValues(3 * 3, -1, 1, seed: 3)
        let trainer = try Trainer(model: model, batchSize: 3)
        func objective() -> Double {
            model.gradients.zero()
            return Self.labels.withUnsafeBufferPointer { labels in
                model.lock.withWriteLock {
                    trainer.workspace.target.pointer.update(from: labels.baseAddress!, count: labels.count)
                }
                return trainer.computeGradients(Self.x, rows: 3)
            }
        }
        _ = objective()
        let analytic = model.gradients.array
        let base = model.parameters.array
        for seed: UInt64 in 1...3 {
            let direction = randomValues(base.count, -1, 1, seed: seed)
            func at(_ step: Double) -> Double {
                for i in 0..<base.count { model.parameters.pointer[i] = base[i] + Float(step) * direction[i] }
                return objective()
            }
            let h = 1e-3
            let numeric = (at(h) - at(-h)) / (2 * h)
            let expected = zip(analytic, direction).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(numeric, expected, accuracy: 3e-3 * max(1, abs(expected)), "direction \(seed)")
        }
    }

    func testTrainsAndRejectsLabelsOutsideTheClasses() throws {
        let model = try Model(json: Self.spec())
        var options = TrainingOptions()
        options.epochs = 60
        options.batchSize = 3
        let report = try Self.x.withUnsafeBufferPointer { x in
            try Self.labels.withUnsafeBufferPointer { labels in
                try model.fit(x.baseAddress!, rows: 3, labels: labels.baseAddress!, options: options)
            }
        }
        let first = report.trainLoss.prefix(5).reduce(0, +), last = report.trainLoss.suffix(5).reduce(0, +)
        XCTAssertLessThan(last, first)
        let (shape, _) = try model.segment(Tensor(shape: [3, 64], values: Self.x))
        XCTAssertEqual(shape, [3, 4, 4, 4])
        var bad = Self.labels
        bad[70] = 3
        let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in
            try Self.x.withUnsafeBufferPointer { x throws(AutoencoderError) in
                try bad.withUnsafeBufferPointer { labels throws(AutoencoderError) in
                    try model.fit(x.baseAddress!, rows: 3, labels: labels.baseAddress!, options: options)
                }
            }
        }
        XCTAssertTrue(error?.message.contains("3") == true, error?.message ?? "")
    }
}
