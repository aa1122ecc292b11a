import XCTest
@testable import Autoencoders

/// Concat (Sources/Autoencoders/Layers/Concat.swift): channel concatenation of inputs with equal
/// spatial shapes; backward splits dy into each input's gradient, writing or adding per input.
final class ConcatTests: XCTestCase {
    /// Buffers for a layer with several inputs, like a model's workspace: one input and one
    /// gradient buffer per input (the gradient nil where `withGradient` says so).
    private final class Runner {
        let layer: Concat
        let batch: Int
        let inputs: [FloatBuffer]
        let gradInputs: [FloatBuffer?]
        let output: FloatBuffer
        let gradOutput: FloatBuffer
        let scratch: FloatBuffer
        var accumulates: [Bool]

        init(_ layer: Concat, batch: Int, withGradient: [Bool]? = nil) throws {
            self.layer = layer
            self.batch = batch
            let sizes = layer.inputShapes.map { $0.reduce(1, *) }
            inputs = try sizes.map { try FloatBuffer(count: batch * $0) }
            gradInputs = try zip(sizes, withGradient ?? sizes.map { _ in true }).map { size, has in
                has ? try FloatBuffer(count: batch * size) : nil
            }
            output = try FloatBuffer(count: batch * layer.outputSize)
            gradOutput = try FloatBuffer(count: batch * layer.outputSize)
            scratch = try FloatBuffer(count: layer.scratchSize(batch: batch))
            accumulates = sizes.map { _ in false }
        }

        private func run(_ body: (LayerBuffers) -> Void) {
            let inputPointers = inputs.map(\.pointer), gradPointers = gradInputs.map { $0?.pointer }
            inputPointers.withUnsafeBufferPointer { i in
                gradPointers.withUnsafeBufferPointer { g in
                    accumulates.withUnsafeBufferPointer { a in
                        body(LayerBuffers(inputs: i, output: output.pointer, gradInputs: g, accumulatesGradInputs: a,
                                          gradOutput: gradOutput.pointer, scratch: scratch.pointer,
                                          links: UnsafeBufferPointer(start: nil, count: 0), batch: batch))
                    }
                }
            }
        }

        @discardableResult
        func forward(_ xs: [[Float]]) -> [Float] {
            for (buffer, x) in zip(inputs, xs) { buffer.set(x) }
            var random = RandomGenerator(seed: 1)
            run { layer.forward($0, mode: .inference, random: &random) }
            return output.array
        }

        /// The input gradients after backward(gy); nil for inputs without one.
        @discardableResult
        func backward(_ gy: [Float]) -> [[Float]?] {
            gradOutput.set(gy)
            run { layer.backward($0, accumulateInputGradient: accumulates.first ?? false) }
            return gradInputs.map { $0?.array }
        }
    }

    /// A [2, 2, 3] and a [1, 2, 3] sample: channels 0–1 from the first, channel 2 from the second.
    func testConcatenatesChannelsSampleBySample() throws {
        let layer = try Concat(inputShapes: [[2, 2, 3], [1, 2, 3]])
        XCTAssertEqual(layer.kind, "concat")
        XCTAssertEqual(layer.outputShape, [3, 2, 3])
        let runner = try Runner(layer, batch: 2)
        let a = (0..<24).map { Float($0) }, b = (0..<12).map { Float(100 + $0) }
        let y = runner.forward([a, b])
        XCTAssertEqual(y, Array(a[0..<12]) + Array(b[0..<6]) + Array(a[12..<24]) + Array(b[6..<12]))
    }

    func testThreeInputsAndVectors() throws {
        let layer = try Concat(inputShapes: [[2], [3], [1]])
        XCTAssertEqual(layer.outputShape, [6])
        let runner = try Runner(layer, batch: 2)
        XCTAssertEqual(runner.forward([[1, 2, 3, 4], [5, 6, 7, 8, 9, 10], [11, 12]]),
                       [1, 2, 5, 6, 7, 11, 3, 4, 8, 9, 10, 12])
        let signals = try Concat(inputShapes: [[4, 16], [4, 16], [8, 16]])
        XCTAssertEqual(signals.outputShape, [16, 16])
    }

    /// Each input receives its block of dy. Input 0 overwrites, input 1 adds to what another
    /// consumer wrote, and an input without a gradient (the model input) is skipped.
    func testBackwardSplitsHonouringAccumulateFlagsAndNilGradients() throws {
        let layer = try Concat(inputShapes: [[1, 2], [2, 2], [1, 2]])
        let runner = try Runner(layer, batch: 2, withGradient: [true, true, false])
        runner.forward([[Float](repeating: 0, count: 4), [Float](repeating: 0, count: 8), [Float](repeating: 0, count: 4)])
        runner.accumulates = [false, true, false]
        runner.gradInputs[0]!.pointer.update(repeating: .nan, count: 4)
        runner.gradInputs[1]!.set([Float](repeating: 1000, count: 8))
        let gy = (0..<16).map { Float($0) }
        let grads = runner.backward(gy)
        XCTAssertEqual(grads[0], [0, 1, 8, 9])
        XCTAssertEqual(grads[1], [1002, 1003, 1004, 1005, 1010, 1011, 1012, 1013])
        XCTAssertNil(grads[2])
        // Flags swapped: input 0 now adds, input 1 overwrites.
        runner.accumulates = [true, false, false]
        let again = runner.backward(gy)
        XCTAssertEqual(again[0], [0, 2, 16, 18])
        XCTAssertEqual(again[1], [2, 3, 4, 5, 10, 11, 12, 13])
    }

    func testGradientsMatchFiniteDifferences() throws {
        let layer = try Concat(inputShapes: [[2, 3, 2], [3, 3, 2]])
        let runner = try Runner(layer, batch: 2)
        let a = randomValues(24, -1, 1, seed: 1), b = randomValues(36, -1, 1, seed: 2)
        let gy = randomValues(60, -1, 1, seed: 3)
        runner.forward([a, b])
        let grads = runner.backward(gy)
        let weighted = { (xs: [[Float]]) -> Double in
            zip(runner.forward(xs), gy).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        GradientCheck.check("concat dx0", at: a, gradient: grads[0]!) { weighted([$0, b]) }
        GradientCheck.check("concat dx1", at: b, gradient: grads[1]!) { weighted([a, $0]) }
    }

    func testRejectsMismatchedSpatialShapesNamingBoth() {
        let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in
            try Concat(inputShapes: [[4, 8, 8], [2, 8, 7]])
        }
        let message = error?.message ?? ""
        XCTAssertTrue(message.contains("[4, 8, 8]") && message.contains("[2, 8, 7]"), message)
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Concat(inputShapes: [[4, 8, 8], [4, 8]]) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Concat(inputShapes: [[4, 8, 8]]) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Concat(inputShapes: [[4, 8], []]) }
    }
}
