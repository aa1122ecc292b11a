import XCTest
@testable import Autoencoders

/// TransposedConvolution (Sources/Autoencoders/Layers/TransposedConvolution.swift): the adjoint of a
/// convolution, y = col2im(Wᵀ · x) + b, over images [C, H, W] and signals [C, L]. The helpers it
/// shares with ConvolutionTests sit at the end of ConvolutionTests.swift.
final class TransposedConvolutionTests: XCTestCase {
    /// Every conv_transpose2d fixture; its hyperparameters are read from MANIFEST.json.
    static let goldenCases = ["conv_transpose2d_k2s2p0", "conv_transpose2d_k3s1p1", "conv_transpose2d_k3s2p1op1",
                              "conv_transpose2d_k3s2p1op1_rect", "conv_transpose2d_k4s2p1"]

    // MARK: Golden

    func testEveryConvTranspose2dFixtureMatchesPyTorch() throws {
        for name in Self.goldenCases {
            let h = try Fixtures.hyperparameters(name)
            func int(_ key: String) -> Int { h[key]?.intValue ?? -1 }
            let xShape = try Fixtures.shape(name, "x")
            let layer = try TransposedConvolution(inputShape: Array(xShape.dropFirst()), filters: int("out_channels"),
                                                  kernel: int("kernel_size"), stride: int("stride"), padding: int("padding"),
                                                  outputPadding: int("output_padding"), dilation: int("dilation"))
            XCTAssertEqual([xShape[0]] + layer.outputShape, try Fixtures.shape(name, "y"), name)
            XCTAssertEqual(layer.parameterDeclarations[0].shape, try Fixtures.shape(name, "w"), "\(name): [in, out, k, k]")
            try assertMatchesFixture(layer, name, batch: xShape[0])
        }
    }

    // MARK: Shapes, declarations, rejection

    func testOutputLengthFollowsPyTorch() {
        XCTAssertEqual(TransposedConvolution.outputLength(input: 2, kernel: 3, stride: 2, padding: 1, outputPadding: 1, dilation: 1), 4)
        XCTAssertEqual(TransposedConvolution.outputLength(input: 7, kernel: 3, stride: 2, padding: 1, outputPadding: 1, dilation: 1), 14)
        XCTAssertEqual(TransposedConvolution.outputLength(input: 3, kernel: 4, stride: 2, padding: 1, outputPadding: 0, dilation: 1), 6)
        XCTAssertEqual(TransposedConvolution.outputLength(input: 5, kernel: 3, stride: 1, padding: 2, outputPadding: 1, dilation: 2), 6)
        XCTAssertEqual(TransposedConvolution.outputLength(input: 1, kernel: 1, stride: 1, padding: 1, outputPadding: 0, dilation: 1), -1)
    }

    func testShapesKindsAndDeclarations() throws {
        let image = try TransposedConvolution(inputShape: [32, 7, 7], filters: 16, kernel: 3, stride: 2, padding: 1, outputPadding: 1)
        XCTAssertEqual(image.kind, "conv_transpose2d")
        XCTAssertEqual(image.outputShape, [16, 14, 14])
        XCTAssertEqual(image.parameterDeclarations.map(\.suffix), ["weight", "bias"])
        XCTAssertEqual(image.parameterDeclarations.map(\.shape), [[32, 16, 3, 3], [16]])
        // PyTorch's fans come from the weight's dimensions: fanIn = size(1)·k·k = out·k·k.
        XCTAssertEqual(image.parameterDeclarations.map(\.fanIn), [144, 144])
        XCTAssertEqual(image.parameterDeclarations.map(\.fanOut), [288, 288])
        XCTAssertEqual(image.parameterDeclarations.map(\.isWeight), [true, false])
        XCTAssertEqual(image.parameterDeclarations.map(\.initializer), [.heUniform, .zeros])

        let signal = try TransposedConvolution(inputShape: [4, 10], filters: 2, kernel: 5, stride: 3, padding: 2,
                                               outputPadding: 2, initializer: .pytorch)
        XCTAssertEqual(signal.kind, "conv_transpose1d")
        XCTAssertEqual(signal.outputShape, [2, 30])
        XCTAssertEqual(signal.parameterDeclarations.map(\.shape), [[4, 2, 5], [2]])
        XCTAssertEqual(signal.parameterDeclarations.map(\.fanIn), [10, 10])
        XCTAssertEqual(signal.parameterDeclarations.map(\.initializer), [.pytorch, .pytorch], "PyTorch draws biases too")
        XCTAssertEqual(try TransposedConvolution(inputShape: [2, 3], filters: 1, kernel: 1, bias: false)
                        .parameterDeclarations.map(\.suffix), ["weight"])
    }

    /// Building the layer fails with `.invalidArgument`; returns the error.
    @discardableResult
    private func assertRejected(_ shape: [Int], filters: Int = 1, kernel: Int, stride: Int = 1, padding: Int = 0,
                                outputPadding: Int = 0, dilation: Int = 1, line: UInt = #line) -> AutoencoderError? {
        assertThrows(.invalidArgument, { () throws(AutoencoderError) in
            try TransposedConvolution(inputShape: shape, filters: filters, kernel: kernel, stride: stride, padding: padding,
                                      outputPadding: outputPadding, dilation: dilation)
        }, line: line)
    }

    func testRejectsBadOutputPaddingAndEmptyOutputs() {
        let error = assertRejected([1, 4, 4], kernel: 3, stride: 2, padding: 1, outputPadding: 2)
        XCTAssertTrue(error?.message.contains("output padding") == true, error?.message ?? "")
        assertRejected([1, 4], kernel: 3, outputPadding: 1)
        assertRejected([1, 4], kernel: 3, outputPadding: -1)
        // Smaller than the dilation is enough, as in PyTorch.
        XCTAssertEqual(try TransposedConvolution(inputShape: [1, 4], filters: 1, kernel: 3, outputPadding: 1, dilation: 2).outputShape,
                       [1, 9])
        let empty = assertRejected([1, 1, 1], kernel: 1, padding: 1)
        XCTAssertTrue(empty?.message.contains("no output") == true, empty?.message ?? "")
        assertRejected([1, 5, 5], kernel: 0)
        assertRejected([1, 5, 5], filters: 0, kernel: 3)
        assertRejected([1, 5, 5], kernel: 3, stride: 0)
        assertRejected([5], kernel: 1)
    }

    // MARK: Signals

    /// x = [1, 2], W = [1, 2, 3], stride 2: each x[l] adds x[l]·W at output 2l − p.
    func testHandComputedSignal() throws {
        let plain = try LayerRunner(try TransposedConvolution(inputShape: [1, 2], filters: 1, kernel: 3, stride: 2, bias: false),
                                    batch: 1)
        plain.setParameter(0, [1, 2, 3])
        XCTAssertEqual(plain.forward([1, 2]), [1, 2, 5, 4, 6])

        let padded = try LayerRunner(try TransposedConvolution(inputShape: [1, 2], filters: 1, kernel: 3, stride: 2, padding: 1,
                                                               outputPadding: 1), batch: 1)
        padded.setParameter(0, [1, 2, 3])
        padded.setParameter(1, [0.5])
        XCTAssertEqual(padded.forward([1, 2]), [2.5, 5.5, 4.5, 6.5])
        // dx[l] = Σ_j gy[2l − 1 + j]·W[j]; dW[j] = Σ_l x[l]·gy[2l − 1 + j]; db = Σ gy.
        XCTAssertEqual(padded.backward([1, 10, 100, 1000]), [32, 3210])
        XCTAssertEqual(padded.gradients[0].array, [20, 201, 2010])
        XCTAssertEqual(padded.gradients[1].array, [1111])
    }

    /// A signal layer computes what the image layer computes on [C, 1, L] with padding d(k − 1)/2
    /// in output row 0 (output padding adds rows below it, which the signal does not have).
    func testSignalEqualsImageOfHeightOne() throws {
        for (kernel, stride, padding, outputPadding, dilation) in [(3, 1, 1, 0, 1), (3, 2, 1, 1, 1), (5, 2, 2, 1, 1), (3, 1, 2, 1, 2),
                                                                   (1, 1, 0, 0, 1), (5, 3, 4, 2, 2)] {
            let label = "k\(kernel) s\(stride) p\(padding) op\(outputPadding) d\(dilation)"
            let image = try TransposedConvolution(inputShape: [3, 1, 6], filters: 4, kernel: kernel, stride: stride, padding: padding,
                                                  outputPadding: outputPadding, dilation: dilation)
            let signal = try TransposedConvolution(inputShape: [3, 6], filters: 4, kernel: kernel, stride: stride, padding: padding,
                                                   outputPadding: outputPadding, dilation: dilation)
            try assertSignalMatchesMiddleRow(signal: signal, image: image, kernel: kernel, label)
        }
    }

    // MARK: Finite differences

    func testGradientsMatchFiniteDifferences() throws {
        let layers: [TransposedConvolution] = [
            try TransposedConvolution(inputShape: [3, 3, 2], filters: 2, kernel: 3, stride: 2, padding: 1, outputPadding: 1),
            try TransposedConvolution(inputShape: [2, 3, 3], filters: 3, kernel: 4, stride: 2, padding: 1),
            try TransposedConvolution(inputShape: [2, 4, 3], filters: 2, kernel: 3, padding: 1),
            try TransposedConvolution(inputShape: [2, 3, 3], filters: 2, kernel: 3, stride: 2, padding: 1, outputPadding: 1, dilation: 2),
            try TransposedConvolution(inputShape: [2, 3, 3], filters: 2, kernel: 3, outputPadding: 1, dilation: 2),
            try TransposedConvolution(inputShape: [3, 3, 4], filters: 2, kernel: 1),
            try TransposedConvolution(inputShape: [3, 3, 3], filters: 2, kernel: 1, stride: 2, outputPadding: 1),
            try TransposedConvolution(inputShape: [2, 3, 3], filters: 2, kernel: 2, stride: 2, bias: false),
            try TransposedConvolution(inputShape: [2, 5], filters: 3, kernel: 3, stride: 2, padding: 1, outputPadding: 1),
            try TransposedConvolution(inputShape: [2, 4], filters: 2, kernel: 5, stride: 3, padding: 2, outputPadding: 2),
        ]
        for (index, layer) in layers.enumerated() {
            for batch in [1, 3] {
                try checkGradients("\(layer.kind) #\(index) batch \(batch)", layer, batch: batch, seed: UInt64(200 + index))
            }
        }
    }

    // MARK: Batching and accumulation

    /// W2's upsampling layer shape, smaller.
    private func makeUpsamplingLayer() throws -> TransposedConvolution {
        try TransposedConvolution(inputShape: [4, 6, 5], filters: 8, kernel: 3, stride: 2, padding: 1, outputPadding: 1)
    }

    func testBatchRowsEqualSingleSamples() throws {
        try assertBatchEqualsSingleSamples(batch: 7, makeUpsamplingLayer)
        try assertBatchEqualsSingleSamples(batch: 3) { try TransposedConvolution(inputShape: [3, 5, 4], filters: 2, kernel: 1) }
        try assertBatchEqualsSingleSamples(batch: 4) {
            try TransposedConvolution(inputShape: [2, 7], filters: 3, kernel: 4, stride: 3, padding: 1, outputPadding: 2)
        }
    }

    func testAccumulateSemantics() throws {
        for batch in [1, 7] {
            try assertAccumulateSemantics(try makeUpsamplingLayer(), batch: batch)
            try assertAccumulateSemantics(try TransposedConvolution(inputShape: [3, 4, 4], filters: 2, kernel: 1), batch: batch)
        }
    }

    /// The model input has no gradient: backward then only updates the parameter gradients.
    func testWithoutInputGradient() throws {
        for layer in [try makeUpsamplingLayer(), try TransposedConvolution(inputShape: [3, 4, 4], filters: 2, kernel: 1)] {
            try assertParameterGradientsWithoutInputGradient(layer, batch: 7)
        }
    }

    /// The transposed layer is the adjoint of the convolution with the same weight:
    /// ⟨conv(x), y⟩ = ⟨x, convT(y)⟩ without biases, for every stride, padding and dilation that
    /// makes the shapes meet.
    func testIsTheAdjointOfConvolution() throws {
        // Sizes where the convolution's rounding loses the same on both axes (one output padding).
        for (kernel, stride, padding, dilation, width) in [(3, 2, 1, 1, 11), (4, 2, 1, 1, 11), (3, 1, 2, 2, 11), (5, 3, 2, 1, 12)] {
            let conv = try Convolution(inputShape: [3, 9, width], filters: 4, kernel: kernel, stride: stride, padding: padding,
                                       dilation: dilation, bias: false)
            let grid = Array(conv.outputShape.dropFirst())
            let outputPadding = [9, width].enumerated().map { axis, length in
                length - TransposedConvolution.outputLength(input: grid[axis], kernel: kernel, stride: stride, padding: padding,
                                                            outputPadding: 0, dilation: dilation)
            }
            XCTAssertEqual(outputPadding[0], outputPadding[1], "square geometry")
            let transposed = try TransposedConvolution(inputShape: conv.outputShape, filters: 3, kernel: kernel, stride: stride,
                                                       padding: padding, outputPadding: outputPadding[0], dilation: dilation,
                                                       bias: false)
            XCTAssertEqual(transposed.outputShape, [3, 9, width])
            let convRunner = try LayerRunner(conv, batch: 2), transposedRunner = try LayerRunner(transposed, batch: 2)
            let w = randomValues(4 * 3 * kernel * kernel, -1, 1, seed: 300)
            convRunner.setParameter(0, w)          // [out 4, in 3, k, k]
            transposedRunner.setParameter(0, w)    // [in 4, out 3, k, k]: the same array
            let x = randomValues(2 * conv.inputSize, -1, 1, seed: 301), y = randomValues(2 * conv.outputSize, -1, 1, seed: 302)
            let left = convRunner.weightedOutput(x, y), right = transposedRunner.weightedOutput(y, x)
            XCTAssertEqual(left, right, accuracy: 1e-4 * max(1, abs(left)), "k\(kernel) s\(stride) p\(padding) d\(dilation)")
        }
    }
}
