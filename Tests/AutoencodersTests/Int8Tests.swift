import CGemm
import XCTest
@testable import Autoencoders

/// int8 inference (Sources/Autoencoders/Quantization): the kernels against the portable one
/// (bit-identical integers), quantised models against their float originals, the model file
/// (format 5), the float fallback and its strict form, and the refusal of training.
final class Int8Tests: TemporaryDirectoryTestCase {
    static let denseSpec = """
        {"input_size": 50, "seed": 3,
         "encoder": [{"type": "dense", "units": 32, "activation": "relu"}, {"type": "dense", "units": 8, "activation": "relu"}],
         "decoder": [{"type": "dense", "units": 32, "activation": "relu"}, {"type": "dense", "units": 50}],
         "loss": "mse", "optimizer": {"type": "adam", "lr": 0.01}}
        """
    static let convSpec = """
        {"input_shape": [2, 10, 10], "seed": 4,
         "encoder": [{"type": "conv2d", "filters": 6, "kernel": 3, "padding": 1, "activation": "relu"},
                     {"type": "conv2d", "filters": 4, "kernel": 3, "stride": 2, "padding": 1, "activation": "relu"}],
         "decoder": [{"type": "upsample_nearest2d", "scale": 2},
                     {"type": "conv2d", "filters": 2, "kernel": 1}],
         "loss": "mse", "optimizer": {"type": "adam", "lr": 0.01}}
        """

    func testEveryKernelMatchesThePortableOneExactly() throws {
        var random = RandomGenerator(seed: 9)
        for (m, n, k) in [(1, 1, 1), (3, 5, 17), (7, 13, 64), (2, 4, 128), (5, 9, 200), (64, 33, 784), (17, 70, 100), (1, 7, 32768)] {
            let a = (0..<m * k).map { _ in UInt8(truncatingIfNeeded: Int(random.uniform(0, 256))) }
            // Extremes included: 255 · −128 is the largest product in magnitude.
            var b = (0..<n * k).map { _ in Int8(truncatingIfNeeded: Int(random.uniform(-128, 128))) }
            if b.count > 2 { b[0] = -128; b[1] = 127 }
            let reference = try Int8GEMM.multiply(kernel: "portable", m: m, n: n, k: k, a: a, b: b)
            // Spot-check the reference itself.
            var first: Int32 = 0
            for p in 0..<k { first += Int32(a[p]) * Int32(b[p]) }
            XCTAssertEqual(reference[0], first)
            for kernel in Int8GEMM.kernelNames where Int8GEMM.isSupported(kernel) {
                let result = try Int8GEMM.multiply(kernel: kernel, m: m, n: n, k: k, a: a, b: b)
                XCTAssertEqual(result, reference, "\(kernel) m \(m) n \(n) k \(k)")
            }
            if Int8GEMM.isSupported("avx512vnni") {
                XCTAssertEqual(try Int8GEMM.multiplyPacked(m: m, n: n, k: k, a: a, b: b), reference, "packed m \(m) n \(n) k \(k)")
            }
        }
        // All 255 against all −128 over k = 32768: the largest sums stay exact.
        let a = [UInt8](repeating: 255, count: 32768), b = [Int8](repeating: -128, count: 32768)
        for kernel in Int8GEMM.kernelNames where Int8GEMM.isSupported(kernel) {
            XCTAssertEqual(try Int8GEMM.multiply(kernel: kernel, m: 1, n: 1, k: 32768, a: a, b: b), [-255 * 128 * 32768], kernel)
        }
        if Int8GEMM.isSupported("avx512vnni") {
            XCTAssertEqual(try Int8GEMM.multiplyPacked(m: 1, n: 1, k: 32768, a: a, b: b), [-255 * 128 * 32768])
        }
    }

    /// The passes around the GEMM (range, quantisation, dequantisation) run in the vectors of the
    /// kernel in use; every kernel's must give the portable one's bits, at lengths that leave
    /// every kind of partial vector, on values that reach the rounding's ties and the clamps.
    func testThePassesAroundTheGEMMGiveThePortableBitsInEveryKernel() throws {
        let before = Int8GEMM.kernel
        defer { try? Int8GEMM.select(before) }
        var random = RandomGenerator(seed: 21)
        for count in [1, 7, 8, 15, 16, 17, 31, 33, 100, 784, 1001] {
            var x = (0..<count).map { _ in random.uniform(-3, 5) }
            // Ties of the rounding (x / scale = k + 0.5), both clamps, zeros and a huge value.
            for i in stride(from: 0, to: count, by: 3) { x[i] = [0.025, -0.075, 0, -0.0, 1e7, -1e7, 2.5, 0.0125][(i / 3) % 8] }
            let sums = (0..<count).map { _ in Int32(random.uniform(-5000, 5000)) }
            let accs = (0..<(2 * count)).map { _ in Int32(random.uniform(-1e6, 1e6)) }
            let scales = (0..<count).map { _ in random.uniform(1e-4, 1e-2) }
            let bias = (0..<count).map { _ in random.uniform(-1, 1) }
            func passes(_ kernel: String) throws -> (Float, Float, [UInt8], [Float], [Float]) {
                try Int8GEMM.select(kernel)
                var low: Float = 1, high: Float = -1
                aeg_range(count, x, 1, &low, &high)
                var q = [UInt8](repeating: 9, count: count + 5)
                aeg_quantize_u8(1, count, x, count, 1, 0.05, 17, &q, count + 5)
                // The batch's form: three rows (x, −x / 3, x · 7) with their own ranges, then with a fixed one.
                let rows = x + x.map { -$0 / 3 } + x.map { $0 * 7 }
                for fixed in [nil, aeg_int8_input_range(scale: 0.05, zero_point: 17)] {
                    var batch = [UInt8](repeating: 9, count: 3 * (count + 5))
                    var ranges = [aeg_int8_input_range](repeating: aeg_int8_input_range(), count: 3)
                    if var fixed { aeg_int8_quantize_rows(3, count, rows, count, &fixed, &batch, count + 5, &ranges) }
                    else { aeg_int8_quantize_rows(3, count, rows, count, nil, &batch, count + 5, &ranges) }
                    for r in 0..<3 {
                        let row = Array(rows[(r * count)..<((r + 1) * count)])
                        var lo: Float = 0, hi: Float = 0
                        aeg_range(count, row, 1, &lo, &hi)
                        let expected = try fixed.map { (f) throws(AutoencoderError) in try Int8ActivationRange(scale: f.scale, zeroPoint: f.zero_point) }
                            ?? Int8ActivationRange(low: lo, high: hi)
                        XCTAssertEqual(ranges[r].scale.bitPattern, expected.scale.bitPattern, "\(kernel) \(count) row \(r)")
                        XCTAssertEqual(ranges[r].zero_point, expected.zeroPoint, "\(kernel) \(count) row \(r)")
                        var one = [UInt8](repeating: 9, count: count + 5)
                        aeg_quantize_u8(1, count, row, count, 1, expected.scale, expected.zeroPoint, &one, count + 5)
                        XCTAssertEqual(Array(batch[(r * (count + 5))..<((r + 1) * (count + 5))]), one, "\(kernel) \(count) row \(r)")
                    }
                }
                var withBias = [Float](repeating: 0, count: 2 * count), without = withBias
                aeg_dequantize(2, count, accs, count, 0.031, 13, sums, scales, bias, &withBias, count, 1)
                aeg_dequantize(2, count, accs, count, 0.031, -7, sums, scales, nil, &without, count, 1)
                return (low, high, q, withBias, without)
            }
            let reference = try passes("portable")
            XCTAssertEqual(reference.2[count..<(count + 5)], [UInt8](repeating: 17, count: 5)[...], "padding")
            for kernel in Int8GEMM.kernelNames where Int8GEMM.isSupported(kernel) && kernel != "portable" {
                let result = try passes(kernel)
                XCTAssertEqual(result.0.bitPattern, reference.0.bitPattern, "\(kernel) \(count): low")
                XCTAssertEqual(result.1.bitPattern, reference.1.bitPattern, "\(kernel) \(count): high")
                XCTAssertEqual(result.2, reference.2, "\(kernel) \(count): quantised")
                XCTAssertEqual(result.3.map(\.bitPattern), reference.3.map(\.bitPattern), "\(kernel) \(count): dequantised, bias")
                XCTAssertEqual(result.4.map(\.bitPattern), reference.4.map(\.bitPattern), "\(kernel) \(count): dequantised")
            }
            // The portable results are the formulas'.
            XCTAssertEqual(reference.0, min(0, x.min()!))
            XCTAssertEqual(reference.1, max(0, x.max()!))
            for p in 0..<count {
                let expected = UInt8(max(0, min(255, (x[p] * (1 / Float(0.05))).rounded(.toNearestOrEven) + 17)))
                XCTAssertEqual(reference.2[p], expected, "quantised x[\(p)] = \(x[p])")
            }
            for j in 0..<count {
                let d = Float(0.031) * scales[j] * Float(accs[count + j] - 13 * sums[j])
                XCTAssertEqual(reference.3[count + j], d + bias[j], "dequantised [1, \(j)]")
            }
        }
    }

    /// An input range's scale and zero point: the formula, with its edges (zeros of either sign,
    /// a range of width 0, one that is not finite, a zero point that rounds half to even).
    func testAnInputRangeIsTheFormula() throws {
        func formula(_ low: Float, _ high: Float) -> (Float, Int32) {
            let lo = min(low, 0), hi = max(high, 0), width = hi - lo
            guard width.isFinite, width > 0 else { return (1, 0) }
            let scale = width / 255
            return (scale, Int32(max(0, min(255, (-lo / scale).rounded(.toNearestOrEven)))))
        }
        var random = RandomGenerator(seed: 5)
        var cases: [(Float, Float)] = [(0, 0), (-0.0, 0), (0, -0.0), (-1, 1), (-1, 0), (0, 1), (2, 5), (-5, -2), (-.infinity, 1),
                                       (-1, .greatestFiniteMagnitude), (-.greatestFiniteMagnitude, .greatestFiniteMagnitude),
                                       (-0.5, 254.5), (-1.5, 253.5), (-1e-30, 1e-30)]
        for _ in 0..<500 { cases.append((random.uniform(-10, 2), random.uniform(-2, 10))) }
        for (low, high) in cases {
            let range = Int8ActivationRange(low: low, high: high), expected = formula(low, high)
            XCTAssertEqual(range.scale.bitPattern, expected.0.bitPattern, "[\(low), \(high)]")
            XCTAssertEqual(range.zeroPoint, expected.1, "[\(low), \(high)]")
        }
    }

    func testAKernelTheCPULacksIsRefusedWithTheReason() throws {
        for kernel in Int8GEMM.kernelNames where !Int8GEMM.isSupported(kernel) {
            let error = assertThrows(.unsupported) { () throws(AutoencoderError) in try Int8GEMM.select(kernel) }
            XCTAssertTrue(error?.message.contains("lacks") ?? false, error?.message ?? "")
        }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Int8GEMM.select("avx1024") }
        let before = Int8GEMM.kernel
        try Int8GEMM.select("portable")
        XCTAssertEqual(Int8GEMM.kernel, "portable")
        try Int8GEMM.select("auto")
        XCTAssertEqual(Int8GEMM.kernel, Int8GEMM.kernelNames.reversed().first { Int8GEMM.isSupported($0) })
        try Int8GEMM.select(before)
    }

    /// A trained float model and a held-out batch.
    func trained(_ spec: String, epochs: Int = 15) throws -> (Model, [Float], Int) {
        let model = try Model(json: spec)
        let rows = 64, size = model.inputSize
        // Smooth data with structure: a few random patterns mixed.
        let patterns = randomValues(4 * size, 0, 1, seed: 11)
        var data = [Float](repeating: 0, count: (rows + 32) * size)
        var random = RandomGenerator(seed: 12)
        for r in 0..<(rows + 32) {
            let w = (0..<4).map { _ in random.uniform(0, 1) }
            for j in 0..<size { data[r * size + j] = (0..<4).reduce(0) { $0 + w[$1] * patterns[$1 * size + j] } / 2 }
        }
        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = 16
        _ = try data.withUnsafeBufferPointer { (x) throws(AutoencoderError) in try model.fit(x.baseAddress!, rows: rows, options: options) }
        return (model, Array(data[(rows * size)...]), 32)
    }

    func reconstruction(_ model: Model, _ x: [Float], rows: Int) throws -> [Float] {
        try model.reconstruct(Tensor(checkedShape: [rows, model.inputSize], values: x)).values
    }

    func meanSquaredError(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(a.count)
    }

    func assertCloseToFloat(_ spec: String, calibrate: Bool, layers: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let (model, x, rows) = try trained(spec)
        let quantized = try x.withUnsafeBufferPointer { (c) throws(AutoencoderError) in
            try model.quantizedInt8(calibration: calibrate ? c.baseAddress : nil, rows: calibrate ? rows : 0)
        }
        XCTAssertTrue(quantized.isInt8, file: file, line: line)
        XCTAssertFalse(model.isInt8, "the original stays float", file: file, line: line)
        XCTAssertEqual(quantized.int8IsCalibrated, calibrate, file: file, line: line)
        XCTAssertEqual(quantized.int8QuantizedLayers.count, layers, "\(quantized.int8QuantizedLayers)", file: file, line: line)
        XCTAssertEqual(quantized.int8FallbackLayers, [], file: file, line: line)
        let float = try reconstruction(model, x, rows: rows), int8 = try reconstruction(quantized, x, rows: rows)
        // The reconstruction error moves by less than 2 %, and the outputs agree closely.
        let floatError = meanSquaredError(float, x), int8Error = meanSquaredError(int8, x)
        XCTAssertLessThan(abs(int8Error - floatError) / floatError, 0.02, "float \(floatError) int8 \(int8Error)", file: file, line: line)
        assertClose(int8, float, relative: 0.03, "int8 vs float", file: file, line: line)
        XCTAssertNotEqual(int8, float, "the int8 path ran", file: file, line: line)

        // Saved and loaded: format 5, same results, a smaller file.
        let path = directory + "/q.aem"
        try quantized.save(to: path)
        let header = try ModelFile.header(path: path)
        XCTAssertEqual(header.metadata["format_version"], "5", file: file, line: line)
        XCTAssertNotNil(header.metadata["int8"], file: file, line: line)
        XCTAssertEqual(header.entry(named: quantized.int8QuantizedLayers[0] + ".weight")?.dtype, .i8, file: file, line: line)
        let loaded = try Model.load(from: path)
        XCTAssertTrue(loaded.isInt8, file: file, line: line)
        XCTAssertEqual(loaded.int8IsCalibrated, calibrate, file: file, line: line)
        assertIdentical(try reconstruction(loaded, x, rows: rows), int8, "loaded int8 model", file: file, line: line)
        let floatBytes = try model.serialized(includeOptimizerState: false).count
        let int8Bytes = try quantized.serialized().count
        XCTAssertLessThan(int8Bytes, floatBytes, file: file, line: line)
        // Its float parameters read the dequantised weights: within half a step of the originals.
        let name = quantized.int8QuantizedLayers[0] + ".weight"
        let original = try model.parameter(named: name).values, dequantized = try quantized.parameter(named: name).values
        let largest = original.reduce(Float(0)) { max($0, abs($1)) }
        for (o, d) in zip(original, dequantized) { XCTAssertLessThanOrEqual(abs(o - d), largest / 127 * 0.51, file: file, line: line) }
    }

    func testDenseModelDynamic() throws { try assertCloseToFloat(Self.denseSpec, calibrate: false, layers: 4) }
    func testDenseModelCalibrated() throws { try assertCloseToFloat(Self.denseSpec, calibrate: true, layers: 4) }
    func testConvolutionalModelDynamic() throws { try assertCloseToFloat(Self.convSpec, calibrate: false, layers: 3) }
    func testConvolutionalModelCalibrated() throws { try assertCloseToFloat(Self.convSpec, calibrate: true, layers: 3) }

    func testSignalAndVolumeConvolutionsShareTheInt8Path() throws {
        for spec in [
            #"{"input_shape": [2, 30], "encoder": [{"type": "conv1d", "filters": 5, "kernel": 3, "padding": 1, "activation": "tanh"}], "decoder": [{"type": "conv1d", "filters": 2, "kernel": 3, "padding": 1}], "loss": "mse"}"#,
            #"{"input_shape": [1, 6, 6, 6], "encoder": [{"type": "conv3d", "filters": 3, "kernel": 3, "padding": 1, "activation": "tanh"}], "decoder": [{"type": "conv3d", "filters": 1, "kernel": 1}], "loss": "mse"}"#,
        ] {
            let model = try Model(json: spec)
            let quantized = try model.quantizedInt8()
            XCTAssertEqual(quantized.int8QuantizedLayers.count, 2)
            let x = randomValues(3 * model.inputSize, -1, 1, seed: 8)
            let float = try reconstruction(model, x, rows: 3), int8 = try reconstruction(quantized, x, rows: 3)
            assertClose(int8, float, relative: 0.03, "\(model.inputShape)")
            XCTAssertNotEqual(int8, float)
        }
    }

    /// Every kernel gives a quantised model the portable kernel's reconstruction, bit for bit: the
    /// same integers, and the same dequantisation, whether it runs as a pass over int32 sums or
    /// (the packed VNNI kernel) as the sums leave the registers. Rows from one to a batch of 37.
    func testEveryKernelGivesAModelThePortableReconstruction() throws {
        let before = Int8GEMM.kernel
        defer { try? Int8GEMM.select(before) }
        let wide = #"{"input_size": 300, "encoder": [{"type": "dense", "units": 200, "activation": "relu"}, {"type": "dense", "units": 20}], "decoder": [{"type": "dense", "units": 70, "activation": "relu"}, {"type": "dense", "units": 300, "activation": "sigmoid"}], "loss": "mse"}"#
        for spec in [Self.denseSpec, Self.convSpec, wide] {
            let quantized = try trained(spec, epochs: 2).0.quantizedInt8()   // trained: biases that are not zero
            for rows in [1, 8, 37] {
                let x = randomValues(rows * quantized.inputSize, 0, 1, seed: 31)
                try Int8GEMM.select("portable")
                let reference = try reconstruction(quantized, x, rows: rows)
                for kernel in Int8GEMM.kernelNames where Int8GEMM.isSupported(kernel) && kernel != "portable" {
                    try Int8GEMM.select(kernel)
                    assertIdentical(try reconstruction(quantized, x, rows: rows), reference, "\(kernel), \(rows) rows")
                }
            }
        }
    }

    func testBatchesSplitAcrossThreadsGiveTheSameResults() throws {
        let wide = #"{"input_size": 300, "encoder": [{"type": "dense", "units": 200, "activation": "relu"}], "decoder": [{"type": "dense", "units": 300}], "loss": "mse"}"#
        for spec in [Self.convSpec, wide] {
            let model = try Model(json: spec)
            let quantized = try model.quantizedInt8()
            let rows = 64
            let x = randomValues(rows * model.inputSize, 0, 1, seed: 21)
            let saved = BLAS.threadCount
            defer { BLAS.threadCount = saved }
            BLAS.threadCount = 1
            let one = try reconstruction(quantized, x, rows: rows)
            BLAS.threadCount = 2
            assertIdentical(try reconstruction(quantized, x, rows: rows), one, "2 threads against 1")
        }
    }

    func testCorruptedInt8SectionsAreRefused() throws {
        let quantized = try Model(json: Self.denseSpec).quantizedInt8()
        let path = directory + "/q.aem"
        try quantized.save(to: path)
        let clean = try quantized.serialized()
        let header = try ModelFile.header(path: path)
        // A scale of 0 is refused (here the checksum catches it first; Int8Weights checks the
        // values behind it, for a file whose checksum was recomputed).
        var bytes = clean
        let scale = try XCTUnwrap(header.entry(named: "encoder.0.weight_scale"))
        for i in 0..<4 { bytes[scale.byteRange.lowerBound + i] = 0 }
        let error = assertThrows(.format) { () throws(AutoencoderError) in _ = try Model.load(bytes: bytes) }
        XCTAssertNotNil(error)
        // Signed int8 files verify like any other.
        let key = try ModelFileKey(Array("0123456789abcdef0123456789abcdef".utf8))
        let signed = try quantized.serialized(key: key)
        XCTAssertTrue(try Model.load(bytes: signed, key: key).isInt8)
    }

    func testDynamicRangesArePerSample() throws {
        let (model, x, rows) = try trained(Self.denseSpec, epochs: 2)
        let quantized = try model.quantizedInt8()
        let batch = try reconstruction(quantized, x, rows: rows)
        let size = model.inputSize
        for r in [0, 5, rows - 1] {
            let alone = try reconstruction(quantized, Array(x[(r * size)..<((r + 1) * size)]), rows: 1)
            assertClose(alone, Array(batch[(r * size)..<((r + 1) * size)]), relative: 1e-5, "sample \(r) alone vs in its batch")
        }
    }

    func testTrainingAndParameterChangesAreRefused() throws {
        let (model, x, rows) = try trained(Self.denseSpec, epochs: 1)
        let quantized = try model.quantizedInt8()
        let error = assertThrows(.unsupported) { () throws(AutoencoderError) in
            try x.withUnsafeBufferPointer { (p) throws(AutoencoderError) in _ = try quantized.fit(p.baseAddress!, rows: rows) }
        }
        XCTAssertTrue(error?.message.contains("int8 model, for inference only") ?? false, error?.message ?? "")
        assertThrows(.unsupported) { () throws(AutoencoderError) in _ = try Trainer(model: quantized, batchSize: 4) }
        let name = quantized.parameterEntries[0].name, count = quantized.parameterEntries[0].count
        assertThrows(.unsupported) { () throws(AutoencoderError) in
            try [Float](repeating: 0, count: count).withUnsafeBufferPointer { (v) throws(AutoencoderError) in
                try quantized.setParameter(named: name, values: v)
            }
        }
        assertThrows(.unsupported) { () throws(AutoencoderError) in _ = try quantized.quantizedInt8() }
        // Calibration data are checked.
        let bad = [Float](repeating: .nan, count: model.inputSize)
        assertThrows(.numeric) { () throws(AutoencoderError) in
            try bad.withUnsafeBufferPointer { (p) throws(AutoencoderError) in _ = try model.quantizedInt8(calibration: p.baseAddress, rows: 1) }
        }
    }

    func testLayersWithoutAnInt8PathFallBackToFloatOrAreNamed() throws {
        let tied = try Model(json: """
            {"input_size": 12, "tied_weights": true,
             "encoder": [{"type": "dense", "units": 6, "activation": "tanh"}],
             "decoder": [{"type": "dense", "units": 12}], "loss": "mse"}
            """)
        let quantized = try tied.quantizedInt8()
        XCTAssertEqual(quantized.int8QuantizedLayers.count, 1)
        XCTAssertEqual(quantized.int8FallbackLayers.count, 1)
        XCTAssertTrue(quantized.int8FallbackLayers[0].contains("dense"), "\(quantized.int8FallbackLayers)")
        let x = randomValues(3 * 12, -1, 1, seed: 5)
        assertClose(try reconstruction(quantized, x, rows: 3), try reconstruction(tied, x, rows: 3), relative: 0.05, "tied")
        let loaded = try Model.load(bytes: quantized.serialized())
        XCTAssertEqual(loaded.int8FallbackLayers, quantized.int8FallbackLayers)
        let error = assertThrows(.unsupported) { () throws(AutoencoderError) in _ = try tied.quantizedInt8(requireAll: true) }
        XCTAssertTrue(error?.message.contains(quantized.int8FallbackLayers[0]) ?? false, error?.message ?? "")

        let recurrent = try Model(json: """
            {"input_shape": [6, 3],
             "encoder": [{"type": "lstm", "units": 4, "return": "last"}, {"type": "dense", "units": 4}],
             "decoder": [{"type": "repeat", "steps": 6}, {"type": "lstm", "units": 4},
                         {"type": "time_distributed_dense", "units": 3}], "loss": "mse"}
            """)
        let error2 = assertThrows(.unsupported) { () throws(AutoencoderError) in _ = try recurrent.quantizedInt8(requireAll: true) }
        XCTAssertTrue(error2?.message.contains("lstm") ?? false, error2?.message ?? "")
        let fallback = try recurrent.quantizedInt8()
        XCTAssertEqual(fallback.int8QuantizedLayers.count, 1)
        XCTAssertEqual(fallback.int8FallbackLayers.count, 3, "\(fallback.int8FallbackLayers)")
    }

    /// keepFloat (ONNX Runtime's nodes_to_exclude): the named layers keep their float weights,
    /// bit for bit, are listed with the fallback layers, and stay so through a file; a name
    /// that is not a quantisable layer, or keeping them all, is refused.
    func testLayersKeptInFloatStayFloatThroughAFile() throws {
        let (model, x, rows) = try trained(Self.convSpec, epochs: 5)
        let all = try model.quantizedInt8().int8QuantizedLayers
        XCTAssertEqual(all.count, 3, "\(all)")
        let keep = all[2]  // the decoder's convolution, which reads the code
        let kept = try model.quantizedInt8(requireAll: true, keepFloat: [keep])
        XCTAssertEqual(kept.int8QuantizedLayers, Array(all[0..<2]))
        XCTAssertEqual(kept.int8FallbackLayers, ["\(keep) (conv2d)"])
        XCTAssertEqual(try kept.parameter(named: keep + ".weight").values, try model.parameter(named: keep + ".weight").values,
                       "the kept layer's weights are the float model's")
        XCTAssertNotEqual(try kept.parameter(named: all[0] + ".weight").values, try model.parameter(named: all[0] + ".weight").values)
        let output = try reconstruction(kept, x, rows: rows)
        XCTAssertNotEqual(output, try reconstruction(model.quantizedInt8(), x, rows: rows), "the kept layer ran in float")

        let path = directory + "/kept.aem"
        try kept.save(to: path)
        let header = try ModelFile.header(path: path)
        XCTAssertEqual(header.entry(named: keep + ".weight")?.dtype, .f32)
        XCTAssertEqual(header.entry(named: all[0] + ".weight")?.dtype, .i8)
        let loaded = try Model.load(from: path)
        XCTAssertEqual(loaded.int8QuantizedLayers, kept.int8QuantizedLayers)
        XCTAssertEqual(loaded.int8FallbackLayers, kept.int8FallbackLayers)
        assertIdentical(try reconstruction(loaded, x, rows: rows), output, "loaded")

        let unknown = assertThrows(.invalidArgument) { () throws(AutoencoderError) in _ = try model.quantizedInt8(keepFloat: ["decoder.7"]) }
        XCTAssertTrue(unknown?.message.contains("\"decoder.7\"") ?? false, unknown?.message ?? "")
        XCTAssertTrue(unknown?.message.contains(all.joined(separator: ", ")) ?? false, unknown?.message ?? "")
        let every = assertThrows(.unsupported) { () throws(AutoencoderError) in _ = try model.quantizedInt8(keepFloat: all) }
        XCTAssertTrue(every?.message.contains("all of them are kept in float") ?? false, every?.message ?? "")
        // A layer without an int8 path cannot be named: it is in float anyway, and not quantisable.
        let tied = try Model(json: """
            {"input_size": 12, "tied_weights": true,
             "encoder": [{"type": "dense", "units": 6, "activation": "tanh"}],
             "decoder": [{"type": "dense", "units": 12}], "loss": "mse"}
            """)
        let decoder = try XCTUnwrap(tied.quantizedInt8().int8FallbackLayers.first?.split(separator: " ").first.map(String.init))
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in _ = try tied.quantizedInt8(keepFloat: [decoder]) }
    }

    func testOldLibrariesRefuseAnInt8FileAndFloatFilesKeepTheirFormat() throws {
        let model = try Model(json: Self.denseSpec)
        let floatHeader = try model.serialized()
        floatHeader.withUnsafeBytes { raw in
            let text = String(decoding: raw, as: UTF8.self)
            XCTAssertTrue(text.contains("\"format_version\":\"2\""))
        }
        // A corrupted int8 weight value (−128) is refused on load.
        var bytes = try model.quantizedInt8().serialized()
        let header = try ModelFile.decode(bytes, source: "x")
        XCTAssertTrue(header.isInt8)
        let path = directory + "/m.aem"
        try model.quantizedInt8().save(to: path)
        let entry = try XCTUnwrap(ModelFile.header(path: path).entry(named: "encoder.0.weight"))
        bytes[entry.byteRange.lowerBound] = 0x80
        assertThrows(.format) { () throws(AutoencoderError) in _ = try Model.load(bytes: bytes) }
    }
}
