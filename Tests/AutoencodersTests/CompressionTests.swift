import XCTest
@testable import Autoencoders

/// Compression (Sources/Autoencoders/Codec/): the range coder round-trips and spends about the
/// entropy, the quantiser's levels and steps are as documented, decompress gives the decoder's
/// output of the dequantised codes, the quantiser survives the model file, and a truncated,
/// corrupted or foreign compressed file is refused with a clear error.
final class CompressionTests: XCTestCase {
    static let spec = """
    {"input_size": 12, "seed": 5,
     "encoder": [{"type": "dense", "units": 8, "activation": "tanh"}, {"type": "dense", "units": 3}],
     "decoder": [{"type": "dense", "units": 8, "activation": "tanh"}, {"type": "dense", "units": 12, "activation": "sigmoid"}],
     "loss": "bce"}
    """

    private func quantised(bits: Int = 6, rows: Int = 64, seed: Int = 5) throws -> (Model, [Float]) {
        let model = try Model(json: Self.spec.replacingOccurrences(of: "\"seed\": 5", with: "\"seed\": \(seed)"))
        let x = randomValues(rows * 12, 0, 1, seed: 77)
        try model.fitCodeQuantizer(x, rows: rows, bits: bits)
        return (model, x)
    }

    private func decompressed(_ model: Model, _ bytes: [UInt8]) throws -> [Float] {
        try bytes.withUnsafeBytes { raw in
            let header = try model.compressedHeader(raw, source: "test")
            var out = [Float](repeating: -7, count: max(header.samples * model.inputSize, 1))
            try out.withUnsafeMutableBufferPointer { buffer in
                try model.decompress(raw, source: "test", into: buffer.baseAddress!, outputCount: header.samples * model.inputSize)
            }
            return Array(out.prefix(header.samples * model.inputSize))
        }
    }

    private func expectFormatError(_ model: Model, _ bytes: [UInt8], containing text: String? = nil,
                                   file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try decompressed(model, bytes)
            XCTFail("a damaged file decompressed", file: file, line: line)
        } catch let error as AutoencoderError {
            XCTAssertEqual(error.kind, .format, error.message, file: file, line: line)
            if let text { XCTAssertTrue(error.message.contains(text), error.message, file: file, line: line) }
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }

    func testRangeCoderRoundTripsAndSpendsAboutTheEntropy() {
        // Two tables out of 2^15: a skewed one and a flat one over 16 symbols.
        var skewed = [UInt32](repeating: 0, count: 17), flat = [UInt32](repeating: 0, count: 17)
        let skewedFrequencies: [UInt32] = [20000, 6000, 3000, 1500, 800, 400, 300, 200, 150, 100, 80, 70, 60, 50, 40, 18]
        XCTAssertEqual(skewedFrequencies.reduce(0, +), 1 << 15)
        for k in 0..<16 { skewed[k + 1] = skewed[k] + skewedFrequencies[k]; flat[k + 1] = flat[k] + 2048 }
        var random = RandomGenerator(seed: 3)
        var symbols: [(table: Int, symbol: Int)] = []
        var information = 0.0
        for i in 0..<20000 {
            let table = i % 2
            // Draw from the table's own distribution.
            let u = UInt32(truncatingIfNeeded: random.next() >> 49)
            let cumulative = table == 0 ? skewed : flat
            let symbol = (0..<16).last(where: { cumulative[$0] <= u })!
            symbols.append((table, symbol))
            information -= _log(Double(cumulative[symbol + 1] - cumulative[symbol]) / Double(1 << 15)) / _log(2.0)
        }
        var encoder = RangeEncoder()
        for (table, symbol) in symbols {
            let c = table == 0 ? skewed : flat
            encoder.encode(cumulative: c[symbol], frequency: c[symbol + 1] - c[symbol], totalBits: 15)
        }
        let bytes = encoder.finish()
        XCTAssertLessThan(Double(bytes.count * 8), information * 1.01 + 64, "the coder should spend within 1 % of the information")
        XCTAssertGreaterThan(Double(bytes.count * 8), information * 0.99)
        bytes.withUnsafeBytes { raw in
            var decoder = RangeDecoder(raw)
            for (i, (table, symbol)) in symbols.enumerated() {
                let c = table == 0 ? skewed : flat
                let decoded = c.withUnsafeBufferPointer { decoder.decode(cumulative: $0, totalBits: 15) }
                if decoded != symbol { XCTFail("symbol \(i): \(decoded) != \(symbol)"); return }
            }
            XCTAssertTrue(decoder.finishedCleanly, "the decoder reads exactly the encoder's bytes")
        }
        // Garbage never traps: it either fails or decodes to symbols in range.
        for seed in 0..<50 {
            let garbage = (0..<40).map { _ in UInt8(truncatingIfNeeded: random.next()) } + [UInt8(seed)]
            garbage.withUnsafeBytes { raw in
                var decoder = RangeDecoder(raw)
                for _ in 0..<500 {
                    let s = flat.withUnsafeBufferPointer { decoder.decode(cumulative: $0, totalBits: 15) }
                    XCTAssertTrue((0..<16).contains(s))
                }
                XCTAssertFalse(decoder.finishedCleanly)
            }
        }
    }

    func testRangeCoderExtremeTablesAndCarries() {
        // Two symbols of frequencies 1 and 2^15 - 1: long runs of the likely one drive `low` into
        // runs of 0xFF bytes, and the rare one (15 bits each) makes carries ripple through them.
        let table: [UInt32] = [0, 1, 1 << 15]
        var random = RandomGenerator(seed: 11)
        for pattern in 0..<4 {
            let symbols = (0..<30000).map { i -> Int in
                switch pattern {
                case 0: return 1
                case 1: return 0
                case 2: return i % 97 == 0 ? 0 : 1
                default: return random.next() % 1000 == 0 ? 0 : 1
                }
            }
            var encoder = RangeEncoder()
            for s in symbols { encoder.encode(cumulative: table[s], frequency: table[s + 1] - table[s], totalBits: 15) }
            let bytes = encoder.finish()
            bytes.withUnsafeBytes { raw in
                var decoder = RangeDecoder(raw)
                let decoded = symbols.indices.map { _ in table.withUnsafeBufferPointer { decoder.decode(cumulative: $0, totalBits: 15) } }
                XCTAssertEqual(decoded, symbols, "pattern \(pattern)")
                XCTAssertTrue(decoder.finishedCleanly, "pattern \(pattern)")
            }
            if pattern == 1 { XCTAssertLessThan(bytes.count, 30000 * 15 / 8 + 16) }
            if pattern == 0 { XCTAssertLessThan(bytes.count, 16, "30,000 likely symbols cost about 1.3 bits in all") }
        }
    }

    func testQuantizerLevelsStepsAndFrequencies() throws {
        // Dimension 0 spans [-1, 2]; dimension 1 is always 0 (a dead unit).
        let codes: [Float] = [-1, 0, 2, 0, 0.5, 0, 1, 0]
        let q = try codes.withUnsafeBufferPointer { try CodeQuantizer(fitting: $0, rows: 4, codeSize: 2, bits: 4) }
        XCTAssertEqual(q.scale[0], 3 / 15, accuracy: 1e-6)
        XCTAssertEqual(q.zeroPoint[0], 5)      // round(1 / 0.2)
        XCTAssertEqual(q.value(level: q.level(0, dimension: 0), dimension: 0), 0, "0 is exact")
        for c in stride(from: Float(-1), through: 2, by: 0.01) {
            XCTAssertLessThanOrEqual(abs(q.value(level: q.level(c, dimension: 0), dimension: 0) - c), q.scale[0] / 2 + 1e-5)
        }
        XCTAssertEqual(q.level(100, dimension: 0), 15, "values past the range clamp")
        XCTAssertEqual(q.level(-100, dimension: 0), 0)
        XCTAssertEqual(q.level(.nan, dimension: 0), 0, "NaN does not trap")
        for j in 0..<2 {
            let row = q.frequencies[(j * 16)..<((j + 1) * 16)]
            XCTAssertEqual(row.reduce(0, +), Float(1 << 15))
            XCTAssertGreaterThanOrEqual(row.min()!, 1)
        }
        // Krichevsky-Trofimov: the dead dimension's one level, seen 4 times in 4 rows, has
        // probability (4 + 1/2) / (4 + 16/2); a level never seen (0 + 1/2) / 12.
        XCTAssertEqual(q.frequencies[16 + Int(q.zeroPoint[1])], 32768 * 9 / 24, accuracy: 16)
        XCTAssertEqual(q.frequencies[16 + Int(q.zeroPoint[1]) + 1], 32768 / 24, accuracy: 2)
        // With many rows it takes nearly all the mass: it costs almost nothing.
        let many = [Float](repeating: 0, count: 2000)
        let dead = try many.withUnsafeBufferPointer { try CodeQuantizer(fitting: $0, rows: 1000, codeSize: 2, bits: 4) }
        XCTAssertGreaterThan(dead.frequencies.max()!, 32400)
        XCTAssertLessThan(dead.bitsPerSample, 0.25, "two dimensions of about 0.1 bit each")
        XCTAssertThrowsError(try codes.withUnsafeBufferPointer { try CodeQuantizer(fitting: $0, rows: 4, codeSize: 2, bits: 3) })
        XCTAssertThrowsError(try codes.withUnsafeBufferPointer { try CodeQuantizer(fitting: $0, rows: 4, codeSize: 2, bits: 9) })
    }

    func testDecompressIsTheDecoderOfTheDequantisedCodes() throws {
        for bits in [4, 8] {
            let (model, x) = try quantised(bits: bits)
            let rows = 20
            let bytes = try model.compress(x, rows: rows)
            let out = try decompressed(model, bytes)
            // By hand: encode, quantise, dequantise, decode.
            let quantizer = try XCTUnwrap(model.codeQuantizer)
            var codes = [Float](repeating: 0, count: rows * 3)
            try model.encode(x, rows: rows, into: &codes)
            for r in 0..<rows { for j in 0..<3 { codes[r * 3 + j] = quantizer.value(level: quantizer.level(codes[r * 3 + j], dimension: j), dimension: j) } }
            var expected = [Float](repeating: 0, count: rows * 12)
            try model.decode(codes, rows: rows, into: &expected)
            XCTAssertEqual(out.count, expected.count)
            for i in 0..<out.count { XCTAssertEqual(out[i], expected[i], accuracy: 1e-5) }
            XCTAssertLessThan(bytes.count, 36 + 4 + 4 + rows * 3 * bits / 8 + 8, "the coder does not spend more than the raw levels")
        }
        let (model, _) = try quantised()
        let empty = try model.compress([Float](repeating: 0, count: 1), rows: 0)
        XCTAssertEqual(try decompressed(model, empty), [])
    }

    func testQuantizerIsKeptInTheModelFileAsFormat3() throws {
        let (model, x) = try quantised(bits: 5)
        let bytes = try model.serialized()
        let header = try SafetensorsFile(bytes: bytes, source: "m").metadata
        XCTAssertEqual(header["format_version"], "3")
        let loaded = try Model.load(bytes: bytes)
        XCTAssertEqual(loaded.codeQuantizer, model.codeQuantizer)
        XCTAssertEqual(loaded.codecDigest, model.codecDigest)
        let compressed = try model.compress(x, rows: 10)
        XCTAssertEqual(try decompressed(loaded, compressed), try decompressed(model, compressed))
        try model.setCodeQuantizer(nil)
        XCTAssertEqual(try SafetensorsFile(bytes: try model.serialized(), source: "m").metadata["format_version"], "2")
    }

    func testCompressWithoutQuantizerSaysHowToFitOne() throws {
        let model = try Model(json: Self.spec)
        XCTAssertThrowsError(try model.compress([Float](repeating: 0.5, count: 12), rows: 1)) { error in
            let error = error as! AutoencoderError
            XCTAssertEqual(error.kind, .unsupported)
            XCTAssertTrue(error.message.contains("fit"), error.message)
        }
    }

    func testTruncatedCorruptedAndForeignFilesAreRefused() throws {
        let (model, x) = try quantised()
        let bytes = try model.compress(x, rows: 30)
        for length in 0..<bytes.count { expectFormatError(model, Array(bytes.prefix(length))) }
        expectFormatError(model, bytes + [0], containing: "payload")
        for position in stride(from: 0, to: bytes.count, by: 3) {
            var damaged = bytes
            damaged[position] ^= 0x10
            expectFormatError(model, damaged)
        }
        // Another model (other weights, same spec shape) and the same model after refitting.
        let (other, _) = try quantised(seed: 9)
        expectFormatError(other, bytes, containing: "another model")
        try model.fitCodeQuantizer(x, rows: 64, bits: 7)
        expectFormatError(model, bytes, containing: "another model")
        try model.setCodeQuantizer(nil)
        expectFormatError(model, bytes, containing: "this model has no quantiser")
        // A file with a valid checksum whose header claims far more samples than its payload holds.
        let (fresh, _) = try quantised()
        var forged = bytes
        for i in 0..<8 { forged[16 + i] = i == 5 ? 1 : 0 }            // n = 2^40
        let crc = CRC32.checksum(Array(forged.dropLast(4)))
        for i in 0..<4 { forged[forged.count - 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        expectFormatError(fresh, forged, containing: "payload")
    }
}
