import XCTest
@testable import Autoencoders

/// MaxUnpool, BedOfNails and NearestUpsample (Sources/Autoencoders/Layers/Unpooling.swift): max
/// unpooling reads its pooling layer's indices through a link and unpools to the pre-pool size;
/// 1-D as 2-D with H = 1.
final class UnpoolingTests: XCTestCase {
    /// A scratch buffer laid out as a MaxPool's, holding `indices`.
    private func poolScratch(_ indices: [Int]) throws -> FloatBuffer {
        let scratch = try FloatBuffer(count: indices.count)
        let view = MaxPool.indices(in: scratch.pointer)
        for (i, index) in indices.enumerated() { view[i] = Int32(index) }
        return scratch
    }

    // MARK: Max unpooling

    func testMaxUnpoolMatchesPyTorch() throws {
        for name in ["max_unpool2d_k2s2_7x5", "max_unpool2d_k2s2_8x6"] {
            let xShape = try Fixtures.shape(name, "x")
            let size = try XCTUnwrap(Fixtures.hyperparameters(name)["output_size"]?.arrayValue?.compactMap(\.intValue))
            let layer = try MaxUnpool(inputShape: Array(xShape.dropFirst()), outputShape: [xShape[1]] + size)
            XCTAssertEqual(layer.kind, "max_unpool2d")
            XCTAssertEqual([xShape[0]] + layer.outputShape, try Fixtures.shape(name, "y"))
            let runner = try LayerRunner(layer, batch: xShape[0], links: [poolScratch(Fixtures.integers(name, "indices"))])
            try Fixtures.assertGolden(runner.forward(try Fixtures.values(name, "x")), name, "y")
            try Fixtures.assertGolden(runner.backward(try Fixtures.values(name, "gy")), name, "gx")
        }
    }

    /// A 3×2 map pooled from 7×5 unpools to 7×5 (its indices are flat in width 5), not to
    /// (H − 1)·s + k = 6×4.
    func testMaxUnpoolRestoresThePrePoolShape() throws {
        let pool = try MaxPool(kernel: 2, inputShape: [3, 7, 5])
        XCTAssertEqual(pool.outputShape, [3, 3, 2])
        let unpool = try MaxUnpool(undoing: pool)
        XCTAssertEqual(unpool.inputShapes, [[3, 3, 2]])
        XCTAssertEqual(unpool.outputShape, [3, 7, 5])
        XCTAssertTrue(unpool.accepts(indicesFrom: pool))
        XCTAssertFalse(unpool.accepts(indicesFrom: try MaxPool(kernel: 2, inputShape: [3, 6, 4])), "another input shape")
        XCTAssertFalse(unpool.accepts(indicesFrom: try MaxPool(kernel: 2, inputShape: [2, 7, 5])), "other channels")
        XCTAssertFalse(unpool.accepts(indicesFrom: try AvgPool(kernel: 2, inputShape: [3, 7, 5])), "not a max pool")
        XCTAssertEqual(try MaxUnpool(undoing: MaxPool(kernel: 3, stride: 2, padding: 1, inputShape: [2, 11])).kind, "max_unpool1d")
    }

    /// MaxPool → MaxUnpool wired through a link: every maximum goes back to where it came from and
    /// everything else is zero; gradients flow back to the maxima only.
    func testPoolThenUnpoolThroughALinkRoundTripsTheMaxima() throws {
        for name in ["max_pool2d_k2s2", "max_pool2d_k3s2p1", "max_pool2d_k2s2_ties"] {
            let xShape = try Fixtures.shape(name, "x"), batch = xShape[0]
            let h = try Fixtures.hyperparameters(name)
            let kernel = try XCTUnwrap(h["kernel_size"]?.intValue)
            let pool = try LayerRunner(MaxPool(kernel: kernel, stride: h["stride"]?.intValue, padding: h["padding"]?.intValue ?? 0,
                                               inputShape: Array(xShape.dropFirst())), batch: batch)
            let unpool = try LayerRunner(MaxUnpool(undoing: pool.layer as! MaxPool), batch: batch, links: [pool.scratch])
            let x = try Fixtures.values(name, "x")
            let restored = unpool.forward(pool.forward(x))
            // The reference from PyTorch's own indices.
            let plane = xShape[2] * xShape[3], pooledPlane = pool.layer.outputSize / xShape[1]
            var expected = [Float](repeating: 0, count: x.count)
            for (o, index) in try Fixtures.integers(name, "indices").enumerated() {
                let at = (o / pooledPlane) * plane + index
                expected[at] = x[at]
            }
            XCTAssertEqual(restored, expected, name)
            // Backward through both: gy lands on each chosen maximum, once per window that chose it.
            let gy = randomValues(x.count, -1, 1, seed: 30)
            let gx = pool.backward(unpool.backward(gy))
            var chosen = [Float](repeating: 0, count: x.count)
            for (o, index) in try Fixtures.integers(name, "indices").enumerated() { chosen[(o / pooledPlane) * plane + index] += 1 }
            XCTAssertEqual(gx, zip(gy, chosen).map { $0 * $1 }, name)
        }
    }

    /// Unpooling is linear in x for fixed indices.
    func testMaxUnpoolMatchesFiniteDifferences() throws {
        let name = "max_unpool2d_k2s2_7x5"
        let runner = try LayerRunner(MaxUnpool(inputShape: [3, 3, 2], outputShape: [3, 7, 5]), batch: 2,
                                     links: [poolScratch(Fixtures.integers(name, "indices"))])
        let x = randomValues(runner.input.count, -2, 2, seed: 31), gy = randomValues(runner.output.count, -1, 1, seed: 32)
        runner.forward(x)
        let gx = runner.backward(gy)
        GradientCheck.check("max_unpool2d dx", at: x, gradient: gx) { runner.weightedOutput($0, gy) }
    }

    // MARK: Bed of nails and nearest upsampling

    func testBedOfNailsMatchesPyTorch() throws {
        let name = "bed_of_nails_unpool2d"
        let xShape = try Fixtures.shape(name, "x")
        let scale = try XCTUnwrap(Fixtures.hyperparameters(name)["scale"]?.intValue)
        let layer = try BedOfNails(scale: scale, inputShape: Array(xShape.dropFirst()))
        XCTAssertEqual(layer.kind, "bed_of_nails2d")
        XCTAssertEqual([xShape[0]] + layer.outputShape, try Fixtures.shape(name, "y"))
        let runner = try LayerRunner(layer, batch: xShape[0])
        try Fixtures.assertGolden(runner.forward(try Fixtures.values(name, "x")), name, "y")
        try Fixtures.assertGolden(runner.backward(try Fixtures.values(name, "gy")), name, "gx")
    }

    func testNearestUpsampleMatchesPyTorch() throws {
        let name = "upsample_nearest2d_x2"
        let xShape = try Fixtures.shape(name, "x")
        let scale = try XCTUnwrap(Fixtures.hyperparameters(name)["scale_factor"]?.intValue)
        let layer = try NearestUpsample(scale: scale, inputShape: Array(xShape.dropFirst()))
        XCTAssertEqual(layer.kind, "upsample_nearest2d")
        XCTAssertEqual([xShape[0]] + layer.outputShape, try Fixtures.shape(name, "y"))
        let runner = try LayerRunner(layer, batch: xShape[0])
        try Fixtures.assertGolden(runner.forward(try Fixtures.values(name, "x")), name, "y")
        try Fixtures.assertGolden(runner.backward(try Fixtures.values(name, "gy")), name, "gx")
    }

    func testScaleThreeByHand() throws {
        let nails = try LayerRunner(BedOfNails(scale: 3, inputShape: [1, 1, 2]), batch: 1)
        XCTAssertEqual(nails.forward([1, 2]), [1, 0, 0, 2, 0, 0,
                                               0, 0, 0, 0, 0, 0,
                                               0, 0, 0, 0, 0, 0])
        XCTAssertEqual(nails.backward((1...18).map { Float($0) }), [1, 4])
        let nearest = try LayerRunner(NearestUpsample(scale: 3, inputShape: [1, 2]), batch: 1)
        XCTAssertEqual(nearest.forward([1, 2]), [1, 1, 1, 2, 2, 2])
        XCTAssertEqual(nearest.backward([1, 2, 3, 4, 5, 6]), [6, 15])
        // Scale 1 is the identity.
        let x = randomValues(2 * 3 * 4 * 5, -1, 1, seed: 33)
        for layer in try [BedOfNails(scale: 1, inputShape: [3, 4, 5]) as Layer, NearestUpsample(scale: 1, inputShape: [3, 4, 5])] {
            let runner = try LayerRunner(layer, batch: 2)
            XCTAssertEqual(runner.forward(x), x, layer.kind)
            XCTAssertEqual(runner.backward(x), x, layer.kind)
        }
    }

    func testUpsamplingMatchesFiniteDifferences() throws {
        for layer in try [BedOfNails(scale: 2, inputShape: [3, 3, 2]) as Layer, BedOfNails(scale: 3, inputShape: [2, 5]),
                          NearestUpsample(scale: 2, inputShape: [3, 3, 2]), NearestUpsample(scale: 3, inputShape: [2, 5])] {
            let runner = try LayerRunner(layer, batch: 2)
            let x = randomValues(runner.input.count, -2, 2, seed: 34), gy = randomValues(runner.output.count, -1, 1, seed: 35)
            runner.forward(x)
            let gx = runner.backward(gy)
            GradientCheck.check("\(layer.kind) dx", at: x, gradient: gx) { runner.weightedOutput($0, gy) }
        }
    }

    // MARK: 1-D

    /// Each 1-D layer on [C, L] is the 2-D layer on [C, 1, L]: identical for max unpooling; for
    /// the upsamplings, row 0 of the s output rows (bed of nails: the others are zero; nearest: all equal).
    func testOneDimensionalEqualsTwoDimensionalWithHeightOne() throws {
        let channels = 3, length = 5, batch = 2, scale = 2
        let x = randomValues(batch * channels * length, -1, 1, seed: 36)
        // Max unpooling to length 9, with indices from a 1-D pool.
        let pool = try LayerRunner(MaxPool(kernel: 3, stride: 2, padding: 1, inputShape: [channels, 9]), batch: batch)
        XCTAssertEqual(pool.layer.outputShape, [channels, length])
        pool.forward(randomValues(pool.input.count, -1, 1, seed: 37))
        let one = try LayerRunner(MaxUnpool(inputShape: [channels, length], outputShape: [channels, 9]), batch: batch, links: [pool.scratch])
        let two = try LayerRunner(MaxUnpool(inputShape: [channels, 1, length], outputShape: [channels, 1, 9]), batch: batch, links: [pool.scratch])
        XCTAssertEqual(one.layer.kind, "max_unpool1d")
        XCTAssertEqual(one.forward(x), two.forward(x))
        let gyUnpool = randomValues(one.output.count, -1, 1, seed: 38)
        XCTAssertEqual(one.backward(gyUnpool), two.backward(gyUnpool))

        let planes = batch * channels, wide = length * scale
        /// Row r of each plane of a [planes, scale, wide] array.
        func row(_ values: [Float], _ r: Int) -> [Float] {
            var result: [Float] = []
            for p in 0..<planes {
                let start: Int = (p * scale + r) * wide
                result += values[start..<(start + wide)]
            }
            return result
        }
        /// gy on row 0 of each plane, zeros on the other rows.
        func onRowZero(_ gy: [Float]) -> [Float] {
            var result: [Float] = []
            for p in 0..<planes {
                result += gy[(p * wide)..<((p + 1) * wide)]
                result += [Float](repeating: 0, count: (scale - 1) * wide)
            }
            return result
        }
        let gy = randomValues(planes * wide, -1, 1, seed: 39)
        for (oneD, twoD) in try [(BedOfNails(scale: scale, inputShape: [channels, length]) as Layer,
                                  BedOfNails(scale: scale, inputShape: [channels, 1, length]) as Layer),
                                 (NearestUpsample(scale: scale, inputShape: [channels, length]),
                                  NearestUpsample(scale: scale, inputShape: [channels, 1, length]))] {
            XCTAssertEqual(oneD.outputShape, [channels, wide])
            XCTAssertEqual(twoD.outputShape, [channels, scale, wide])
            let one = try LayerRunner(oneD, batch: batch), two = try LayerRunner(twoD, batch: batch)
            let y1 = one.forward(x), y2 = two.forward(x)
            XCTAssertEqual(row(y2, 0), y1, oneD.kind)
            let other = oneD.kind.hasPrefix("bed") ? [Float](repeating: 0, count: y1.count) : y1
            for r in 1..<scale { XCTAssertEqual(row(y2, r), other, "\(oneD.kind) row \(r)") }
            XCTAssertEqual(one.backward(gy), two.backward(onRowZero(gy)), oneD.kind)
        }
        // Against the definitions.
        let nails = try LayerRunner(BedOfNails(scale: scale, inputShape: [channels, length]), batch: batch)
        XCTAssertEqual(nails.layer.kind, "bed_of_nails1d")
        XCTAssertEqual(nails.forward(x), x.flatMap { [$0] + [Float](repeating: 0, count: scale - 1) })
        let nearest = try LayerRunner(NearestUpsample(scale: scale, inputShape: [channels, length]), batch: batch)
        XCTAssertEqual(nearest.layer.kind, "upsample_nearest1d")
        XCTAssertEqual(nearest.forward(x), x.flatMap { [Float](repeating: $0, count: scale) })
    }

    // MARK: Contract with the graph

    /// Backward writes or adds the input gradient, and skips it when it is nil (the model input).
    func testInputGradientIsWrittenAddedOrSkipped() throws {
        let links = [try poolScratch(Fixtures.integers("max_unpool2d_k2s2_7x5", "indices"))]
        let cases: [(Layer, [FloatBuffer])] = try [
            (MaxUnpool(inputShape: [3, 3, 2], outputShape: [3, 7, 5]), links),
            (BedOfNails(scale: 2, inputShape: [3, 3, 2]), []),
            (NearestUpsample(scale: 3, inputShape: [3, 3, 2]), []),
            (NearestUpsample(scale: 2, inputShape: [3, 7]), []),
        ]
        for (layer, links) in cases {
            let runner = try LayerRunner(layer, batch: 2, links: links)
            runner.forward(randomValues(runner.input.count, -1, 1, seed: 40))
            let gy = randomValues(runner.output.count, -1, 1, seed: 41)
            let base = randomValues(runner.input.count, -1, 1, seed: 42)
            runner.gradInput.set(base)
            let gx = runner.backward(gy)
            runner.gradInput.set(base)
            XCTAssertEqual(runner.backward(gy, accumulate: true), zip(base, gx).map { $0 + $1 }, "\(layer.kind) accumulates")
            runner.gradInput.set(base)
            runner.backwardWithoutInputGradient(gy)
            XCTAssertEqual(runner.gradInput.array, base, "\(layer.kind) skips a nil input gradient")
        }
    }

    func testRejectsBadConfigurations() throws {
        for shape in [[12], [1, 2, 3, 4, 5], [0, 3, 3], [3, -1]] {
            assertThrows(.invalidArgument, { () throws(AutoencoderError) in try BedOfNails(scale: 2, inputShape: shape) })
            assertThrows(.invalidArgument, { () throws(AutoencoderError) in try NearestUpsample(scale: 2, inputShape: shape) })
            assertThrows(.invalidArgument, { () throws(AutoencoderError) in try MaxUnpool(inputShape: shape, outputShape: [3, 7, 5]) })
            assertThrows(.invalidArgument, { () throws(AutoencoderError) in try MaxUnpool(inputShape: [3, 3, 2], outputShape: shape) })
        }
        for scale in [0, -2] {
            if let error = assertThrows(.invalidArgument, { () throws(AutoencoderError) in try BedOfNails(scale: scale, inputShape: [3, 4, 4]) }) {
                XCTAssertTrue(error.message.hasPrefix("bed_of_nails2d: scale"), error.message)
            }
            if let error = assertThrows(.invalidArgument, { () throws(AutoencoderError) in try NearestUpsample(scale: scale, inputShape: [3, 4]) }) {
                XCTAssertTrue(error.message.hasPrefix("upsample_nearest1d: scale"), error.message)
            }
        }
        assertThrows(.invalidArgument, { () throws(AutoencoderError) in try NearestUpsample(scale: 1 << 20, inputShape: [1, 1 << 12, 1 << 12]) })
        assertThrows(.invalidArgument, { () throws(AutoencoderError) in try BedOfNails(scale: Int.max, inputShape: [1, 2]) })
        // Max unpooling keeps the rank and the channels.
        assertThrows(.invalidArgument, { () throws(AutoencoderError) in try MaxUnpool(inputShape: [3, 3, 2], outputShape: [3, 35]) })
        if let error = assertThrows(.invalidArgument, { () throws(AutoencoderError) in try MaxUnpool(inputShape: [3, 3, 2], outputShape: [2, 7, 5]) }) {
            XCTAssertTrue(error.message.hasPrefix("max_unpool2d: "), error.message)
        }
    }
}
