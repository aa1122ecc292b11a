import XCTest
@testable import Autoencoders

final class SafetensorsTests: XCTestCase {
    // MARK: - Helpers

    /// Asserts that parsing `bytes` fails with a `.format` error whose message names the source
    /// and contains `fragment` (if given).
    private func assertFormatError(
        _ bytes: [UInt8], contains fragment: String? = nil, source: String = "model bytes",
        file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            let parsed = try SafetensorsFile(bytes: bytes, source: source)
            XCTFail("expected a format error, parsed \(parsed.entries.count) tensors", file: file, line: line)
        } catch {
            XCTAssertEqual(error.kind, .format, error.message, file: file, line: line)
            XCTAssertTrue(error.message.hasPrefix("\(source): "), error.message, file: file, line: line)
            if let fragment {
                XCTAssertTrue(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", file: file, line: line)
            }
        }
    }

    /// A file from a literal header text (not padded unless asked) and data bytes.
    private func rawFile(_ header: String, data: [UInt8] = [], headerLength: UInt64? = nil, pad: Bool = true) -> [UInt8] {
        var text = Array(header.utf8)
        if pad { while text.count % 8 != 0 { text.append(0x20) } }
        let length = headerLength ?? UInt64(text.count)
        var out = (0..<8).map { UInt8(truncatingIfNeeded: length >> UInt64(8 * $0)) }
        out += text
        out += data
        return out
    }

    private func tensor(_ dtype: String, _ shape: [Int], _ begin: Int, _ end: Int) -> String {
        "{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}"
    }

    private func sampleFile() throws -> [UInt8] {
        var writer = SafetensorsWriter()
        writer.metadata = ["format": "autoencoder", "version": "1"]
        try writer.add("encoder.weight", shape: [2, 3], floats: [1, -2, 3.5, 0, .greatestFiniteMagnitude, -0.0])
        try writer.add("step", shape: [], int64s: [-7])
        try writer.add("encoder.bias", shape: [3], floats: [0.25, 0.5, 0.75])
        return writer.encoded()
    }

    /// Written by Python's safetensors 0.8.0:
    ///     safetensors.numpy.save({"w": np.array([[1, 2], [3, 4.5]], np.float32),
    ///                             "n": np.array([7, -1], np.int64),
    ///                             "h": np.array([0.5, -3], np.float16)},
    ///                            metadata={"origin": "python"})
    private let pythonBytes: [UInt8] = [
        0xD0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7B, 0x22, 0x5F, 0x5F, 0x6D, 0x65, 0x74, 0x61,
        0x64, 0x61, 0x74, 0x61, 0x5F, 0x5F, 0x22, 0x3A, 0x7B, 0x22, 0x6F, 0x72, 0x69, 0x67, 0x69, 0x6E,
        0x22, 0x3A, 0x22, 0x70, 0x79, 0x74, 0x68, 0x6F, 0x6E, 0x22, 0x7D, 0x2C, 0x22, 0x6E, 0x22, 0x3A,
        0x7B, 0x22, 0x64, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3A, 0x22, 0x49, 0x36, 0x34, 0x22, 0x2C, 0x22,
        0x73, 0x68, 0x61, 0x70, 0x65, 0x22, 0x3A, 0x5B, 0x32, 0x5D, 0x2C, 0x22, 0x64, 0x61, 0x74, 0x61,
        0x5F, 0x6F, 0x66, 0x66, 0x73, 0x65, 0x74, 0x73, 0x22, 0x3A, 0x5B, 0x30, 0x2C, 0x31, 0x36, 0x5D,
        0x7D, 0x2C, 0x22, 0x77, 0x22, 0x3A, 0x7B, 0x22, 0x64, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3A, 0x22,
        0x46, 0x33, 0x32, 0x22, 0x2C, 0x22, 0x73, 0x68, 0x61, 0x70, 0x65, 0x22, 0x3A, 0x5B, 0x32, 0x2C,
        0x32, 0x5D, 0x2C, 0x22, 0x64, 0x61, 0x74, 0x61, 0x5F, 0x6F, 0x66, 0x66, 0x73, 0x65, 0x74, 0x73,
        0x22, 0x3A, 0x5B, 0x31, 0x36, 0x2C, 0x33, 0x32, 0x5D, 0x7D, 0x2C, 0x22, 0x68, 0x22, 0x3A, 0x7B,
        0x22, 0x64, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3A, 0x22, 0x46, 0x31, 0x36, 0x22, 0x2C, 0x22, 0x73,
        0x68, 0x61, 0x70, 0x65, 0x22, 0x3A, 0x5B, 0x32, 0x5D, 0x2C, 0x22, 0x64, 0x61, 0x74, 0x61, 0x5F,
        0x6F, 0x66, 0x66, 0x73, 0x65, 0x74, 0x73, 0x22, 0x3A, 0x5B, 0x33, 0x32, 0x2C, 0x33, 0x36, 0x5D,
        0x7D, 0x7D, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40,
        0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x90, 0x40, 0x00, 0x38, 0x00, 0xC2,
    ]

    // MARK: - Round trip and compatibility

    func testRoundTripWithMetadata() throws {
        let bytes = try sampleFile()
        let file = try SafetensorsFile(bytes: bytes, source: "model bytes")
        XCTAssertEqual(file.metadata, ["format": "autoencoder", "version": "1"])
        XCTAssertEqual(file.entries.map(\.name), ["encoder.weight", "step", "encoder.bias"])
        let weight = try XCTUnwrap(file.entry(named: "encoder.weight"))
        XCTAssertEqual(weight.dtype, .f32)
        XCTAssertEqual(weight.shape, [2, 3])
        XCTAssertEqual(weight.byteRange.count, 24)
        XCTAssertEqual(weight.elementCount, 6)
        XCTAssertEqual(file.dataStart % 8, 0)
        XCTAssertEqual(weight.byteRange.lowerBound, file.dataStart)
        let values = try file.floats("encoder.weight")
        XCTAssertEqual(values, [1, -2, 3.5, 0, .greatestFiniteMagnitude, -0.0])
        XCTAssertEqual(values[5].sign, .minus)
        XCTAssertEqual(try file.floats("encoder.bias"), [0.25, 0.5, 0.75])
        let step = try XCTUnwrap(file.entry(named: "step"))
        XCTAssertEqual(step.dtype, .i64)
        XCTAssertEqual(step.shape, [])
        XCTAssertEqual(try file.int64s("step"), [-7])
        XCTAssertNil(file.entry(named: "missing"))
        XCTAssertEqual(file.bytes, bytes)
    }

    func testRoundTripFromBufferPointers() throws {
        let floats: [Float] = (0..<37).map { Float($0) * 0.5 - 3 }
        let ints: [Int64] = [Int64.min, -1, 0, 1, Int64.max]
        var writer = SafetensorsWriter()
        try floats.withUnsafeBufferPointer { buffer throws(AutoencoderError) in
            try writer.add("odd", shape: [37], floats: buffer)
        }
        try ints.withUnsafeBufferPointer { buffer throws(AutoencoderError) in
            try writer.add("ints", shape: [5, 1], int64s: buffer)
        }
        try writer.add("empty", shape: [0, 4], floats: [])
        let file = try SafetensorsFile(bytes: writer.encoded(), source: "model bytes")
        XCTAssertEqual(try file.floats("odd"), floats)
        XCTAssertEqual(try file.int64s("ints"), ints)
        XCTAssertEqual(try file.floats("empty"), [])
        XCTAssertEqual(file.metadata, [:])
    }

    func testEncodingIsDeterministicAndPadded() throws {
        let a = try sampleFile()
        let b = try sampleFile()
        XCTAssertEqual(a, b)
        var headerLength = 0
        for i in 0..<8 { headerLength |= Int(a[i]) << (8 * i) }
        XCTAssertEqual((8 + headerLength) % 8, 0)
        let header = String(decoding: a[8..<(8 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{\"__metadata__\":{\"format\":\"autoencoder\",\"version\":\"1\"},"), header)
        // Only spaces (fewer than 8) follow the closing brace.
        let padding = header.reversed().prefix { $0 == " " }.count
        XCTAssertLessThan(padding, 8)
        XCTAssertEqual(header.dropLast(padding).last, "}")
        // Metadata key order does not depend on insertion order.
        var w1 = SafetensorsWriter()
        w1.metadata["z"] = "1"; w1.metadata["a"] = "2"; w1.metadata["m"] = "3"
        var w2 = SafetensorsWriter()
        w2.metadata["m"] = "3"; w2.metadata["a"] = "2"; w2.metadata["z"] = "1"
        XCTAssertEqual(w1.encoded(), w2.encoded())
    }

    func testEmptyWriterProducesValidFile() throws {
        let bytes = SafetensorsWriter().encoded()
        XCTAssertEqual(bytes, [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
        let file = try SafetensorsFile(bytes: bytes, source: "model bytes")
        XCTAssertTrue(file.entries.isEmpty)
    }

    func testEscapedNamesAndMetadataRoundTrip() throws {
        var writer = SafetensorsWriter()
        writer.metadata = ["quote\"back\\slash": "line\nbreak\ttab\u{01}", "unicode": "π ≈ 3.14159 🚀"]
        try writer.add("layer \"0\"/weight\\é", shape: [1], floats: [2])
        let file = try SafetensorsFile(bytes: writer.encoded(), source: "model bytes")
        XCTAssertEqual(file.metadata, writer.metadata)
        XCTAssertEqual(try file.floats("layer \"0\"/weight\\é"), [2])
    }

    func testReadsBytesWrittenByPythonSafetensors() throws {
        let file = try SafetensorsFile(bytes: pythonBytes, source: "python.safetensors")
        XCTAssertEqual(file.metadata, ["origin": "python"])
        XCTAssertEqual(file.entries.map(\.name), ["n", "w", "h"])
        XCTAssertEqual(file.entry(named: "w")?.shape, [2, 2])
        XCTAssertEqual(file.entry(named: "w")?.dtype, .f32)
        XCTAssertEqual(try file.floats("w"), [1, 2, 3, 4.5])
        XCTAssertEqual(try file.int64s("n"), [7, -1])
        XCTAssertEqual(file.entry(named: "h")?.dtype, .f16)
        XCTAssertEqual(try file.floats("h"), [0.5, -3])
    }

    func testOtherDtypesAreReadAndConverted() throws {
        // F64 [1.5, -2], F16 [1, 65504, 2^-24 (subnormal), -inf], BF16 [1, -2], I32 [-5], U8 [200, 1, 2, 3]
        var data: [UInt8] = []
        for d in [1.5, -2.0] { withUnsafeBytes(of: d.bitPattern.littleEndian) { data += $0 } }
        for h: UInt16 in [0x3C00, 0x7BFF, 0x0001, 0xFC00] { withUnsafeBytes(of: h.littleEndian) { data += $0 } }
        for b: UInt16 in [0x3F80, 0xC000] { withUnsafeBytes(of: b.littleEndian) { data += $0 } }
        withUnsafeBytes(of: Int32(-5).littleEndian) { data += $0 }
        data += [200, 1, 2, 3]
        let header = "{\"d\":\(tensor("F64", [2], 0, 16)),\"h\":\(tensor("F16", [4], 16, 24)),"
            + "\"b\":\(tensor("BF16", [2], 24, 28)),\"i\":\(tensor("I32", [1], 28, 32)),\"u\":\(tensor("U8", [2, 2], 32, 36))}"
        let file = try SafetensorsFile(bytes: rawFile(header, data: data), source: "model bytes")
        XCTAssertEqual(try file.floats("d"), [1.5, -2])
        XCTAssertEqual(try file.floats("h"), [1, 65504, 0x1p-24, -.infinity])
        XCTAssertEqual(try file.floats("b"), [1, -2])
        XCTAssertEqual(try file.int64s("i"), [-5])
        XCTAssertEqual(try file.int64s("u"), [200, 1, 2, 3])
        var out = [Float](repeating: 0, count: 2)
        try file.copyFloats("d", into: &out, count: 2)
        XCTAssertEqual(out, [1.5, -2])
    }

    func testUnalignedUnpaddedHeaderIsAccepted() throws {
        // The reference reader does not require padding; data may start at any offset.
        var data: [UInt8] = []
        for f: Float in [1, 2] { withUnsafeBytes(of: f.bitPattern.littleEndian) { data += $0 } }
        let bytes = rawFile("{\"x\":\(tensor("F32", [2], 0, 8))}", data: data, pad: false)
        let file = try SafetensorsFile(bytes: bytes, source: "model bytes")
        XCTAssertNotEqual(file.dataStart % 8, 0)
        XCTAssertEqual(try file.floats("x"), [1, 2])
    }

    func testCopyFloats() throws {
        let file = try SafetensorsFile(bytes: sampleFile(), source: "model.ae")
        var out = [Float](repeating: .nan, count: 3)
        try file.copyFloats("encoder.bias", into: &out, count: 3)
        XCTAssertEqual(out, [0.25, 0.5, 0.75])
        var wrong = [Float](repeating: 0, count: 4)
        XCTAssertThrowsError(try file.copyFloats("encoder.bias", into: &wrong, count: 4)) { error in
            let error = error as! AutoencoderError
            XCTAssertTrue(error.message.hasPrefix("model.ae: "), error.message)
            XCTAssertTrue(error.message.contains("encoder.bias"), error.message)
            XCTAssertTrue(error.message.contains("3"), error.message)
            XCTAssertTrue(error.message.contains("4"), error.message)
        }
        XCTAssertThrowsError(try file.copyFloats("nope", into: &out, count: 3))
        XCTAssertThrowsError(try file.copyFloats("step", into: &out, count: 1))
    }

    func testAccessorErrors() throws {
        let file = try SafetensorsFile(bytes: sampleFile(), source: "model.ae")
        XCTAssertThrowsError(try file.floats("missing")) { error in
            let error = error as! AutoencoderError
            XCTAssertEqual(error.kind, .format)
            XCTAssertEqual(error.message, "model.ae: no tensor named 'missing'")
        }
        XCTAssertThrowsError(try file.floats("step")) { error in
            XCTAssertTrue((error as! AutoencoderError).message.contains("I64"))
        }
        XCTAssertThrowsError(try file.int64s("encoder.weight")) { error in
            XCTAssertTrue((error as! AutoencoderError).message.contains("F32"))
        }
        XCTAssertThrowsError(try file.int64s("missing"))
    }

    func testWriterRejectsBadTensors() throws {
        var writer = SafetensorsWriter()
        try writer.add("a", shape: [1], floats: [1])
        func expectInvalid(_ body: (inout SafetensorsWriter) throws(AutoencoderError) -> Void, _ line: UInt = #line) {
            do {
                try body(&writer)
                XCTFail("expected an error", line: line)
            } catch {
                XCTAssertEqual(error.kind, .invalidArgument, error.message, line: line)
            }
        }
        expectInvalid { w throws(AutoencoderError) in try w.add("", shape: [1], floats: [1]) }
        expectInvalid { w throws(AutoencoderError) in try w.add("a", shape: [1], floats: [1]) }
        expectInvalid { w throws(AutoencoderError) in try w.add("a", shape: [1], int64s: [1]) }
        expectInvalid { w throws(AutoencoderError) in try w.add("__metadata__", shape: [1], floats: [1]) }
        expectInvalid { w throws(AutoencoderError) in try w.add("b", shape: [2], floats: [1]) }
        expectInvalid { w throws(AutoencoderError) in try w.add("b", shape: [], int64s: [1, 2]) }
        expectInvalid { w throws(AutoencoderError) in try w.add("b", shape: [-1, -1], floats: [1]) }
        expectInvalid { w throws(AutoencoderError) in try w.add("b", shape: [Int.max, 2], floats: [1]) }
        // Failed adds leave the writer unchanged.
        let file = try SafetensorsFile(bytes: writer.encoded(), source: "model bytes")
        XCTAssertEqual(file.entries.map(\.name), ["a"])
        try writer.add("b", shape: [1], floats: [2])
        XCTAssertEqual(try SafetensorsFile(bytes: writer.encoded(), source: "model bytes").entries.count, 2)
    }

    // MARK: - Corruption

    func testEveryTruncationThrows() throws {
        let bytes = try sampleFile()
        for length in 0..<bytes.count {
            assertFormatError(Array(bytes[0..<length]))
        }
        let python = pythonBytes
        for length in 0..<python.count {
            assertFormatError(Array(python[0..<length]))
        }
    }

    func testTrailingBytesAreRejected() throws {
        assertFormatError(try sampleFile() + [0], contains: "belong to no tensor")
    }

    func testEverySingleByteCorruptionIsHandled() throws {
        // Flipping bits anywhere must either parse or throw a format error -- never trap.
        let bytes = try sampleFile()
        for index in bytes.indices {
            for mask: UInt8 in [0x01, 0x20, 0x80, 0xFF] {
                var corrupted = bytes
                corrupted[index] ^= mask
                do {
                    let file = try SafetensorsFile(bytes: corrupted, source: "model bytes")
                    for entry in file.entries {
                        if entry.dtype.isFloatingPoint { _ = try file.floats(entry.name) } else { _ = try file.int64s(entry.name) }
                    }
                } catch {
                    XCTAssertEqual(error.kind, .format, error.message)
                }
            }
        }
    }

    func testHeaderLengthTooLarge() {
        assertFormatError(rawFile("{}", headerLength: UInt64.max), contains: "exceeds the limit")
        assertFormatError(rawFile("{}", headerLength: 100_000_001), contains: "exceeds the limit")
        assertFormatError(rawFile("{}", headerLength: 1 << 63), contains: "exceeds the limit")
        // Within the limit but longer than the file.
        assertFormatError(rawFile("{}", headerLength: 9), contains: "truncated")
        assertFormatError(rawFile("{}", headerLength: 100_000_000), contains: "truncated")
        assertFormatError([1, 2, 3], contains: "too short")
    }

    func testHeaderNotJSON() {
        assertFormatError(rawFile("{not json"), contains: "not valid JSON")
        assertFormatError(rawFile("{\"a\":"), contains: "not valid JSON")
        assertFormatError(rawFile("{}}"), contains: "not valid JSON")
        // Invalid UTF-8.
        var bytes = rawFile("{\"\u{7F}\":1}")
        bytes[10] = 0xFF
        assertFormatError(bytes, contains: "UTF-8")
        // Empty header.
        assertFormatError(rawFile("", pad: false), contains: "'{'")
    }

    func testHeaderNotAnObject() {
        assertFormatError(rawFile("[1, 2]"), contains: "'{'")
        assertFormatError(rawFile("\"text\""), contains: "'{'")
        assertFormatError(rawFile("  {}"), contains: "'{'")
        assertFormatError(rawFile("{\"x\":[1]}"), contains: "expected an object")
        assertFormatError(rawFile("{\"x\":null}"), contains: "expected an object")
    }

    func testUnknownDtype() {
        assertFormatError(rawFile("{\"x\":\(tensor("F8_E4M3", [4], 0, 4))}", data: [0, 0, 0, 0]), contains: "F8_E4M3")
        assertFormatError(rawFile("{\"x\":\(tensor("f32", [1], 0, 4))}", data: [0, 0, 0, 0]), contains: "dtype")
        assertFormatError(rawFile("{\"x\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]), contains: "dtype")
    }

    func testMissingOrMalformedFields() {
        let four: [UInt8] = [0, 0, 0, 0]
        assertFormatError(rawFile("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", data: four), contains: "dtype")
        assertFormatError(rawFile("{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", data: four), contains: "shape")
        assertFormatError(rawFile("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", data: four), contains: "data_offsets")
        assertFormatError(rawFile("{\"x\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", data: four), contains: "shape")
        assertFormatError(rawFile("{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", data: four), contains: "shape")
        assertFormatError(rawFile("{\"x\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", data: four), contains: "shape")
        assertFormatError(rawFile("{\"x\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", data: four), contains: "shape")
        assertFormatError(rawFile("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", data: four), contains: "data_offsets")
        assertFormatError(rawFile("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", data: four), contains: "data_offsets")
        assertFormatError(rawFile("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1e300]}}", data: four), contains: "data_offsets")
    }

    func testOffsetsOutOfRange() {
        let eight = [UInt8](repeating: 0, count: 8)
        assertFormatError(rawFile("{\"x\":\(tensor("F32", [2], 0, 8))}", data: [0, 0, 0, 0]), contains: "outside")
        assertFormatError(rawFile("{\"x\":\(tensor("F32", [1], 8, 12))}", data: eight), contains: "outside")
        assertFormatError(rawFile("{\"x\":\(tensor("F32", [0], 4, 0))}", data: eight), contains: "end before")
        assertFormatError(rawFile("{\"x\":\(tensor("F32", [1], 9223372036854775807, 9223372036854775807))}", data: eight))
    }

    func testOverlappingTensors() {
        let header = "{\"a\":\(tensor("F32", [2], 0, 8)),\"b\":\(tensor("F32", [2], 4, 12))}"
        assertFormatError(rawFile(header, data: [UInt8](repeating: 0, count: 12)), contains: "overlap")
        let same = "{\"a\":\(tensor("F32", [1], 0, 4)),\"b\":\(tensor("F32", [1], 0, 4))}"
        assertFormatError(rawFile(same, data: [0, 0, 0, 0]), contains: "overlap")
        // A zero-sized tensor strictly inside another one.
        let inside = "{\"a\":\(tensor("F32", [2], 0, 8)),\"z\":\(tensor("F32", [0], 4, 4))}"
        assertFormatError(rawFile(inside, data: [UInt8](repeating: 0, count: 8)), contains: "overlap")
    }

    func testHoleBetweenTensors() {
        let header = "{\"a\":\(tensor("F32", [1], 0, 4)),\"b\":\(tensor("F32", [1], 8, 12))}"
        assertFormatError(rawFile(header, data: [UInt8](repeating: 0, count: 12)), contains: "4..<8")
        let leading = "{\"a\":\(tensor("F32", [1], 4, 8))}"
        assertFormatError(rawFile(leading, data: [UInt8](repeating: 0, count: 8)), contains: "0..<4")
        let trailing = "{\"a\":\(tensor("F32", [1], 0, 4))}"
        assertFormatError(rawFile(trailing, data: [UInt8](repeating: 0, count: 8)), contains: "4..<8")
        assertFormatError(rawFile("{}", data: [1]), contains: "0..<1")
    }

    func testTensorsInAnyHeaderOrderAreSortedByOffset() throws {
        let header = "{\"b\":\(tensor("F32", [1], 4, 8)),\"z\":\(tensor("F32", [0], 8, 8)),\"a\":\(tensor("F32", [1], 0, 4))}"
        let file = try SafetensorsFile(bytes: rawFile(header, data: [UInt8](repeating: 0, count: 8)), source: "model bytes")
        XCTAssertEqual(file.entries.map(\.name), ["a", "b", "z"])
    }

    func testShapeBytesMismatch() {
        assertFormatError(rawFile("{\"x\":\(tensor("F32", [3], 0, 8))}", data: [UInt8](repeating: 0, count: 8)), contains: "needs 12 bytes")
        assertFormatError(rawFile("{\"x\":\(tensor("I64", [1], 0, 4))}", data: [0, 0, 0, 0]), contains: "needs 8 bytes")
        assertFormatError(rawFile("{\"x\":\(tensor("F32", [], 0, 0))}"), contains: "needs 4 bytes")
    }

    func testShapeProductOverflow() {
        let eight = [UInt8](repeating: 0, count: 8)
        assertFormatError(rawFile("{\"x\":\(tensor("F32", [Int.max, 2], 0, 8))}", data: eight))
        assertFormatError(rawFile("{\"x\":\(tensor("F32", [4294967296, 4294967296, 4], 0, 8))}", data: eight), contains: "overflow")
        // Element count fits, byte count does not.
        assertFormatError(rawFile("{\"x\":\(tensor("F64", [1 << 61], 0, 8))}", data: eight), contains: "overflow")
        // A zero dimension makes huge ones harmless.
        XCTAssertNoThrow(try SafetensorsFile(bytes: rawFile("{\"x\":\(tensor("F32", [0, 4294967296, 4294967296, 4], 0, 0))}"), source: "model bytes"))
    }

    func testMetadataMustBeStrings() {
        assertFormatError(rawFile("{\"__metadata__\":{\"a\":\"ok\",\"b\":1}}"), contains: "'b'")
        assertFormatError(rawFile("{\"__metadata__\":{\"a\":null}}"), contains: "string")
        assertFormatError(rawFile("{\"__metadata__\":{\"a\":{\"nested\":\"x\"}}}"), contains: "string")
        assertFormatError(rawFile("{\"__metadata__\":[\"a\"]}"), contains: "__metadata__")
        assertFormatError(rawFile("{\"__metadata__\":\"a\"}"), contains: "__metadata__")
        // "__metadata__" is never a tensor, even when shaped like one.
        assertFormatError(rawFile("{\"__metadata__\":\(tensor("F32", [1], 0, 4))}", data: [0, 0, 0, 0]))
    }

    func testMetadataNullAndEmptyAreAccepted() throws {
        XCTAssertEqual(try SafetensorsFile(bytes: rawFile("{\"__metadata__\":null}"), source: "model bytes").metadata, [:])
        XCTAssertEqual(try SafetensorsFile(bytes: rawFile("{\"__metadata__\":{}}"), source: "model bytes").metadata, [:])
    }

    func testErrorMessagesNameTheSource() throws {
        assertFormatError([], contains: "too short", source: "/tmp/model.ae")
        assertFormatError(rawFile("{}", data: [1]), source: "/tmp/model.ae")
    }
}
