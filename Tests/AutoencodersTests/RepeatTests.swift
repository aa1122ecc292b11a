import XCTest
@testable import Autoencoders

/// The repeat layer, alone and followed by the per-step dense layer as in the classic LSTM
/// autoencoder's decoder (golden values of PyTorch's Linear on the repeated code).
final class RepeatTests: XCTestCase {
    func testRepeatThenTimeDistributedDenseMatchesPyTorch() throws {
        let name = "repeat_vector_time_distributed"
        let code = try Fixtures.values(name, "code"), (batch, features) = (3, 4)
        let steps = try Fixtures.shape(name, "y")[1], outputs = try Fixtures.shape(name, "w")[0]
        let repeated = try LayerRunner(try Repeat(steps: steps, features: features), batch: batch)
        let dense = try LayerRunner(try TimeDistributedDense(steps: steps, inputFeatures: features, outputFeatures: outputs), batch: batch)
        dense.setParameter(0, try Fixtures.values(name, "w"))
        dense.setParameter(1, try Fixtures.values(name, "b"))
        let y = dense.forward(repeated.forward(code))
        try Fixtures.assertGolden(y, name, "y")
        let gcode = repeated.backward(dense.backward(try Fixtures.values(name, "gy")))
        try Fixtures.assertGolden(gcode, name, "gcode")
        try Fixtures.assertGolden(dense.gradients[0].array, name, "gw")
        try Fixtures.assertGolden(dense.gradients[1].array, name, "gb")
    }

    func testRepeatCopiesAndSumsBack() throws {
        let runner = try LayerRunner(try Repeat(steps: 3, features: 2), batch: 2)
        XCTAssertEqual(runner.forward([1, 2, 3, 4]), [1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4])
        XCTAssertEqual(runner.backward([1, 10, 100, 1000, 10000, 100000, 1, 2, 3, 4, 5, 6]), [10101, 101010, 9, 12])
        try checkGradients("repeat", try Repeat(steps: 4, features: 3), batch: 2, seed: 3)
        try assertAccumulateSemantics(try Repeat(steps: 4, features: 3), batch: 2)
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Repeat(steps: 0, features: 3) }
    }
}
