import XCTest
@testable import Autoencoders

/// Convolution (Sources/Autoencoders/Layers/Convolution.swift, on Tensor/Im2Col.swift):
/// y = W ⋆ x + b over images [C, H, W] and signals [C, L].
final class ConvolutionTests: XCTestCase {
    /// Every conv2d fixture; its hyperparameters are read from MANIFEST.json.
    static let goldenCases = ["conv2d_k1s1p0", "conv2d_k3s1p0_7x5", "conv2d_k3s1p1", "conv2d_k3s1p2_d2",
                              "conv2d_k3s2p1", "conv2d_k3s2p1_8x8", "conv2d_k5s1p2"]

    // MARK: Golden

    func testEveryConv2dFixtureMatchesPyTorch() throws {
        for name in Self.goldenCases {
            let h = try Fixtures.hyperparameters(name)
            func int(_ key: String) -> Int { h[key]?.intValue ?? -1 }
            let xShape = try Fixtures.shape(name, "x")
            let layer = try Convolution(inputShape: Array(xShape.dropFirst()), filters: int("out_channels"),
                                        kernel: int("kernel_size"), stride: int("stride"), padding: int("padding"),
                                        dilation: int("dilation"))
            XCTAssertEqual([xShape[0]] + layer.outputShape, try Fixtures.shape(name, "y"), name)
            try assertMatchesFixture(layer, name, batch: xShape[0])
        }
    }

    // MARK: Shapes, declarations, rejection

    func testOutputLengthFollowsPyTorch() {
        XCTAssertEqual(Convolution.outputLength(input: 28, kernel: 3, stride: 1, padding: 1, dilation: 1), 28)
        XCTAssertEqual(Convolution.outputLength(input: 7, kernel: 3, stride: 2, padding: 1, dilation: 1), 4)
        XCTAssertEqual(Convolution.outputLength(input: 8, kernel: 3, stride: 2, padding: 1, dilation: 1), 4)
        XCTAssertEqual(Convolution.outputLength(input: 7, kernel: 3, stride: 1, padding: 2, dilation: 2), 7)
        XCTAssertEqual(Convolution.outputLength(input: 3, kernel: 3, stride: 2, padding: 0, dilation: 1), 1)
        XCTAssertEqual(Convolution.outputLength(input: 2, kernel: 3, stride: 1, padding: 0, dilation: 1), 0)
        // A negative span floors downwards (−4/3 → −2), not towards zero.
        XCTAssertEqual(Convolution.outputLength(input: 2, kernel: 4, stride: 3, padding: 0, dilation: 2), -1)
    }

    func testShapesKindsAndDeclarations() throws {
        let image = try Convolution(inputShape: [3, 28, 20], filters: 16, kernel: 3, stride: 2, padding: 1)
        XCTAssertEqual(image.kind, "conv2d")
        XCTAssertEqual(image.outputShape, [16, 14, 10])
        XCTAssertEqual(image.parameterDeclarations.map(\.suffix), ["weight", "bias"])
        XCTAssertEqual(image.parameterDeclarations.map(\.shape), [[16, 3, 3, 3], [16]])
        XCTAssertEqual(image.parameterDeclarations.map(\.fanIn), [27, 27])
        XCTAssertEqual(image.parameterDeclarations.map(\.fanOut), [144, 144])
        XCTAssertEqual(image.parameterDeclarations.map(\.isWeight), [true, false])
        XCTAssertEqual(image.parameterDeclarations.map(\.initializer), [.heUniform, .zeros])

        let signal = try Convolution(inputShape: [2, 50], filters: 4, kernel: 5, dilation: 2, initializer: .pytorch)
        XCTAssertEqual(signal.kind, "conv1d")
        XCTAssertEqual(signal.outputShape, [4, 42])
        XCTAssertEqual(signal.parameterDeclarations.map(\.shape), [[4, 2, 5], [4]])
        XCTAssertEqual(signal.parameterDeclarations.map(\.fanIn), [10, 10])
        XCTAssertEqual(signal.parameterDeclarations.map(\.initializer), [.pytorch, .pytorch], "PyTorch draws biases too")

        let noBias = try Convolution(inputShape: [1, 4, 4], filters: 2, kernel: 1, bias: false)
        XCTAssertEqual(noBias.parameterDeclarations.map(\.suffix), ["weight"])
    }

    /// Building the layer fails with `.invalidArgument`; returns the error.
    @discardableResult
    private func assertRejected(_ shape: [Int], filters: Int = 1, kernel: Int, stride: Int = 1, padding: Int = 0,
                                dilation: Int = 1, line: UInt = #line) -> AutoencoderError? {
        assertThrows(.invalidArgument, { () throws(AutoencoderError) in
            try Convolution(inputShape: shape, filters: filters, kernel: kernel, stride: stride, padding: padding, dilation: dilation)
        }, line: line)
    }

    func testRejectsAKernelLargerThanThePaddedInput() {
        let error = assertRejected([1, 2, 5], kernel: 3)
        XCTAssertTrue(error?.message.contains("kernel") == true, error?.message ?? "")
        XCTAssertTrue(error?.message.contains("height") == true, error?.message ?? "")
        assertRejected([1, 4], kernel: 3, dilation: 2)
        assertRejected([1, 9, 9], filters: 0, kernel: 3)
        assertRejected([1, 9, 9], kernel: 3, stride: 0)
        assertRejected([1, 9, 9], kernel: 3, padding: -1)
        assertRejected([1, 9, 9], kernel: 3, dilation: 0)
        assertRejected([9, 9], kernel: 0)
        assertRejected([1, 2, 3, 4, 5], kernel: 1)
        assertRejected([1, 0, 3], kernel: 1)
        // Padding makes room: a 3-tap kernel on a 2 × 5 image with padding 1 is fine.
        XCTAssertEqual(try Convolution(inputShape: [1, 2, 5], filters: 1, kernel: 3, padding: 1).outputShape, [1, 2, 5])
    }

    // MARK: im2col and col2im (Tensor/Im2Col.swift)

    /// Every entry of im2col against its definition, over geometries that take each path (one run
    /// per tap for "same" convolutions and signals, row by row otherwise, taps only in the
    /// padding, stride 2 over rows of 6 and 12), and col2im as its adjoint: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩.
    func testIm2ColMatchesItsDefinitionAndCol2ImIsItsAdjoint() throws {
        let cases: [(shape: [Int], kernel: Int, stride: Int, padding: Int, dilation: Int)] = [
            ([2, 5, 6], 3, 1, 1, 1), ([2, 5, 6], 3, 1, 0, 1), ([2, 7, 5], 3, 2, 1, 1), ([1, 7, 5], 3, 1, 2, 2),
            ([2, 6, 6], 2, 2, 0, 1), ([1, 1, 6], 3, 1, 1, 1), ([2, 4, 4], 5, 1, 3, 1), ([3, 9], 3, 1, 1, 1),
            ([2, 11], 4, 3, 2, 2), ([1, 5], 5, 1, 0, 1),
            // Stride 2 over wider rows, as in W2's transposed convolutions.
            ([2, 9, 23], 3, 2, 1, 1), ([1, 4, 12], 2, 2, 0, 1),
        ]
        for (index, c) in cases.enumerated() {
            let layer = try Convolution(inputShape: c.shape, filters: 1, kernel: c.kernel, stride: c.stride,
                                        padding: c.padding, dilation: c.dilation)
            let g = layer.geometry
            let image = randomValues(g.imageSize, -1, 1, seed: UInt64(index))
            var columns = [Float](repeating: .nan, count: g.columnRows * g.positions)
            image.withUnsafeBufferPointer { x in columns.withUnsafeMutableBufferPointer { g.im2col(x.baseAddress!, $0.baseAddress!) } }
            var expected = [Float](repeating: 0, count: columns.count)
            for channel in 0..<g.channels {
                for i in 0..<g.kernelHeight {
                    for j in 0..<g.kernelWidth {
                        for oh in 0..<g.gridHeight {
                            for ow in 0..<g.gridWidth {
                                let h = oh * g.strideHeight - g.paddingHeight + i * g.dilationHeight
                                let w = ow * g.strideWidth - g.paddingWidth + j * g.dilationWidth
                                guard h >= 0, h < g.height, w >= 0, w < g.width else { continue }
                                let row = (channel * g.kernelHeight + i) * g.kernelWidth + j
                                expected[row * g.positions + oh * g.gridWidth + ow] = image[(channel * g.height + h) * g.width + w]
                            }
                        }
                    }
                }
            }
            XCTAssertEqual(columns, expected, "im2col, case \(index)")

            let upstream = randomValues(columns.count, -1, 1, seed: UInt64(50 + index))
            var back = [Float](repeating: 0, count: image.count)
            var consumed = upstream     // col2im consumes its columns
            consumed.withUnsafeMutableBufferPointer { c in back.withUnsafeMutableBufferPointer { g.col2im(c.baseAddress!, $0.baseAddress!) } }
            let left = zip(columns, upstream).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let right = zip(image, back).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(left, right, accuracy: 1e-4, "col2im is the adjoint, case \(index)")
        }
    }

    // MARK: Signals

    /// x = [1, 2, 3, 4], W = [1, 0, −1], b = 0.5, padding 1: y[l] = x[l − 1] − x[l + 1] + 0.5.
    func testHandComputedSignal() throws {
        let runner = try LayerRunner(try Convolution(inputShape: [1, 4], filters: 1, kernel: 3, padding: 1), batch: 1)
        runner.setParameter(0, [1, 0, -1])
        runner.setParameter(1, [0.5])
        XCTAssertEqual(runner.forward([1, 2, 3, 4]), [-1.5, -1.5, -1.5, 3.5])
        // dx[i] = gy[i + 1] − gy[i − 1]; dW[j] = Σ_l gy[l]·x[l − 1 + j]; db = Σ gy.
        XCTAssertEqual(runner.backward([1, 10, 100, 1000]), [10, 99, 990, -100])
        XCTAssertEqual(runner.gradients[0].array, [3210, 4321, 432])
        XCTAssertEqual(runner.gradients[1].array, [1111])

        let strided = try LayerRunner(try Convolution(inputShape: [1, 4], filters: 1, kernel: 3, stride: 2, padding: 1), batch: 1)
        strided.setParameter(0, [1, 0, -1])
        strided.setParameter(1, [0.5])
        XCTAssertEqual(strided.forward([1, 2, 3, 4]), [-1.5, -1.5])
    }

    /// A signal layer computes what the image layer computes on [C, 1, L] with padding d(k − 1)/2,
    /// where only the kernel's middle row meets the signal.
    func testSignalEqualsImageOfHeightOne() throws {
        for (kernel, stride, padding, dilation) in [(3, 1, 1, 1), (3, 2, 1, 1), (5, 1, 2, 1), (3, 1, 2, 2), (1, 1, 0, 1), (5, 3, 4, 2)] {
            let label = "k\(kernel) s\(stride) p\(padding) d\(dilation)"
            let image = try Convolution(inputShape: [3, 1, 11], filters: 4, kernel: kernel, stride: stride,
                                        padding: padding, dilation: dilation)
            let signal = try Convolution(inputShape: [3, 11], filters: 4, kernel: kernel, stride: stride,
                                         padding: padding, dilation: dilation)
            XCTAssertEqual(image.outputShape, [4, 1] + signal.outputShape.dropFirst(), label)
            try assertSignalMatchesMiddleRow(signal: signal, image: image, kernel: kernel, label)
        }
    }

    // MARK: Finite differences

    func testGradientsMatchFiniteDifferences() throws {
        let layers: [Convolution] = [
            try Convolution(inputShape: [2, 6, 5], filters: 3, kernel: 3, stride: 2, padding: 1),
            try Convolution(inputShape: [2, 7, 5], filters: 3, kernel: 3, padding: 2, dilation: 2),
            try Convolution(inputShape: [3, 4, 5], filters: 2, kernel: 1),
            try Convolution(inputShape: [3, 5, 5], filters: 2, kernel: 1, stride: 2),
            try Convolution(inputShape: [2, 5, 6], filters: 3, kernel: 2),
            try Convolution(inputShape: [2, 6, 6], filters: 2, kernel: 3, padding: 1, bias: false),
            try Convolution(inputShape: [2, 9], filters: 3, kernel: 3, stride: 2, padding: 1),
            try Convolution(inputShape: [2, 12], filters: 2, kernel: 3, padding: 1, dilation: 2),
        ]
        for (index, layer) in layers.enumerated() {
            for batch in [1, 3] {
                try checkGradients("\(layer.kind) #\(index) batch \(batch)", layer, batch: batch, seed: UInt64(100 + index))
            }
        }
    }

    // MARK: Batching and accumulation

    /// A "same" 3 × 3 convolution like W2's (its im2col copies one run of the image per tap).
    private func makeSameLayer() throws -> Convolution {
        try Convolution(inputShape: [8, 12, 10], filters: 5, kernel: 3, padding: 1)
    }

    func testBatchRowsEqualSingleSamples() throws {
        try assertBatchEqualsSingleSamples(batch: 7, makeSameLayer)
        try assertBatchEqualsSingleSamples(batch: 3) { try Convolution(inputShape: [3, 5, 4], filters: 2, kernel: 1) }
        try assertBatchEqualsSingleSamples(batch: 4) { try Convolution(inputShape: [2, 13], filters: 3, kernel: 4, stride: 3) }
    }

    func testAccumulateSemantics() throws {
        for batch in [1, 7] {
            try assertAccumulateSemantics(try makeSameLayer(), batch: batch)
            try assertAccumulateSemantics(try Convolution(inputShape: [3, 4, 4], filters: 2, kernel: 1), batch: batch)
        }
    }

    /// The model input has no gradient: backward then only updates the parameter gradients.
    func testWithoutInputGradient() throws {
        for layer in [try makeSameLayer(), try Convolution(inputShape: [3, 4, 4], filters: 2, kernel: 1)] {
            try assertParameterGradientsWithoutInputGradient(layer, batch: 7)
        }
    }
}

// MARK: - Shared with TransposedConvolutionTests

/// Runs the fixture's x and gy through `layer` and checks y, gx, gw and gb at the manifest's tolerances.
func assertMatchesFixture(_ layer: Layer, _ name: String, batch: Int, file: StaticString = #filePath, line: UInt = #line) throws {
    let runner = try LayerRunner(layer, batch: batch)
    runner.setParameter(0, try Fixtures.values(name, "w"))
    runner.setParameter(1, try Fixtures.values(name, "b"))
    let y = runner.forward(try Fixtures.values(name, "x"))
    let gx = runner.backward(try Fixtures.values(name, "gy"))
    try Fixtures.assertGolden(y, name, "y", file: file, line: line)
    try Fixtures.assertGolden(gx, name, "gx", file: file, line: line)
    try Fixtures.assertGolden(runner.gradients[0].array, name, "gw", file: file, line: line)
    try Fixtures.assertGolden(runner.gradients[1].array, name, "gb", file: file, line: line)
}

/// Random parameters for every declaration of the runner's layer, set and returned.
@discardableResult
func setRandomParameters(_ runner: LayerRunner, seed: UInt64) -> [[Float]] {
    runner.layer.parameterDeclarations.enumerated().map { index, declaration in
        let values = randomValues(declaration.shape.reduce(1, *), -0.8, 0.8, seed: seed + UInt64(index))
        runner.setParameter(index, values)
        return values
    }
}

/// Directional finite differences of dx and of every parameter gradient.
func checkGradients(_ name: String, _ layer: Layer, batch: Int, seed: UInt64,
                    file: StaticString = #filePath, line: UInt = #line) throws {
    let runner = try LayerRunner(layer, batch: batch)
    let parameters = setRandomParameters(runner, seed: seed)
    let x = randomValues(batch * layer.inputSize, -1, 1, seed: seed + 10)
    let gy = randomValues(batch * layer.outputSize, -1, 1, seed: seed + 11)
    runner.forward(x)
    let gx = runner.backward(gy)
    GradientCheck.check("\(name) dx", at: x, gradient: gx, file: file, line: line) { runner.weightedOutput($0, gy) }
    for (index, values) in parameters.enumerated() {
        let suffix = layer.parameterDeclarations[index].suffix
        GradientCheck.check("\(name) d\(suffix)", at: values, gradient: runner.gradients[index].array, file: file, line: line) { value in
            runner.setParameter(index, value)
            defer { runner.setParameter(index, values) }
            return runner.weightedOutput(x, gy)
        }
    }
}

/// A batch of `batch` gives, row by row, what one-sample runs give: y, dx, and dW / db summed over the rows.
func assertBatchEqualsSingleSamples(batch: Int, file: StaticString = #filePath, line: UInt = #line,
                                    _ makeLayer: () throws -> Layer) throws {
    let batched = try LayerRunner(try makeLayer(), batch: batch)
    let parameters = setRandomParameters(batched, seed: 70)
    let inputSize = batched.layer.inputSize, outputSize = batched.layer.outputSize
    let x = randomValues(batch * inputSize, -1, 1, seed: 71), gy = randomValues(batch * outputSize, -1, 1, seed: 72)
    let y = batched.forward(x), gx = batched.backward(gy)
    let single = try LayerRunner(try makeLayer(), batch: 1)
    for (index, values) in parameters.enumerated() { single.setParameter(index, values) }
    for row in 0..<batch {
        let yRow = single.forward(Array(x[(row * inputSize)..<((row + 1) * inputSize)]))
        assertClose(yRow, Array(y[(row * outputSize)..<((row + 1) * outputSize)]), relative: 1e-5, "y row \(row)",
                    file: file, line: line)
        let gxRow = single.backward(Array(gy[(row * outputSize)..<((row + 1) * outputSize)]))
        assertClose(gxRow, Array(gx[(row * inputSize)..<((row + 1) * inputSize)]), relative: 1e-5, "gx row \(row)",
                    file: file, line: line)
    }
    for index in parameters.indices {
        assertClose(single.gradients[index].array, batched.gradients[index].array, relative: 1e-5,
                    "parameter gradient \(index) summed over rows", file: file, line: line)
    }
}

/// Parameter gradients always add; the input gradient adds only when asked, and otherwise
/// overwrites whatever was there (even a NaN).
func assertAccumulateSemantics(_ layer: Layer, batch: Int, file: StaticString = #filePath, line: UInt = #line) throws {
    let runner = try LayerRunner(layer, batch: batch)
    setRandomParameters(runner, seed: 80)
    let x = randomValues(batch * layer.inputSize, -1, 1, seed: 81), gy = randomValues(batch * layer.outputSize, -1, 1, seed: 82)
    runner.forward(x)
    let gx = runner.backward(gy)
    let first = runner.gradients.map(\.array)

    runner.gradInput.pointer.update(repeating: .nan, count: runner.gradInput.count)
    XCTAssertEqual(runner.backward(gy, accumulate: false), gx, "\(layer.kind): overwrite, batch \(batch)", file: file, line: line)
    for (index, gradient) in first.enumerated() {
        assertClose(runner.gradients[index].array, gradient.map { 2 * $0 }, relative: 1e-6,
                    "\(layer.kind): parameter gradient \(index) accumulates, batch \(batch)", file: file, line: line)
    }
    let previous = randomValues(batch * layer.inputSize, -1, 1, seed: 83)
    runner.gradInput.set(previous)
    assertClose(runner.backward(gy, accumulate: true), zip(previous, gx).map { $0 + $1 }, relative: 1e-6,
                "\(layer.kind): dx accumulates, batch \(batch)", file: file, line: line)
}

/// Backward with a nil input gradient (the model input) gives the same parameter gradients.
func assertParameterGradientsWithoutInputGradient(_ layer: Layer, batch: Int,
                                                  file: StaticString = #filePath, line: UInt = #line) throws {
    let runner = try LayerRunner(layer, batch: batch)
    setRandomParameters(runner, seed: 90)
    let x = randomValues(batch * layer.inputSize, -1, 1, seed: 91), gy = randomValues(batch * layer.outputSize, -1, 1, seed: 92)
    runner.forward(x)
    runner.backward(gy)
    let expected = runner.gradients.map(\.array)
    runner.zeroGradients()
    runner.gradOutput.set(gy)
    let inputs = [runner.input.pointer], gradInputs: [UnsafeMutablePointer<Float>?] = [nil], accumulates = [false]
    inputs.withUnsafeBufferPointer { inputs in
        gradInputs.withUnsafeBufferPointer { gradInputs in
            accumulates.withUnsafeBufferPointer { accumulates in
                let buffers = LayerBuffers(inputs: inputs, output: runner.output.pointer, gradInputs: gradInputs,
                                           accumulatesGradInputs: accumulates, gradOutput: runner.gradOutput.pointer,
                                           scratch: runner.scratch.pointer, links: UnsafeBufferPointer(start: nil, count: 0),
                                           batch: batch)
                layer.backward(buffers, accumulateInputGradient: false)
            }
        }
    }
    for (index, gradient) in expected.enumerated() {
        assertIdentical(runner.gradients[index].array, gradient, "\(layer.kind): parameter gradient \(index)", file: file, line: line)
    }
}

/// Checks a signal layer against an image layer on [C, 1, L] whose kernel meets the signal with
/// its middle row only: the signal weight is that row, the image's other output rows (a transposed
/// layer's output padding adds some) get a zero upstream gradient, and the image's weight gradient
/// is the signal's in the middle row and zero elsewhere. The weight's first two dimensions
/// ([out, in] or a transposed layer's [in, out]) do not matter: the middle row is row k / 2 of each kernel.
func assertSignalMatchesMiddleRow(signal: Layer, image: Layer, kernel: Int, _ label: String,
                                  file: StaticString = #filePath, line: UInt = #line) throws {
    let batch = 3
    let signalRunner = try LayerRunner(signal, batch: batch), imageRunner = try LayerRunner(image, batch: batch)
    let imageParameters = setRandomParameters(imageRunner, seed: 60)
    let kernels = imageParameters[0].count / (kernel * kernel), middle = kernel / 2
    // [a, b, k, k] → [a, b, k]: row `middle` of every kernel.
    let signalWeight = (0..<(kernels * kernel)).map { i in
        imageParameters[0][(i / kernel) * kernel * kernel + middle * kernel + i % kernel]
    }
    signalRunner.setParameter(0, signalWeight)
    signalRunner.setParameter(1, imageParameters[1])

    let channels = signal.outputShape[0], length = signal.outputShape[1]
    let rows = image.outputShape[1]
    XCTAssertEqual(image.outputShape[2], length, "\(label): output length", file: file, line: line)
    let x = randomValues(batch * signal.inputSize, -1, 1, seed: 61)
    let gy = randomValues(batch * signal.outputSize, -1, 1, seed: 62)
    // The image's gy: the signal's in output row 0, zeros in the other rows.
    var imageGy = [Float](repeating: 0, count: batch * image.outputSize)
    for n in 0..<batch {
        for c in 0..<channels {
            for l in 0..<length { imageGy[((n * channels + c) * rows) * length + l] = gy[(n * channels + c) * length + l] }
        }
    }
    let y = signalRunner.forward(x), imageY = imageRunner.forward(x)
    let imageRow0 = (0..<(batch * channels * length)).map { i in imageY[(i / length) * rows * length + i % length] }
    assertClose(y, imageRow0, relative: 1e-6, "\(label): y", file: file, line: line)
    assertClose(signalRunner.backward(gy), imageRunner.backward(imageGy), relative: 1e-6, "\(label): gx", file: file, line: line)
    let imageGw = imageRunner.gradients[0].array
    let expectedGw = (0..<imageGw.count).map { i -> Float in
        let row = (i / kernel) % kernel
        return row == middle ? signalRunner.gradients[0].array[(i / (kernel * kernel)) * kernel + i % kernel] : 0
    }
    assertClose(imageGw, expectedGw, relative: 1e-6, "\(label): gw", file: file, line: line)
    assertClose(signalRunner.gradients[1].array, imageRunner.gradients[1].array, relative: 1e-6, "\(label): gb", file: file, line: line)
}
