import Foundation
import XCTest
@testable import Autoencoders

/// What the command-line tool writes results with: int32 .npy files (labels) and CSV/TSV text
/// (IO/NPYWriter.swift, IO/CSVWriter.swift).
final class OutputWriterTests: TemporaryDirectoryTestCase {
    func testInt32NPYReadsBackExactlyWithNumPysHeader() throws {
        let path = directory + "/labels.npy"
        let labels: [Int32] = [0, 1, -100, 2_147_483_647, -2_147_483_648, 7]
        try labels.withUnsafeBufferPointer { try NPY.write(path: path, shape: [2, 3], integers: $0) }
        let read = try NPY.readIntegers(path: path)
        XCTAssertEqual(read.shape, [2, 3])
        XCTAssertEqual(read.values, labels.map(Int.init))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let header = String(decoding: bytes[10..<74], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }"), header)
        XCTAssertEqual(bytes.count, 128 + 6 * 4, "data aligned to 64 bytes")
    }

    func testCSVAndTSVHoldEveryFloatExactly() throws {
        let values: [Float] = [0.1, -2.5e-7, 300, 1 / 3, 16_777_217, -0.0]
        for (name, separator) in [("a.csv", Character(",")), ("a.tsv", Character("\t"))] {
            let path = directory + "/" + name
            try values.withUnsafeBufferPointer { try CSV.write(path: path, rows: 2, columns: 3, separator: separator, values: $0) }
            let text = try String(contentsOfFile: path, encoding: .utf8)
            XCTAssertEqual(text.split(separator: "\n").count, 2)
            XCTAssertEqual(text.split(separator: "\n")[0].split(separator: separator).count, 3)
            let read = try CSV.read(path: path, separator: UInt8(ascii: separator.unicodeScalars.first!))
            XCTAssertEqual(read.rows, 2)
            XCTAssertEqual(read.columns, 3)
            XCTAssertEqual(read.values.map(\.bitPattern), values.map(\.bitPattern), name)
        }
    }

    func testCSVWritesLabelsAsWholeNumbers() throws {
        let path = directory + "/labels.csv"
        let labels: [Int32] = [0, 1, 2, -100]
        try labels.withUnsafeBufferPointer { try CSV.write(path: path, rows: 4, columns: 1, integers: $0) }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "0\n1\n2\n-100\n")
    }

    func testCSVWriteRejectsAWrongShapeAndWritesNothing() {
        let path = directory + "/bad.csv"
        let values: [Float] = [1, 2, 3]
        let error = assertThrows(.shapeMismatch) { () throws(AutoencoderError) in
            try values.withUnsafeBufferPointer { (v) throws(AutoencoderError) in try CSV.write(path: path, rows: 2, columns: 2, values: v) }
        }
        XCTAssertTrue(error?.message.contains("2 rows of 2 columns hold 4 values, but 3 were given") ?? false, error?.message ?? "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
