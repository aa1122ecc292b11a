import XCTest
@testable import Autoencoders

/// Dense (Sources/Autoencoders/Layers/Dense.swift): y = x · Wᵀ + b, untied and tied.
final class DenseTests: XCTestCase {
    /// An untied layer with random parameters; W is [out, in].
    private func makeDense(_ inputs: Int, _ outputs: Int, batch: Int, seed: UInt64) throws -> (LayerRunner, w: [Float], b: [Float]) {
        let runner = try LayerRunner(Dense(inputFeatures: inputs, outputFeatures: outputs), batch: batch)
        let w = randomValues(outputs * inputs, -0.8, 0.8, seed: seed)
        let b = randomValues(outputs, -0.5, 0.5, seed: seed + 1)
        runner.setParameter(0, w)
        runner.setParameter(1, b)
        return (runner, w, b)
    }

    /// An encoder 4→6 (W_enc [6, 4]) and a decoder 6→4 tied to it, each with its own bias.
    private func makeTiedPair(batch: Int) throws -> (encoder: LayerRunner, decoder: LayerRunner) {
        let encoderLayer = Dense(inputFeatures: 4, outputFeatures: 6)
        let encoder = try LayerRunner(encoderLayer, batch: batch)
        encoder.setParameter(0, randomValues(24, -0.8, 0.8, seed: 21))
        encoder.setParameter(1, randomValues(6, -0.5, 0.5, seed: 22))
        let decoder = try LayerRunner(Dense(inputFeatures: 6, outputFeatures: 4, tiedTo: encoderLayer), batch: batch)
        decoder.setParameter(0, randomValues(4, -0.5, 0.5, seed: 23))
        return (encoder, decoder)
    }

    private func transpose(_ m: [Float], rows: Int, columns: Int) -> [Float] {
        (0..<(rows * columns)).map { i in m[(i % rows) * columns + i / rows] }
    }

    // MARK: Golden

    func testLinearMatchesPyTorch() throws {
        let runner = try LayerRunner(Dense(inputFeatures: 7, outputFeatures: 5), batch: 3)
        runner.setParameter(0, try Fixtures.values("linear", "w"))
        runner.setParameter(1, try Fixtures.values("linear", "b"))
        let y = runner.forward(try Fixtures.values("linear", "x"))
        let gx = runner.backward(try Fixtures.values("linear", "gy"))
        try Fixtures.assertGolden(y, "linear", "y")
        try Fixtures.assertGolden(gx, "linear", "gx")
        try Fixtures.assertGolden(runner.gradients[0].array, "linear", "gw")
        try Fixtures.assertGolden(runner.gradients[1].array, "linear", "gb")
    }

    func testDeclaresPyTorchLayoutAndTiedLayersOnlyABias() {
        let encoder = Dense(inputFeatures: 7, outputFeatures: 5)
        XCTAssertEqual(encoder.parameterDeclarations.map(\.suffix), ["weight", "bias"])
        XCTAssertEqual(encoder.parameterDeclarations.map(\.shape), [[5, 7], [5]])
        XCTAssertEqual(encoder.parameterDeclarations.map(\.isWeight), [true, false])
        let tied = Dense(inputFeatures: 5, outputFeatures: 7, tiedTo: encoder)
        XCTAssertEqual(tied.parameterDeclarations.map(\.suffix), ["bias"])
        XCTAssertEqual(Dense(inputFeatures: 5, outputFeatures: 7, bias: false, tiedTo: encoder).parameterDeclarations.count, 0)
    }

    // MARK: Paths and tying

    /// One sample goes through gemv, several through gemm: the rows must agree.
    func testSingleSampleEqualsBatch() throws {
        let (batched, w, b) = try makeDense(9, 6, batch: 4, seed: 1)
        let x = randomValues(4 * 9, -1, 1, seed: 3), gy = randomValues(4 * 6, -1, 1, seed: 4)
        let y = batched.forward(x)
        let gx = batched.backward(gy)
        for row in 0..<4 {
            let single = try LayerRunner(Dense(inputFeatures: 9, outputFeatures: 6), batch: 1)
            single.setParameter(0, w)
            single.setParameter(1, b)
            let yRow = single.forward(Array(x[(row * 9)..<(row * 9 + 9)]))
            assertClose(yRow, Array(y[(row * 6)..<(row * 6 + 6)]), relative: 1e-6, "y row \(row)")
            let gxRow = single.backward(Array(gy[(row * 6)..<(row * 6 + 6)]))
            assertClose(gxRow, Array(gx[(row * 9)..<(row * 9 + 9)]), relative: 1e-6, "gx row \(row)")
        }
        // Without a bias the gemv path must not read the (unset) output.
        let noBias = try LayerRunner(Dense(inputFeatures: 3, outputFeatures: 2, bias: false), batch: 1)
        noBias.setParameter(0, [1, 2, 3, 4, 5, 6])
        noBias.output.pointer.update(repeating: .nan, count: 2)
        XCTAssertEqual(noBias.forward([1, 0, -1]), [-2, -2])
    }

    /// A decoder tied to an encoder computes what an untied layer with Wᵀ computes, and its weight
    /// gradient lands transposed in the encoder's gradient.
    func testTiedEqualsUntiedWithTransposedWeight() throws {
        for batch in [1, 3] {
            let (encoder, tied) = try makeTiedPair(batch: batch)
            let untied = try LayerRunner(Dense(inputFeatures: 6, outputFeatures: 4), batch: batch)
            let wEncoder = encoder.parameters[0].array
            untied.setParameter(0, transpose(wEncoder, rows: 6, columns: 4))
            untied.setParameter(1, tied.parameters[0].array)
            let x = randomValues(batch * 6, -1, 1, seed: 30), gy = randomValues(batch * 4, -1, 1, seed: 31)
            assertClose(tied.forward(x), untied.forward(x), relative: 1e-6, "y, batch \(batch)")
            assertClose(tied.backward(gy), untied.backward(gy), relative: 1e-6, "gx, batch \(batch)")
            XCTAssertEqual(encoder.gradients[1].array, [Float](repeating: 0, count: 6), "the encoder's bias is not touched")
            let untiedWeightGradient = untied.gradients[0].array   // [4, 6]
            assertClose(encoder.gradients[0].array, transpose(untiedWeightGradient, rows: 4, columns: 6), relative: 1e-6,
                        "tied dW, batch \(batch)")
            assertClose(tied.gradients[0].array, untied.gradients[1].array, relative: 1e-6, "tied db, batch \(batch)")
        }
    }

    // MARK: Finite differences

    func testGradientsMatchFiniteDifferences() throws {
        let (runner, w, b) = try makeDense(8, 5, batch: 3, seed: 40)
        let x = randomValues(24, -1, 1, seed: 41), gy = randomValues(15, -1, 1, seed: 42)
        runner.forward(x)
        let gx = runner.backward(gy)
        let gw = runner.gradients[0].array, gb = runner.gradients[1].array
        GradientCheck.check("dense dx", at: x, gradient: gx) { runner.weightedOutput($0, gy) }
        GradientCheck.check("dense dW", at: w, gradient: gw) { value in
            runner.setParameter(0, value)
            defer { runner.setParameter(0, w) }
            return runner.weightedOutput(x, gy)
        }
        GradientCheck.check("dense db", at: b, gradient: gb) { value in
            runner.setParameter(1, value)
            defer { runner.setParameter(1, b) }
            return runner.weightedOutput(x, gy)
        }
    }

    func testTiedGradientsMatchFiniteDifferences() throws {
        let (encoder, tied) = try makeTiedPair(batch: 3)
        let x = randomValues(18, -1, 1, seed: 50), gy = randomValues(12, -1, 1, seed: 51)
        tied.forward(x)
        let gx = tied.backward(gy)
        let wEncoder = encoder.parameters[0].array, b = tied.parameters[0].array
        GradientCheck.check("tied dx", at: x, gradient: gx) { tied.weightedOutput($0, gy) }
        GradientCheck.check("tied dW_enc", at: wEncoder, gradient: encoder.gradients[0].array) { value in
            encoder.setParameter(0, value)
            defer { encoder.setParameter(0, wEncoder) }
            return tied.weightedOutput(x, gy)
        }
        GradientCheck.check("tied db", at: b, gradient: tied.gradients[0].array) { value in
            tied.setParameter(0, value)
            defer { tied.setParameter(0, b) }
            return tied.weightedOutput(x, gy)
        }
    }

    // MARK: Accumulation

    /// Parameter gradients always add; the input gradient adds only when asked, and otherwise
    /// overwrites whatever was there (even a NaN).
    func testAccumulateSemantics() throws {
        for batch in [1, 3] {
            let (runner, _, _) = try makeDense(6, 4, batch: batch, seed: 60)
            let x = randomValues(batch * 6, -1, 1, seed: 61), gy = randomValues(batch * 4, -1, 1, seed: 62)
            runner.forward(x)
            let gx = runner.backward(gy)
            let gw = runner.gradients[0].array, gb = runner.gradients[1].array

            runner.gradInput.pointer.update(repeating: .nan, count: runner.gradInput.count)
            XCTAssertEqual(runner.backward(gy, accumulate: false), gx, "overwrite, batch \(batch)")
            assertClose(runner.gradients[0].array, gw.map { 2 * $0 }, relative: 1e-6, "dW accumulates, batch \(batch)")
            assertClose(runner.gradients[1].array, gb.map { 2 * $0 }, relative: 1e-6, "db accumulates, batch \(batch)")

            let previous = randomValues(batch * 6, -1, 1, seed: 63)
            runner.gradInput.set(previous)
            assertClose(runner.backward(gy, accumulate: true), zip(previous, gx).map { $0 + $1 }, relative: 1e-6,
                        "dx accumulates, batch \(batch)")
        }
    }
}
