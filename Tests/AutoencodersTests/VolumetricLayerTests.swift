import XCTest
@testable import Autoencoders

/// The 3-D layers (NCDHW): convolution and transposed convolution on the generalised im2col,
/// max/avg pooling, max unpooling, nearest upsampling and bed of nails, batch norm on volumes,
/// group norm (any rank) and the residual `add` merge. PyTorch golden values where a fixture
/// exists, directional finite differences for every layer.
final class VolumetricLayerTests: XCTestCase {
    private func int(_ h: JSONObject, _ key: String) -> Int { h[key]?.intValue ?? -1 }

    // MARK: Golden

    func testConv3dMatchesPyTorch() throws {
        for name in ["conv3d_k3s1p1", "conv3d_k3s2p1"] {
            let h = try Fixtures.hyperparameters(name)
            let xShape = try Fixtures.shape(name, "x")
            let layer = try Convolution(inputShape: Array(xShape.dropFirst()), filters: int(h, "out_channels"),
                                        kernel: int(h, "kernel_size"), stride: int(h, "stride"), padding: int(h, "padding"),
                                        dilation: int(h, "dilation"))
            XCTAssertEqual(layer.kind, "conv3d")
            XCTAssertEqual(layer.parameterDeclarations[0].shape, try Fixtures.shape(name, "w"))
            XCTAssertEqual([xShape[0]] + layer.outputShape, try Fixtures.shape(name, "y"), name)
            try assertMatchesFixture(layer, name, batch: xShape[0])
        }
    }

    func testConvTranspose3dMatchesPyTorch() throws {
        for name in ["conv_transpose3d_k2s2", "conv_transpose3d_k3s2p1_op1"] {
            let h = try Fixtures.hyperparameters(name)
            let xShape = try Fixtures.shape(name, "x")
            let layer = try TransposedConvolution(inputShape: Array(xShape.dropFirst()), filters: int(h, "out_channels"),
                                                  kernel: int(h, "kernel_size"), stride: int(h, "stride"), padding: int(h, "padding"),
                                                  outputPadding: int(h, "output_padding"), dilation: int(h, "dilation"))
            XCTAssertEqual(layer.kind, "conv_transpose3d")
            XCTAssertEqual(layer.parameterDeclarations[0].shape, try Fixtures.shape(name, "w"))
            XCTAssertEqual([xShape[0]] + layer.outputShape, try Fixtures.shape(name, "y"), name)
            try assertMatchesFixture(layer, name, batch: xShape[0])
        }
    }

    /// y, the indices (exactly, ties included: the first maximum wins) and gx.
    func testMaxPool3dMatchesPyTorch() throws {
        for name in ["max_pool3d_k2s2_indices", "max_pool3d_ties"] {
            let h = try Fixtures.hyperparameters(name)
            let xShape = try Fixtures.shape(name, "x")
            let layer = try MaxPool(kernel: int(h, "kernel_size"), stride: int(h, "stride"), padding: int(h, "padding"),
                                    inputShape: Array(xShape.dropFirst()))
            XCTAssertEqual(layer.kind, "max_pool3d")
            XCTAssertEqual([xShape[0]] + layer.outputShape, try Fixtures.shape(name, "y"), name)
            let runner = try LayerRunner(layer, batch: xShape[0])
            try Fixtures.assertGolden(runner.forward(try Fixtures.values(name, "x")), name, "y")
            let view = MaxPool.indices(in: runner.scratch.pointer)
            XCTAssertEqual((0..<runner.output.count).map { Int(view[$0]) }, try Fixtures.integers(name, "indices"), name)
            try Fixtures.assertGolden(runner.backward(try Fixtures.values(name, "gy")), name, "gx")
        }
    }

    func testMaxUnpool3dMatchesPyTorch() throws {
        let name = "max_unpool3d"
        let xShape = try Fixtures.shape(name, "x")
        let size = try XCTUnwrap(Fixtures.hyperparameters(name)["output_size"]?.arrayValue?.compactMap(\.intValue))
        let layer = try MaxUnpool(inputShape: Array(xShape.dropFirst()), outputShape: [xShape[1]] + size)
        XCTAssertEqual(layer.kind, "max_unpool3d")
        let scratch = try FloatBuffer(count: xShape.reduce(1, *))
        let view = MaxPool.indices(in: scratch.pointer)
        for (i, index) in try Fixtures.integers(name, "indices").enumerated() { view[i] = Int32(index) }
        let runner = try LayerRunner(layer, batch: xShape[0], links: [scratch])
        try Fixtures.assertGolden(runner.forward(try Fixtures.values(name, "x")), name, "y")
        try Fixtures.assertGolden(runner.backward(try Fixtures.values(name, "gy")), name, "gx")
    }

    func testAvgPool3dMatchesPyTorch() throws {
        let name = "avg_pool3d_k2s2"
        let xShape = try Fixtures.shape(name, "x")
        let layer = try AvgPool(kernel: 2, stride: 2, inputShape: Array(xShape.dropFirst()))
        XCTAssertEqual(layer.kind, "avg_pool3d")
        let runner = try LayerRunner(layer, batch: xShape[0])
        try Fixtures.assertGolden(runner.forward(try Fixtures.values(name, "x")), name, "y")
        try Fixtures.assertGolden(runner.backward(try Fixtures.values(name, "gy")), name, "gx")
    }

    func testNearestUpsample3dMatchesPyTorch() throws {
        let name = "upsample_nearest3d_x2"
        let xShape = try Fixtures.shape(name, "x")
        let layer = try NearestUpsample(scale: 2, inputShape: Array(xShape.dropFirst()))
        XCTAssertEqual(layer.kind, "upsample_nearest3d")
        XCTAssertEqual([xShape[0]] + layer.outputShape, try Fixtures.shape(name, "y"))
        let runner = try LayerRunner(layer, batch: xShape[0])
        try Fixtures.assertGolden(runner.forward(try Fixtures.values(name, "x")), name, "y")
        try Fixtures.assertGolden(runner.backward(try Fixtures.values(name, "gy")), name, "gx")
    }

    /// batch_norm3d_train: x [3, 4, 3, 2, 4]; the layer is rank-agnostic.
    func testBatchNorm3dMatchesPyTorch() throws {
        let caseName = "batch_norm3d_train"
        let runner = try LayerRunner(BatchNorm(shape: [4, 3, 2, 4]), batch: 3)
        for (index, name) in ["gamma", "beta", "running_mean", "running_var"].enumerated() {
            runner.setParameter(index, try Fixtures.values(caseName, name))
        }
        let x = try Fixtures.values(caseName, "x")
        try Fixtures.assertGolden(runner.forward(x, mode: .training), caseName, "y")
        try Fixtures.assertGolden(runner.parameters[2].array, caseName, "running_mean_new")
        try Fixtures.assertGolden(runner.parameters[3].array, caseName, "running_var_new")
        try Fixtures.assertGolden(runner.backward(try Fixtures.values(caseName, "gy")), caseName, "gx")
        try Fixtures.assertGolden(runner.gradients[0].array, caseName, "ggamma")
        try Fixtures.assertGolden(runner.gradients[1].array, caseName, "gbeta")
        try Fixtures.assertGolden(runner.forward(x, mode: .inference), caseName, "y_eval")
    }

    /// group_norm: x [2, 6, 3, 4, 5], 2 groups of 3 channels; the group statistics too.
    func testGroupNormMatchesPyTorch() throws {
        let caseName = "group_norm"
        let runner = try LayerRunner(GroupNorm(shape: [6, 3, 4, 5], groups: 2), batch: 2)
        runner.setParameter(0, try Fixtures.values(caseName, "gamma"))
        runner.setParameter(1, try Fixtures.values(caseName, "beta"))
        let x = try Fixtures.values(caseName, "x")
        for mode in [ForwardMode.training, .inference] {
            try Fixtures.assertGolden(runner.forward(x, mode: mode), caseName, "y")
        }
        // Scratch: means [2, 2], then 1/√(σ² + ε) [2, 2].
        let scratch = runner.scratch.array
        assertClose(Array(scratch[0..<4]), try Fixtures.values(caseName, "group_mean"), relative: 1e-5, "group_mean")
        let variance = scratch[4..<8].map { 1 / ($0 * $0) - 1e-5 }
        assertClose(variance, try Fixtures.values(caseName, "group_var_biased"), relative: 1e-4, "group_var_biased")
        try Fixtures.assertGolden(runner.backward(try Fixtures.values(caseName, "gy")), caseName, "gx")
        try Fixtures.assertGolden(runner.gradients[0].array, caseName, "ggamma")
        try Fixtures.assertGolden(runner.gradients[1].array, caseName, "gbeta")
    }

    // MARK: Finite differences

    func testConvolutionsMatchFiniteDifferences() throws {
        let layers: [Layer] = [
            try Convolution(inputShape: [2, 4, 5, 3], filters: 3, kernel: 3, padding: 1),
            try Convolution(inputShape: [2, 5, 4, 6], filters: 2, kernel: 3, stride: 2, padding: 1),
            try Convolution(inputShape: [1, 6, 5, 5], filters: 2, kernel: 2, padding: 1, dilation: 2, bias: false),
            try Convolution(inputShape: [3, 2, 3, 4], filters: 2, kernel: 1),
            try TransposedConvolution(inputShape: [3, 2, 3, 2], filters: 2, kernel: 2, stride: 2),
            try TransposedConvolution(inputShape: [2, 2, 3, 2], filters: 2, kernel: 3, stride: 2, padding: 1, outputPadding: 1),
        ]
        for (index, layer) in layers.enumerated() {
            try checkGradients("\(layer.kind) #\(index)", layer, batch: 2, seed: UInt64(300 + 10 * index))
        }
    }

    func testPoolingAndUpsamplingMatchFiniteDifferences() throws {
        // Max pooling away from ties: distinct values spaced further apart than the step.
        let pool = try MaxPool(kernel: 2, inputShape: [2, 4, 4, 6])
        let runner = try LayerRunner(pool, batch: 2)
        var random = RandomGenerator(seed: 5)
        var x = (0..<runner.input.count).map { Float($0) * 0.1 - 19 }
        for i in stride(from: x.count - 1, to: 0, by: -1) { x.swapAt(i, random.below(i + 1)) }
        let gy = randomValues(runner.output.count, -1, 1, seed: 6)
        runner.forward(x)
        GradientCheck.check("max_pool3d dx", at: x, gradient: runner.backward(gy), step: 1e-3) { runner.weightedOutput($0, gy) }
        let layers: [Layer] = [
            try AvgPool(kernel: 3, stride: 2, padding: 1, inputShape: [2, 5, 4, 5]),
            try NearestUpsample(scale: 2, inputShape: [2, 2, 3, 2]),
            try BedOfNails(scale: 2, inputShape: [2, 2, 3, 2]),
        ]
        for (index, layer) in layers.enumerated() {
            try checkGradients("\(layer.kind)", layer, batch: 2, seed: UInt64(400 + 10 * index))
        }
    }

    func testGroupNormMatchesFiniteDifferences() throws {
        for (shape, groups) in [([6, 3, 2, 4], 3), ([4, 5, 3], 2), ([4, 7], 4), ([6], 1), ([4, 2, 2, 2], 4)] {
            try checkGradients("group_norm \(shape) G\(groups)", GroupNorm(shape: shape, groups: groups), batch: 2,
                               seed: UInt64(500 + shape.reduce(0, +)))
        }
    }

    func testAddSumsAndHandsEveryInputTheGradient() throws {
        let layer = try Add(inputShapes: [[2, 1, 1, 2], [2, 1, 1, 2]])
        XCTAssertEqual(layer.outputShape, [2, 1, 1, 2])
        var a: [Float] = [1, 2, 3, 4], b: [Float] = [10, 20, 30, 40], y = [Float](repeating: 0, count: 4)
        var dy: [Float] = [1, -1, 2, -2], da: [Float] = [5, 5, 5, 5], db = [Float](repeating: 9, count: 4)
        try a.withUnsafeMutableBufferPointer { a throws in
            try b.withUnsafeMutableBufferPointer { b in
                try y.withUnsafeMutableBufferPointer { y in
                    try dy.withUnsafeMutableBufferPointer { dy in
                        try da.withUnsafeMutableBufferPointer { da in
                            try db.withUnsafeMutableBufferPointer { db in
                                let inputs = [a.baseAddress!, b.baseAddress!], gradients = [da.baseAddress, db.baseAddress]
                                let accumulate = [true, false]
                                let scratch = try FloatBuffer(count: 1)
                                try inputs.withUnsafeBufferPointer { inputs in
                                    try gradients.withUnsafeBufferPointer { gradients in
                                        accumulate.withUnsafeBufferPointer { accumulate in
                                            let io = LayerBuffers(inputs: inputs, output: y.baseAddress!, gradInputs: gradients,
                                                                  accumulatesGradInputs: accumulate, gradOutput: dy.baseAddress!,
                                                                  scratch: scratch.pointer, links: UnsafeBufferPointer(start: nil, count: 0), batch: 1)
                                            var random = RandomGenerator(seed: 1)
                                            layer.forward(io, mode: .training, random: &random)
                                            layer.backward(io, accumulateInputGradient: false)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        XCTAssertEqual(y, [11, 22, 33, 44])
        XCTAssertEqual(da, [6, 4, 7, 3], "added onto what another consumer wrote")
        XCTAssertEqual(db, [1, -1, 2, -2], "written")
        XCTAssertThrowsError(try Add(inputShapes: [[2, 2], [2, 3]]))
        XCTAssertThrowsError(try Add(inputShapes: [[2, 2]]))
    }

    // MARK: Depth blocks

    /// Volumes whose columns exceed the block budget are convolved a few depth slices at a time:
    /// the blocked forward equals the definition (a direct sum), and the gradients match finite
    /// differences, for a strided convolution and a transposed one.
    func testLargeVolumesAreConvolvedInDepthBlocks() throws {
        let layer = try Convolution(inputShape: [20, 6, 50, 50], filters: 2, kernel: 3, stride: 2, padding: 1)
        XCTAssertEqual(layer.outputShape, [2, 3, 25, 25])
        XCTAssertLessThan(layer.geometry.depthBlock, layer.geometry.gridDepth, "several blocks")
        let runner = try LayerRunner(layer, batch: 1)
        let w = randomValues(2 * 20 * 27, -1, 1, seed: 60), b: [Float] = [0.5, -0.25]
        runner.setParameter(0, w)
        runner.setParameter(1, b)
        let x = randomValues(20 * 6 * 50 * 50, -1, 1, seed: 61)
        let y = runner.forward(x)
        var expected = [Float](repeating: 0, count: y.count)
        for o in 0..<2 {
            for d in 0..<3 {
                for h in 0..<25 {
                    for v in 0..<25 {
                        var sum = Double(b[o])
                        for c in 0..<20 {
                            for a in 0..<3 {
                                let z = 2 * d - 1 + a
                                guard z >= 0, z < 6 else { continue }
                                for i in 0..<3 {
                                    let r = 2 * h - 1 + i
                                    guard r >= 0, r < 50 else { continue }
                                    for j in 0..<3 {
                                        let q = 2 * v - 1 + j
                                        guard q >= 0, q < 50 else { continue }
                                        sum += Double(w[(((o * 20 + c) * 3 + a) * 3 + i) * 3 + j]) * Double(x[((c * 6 + z) * 50 + r) * 50 + q])
                                    }
                                }
                            }
                        }
                        expected[((o * 3 + d) * 25 + h) * 25 + v] = Float(sum)
                    }
                }
            }
        }
        assertClose(y, expected, relative: 1e-5, "blocked conv3d against the definition")
        let small = try Convolution(inputShape: [20, 3, 25, 25], filters: 2, kernel: 3, padding: 1)
        XCTAssertLessThan(small.geometry.depthBlock, small.geometry.gridDepth, "several blocks")
        try checkGradients("blocked conv3d", small, batch: 1, seed: 62)
        let transposed = try TransposedConvolution(inputShape: [2, 3, 25, 25], filters: 20, kernel: 3, padding: 1)
        XCTAssertLessThan(transposed.geometry.depthBlock, transposed.geometry.gridDepth, "several blocks")
        try checkGradients("blocked conv_transpose3d", transposed, batch: 1, seed: 63)
    }

    // MARK: Consistency with the 2-D code

    /// A volume whose d slices are equal, under a k×k×k kernel of depth k = d without depth
    /// padding, is the image convolved with the kernel summed over its depth taps.
    func testConv3dOfRepeatedSlicesIsConv2dWithTheDepthSummedKernel() throws {
        let volume = try LayerRunner(Convolution(inputShape: [2, 3, 5, 4], filters: 3, kernel: 3), batch: 1)
        let image = try LayerRunner(Convolution(inputShape: [2, 5, 4], filters: 3, kernel: 3), batch: 1)
        let w3 = randomValues(3 * 2 * 27, -1, 1, seed: 9), b = randomValues(3, -1, 1, seed: 10)
        var w2 = [Float](repeating: 0, count: 3 * 2 * 9)
        for oc in 0..<6 {
            for a in 0..<3 {
                for t in 0..<9 { w2[oc * 9 + t] += w3[(oc * 3 + a) * 9 + t] }
            }
        }
        volume.setParameter(0, w3)
        volume.setParameter(1, b)
        image.setParameter(0, w2)
        image.setParameter(1, b)
        let slice = randomValues(2 * 20, -1, 1, seed: 11)
        var x3: [Float] = []
        for c in 0..<2 {
            for _ in 0..<3 { x3 += slice[(c * 20)..<((c + 1) * 20)] }
        }
        XCTAssertEqual(volume.layer.outputShape, [3, 1, 3, 2])
        assertClose(volume.forward(x3), image.forward(slice), relative: 1e-5, "conv3d vs conv2d")
    }

    // MARK: Bad input

    func testRejectsBadConfigurations() throws {
        let groups = assertThrows(.invalidArgument) { () throws(AutoencoderError) in try GroupNorm(shape: [6, 4, 4, 4], groups: 4) }
        XCTAssertTrue(groups?.message.contains("groups (4)") == true && groups?.message.contains("6 channels") == true,
                      groups?.message ?? "")
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try GroupNorm(shape: [6, 4], groups: 0) }
        let kernel = assertThrows(.invalidArgument) { () throws(AutoencoderError) in
            try Convolution(inputShape: [1, 2, 8, 8], filters: 1, kernel: 3)
        }
        XCTAssertTrue(kernel?.message.contains("depth 2") == true, kernel?.message ?? "")
        let pool = assertThrows(.invalidArgument) { () throws(AutoencoderError) in try MaxPool(kernel: 4, inputShape: [1, 8, 3, 8]) }
        XCTAssertTrue(pool?.message.contains("height 3") == true, pool?.message ?? "")
    }

    /// In a spec, a 3-D pooling whose windows do not tile the volume, and a group count that does
    /// not divide the channels, are errors naming the entry and the sizes.
    func testSpecErrorsNameTheEntryAndTheSizes() throws {
        func spec(_ encoder: String) -> String {
            #"{"input_shape": [1, 6, 8, 8], "encoder": \#(encoder), "decoder": [{"type": "conv3d", "filters": 1, "kernel": 1}]}"#
        }
        let pooling = assertThrows(.invalidSpec) { () throws(AutoencoderError) in
            try Model(spec: ModelSpec(json: spec(#"[{"type": "max_pool3d", "kernel": 4}, {"type": "upsample_nearest3d", "scale": 4}]"#)))
        }
        XCTAssertTrue(pooling?.message.contains("encoder[0]") == true && pooling?.message.contains("depth 6") == true, pooling?.message ?? "")
        let groups = assertThrows(.invalidSpec) { () throws(AutoencoderError) in
            try Model(spec: ModelSpec(json: spec(#"[{"type": "conv3d", "filters": 6, "kernel": 3, "padding": 1}, {"type": "group_norm", "groups": 4}]"#)))
        }
        XCTAssertTrue(groups?.message.contains("encoder[1]") == true && groups?.message.contains("6 channels") == true, groups?.message ?? "")
    }
}
