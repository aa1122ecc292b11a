import XCTest
@testable import Autoencoders

/// Branch heads: a shared encoder trained by a segmentation decoder and, as a regularizer, a
/// variational reconstruction branch, with weighted losses.
final class BranchTests: XCTestCase {
    /// 1×6×6 images, 2 classes; the VAE branch reads the encoder's last map.
    static func spec(branchWeight: Double = 0.5) -> String {
        """
        {"input_shape": [1, 6, 6],
         "encoder": [{"type": "conv2d", "name": "enc1", "filters": 3, "kernel": 3, "padding": 1, "activation": "tanh"},
                     {"type": "conv2d", "name": "enc2", "filters": 4, "kernel": 3, "padding": 1, "activation": "tanh"}],
         "decoder": [{"type": "conv2d", "name": "seg", "filters": 2, "kernel": 1}],
         "loss": "cross_entropy",
         "branches": [{"name": "vae", "weight": \(branchWeight), "loss": "mse",
                       "layers": [{"type": "flatten"},
                                  {"type": "variational", "name": "z", "units": 3},
                                  {"type": "dense", "units": 36, "activation": "sigmoid"},
                                  {"type": "reshape", "shape": [1, 6, 6]}]}],
         "seed": 5}
        """
    }

    static let x: [Float] = randomValues(4 * 36, 0, 1, seed: 11)
    static let labels: [Float] = x.map { $0 > 0.5 ? 1 : 0 }

    func testStructure() throws {
        let model = try Model(json: Self.spec())
        XCTAssertTrue(model.isSegmentation)
        XCTAssertEqual(model.graph.branchOutputs.count, 1)
        XCTAssertEqual(model.graph.outputShape, [2, 6, 6])
        XCTAssertTrue(model.parameterEntries.contains { $0.name == "z.mu.weight" })
        XCTAssertEqual(model.objective.variationalNodes.count, 1)
        XCTAssertEqual(model.objective.variationalNodes[0].weight, 0.5)
    }

    /// The objective (cross-entropy + 0.5 · (branch MSE per sample + KL)) matches finite
    /// differences along random parameter directions, with the branch's noise fixed.
    func testObjectiveGradientMatchesFiniteDifferences() throws {
        let model = try Model(json: Self.spec())
        let layer = try XCTUnwrap(model.objective.variationalNodes.first?.layer)
        layer.fixedNoise = randomValues(4 * 3, -1, 1, seed: 3)
        let trainer = try Trainer(model: model, batchSize: 4)
        func objective() -> Double {
            model.gradients.zero()
            return Self.labels.withUnsafeBufferPointer { labels in
                model.lock.withWriteLock {
                    trainer.workspace.target.pointer.update(from: labels.baseAddress!, count: labels.count)
                }
                return trainer.computeGradients(Self.x, rows: 4)
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

    func testTrainsAndSegmentsWithoutRunningTheBranch() throws {
        let model = try Model(json: Self.spec())
        var options = TrainingOptions()
        options.epochs = 150
        options.batchSize = 4
        let report = try Self.x.withUnsafeBufferPointer { x in
            try Self.labels.withUnsafeBufferPointer { labels in
                try model.fit(x.baseAddress!, rows: 4, labels: labels.baseAddress!, options: options)
            }
        }
        // The sampled objective is noisy: compare the first and last ten epochs.
        let first = report.trainLoss.prefix(10).reduce(0, +), last = report.trainLoss.suffix(10).reduce(0, +)
        XCTAssertLessThan(last, first)
        let (shape, predicted) = try model.segment(Tensor(shape: [4, 36], values: Self.x))
        XCTAssertEqual(shape, [4, 6, 6])
        XCTAssertTrue(predicted.allSatisfy { $0 == 0 || $0 == 1 })
        let loaded = try Model.load(bytes: try model.serialized())
        XCTAssertEqual(try loaded.segment(Tensor(shape: [4, 36], values: Self.x)).labels, predicted)
    }

    func testBranchSpecErrors() {
        assertThrows(.invalidSpec) { () throws(AutoencoderError) in
            try Model(json: Self.spec().replacingOccurrences(of: #""shape": [1, 6, 6]"#, with: #""shape": [36]"#))
        }
        assertThrows(.invalidSpec) { () throws(AutoencoderError) in
            try Model(json: Self.spec(branchWeight: -1))
        }
        assertThrows(.invalidSpec) { () throws(AutoencoderError) in
            try Model(json: Self.spec().replacingOccurrences(of: #"{"type": "flatten"}"#, with: #"{"type": "flatten", "inputs": ["seg"]}"#))
        }
    }
}
