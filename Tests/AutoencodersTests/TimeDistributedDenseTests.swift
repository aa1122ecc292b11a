import XCTest
@testable import Autoencoders

/// The per-step dense layer: every step of every sample is a row of one dense layer.
/// (Its PyTorch golden test runs after a repeat, in RepeatTests.)
final class TimeDistributedDenseTests: XCTestCase {
    func testEachStepIsADenseRow() throws {
        let steps = 4, features = 3, outputs = 5, batch = 2
        let layer = try TimeDistributedDense(steps: steps, inputFeatures: features, outputFeatures: outputs)
        let runner = try LayerRunner(layer, batch: batch)
        let parameters = setRandomParameters(runner, seed: 1)
        let plain = try LayerRunner(Dense(inputFeatures: features, outputFeatures: outputs), batch: batch * steps)
        for (index, values) in parameters.enumerated() { plain.setParameter(index, values) }
        let x = randomValues(batch * steps * features, -1, 1, seed: 2), gy = randomValues(batch * steps * outputs, -1, 1, seed: 3)
        XCTAssertEqual(runner.forward(x), plain.forward(x))
        XCTAssertEqual(runner.backward(gy), plain.backward(gy))
        XCTAssertEqual(runner.gradients.map(\.array), plain.gradients.map(\.array))
        XCTAssertEqual(layer.outputShape, [steps, outputs])
        XCTAssertEqual(layer.parameterDeclarations.map(\.suffix), ["weight", "bias"])
    }

    func testGradientsMatchFiniteDifferences() throws {
        try checkGradients("time-distributed dense", try TimeDistributedDense(steps: 5, inputFeatures: 3, outputFeatures: 4), batch: 3, seed: 4)
        try checkGradients("time-distributed dense, no bias",
                           try TimeDistributedDense(steps: 2, inputFeatures: 3, outputFeatures: 2, bias: false), batch: 1, seed: 5)
        try assertAccumulateSemantics(try TimeDistributedDense(steps: 3, inputFeatures: 2, outputFeatures: 3), batch: 2)
        try assertParameterGradientsWithoutInputGradient(try TimeDistributedDense(steps: 3, inputFeatures: 2, outputFeatures: 3), batch: 2)
    }
}
