import XCTest
@testable import Autoencoders

/// BatchNorm (Sources/Autoencoders/Layers/BatchNorm.swift): PyTorch's training and inference
/// semantics (biased variance to normalise, unbiased for the running variance), per-channel
/// statistics over the batch and every spatial position, finite differences in training mode.
final class BatchNormTests: XCTestCase {
    /// Parameter order: gamma, beta, running_mean, running_var.
    private func makeRunner(shape: [Int], batch: Int, momentum: Float = 0.1, seed: UInt64) throws -> LayerRunner {
        let runner = try LayerRunner(BatchNorm(shape: shape, momentum: momentum), batch: batch)
        let c = shape[0]
        runner.setParameter(0, randomValues(c, 0.5, 1.5, seed: seed))
        runner.setParameter(1, randomValues(c, -0.5, 0.5, seed: seed + 1))
        runner.setParameter(2, randomValues(c, -0.2, 0.2, seed: seed + 2))
        runner.setParameter(3, randomValues(c, 0.5, 2, seed: seed + 3))
        return runner
    }

    // MARK: Golden

    /// batch_norm2d_train: x [3, 4, 5, 3]. Training forward (y and the new running statistics),
    /// backward (gx, ggamma, gbeta), then an inference forward with the NEW running statistics.
    func testTrainingStepAndEvaluationMatchPyTorch() throws {
        let caseName = "batch_norm2d_train"
        let runner = try LayerRunner(BatchNorm(shape: [4, 5, 3]), batch: 3)
        for (index, name) in ["gamma", "beta", "running_mean", "running_var"].enumerated() {
            runner.setParameter(index, try Fixtures.values(caseName, name))
        }
        let x = try Fixtures.values(caseName, "x")
        let y = runner.forward(x, mode: .training)
        try Fixtures.assertGolden(y, caseName, "y")
        try Fixtures.assertGolden(runner.parameters[2].array, caseName, "running_mean_new")
        try Fixtures.assertGolden(runner.parameters[3].array, caseName, "running_var_new")

        let gx = runner.backward(try Fixtures.values(caseName, "gy"))
        try Fixtures.assertGolden(gx, caseName, "gx")
        try Fixtures.assertGolden(runner.gradients[0].array, caseName, "ggamma")
        try Fixtures.assertGolden(runner.gradients[1].array, caseName, "gbeta")
        XCTAssertEqual(runner.gradients[2].array, [0, 0, 0, 0], "running_mean has no gradient")
        XCTAssertEqual(runner.gradients[3].array, [0, 0, 0, 0], "running_var has no gradient")

        try Fixtures.assertGolden(runner.forward(x, mode: .inference), caseName, "y_eval")
    }

    func testDeclaresGammaBetaAndNonTrainableRunningStatistics() throws {
        let layer = try BatchNorm(shape: [6, 4, 4])
        XCTAssertEqual(layer.kind, "batch_norm")
        XCTAssertEqual(layer.outputShape, [6, 4, 4])
        let declarations = layer.parameterDeclarations
        XCTAssertEqual(declarations.map(\.suffix), ["gamma", "beta", "running_mean", "running_var"])
        XCTAssertEqual(declarations.map(\.shape), [[6], [6], [6], [6]])
        XCTAssertEqual(declarations.map(\.initializer), [.ones, .zeros, .zeros, .ones])
        XCTAssertEqual(declarations.map(\.trainable), [true, true, false, false])
        XCTAssertEqual(declarations.map(\.isWeight), [false, false, false, false])
        XCTAssertEqual(layer.momentum, 0.1)
        XCTAssertEqual(layer.epsilon, 1e-5)
    }

    // MARK: Statistics

    /// A vector [n] normalises each feature over the batch; [C, L] each channel over N·L values.
    /// Checked against a Double reference of the formulas, running statistics included.
    func testStatisticsPerChannelOverBatchAndPositions() throws {
        for (shape, batch) in [([5], 7), ([3, 6], 4), ([2, 3, 4], 2), ([1, 9], 1)] {
            let runner = try makeRunner(shape: shape, batch: batch, momentum: 0.3, seed: 10)
            let c = shape[0], positions = shape.dropFirst().reduce(1, *), m = batch * positions
            let gamma = runner.parameters[0].array, beta = runner.parameters[1].array
            let oldMean = runner.parameters[2].array, oldVariance = runner.parameters[3].array
            let x = randomValues(batch * c * positions, -2, 3, seed: 11)
            let y = runner.forward(x, mode: .training)
            var expected = [Float](repeating: 0, count: x.count)
            for channel in 0..<c {
                let indices = (0..<batch).flatMap { n in (0..<positions).map { (n * c + channel) * positions + $0 } }
                let mean = indices.reduce(0.0) { $0 + Double(x[$1]) } / Double(m)
                let variance = indices.reduce(0.0) { $0 + (Double(x[$1]) - mean) * (Double(x[$1]) - mean) } / Double(m)
                for i in indices {
                    expected[i] = Float((Double(x[i]) - mean) / (variance + 1e-5).squareRoot() * Double(gamma[channel]) + Double(beta[channel]))
                }
                XCTAssertEqual(runner.parameters[2].pointer[channel], Float(0.7 * Double(oldMean[channel]) + 0.3 * mean),
                               accuracy: 1e-5, "\(shape) running_mean[\(channel)]")
                XCTAssertEqual(runner.parameters[3].pointer[channel],
                               Float(0.7 * Double(oldVariance[channel]) + 0.3 * variance * Double(m) / Double(m - 1)),
                               accuracy: 1e-5, "\(shape) running_var[\(channel)]")
            }
            assertClose(y, expected, relative: 1e-5, "\(shape), batch \(batch): y")
        }
    }

    /// With one value per channel the unbiased variance is undefined (PyTorch refuses it): the
    /// running variance stays, the running mean moves, and the output is β.
    func testSingleValuePerChannelKeepsTheRunningVariance() throws {
        let runner = try makeRunner(shape: [4], batch: 1, seed: 20)
        let oldVariance = runner.parameters[3].array
        let beta = runner.parameters[1].array
        let y = runner.forward([1, -2, 3, 0.5], mode: .training)
        assertClose(y, beta, relative: 1e-6, "y = beta")
        XCTAssertEqual(runner.parameters[3].array, oldVariance)
        XCTAssertNotEqual(runner.parameters[2].array, [0, 0, 0, 0])
        XCTAssertTrue(runner.parameters[3].array.allSatisfy(\.isFinite))
    }

    func testMomentumZeroFreezesAndOneReplacesTheRunningStatistics() throws {
        let x = randomValues(3 * 2 * 5, -1, 2, seed: 30)
        let frozen = try makeRunner(shape: [2, 5], batch: 3, momentum: 0, seed: 31)
        let before = frozen.parameters[2].array + frozen.parameters[3].array
        frozen.forward(x, mode: .training)
        XCTAssertEqual(frozen.parameters[2].array + frozen.parameters[3].array, before)

        // Momentum 1: the running statistics become the batch mean and unbiased variance, so an
        // inference pass gives the training output up to the factor M/(M − 1) inside the root.
        let replaced = try makeRunner(shape: [2, 5], batch: 3, momentum: 1, seed: 31)
        replaced.parameters[1].set([0, 0])
        let training = replaced.forward(x, mode: .training)
        let inference = replaced.forward(x, mode: .inference)
        let m: Float = 15
        assertClose(inference, training.map { $0 * ((m - 1) / m).squareRoot() }, relative: 1e-4, "inference with replaced statistics")
    }

    /// Inference uses only the running statistics: its output ignores the rest of the batch, and it
    /// writes nothing but the output (no scratch, no parameter), so it may run concurrently.
    func testInferenceUsesRunningStatisticsAndWritesOnlyTheOutput() throws {
        let runner = try makeRunner(shape: [3, 4], batch: 2, seed: 40)
        let parameters = runner.parameters.map(\.array)
        runner.scratch.pointer.update(repeating: 42, count: runner.scratch.count)
        let x = randomValues(24, -1, 1, seed: 41)
        let y = runner.forward(x, mode: .inference)
        XCTAssertEqual(runner.parameters.map(\.array), parameters)
        XCTAssertTrue(runner.scratch.array.allSatisfy { $0 == 42 })
        let (gamma, beta, mean, variance) = (parameters[0], parameters[1], parameters[2], parameters[3])
        let expected = x.indices.map { i -> Float in
            let c = (i / 4) % 3
            return (x[i] - mean[c]) / (variance[c] + 1e-5).squareRoot() * gamma[c] + beta[c]
        }
        assertClose(y, expected, relative: 1e-6, "inference output")
        // The first sample's output does not depend on the second sample.
        let alone = try makeRunner(shape: [3, 4], batch: 1, seed: 40)
        XCTAssertEqual(alone.forward(Array(x[0..<12]), mode: .inference), Array(y[0..<12]))
    }

    // MARK: Finite differences

    func testTrainingGradientsMatchFiniteDifferences() throws {
        for (shape, batch) in [([3, 2, 3], 2), ([4], 6)] {
            let runner = try makeRunner(shape: shape, batch: batch, seed: 50)
            let count = batch * shape.reduce(1, *)
            let x = randomValues(count, -2, 2, seed: 51), gy = randomValues(count, -1, 1, seed: 52)
            let gamma = runner.parameters[0].array, beta = runner.parameters[1].array
            runner.forward(x, mode: .training)
            let gx = runner.backward(gy)
            let ggamma = runner.gradients[0].array, gbeta = runner.gradients[1].array
            let f = { (x: [Float]) -> Double in
                zip(runner.forward(x, mode: .training), gy).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            GradientCheck.check("batch_norm \(shape) dx", at: x, gradient: gx, f)
            GradientCheck.check("batch_norm \(shape) dgamma", at: gamma, gradient: ggamma) { value in
                runner.setParameter(0, value)
                defer { runner.setParameter(0, gamma) }
                return f(x)
            }
            GradientCheck.check("batch_norm \(shape) dbeta", at: beta, gradient: gbeta) { value in
                runner.setParameter(1, value)
                defer { runner.setParameter(1, beta) }
                return f(x)
            }
        }
    }

    // MARK: Accumulation

    func testAccumulateSemantics() throws {
        let runner = try makeRunner(shape: [2, 3], batch: 3, seed: 60)
        let x = randomValues(18, -1, 1, seed: 61), gy = randomValues(18, -1, 1, seed: 62)
        runner.forward(x, mode: .training)
        let gx = runner.backward(gy)
        let ggamma = runner.gradients[0].array, gbeta = runner.gradients[1].array

        runner.gradInput.pointer.update(repeating: .nan, count: runner.gradInput.count)
        XCTAssertEqual(runner.backward(gy, accumulate: false), gx, "overwrite")
        assertClose(runner.gradients[0].array, ggamma.map { 2 * $0 }, relative: 1e-6, "dgamma accumulates")
        assertClose(runner.gradients[1].array, gbeta.map { 2 * $0 }, relative: 1e-6, "dbeta accumulates")

        let previous = randomValues(18, -1, 1, seed: 63)
        runner.gradInput.set(previous)
        assertClose(runner.backward(gy, accumulate: true), zip(previous, gx).map { $0 + $1 }, relative: 1e-6, "dx accumulates")
    }

    func testRejectsInvalidArguments() {
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try BatchNorm(shape: []) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try BatchNorm(shape: [3, 0]) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try BatchNorm(shape: [3], momentum: 1.5) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try BatchNorm(shape: [3], epsilon: 0) }
    }
}

/// A forward pass in a chosen mode through the runner's buffers (LayerRunner.forward runs inference).
extension LayerRunner {
    @discardableResult
    func forward(_ x: [Float], mode: ForwardMode) -> [Float] {
        input.set(x)
        var random = RandomGenerator(seed: 1)
        let inputs = [input.pointer], gradInputs: [UnsafeMutablePointer<Float>?] = [gradInput.pointer], accumulates = [false]
        inputs.withUnsafeBufferPointer { inputs in
            gradInputs.withUnsafeBufferPointer { gradInputs in
                accumulates.withUnsafeBufferPointer { accumulates in
                    layer.forward(LayerBuffers(inputs: inputs, output: output.pointer, gradInputs: gradInputs,
                                               accumulatesGradInputs: accumulates, gradOutput: gradOutput.pointer,
                                               scratch: scratch.pointer, links: UnsafeBufferPointer(start: nil, count: 0),
                                               batch: batch),
                                  mode: mode, random: &random)
                }
            }
        }
        return output.array
    }
}
