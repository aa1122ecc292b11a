import XCTest
@testable import Autoencoders

/// Clipping by global norm against PyTorch's clip_grad_norm_: one flat buffer holding several
/// tensors is clipped as PyTorch clips the list (a global norm, the 1e-6 epsilon).
final class GradientClippingTests: XCTestCase {
    private func run(_ name: String) throws -> (clipped: [[Float]], norm: Float, coefficient: Float, inputs: [[Float]]) {
        let maxNorm = Float(try Fixtures.hyperparameters(name)["max_norm"]?.doubleValue ?? .nan)
        let grads = try (0..<3).map { try Fixtures.values(name, "grad_\($0)") }
        var flat = grads.flatMap { $0 }
        let (norm, coefficient) = flat.withUnsafeMutableBufferPointer { GradientClipping.clip($0.baseAddress!, count: $0.count, maxNorm: maxNorm) }
        var clipped: [[Float]] = [], start = 0
        for g in grads {
            clipped.append(Array(flat[start..<(start + g.count)]))
            start += g.count
        }
        try Fixtures.assertGolden([norm], name, "total_norm")
        try Fixtures.assertGolden([coefficient], name, "clip_coef")
        for (i, c) in clipped.enumerated() { try Fixtures.assertGolden(c, name, "clipped_\(i)") }
        return (clipped, norm, coefficient, grads)
    }

    func testClipsAboveTheMaximumLikePyTorch() throws {
        let result = try run("clip_grad_norm")
        XCTAssertLessThan(result.coefficient, 1)
        // The result's norm is just below max_norm = 1 (the epsilon).
        let after = result.clipped.flatMap { $0 }
        let norm = after.withUnsafeBufferPointer { GradientClipping.norm($0.baseAddress!, count: $0.count) }
        XCTAssertLessThan(norm, 1)
        XCTAssertEqual(norm, 1, accuracy: 1e-5)
    }

    func testLeavesGradientsBelowTheMaximumBitForBit() throws {
        let result = try run("clip_grad_norm_below_max")
        XCTAssertEqual(result.coefficient, 1)
        for (clipped, input) in zip(result.clipped, result.inputs) { assertIdentical(clipped, input, "unchanged") }
    }

    func testNonFiniteNormChangesNothing() {
        var g: [Float] = [1, .infinity, 3]
        let (norm, coefficient) = g.withUnsafeMutableBufferPointer { GradientClipping.clip($0.baseAddress!, count: 3, maxNorm: 1) }
        XCTAssertFalse(norm.isFinite)
        XCTAssertEqual(coefficient, 1)
        XCTAssertEqual(g, [1, .infinity, 3])
    }
}

/// The "clip_grad_norm" option of every optimizer: parsed with JSON-path errors, and applied by
/// the trainer between backward and the update.
final class GradientClippingOptionTests: XCTestCase {
    private func spec(_ optimizer: String) -> String {
        """
        {"input_size": 4, "encoder": [{"type": "dense", "units": 3, "activation": "tanh"}],
         "decoder": [{"type": "dense", "units": 4}], "optimizer": \(optimizer), "seed": 3}
        """
    }

    func testEveryOptimizerTakesTheOption() throws {
        for type in ["sgd", "adam", "adamw", "rmsprop", "adagrad"] {
            let parsed = try ModelSpec(json: spec("{\"type\": \"\(type)\", \"clip_grad_norm\": 0.5}"))
            XCTAssertEqual(parsed.clipGradNorm, 0.5, type)
            XCTAssertEqual(parsed.optimizer.name, type)
        }
        XCTAssertNil(try ModelSpec(json: spec("{\"type\": \"sgd\"}")).clipGradNorm)
        // The optimizer's type is still required.
        assertThrows(.invalidSpec) { () throws(AutoencoderError) in try ModelSpec(json: spec("{\"clip_grad_norm\": 2}")) }
        for (bad, message) in [("0", "must be greater than 0.0"), ("-1", "must be greater than 0.0"), ("\"x\"", "must be a number")] {
            let error = assertThrows(.invalidSpec) { () throws(AutoencoderError) in try ModelSpec(json: spec("{\"type\": \"sgd\", \"clip_grad_norm\": \(bad)}")) }
            XCTAssertEqual(error?.message.contains("optimizer.clip_grad_norm"), true, error?.message ?? "")
            XCTAssertEqual(error?.message.contains(message), true, error?.message ?? "")
        }
        // Other keys are still checked.
        assertThrows(.invalidSpec) { () throws(AutoencoderError) in try ModelSpec(json: spec("{\"type\": \"sgd\", \"clip\": 1}")) }
    }

    /// Plain SGD moves the weights by −lr · (the clipped gradient): computed from the raw gradient
    /// of the same batch.
    func testTrainerClipsBeforeTheUpdate() throws {
        let x = randomValues(12, -2, 2, seed: 9)
        let reference = try Model(json: spec("{\"type\": \"sgd\", \"lr\": 0.1}"))
        _ = try Trainer(model: reference, batchSize: 3).computeGradients(x, rows: 3)
        let count = reference.table.trainableCount
        let raw = Array(reference.gradients.buffer[0..<count])
        let norm = raw.withUnsafeBufferPointer { GradientClipping.norm($0.baseAddress!, count: count) }
        let maxNorm = norm / 4
        let clipped = try Model(json: spec("{\"type\": \"sgd\", \"lr\": 0.1, \"clip_grad_norm\": \(maxNorm)}"))
        let before = Array(clipped.parameters.buffer[0..<count])
        _ = try x.withUnsafeBufferPointer { p throws(AutoencoderError) in try Trainer(model: clipped, batchSize: 3).step(p.baseAddress!, rows: 3) }
        let coefficient = GradientClipping.coefficient(total: norm, maxNorm: maxNorm)
        let expected = zip(before, raw).map { $0 - 0.1 * ($1 * coefficient) }
        assertClose(Array(clipped.parameters.buffer[0..<count]), expected, relative: 1e-5, "weights after a clipped step")
        XCTAssertEqual(coefficient, 0.25, accuracy: 1e-4)
    }
}
