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
