import XCTest
@testable import Autoencoders

/// Reshape (Sources/Autoencoders/Layers/Reshape.swift): a new per-sample shape over the same values;
/// flatten is the reshape to one dimension. Forward and backward are copies.
final class ReshapeTests: XCTestCase {
    func testShapesAndKinds() throws {
        let reshape = try Reshape(from: [2, 3, 4], to: [6, 4])
        XCTAssertEqual(reshape.kind, "reshape")
        XCTAssertEqual(reshape.inputShapes, [[2, 3, 4]])
        XCTAssertEqual(reshape.outputShape, [6, 4])
        XCTAssertTrue(reshape.parameterDeclarations.isEmpty)
        XCTAssertEqual(reshape.scratchSize(batch: 10), 0)
        let flatten = try Reshape(flattening: [8, 7, 7])
        XCTAssertEqual(flatten.kind, "flatten")
        XCTAssertEqual(flatten.outputShape, [392])
        // Unflatten, e.g. a decoder's dense output to an image.
        XCTAssertEqual(try Reshape(from: [392], to: [8, 7, 7]).outputShape, [8, 7, 7])
    }

    /// Row-major order is kept, so the values pass unchanged, sample by sample.
    func testForwardAndBackwardCopy() throws {
        let runner = try LayerRunner(Reshape(flattening: [2, 2, 3]), batch: 3)
        let x = randomValues(36, -1, 1, seed: 1), gy = randomValues(36, -1, 1, seed: 2)
        XCTAssertEqual(runner.forward(x), x)
        runner.gradInput.pointer.update(repeating: .nan, count: 36)
        XCTAssertEqual(runner.backward(gy), gy, "overwrite")
        let previous = randomValues(36, -1, 1, seed: 3)
        runner.gradInput.set(previous)
        XCTAssertEqual(runner.backward(gy, accumulate: true), zip(previous, gy).map { $0 + $1 }, "accumulate")
    }

    func testGradientMatchesFiniteDifferences() throws {
        let runner = try LayerRunner(Reshape(from: [3, 4], to: [2, 6]), batch: 2)
        let x = randomValues(24, -2, 2, seed: 4), gy = randomValues(24, -1, 1, seed: 5)
        runner.forward(x)
        let gx = runner.backward(gy)
        GradientCheck.check("reshape dx", at: x, gradient: gx) { runner.weightedOutput($0, gy) }
    }

    func testRejectsDifferentCountsAndEmptyDimensions() {
        let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Reshape(from: [2, 3, 4], to: [5, 5]) }
        XCTAssertTrue(error?.message.contains("[2, 3, 4]") == true && error?.message.contains("[5, 5]") == true,
                      error?.message ?? "")
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Reshape(from: [4], to: [0, 4]) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Reshape(flattening: [3, -1]) }
    }
}
