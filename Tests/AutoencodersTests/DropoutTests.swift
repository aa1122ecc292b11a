import XCTest
@testable import Autoencoders

/// Dropout (Sources/Autoencoders/Layers/Dropout.swift): inverted dropout in training (keep with
/// probability 1 − p, scale by 1/(1 − p)), identity in inference, masks from the model's generator.
final class DropoutTests: XCTestCase {
    /// The fraction kept over many values is 1 − p within 5 standard deviations, and every kept value
    /// is x · (1/(1 − p)) exactly as PyTorch computes it.
    func testKeepsOneMinusRateAndScalesTheKeptValues() throws {
        for rate: Float in [0.1, 0.5, 0.8] {
            let batch = 50, size = 400
            let runner = try LayerRunner(Dropout(rate: rate, shape: [4, 10, 10]), batch: batch)
            let x = randomValues(batch * size, 0.5, 2, seed: 1)        // never zero, so zeros are dropped units
            var random = RandomGenerator(seed: 2)
            let y = runner.forward(x, mode: .training, random: &random)
            let kept = y.filter { $0 != 0 }.count
            let n = Double(x.count), keep = Double(1 - rate)
            let sigma = (n * keep * (1 - keep)).squareRoot()
            XCTAssertEqual(Double(kept), n * keep, accuracy: 5 * sigma, "rate \(rate): kept \(kept) of \(x.count)")
            let scale = 1 / (1 - rate)
            for i in x.indices where y[i] != 0 {
                XCTAssertEqual(y[i], x[i] * scale, "rate \(rate): kept value \(i)")
            }
        }
    }

    func testInferenceIsTheIdentityAndDrawsNothing() throws {
        let runner = try LayerRunner(Dropout(rate: 0.5, shape: [7]), batch: 3)
        let x = randomValues(21, -1, 1, seed: 3)
        var random = RandomGenerator(seed: 4)
        XCTAssertEqual(runner.forward(x, mode: .inference, random: &random), x)
        XCTAssertEqual(random, RandomGenerator(seed: 4), "inference draws no random numbers")
    }

    func testRateZeroIsTheIdentityInTrainingAndDrawsNothing() throws {
        let runner = try LayerRunner(Dropout(rate: 0, shape: [7]), batch: 3)
        let x = randomValues(21, -1, 1, seed: 5), gy = randomValues(21, -1, 1, seed: 6)
        var random = RandomGenerator(seed: 7)
        XCTAssertEqual(runner.forward(x, mode: .training, random: &random), x)
        XCTAssertEqual(random, RandomGenerator(seed: 7))
        XCTAssertEqual(runner.backward(gy), gy)
    }

    /// The mask depends only on the generator's state: same seed, same mask; the generator
    /// advances, so the next call draws a different one.
    func testSameSeedSameMask() throws {
        let runner = try LayerRunner(Dropout(rate: 0.3, shape: [50]), batch: 4)
        let x = randomValues(200, 0.5, 1, seed: 8)
        var first = RandomGenerator(seed: 9), second = RandomGenerator(seed: 9)
        let a = runner.forward(x, mode: .training, random: &first)
        let b = runner.forward(x, mode: .training, random: &second)
        XCTAssertEqual(a, b)
        XCTAssertEqual(first, second)
        XCTAssertNotEqual(first, RandomGenerator(seed: 9), "the generator advanced")
        XCTAssertNotEqual(runner.forward(x, mode: .training, random: &first), a, "the next mask differs")
        var other = RandomGenerator(seed: 10)
        XCTAssertNotEqual(runner.forward(x, mode: .training, random: &other), a, "another seed, another mask")
    }

    /// dx = dy · mask: zero where the unit was dropped, dy/(1 − p) where it was kept; accumulating
    /// adds to what was there.
    func testGradientFlowsThroughKeptUnitsOnly() throws {
        let rate: Float = 0.4
        let runner = try LayerRunner(Dropout(rate: rate, shape: [3, 5]), batch: 4)
        let x = randomValues(60, 0.5, 1, seed: 11), gy = randomValues(60, -1, 1, seed: 12)
        var random = RandomGenerator(seed: 13)
        let y = runner.forward(x, mode: .training, random: &random)
        let gx = runner.backward(gy)
        XCTAssertTrue(y.contains(0) && y.contains { $0 != 0 }, "both kinds of unit occur")
        for i in x.indices {
            XCTAssertEqual(gx[i], y[i] == 0 ? 0 : gy[i] * (1 / (1 - rate)), "dx[\(i)]")
        }
        let previous = randomValues(60, -1, 1, seed: 14)
        runner.gradInput.set(previous)
        XCTAssertEqual(runner.backward(gy, accumulate: true), zip(previous, gx).map { $0 + $1 })
        // y = x · mask is linear in x, so finite differences agree exactly up to rounding.
        GradientCheck.check("dropout dx", at: x, gradient: gx) { value in
            var replay = RandomGenerator(seed: 13)
            return zip(runner.forward(value, mode: .training, random: &replay), gy).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
    }

    func testRejectsRatesOutsideZeroToOne() {
        XCTAssertEqual(try Dropout(rate: 0.25, shape: [4]).kind, "dropout")
        for rate: Float in [-0.1, 1, 1.5, .nan] {
            assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Dropout(rate: rate, shape: [4]) }
        }
    }
}

/// A forward pass in a chosen mode with a given generator (LayerRunner.forward runs inference).
fileprivate extension LayerRunner {
    func forward(_ x: [Float], mode: ForwardMode, random: inout RandomGenerator) -> [Float] {
        input.set(x)
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
