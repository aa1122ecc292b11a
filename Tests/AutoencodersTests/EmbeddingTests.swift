import XCTest
@testable import Autoencoders

/// Token embeddings: PyTorch golden values with and without a padding id (whose row gets no
/// gradient), the scatter-add by finite differences, and the refusal of ids that are not tokens.
final class EmbeddingTests: XCTestCase {
    private func assertMatchesFixture(_ name: String, paddingIndex: Int?) throws {
        let ids = try Fixtures.integers(name, "ids").map(Float.init), shape = try Fixtures.shape(name, "w")
        let steps = try Fixtures.shape(name, "ids")[1]
        let layer = try Embedding(steps: steps, vocabulary: shape[0], dimension: shape[1], paddingIndex: paddingIndex)
        let runner = try LayerRunner(layer, batch: ids.count / steps)
        runner.setParameter(0, try Fixtures.values(name, "w"))
        try Fixtures.assertGolden(runner.forward(ids), name, "y")
        XCTAssertEqual(runner.backward(try Fixtures.values(name, "gy")), [Float](repeating: 0, count: ids.count), "ids get no gradient")
        let gw = runner.gradients[0].array
        try Fixtures.assertGolden(gw, name, "gw")
        if let paddingIndex {
            XCTAssertTrue(ids.contains(Float(paddingIndex)))
            XCTAssertTrue(gw[(paddingIndex * shape[1])..<((paddingIndex + 1) * shape[1])].allSatisfy { $0 == 0 }, "the padding row")
        }
    }

    func testMatchesPyTorch() throws {
        try assertMatchesFixture("embedding", paddingIndex: nil)
        try assertMatchesFixture("embedding_padding_idx", paddingIndex: 0)
    }

    /// The weight gradient is the scatter-add of gy: a finite difference in the weight alone.
    func testWeightGradientMatchesFiniteDifferences() throws {
        let layer = try Embedding(steps: 6, vocabulary: 5, dimension: 3, paddingIndex: 4)
        let runner = try LayerRunner(layer, batch: 3)
        let weight = randomValues(15, -1, 1, seed: 1)
        runner.setParameter(0, weight)
        let ids: [Float] = [0, 1, 1, 4, 2, 0, 3, 3, 3, 1, 4, 4, 2, 0, 1, 1, 1, 2]
        let gy = randomValues(54, -1, 1, seed: 2)
        runner.forward(ids)
        runner.backward(gy)
        let gw = runner.gradients[0].array
        XCTAssertEqual(Array(gw[12..<15]), [0, 0, 0], "padding row")
        // Without a padding id, the padding row's gradient is the finite difference; with it, it is zero.
        let free = try LayerRunner(try Embedding(steps: 6, vocabulary: 5, dimension: 3), batch: 3)
        free.setParameter(0, weight)
        free.forward(ids)
        free.backward(gy)
        GradientCheck.check("embedding dW", at: weight, gradient: free.gradients[0].array) { value in
            free.setParameter(0, value)
            defer { free.setParameter(0, weight) }
            return free.weightedOutput(ids, gy)
        }
        XCTAssertEqual(Array(gw[0..<12]), Array(free.gradients[0].array[0..<12]))
    }

    func testRefusesIdsThatAreNotTokens() throws {
        let layer = try Embedding(steps: 4, vocabulary: 30, dimension: 2)
        for (bad, message) in [(Float(3.5), "3.5"), (-1, "-1"), (30, "30"), (.nan, "nan"), (.infinity, "inf")] {
            let ids: [Float] = [1, 2, 3, 4, 5, bad, 0, 0]
            let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in
                try ids.withUnsafeBufferPointer { p throws(AutoencoderError) in try layer.validate(ids: p.baseAddress!, count: 8) }
            }
            XCTAssertEqual(error?.message, "ids[1, 1] = \(message) is not an integer token id in 0..<30")
        }
        let good: [Float] = [0, 29, 7, 1]
        try good.withUnsafeBufferPointer { p throws(AutoencoderError) in try layer.validate(ids: p.baseAddress!, count: 4) }
        // Invalid ids never read out of bounds: a zero row, no gradient.
        let runner = try LayerRunner(layer, batch: 1)
        setRandomParameters(runner, seed: 3)
        XCTAssertEqual(Array(runner.forward([1, 31, -2, .nan])[2...]), [0, 0, 0, 0, 0, 0])
        // Ids are exact up to 2^24, which bounds the vocabulary.
        let largest = try Embedding(steps: 1, vocabulary: 1 << 24, dimension: 1)
        XCTAssertEqual(largest.row(Float(16_777_215)), 16_777_215)
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Embedding(steps: 1, vocabulary: (1 << 24) + 1, dimension: 1) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Embedding(steps: 1, vocabulary: 5, dimension: 1, paddingIndex: 5) }
    }
}
