import Foundation
import XCTest
@testable import Autoencoders

/// NPY reading and writing (Sources/Autoencoders/IO/NPY.swift) and the atomic writes under it
/// (IO/FileIO.swift). Small files are built here byte by byte; the real data sets come from data/.
final class NPYTests: TemporaryDirectoryTestCase {
    // MARK: - Round trips

    func testWriteThenReadRoundTrips() throws {
        let path = directory + "/round.npy"
        let values = (0..<24).map { Float($0) * 0.37 - 4 }
        try values.withUnsafeBufferPointer { try NPY.write(path: path, shape: [2, 3, 4], values: $0) }
        let array = try NPY.read(path: path)
        XCTAssertEqual(array.shape, [2, 3, 4])
        XCTAssertEqual(array.values, values)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["round.npy"], "no temporary file left")
    }

    func testEncodeMatchesNumPysLayout() {
        let bytes = [Float(1.5), -2].withUnsafeBufferPointer { NPY.encode(shape: [2], values: $0) }
        XCTAssertEqual(Array(bytes.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0, "data starts at a multiple of 64")
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"), header)
        XCTAssertTrue(header.hasSuffix(" \n"))
        XCTAssertEqual(Array(bytes[(10 + headerLength)...]), [0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x00, 0xC0])
    }

    func testScalarAndEmptyArraysRoundTrip() throws {
        for (shape, values) in [([Int](), [Float(3.5)]), ([0, 3], []), ([5], [1, 2, 3, 4, 5])] {
            let bytes = values.withUnsafeBufferPointer { NPY.encode(shape: shape, values: $0) }
            let array = try parse(bytes)
            XCTAssertEqual(array.shape, shape)
            XCTAssertEqual(array.values, values)
        }
        XCTAssertEqual(NPY.describe([]), "()")
        XCTAssertEqual(NPY.describe([7]), "(7,)")
        XCTAssertEqual(NPY.describe([4000, 28, 28]), "(4000, 28, 28)")
    }

    func testSpecialFloatsRoundTripBitExactly() throws {
        let values: [Float] = [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let array = try parse(values.withUnsafeBufferPointer { NPY.encode(shape: [6], values: $0) })
        XCTAssertEqual(array.values.map(\.bitPattern), values.map(\.bitPattern))
    }

    func testWriteRejectsBadArguments() {
        let values: [Float] = [1, 2, 3]
        values.withUnsafeBufferPointer { buffer in
            assertError(.shapeMismatch, "holds 4 values, but 3 were given") { try NPY.write(path: directory + "/x.npy", shape: [2, 2], values: buffer) }
            assertError(.invalidArgument, "negative dimension") { try NPY.write(path: directory + "/x.npy", shape: [-1, -3], values: buffer) }
            assertError(.invalidArgument, "too many elements") { try NPY.write(path: directory + "/x.npy", shape: [1 << 40, 1 << 40], values: buffer) }
            assertError(.invalidArgument, "path is empty") { try NPY.write(path: "", shape: [3], values: buffer) }
            assertError(.io, "No such file or directory") { try NPY.write(path: directory + "/missing/x.npy", shape: [3], values: buffer) }
        }
    }

    // MARK: - Every dtype

    func testEveryDtypeConvertsToFloat() throws {
        let cases: [(descr: String, data: [UInt8], expected: [Float])] = [
            ("<f4", [0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x80, 0xBF], [1.5, -1]),
            (">f4", [0x3F, 0xC0, 0x00, 0x00, 0xBF, 0x80, 0x00, 0x00], [1.5, -1]),
            ("=f4", [0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x80, 0xBF], [1.5, -1]),  // native: this host is little-endian
            ("<f8", [0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0, 0, 0, 0, 0, 0, 0x00, 0xC0], [1.5, -2]),
            (">f8", [0x3F, 0xF8, 0, 0, 0, 0, 0, 0, 0xC0, 0x00, 0, 0, 0, 0, 0, 0], [1.5, -2]),
            ("|u1", [0, 7, 255], [0, 7, 255]),
            ("<u1", [0, 7, 255], [0, 7, 255]),
            ("|i1", [0x80, 0xFF, 0x7F], [-128, -1, 127]),
            ("<i2", [0xFE, 0xFF, 0x2C, 0x01], [-2, 300]),
            (">i2", [0xFF, 0xFE, 0x01, 0x2C], [-2, 300]),
            ("<u2", [0xFF, 0xFF, 0x2C, 0x01], [65535, 300]),
            (">u2", [0xFF, 0xFF, 0x01, 0x2C], [65535, 300]),
            ("=u2", [0xFF, 0xFF, 0x2C, 0x01], [65535, 300]),
            ("<i4", [0xFE, 0xFF, 0xFF, 0xFF, 0x40, 0x42, 0x0F, 0x00], [-2, 1_000_000]),
            (">i4", [0xFF, 0xFF, 0xFF, 0xFE, 0x00, 0x0F, 0x42, 0x40], [-2, 1_000_000]),
            // 2^32 - 1 and 2^64 - 1 round to 2^32 and 2^64 in Float.
            ("<u4", [0xFF, 0xFF, 0xFF, 0xFF, 0x40, 0x42, 0x0F, 0x00], [4_294_967_296, 1_000_000]),
            (">u4", [0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x0F, 0x42, 0x40], [4_294_967_296, 1_000_000]),
            ("<i8", [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x05, 0, 0, 0, 0, 0, 0, 0], [-2, 5]),
            (">i8", [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0, 0, 0, 0, 0, 0, 0, 0x05], [-2, 5]),
            ("<u8", [0x05, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [5, 18_446_744_073_709_551_616]),
            (">u8", [0, 0, 0, 0, 0, 0, 0, 0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [5, 18_446_744_073_709_551_616]),
            ("|b1", [0, 1, 1, 0], [0, 1, 1, 0]),
            ("b1", [1, 0], [1, 0]),
        ]
        for (descr, data, expected) in cases {
            let array = try parse(npyFile(descr: descr, shape: "(\(expected.count),)", data: data))
            XCTAssertEqual(array.shape, [expected.count], descr)
            XCTAssertEqual(array.values, expected, descr)
        }
    }

    func testLargeIntegersRoundToNearestFloat() throws {
        // 2^24 + 1 is not a Float: it rounds to 2^24 (ties to even).
        let array = try parse(npyFile(descr: "<i4", shape: "(1,)", data: [0x01, 0x00, 0x00, 0x01]))
        XCTAssertEqual(array.values, [16_777_216])
    }

    func testReadIntegersIsExact() throws {
        let path = directory + "/indices.npy"
        try write(npyFile(descr: "<i8", shape: "(1, 3)", data: [0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0] + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + [0, 0, 0, 0, 0, 0, 0, 0x40]), to: path)
        let (shape, values) = try NPY.readIntegers(path: path)
        XCTAssertEqual(shape, [1, 3])
        XCTAssertEqual(values, [16_777_217, -1, 1 << 62])

        let small: [(descr: String, data: [UInt8], expected: Int)] = [("|u1", [200], 200), ("|i1", [0x9C], -100), (">u2", [0x01, 0x00], 256), ("|b1", [1], 1)]
        for (descr, data, expected) in small {
            try write(npyFile(descr: descr, shape: "(1,)", data: data), to: path)
            XCTAssertEqual(try NPY.readIntegers(path: path).values, [expected], descr)
        }

        try write(npyFile(descr: "<u8", shape: "(2,)", data: [1, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8)), to: path)
        assertError(.format, "element 1 = 18446744073709551615 does not fit in Int") { try NPY.readIntegers(path: path) }
        try write(npyFile(descr: "<f4", shape: "(1,)", data: [0, 0, 0, 0]), to: path)
        assertError(.format, "expected an integer dtype, found '<f4'") { try NPY.readIntegers(path: path) }
    }

    // MARK: - Header syntax

    func testHeaderVariantsAreAccepted() throws {
        let data: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]  // [1, 2] as <f4
        let headers = [
            "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",  // any key order, no trailing comma
            "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,),}",  // double quotes
            "{ 'descr' : '<f4' ,\n 'fortran_order' : False , 'shape' : ( 2 , ) , }",  // spaces and a newline
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }",  // Python 2 long
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2,), }",  // trailing comma in a 2-tuple
        ]
        for header in headers {
            let array = try parse(npyFile(header: header, data: data))
            XCTAssertEqual(array.values, [1, 2], header)
        }
        for version: UInt8 in [2, 3] {
            let array = try parse(npyFile(descr: "<f4", shape: "(2,)", data: data, version: version))
            XCTAssertEqual(array.values, [1, 2], "version \(version).0")
        }
    }

    func testMalformedHeadersAreFormatErrors() {
        let data: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]
        let cases: [(header: String, message: String)] = [
            ("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", "Fortran-order"),
            ("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "unsupported dtype '<c8'"),
            ("{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }", "unsupported dtype '<f2'"),
            ("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "object arrays"),
            ("{'descr': '|f4', 'fortran_order': False, 'shape': (2,), }", "byte order '|'"),
            ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", "structured dtypes"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", "is not a tuple"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", "expected a non-negative integer"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", "too large"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (\(String(repeating: "1, ", count: 65))), }", "more than 64 dimensions"),
            ("{'descr': '<f4', 'fortran_order': False, }", "missing key 'shape'"),
            ("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "duplicate key 'descr'"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", "unexpected key 'extra'"),
            ("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", "expected True or False"),
            ("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,), }", "expected True or False"),
            ("{'descr': '<f4 , 'fortran_order': False, 'shape': (2,), }", "corrupted .npy header"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk", "unexpected text after"),
            ("['descr', '<f4']", "expected '{'"),
            ("", "expected '{'"),
        ]
        for (header, message) in cases {
            assertError(.format, message, header) { try parse(npyFile(header: header, data: data)) }
        }
    }

    // MARK: - Hostile files

    func testBadMagicAndVersion() {
        assertError(.format, "not an .npy file") { try parse(Array("PK\u{3}\u{4} this is a zip".utf8)) }
        assertError(.format, "not an .npy file") { try parse([]) }
        var file = npyFile(descr: "<f4", shape: "(1,)", data: [0, 0, 0, 0])
        file[6] = 4
        assertError(.format, "unsupported .npy format version 4.0") { try parse(file) }
        file[6] = 1
        file[7] = 1
        assertError(.format, "unsupported .npy format version 1.1") { try parse(file) }
    }

    func testEveryTruncationIsAFormatError() {
        let file = npyFile(descr: "<i2", shape: "(2, 3)", data: [UInt8](repeating: 1, count: 12))
        XCTAssertNoThrow(try parse(file))
        for length in 0..<file.count {
            assertError(.format, "test.npy: ", "length \(length)") { try parse(Array(file.prefix(length))) }
        }
        assertError(.format, "needs 12 data bytes, but the file holds 11") { try parse(Array(file.dropLast())) }
        assertError(.format, "1 unexpected bytes after the 12 data bytes") { try parse(file + [0]) }
    }

    func testHeaderLengthBeyondTheFile() {
        var file = npyFile(descr: "<f4", shape: "(1,)", data: [0, 0, 0, 0])
        file[8] = 0xFF
        file[9] = 0xFF
        assertError(.format, "header length 65535 extends beyond the end of the file") { try parse(file) }
        var v2 = npyFile(descr: "<f4", shape: "(1,)", data: [0, 0, 0, 0], version: 2)
        v2[8..<12] = [0xFF, 0xFF, 0xFF, 0xFF]
        assertError(.format, "header length 4294967295 extends beyond") { try parse(v2) }
    }

    func testShapeProductOverflowIsCaughtBeforeAllocating() {
        let huge = "(4611686018427387904, 4611686018427387904)"  // (2^62, 2^62)
        assertError(.format, "has too many elements") { try parse(npyFile(descr: "<f4", shape: huge, data: [])) }
        let large = "(4611686018427387904,)"  // 2^62 elements fit in Int, their 2^64 bytes do not
        assertError(.format, "is too large") { try parse(npyFile(descr: "<f4", shape: large, data: [])) }
        let plausible = "(100000, 100000)"  // 40 GB claimed by a 100-byte file
        assertError(.format, "truncated: shape (100000, 100000) of '<f4' needs 40000000000 data bytes") {
            try parse(npyFile(descr: "<f4", shape: plausible, data: [1, 2, 3, 4]))
        }
    }

    func testRandomlyCorruptedHeadersNeverCrash() {
        var generator = SplitMix64(state: 42)
        let original = npyFile(descr: "<i2", shape: "(2, 3)", data: [UInt8](repeating: 1, count: 12))
        let alphabet = Array("{}()[],:'\" 0123456789TrueFalsdcpohfu<>=|L\n".utf8) + [0, 0x93, 0xFF]
        for _ in 0..<3000 {
            var file = original
            for _ in 0...(generator.next() % 3) {
                let index = Int(generator.next() % UInt64(file.count))
                file[index] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
            }
            do {
                _ = try parse(file)
            } catch {
                XCTAssertEqual(error.kind, .format, error.message)
            }
        }
    }

    func testMissingFileIsAnIOError() {
        let path = directory + "/absent.npy"
        assertError(.io, "cannot open '\(path)': No such file or directory") { try NPY.read(path: path) }
        assertError(.io, "it is a directory, not a regular file") { try NPY.read(path: directory) }
    }

    func testErrorsFromAFileNameThePath() throws {
        let path = directory + "/fortran.npy"
        try write(npyFile(header: "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", data: [0, 0, 0, 0]), to: path)
        assertError(.format, "\(path): Fortran-order") { try NPY.read(path: path) }
    }

    // MARK: - The repository's data

    func testRealDataSets() throws {
        let train = try NPY.read(path: repositoryRoot + "/data/mnist5k_train_X.npy")
        XCTAssertEqual(train.shape, [4000, 28, 28])
        XCTAssertEqual(train.values.count, 4000 * 28 * 28)
        XCTAssertEqual(train.values.min(), 0)
        XCTAssertEqual(train.values.max(), 255)
        XCTAssertTrue(train.values.allSatisfy { $0 == $0.rounded() })

        let labels = try NPY.readIntegers(path: repositoryRoot + "/data/mnist5k_train_y.npy")
        XCTAssertEqual(labels.shape, [4000])
        XCTAssertEqual((0...9).map { digit in labels.values.filter { $0 == digit }.count }, Array(repeating: 400, count: 10))

        let wdbc = try NPY.read(path: repositoryRoot + "/data/wdbc_X.npy")
        XCTAssertEqual(wdbc.shape, [569, 30])
        XCTAssertEqual(wdbc.values[0], 17.99)  // the first feature of the first sample, as stored (<f4)
        XCTAssertEqual(try NPY.read(path: repositoryRoot + "/data/digits_X.npy").shape, [1797, 8, 8])
    }

    func testTorchFixtureIndices() throws {
        let indices = try NPY.readIntegers(path: repositoryRoot + "/Tests/Fixtures/torch/max_pool2d_k2s2_ties/indices.npy")
        XCTAssertEqual(indices.shape, [1, 2, 3, 3])
        XCTAssertEqual(Array(indices.values.prefix(4)), [0, 3, 4, 18])
    }

    // MARK: - FileIO.writeAtomically (under NPY.write and the model file)

    func testAtomicWriteReplacesAndKeepsPermissions() throws {
        let path = directory + "/model.bin"
        try writeAtomically("old", to: path)
        XCTAssertEqual(chmod(path, 0o600), 0)
        try writeAtomically("new contents", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new contents")
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        try writeAtomically("", to: path)
        XCTAssertEqual(try FileIO.readAll(path: path), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["model.bin"])
    }

    func testFailedAtomicWriteLeavesNoTemporaryFile() throws {
        // Only a regular file is replaced: a directory at the target is refused, and left alone.
        let target = directory + "/occupied"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        assertError(.io, "it is a directory; only a regular file is replaced") { try writeAtomically("x", to: target) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["occupied"])
        assertError(.invalidArgument, "file path is empty") { try writeAtomically("x", to: "") }
        assertError(.invalidArgument, "NUL byte") { try writeAtomically("x", to: directory + "/a\u{0}b") }
        assertError(.io, "No such file or directory") { try writeAtomically("x", to: directory + "/no/such/dir/file") }
    }

    func testAtomicWriteSkipsAStaleTemporaryFile() throws {
        let path = directory + "/out.npy"
        let stale = "\(path).tmp-\(getpid())"
        XCTAssertTrue(FileManager.default.createFile(atPath: stale, contents: Data("stale".utf8)))
        try writeAtomically("fresh", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "fresh")
        XCTAssertEqual(try String(contentsOfFile: stale, encoding: .utf8), "stale", "someone else's file is left alone")
    }

    func testDirectoryName() {
        XCTAssertEqual(FileIO.directoryName(of: "a/b/c"), "a/b")
        XCTAssertEqual(FileIO.directoryName(of: "c"), ".")
        XCTAssertEqual(FileIO.directoryName(of: "/c"), "/")
        XCTAssertEqual(FileIO.directoryName(of: "//a//b"), "//a")
    }

    // MARK: - Helpers

    private static let repositoryRoot: String = {
        // <root>/Tests/AutoencodersTests/NPYTests.swift
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        return components.joined(separator: "/")
    }()

    private var repositoryRoot: String { Self.repositoryRoot }

    private func write(_ bytes: [UInt8], to path: String) throws {
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)), path)
    }

    private func writeAtomically(_ text: String, to path: String) throws(AutoencoderError) {
        let result: Result<Void, AutoencoderError> = Array(text.utf8).withUnsafeBytes { buffer in
            do throws(AutoencoderError) { try FileIO.writeAtomically(path: path, bytes: buffer); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }

    /// Reads an in-memory .npy file.
    private func parse(_ bytes: [UInt8]) throws(AutoencoderError) -> NPYArray {
        let result: Result<NPYArray, AutoencoderError> = bytes.withUnsafeBytes { buffer in
            do throws(AutoencoderError) { return .success(try NPY.read(bytes: buffer, name: "test.npy")) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// An .npy file with the given header dict text, padded as NumPy pads it.
    private func npyFile(header: String, data: [UInt8], version: UInt8 = 1) -> [UInt8] {
        let preamble = version == 1 ? 10 : 12
        var text = Array(header.utf8)
        text += [UInt8](repeating: 0x20, count: (64 - (preamble + text.count + 1) % 64) % 64) + [0x0A]
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        bytes += version == 1 ? [UInt8(text.count & 0xFF), UInt8(text.count >> 8)]
                              : [UInt8(text.count & 0xFF), UInt8(text.count >> 8 & 0xFF), UInt8(text.count >> 16 & 0xFF), 0]
        return bytes + text + data
    }

    private func npyFile(descr: String, shape: String, data: [UInt8], version: UInt8 = 1) -> [UInt8] {
        npyFile(header: "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }", data: data, version: version)
    }

    /// Checks that `body` throws an AutoencoderError of `kind` whose message contains `fragment`.
    /// (`body` throws untyped: Swift 5 mode does not infer a closure's typed throws.)
    private func assertError<T>(_ kind: AutoencoderError.Kind, _ fragment: String, _ context: String = "",
                                file: StaticString = #filePath, line: UInt = #line,
                                _ body: () throws -> T) {
        do {
            let result = try body()
            XCTFail("expected a \(kind) error containing \"\(fragment)\", got \(result) \(context)", file: file, line: line)
        } catch let error as AutoencoderError {
            XCTAssertEqual(error.kind, kind, "\(error.message) \(context)", file: file, line: line)
            XCTAssertTrue(error.message.contains(fragment), "\"\(error.message)\" does not contain \"\(fragment)\" \(context)", file: file, line: line)
        } catch {
            XCTFail("expected an AutoencoderError, got \(error) \(context)", file: file, line: line)
        }
    }

    /// A tiny deterministic generator for the corruption test.
    private struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
