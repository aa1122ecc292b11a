import Foundation
import XCTest
@testable import Autoencoders

/// Numeric CSV reading (Sources/Autoencoders/IO/CSV.swift).
final class CSVTests: TemporaryDirectoryTestCase {
    func testHeaderIsReturnedAndSkipped() throws {
        let table = try read("a,b,c\n1,2,3\n4,5,6\n")
        XCTAssertEqual(table.header, ["a", "b", "c"])
        XCTAssertEqual(table.rows, 2)
        XCTAssertEqual(table.columns, 3)
        XCTAssertEqual(table.values, [1, 2, 3, 4, 5, 6])
    }

    func testWithoutHeader() throws {
        let table = try read("1,2.5,-3\n4e2,0.125,+6\n")
        XCTAssertNil(table.header)
        XCTAssertEqual(table.rows, 2)
        XCTAssertEqual(table.columns, 3)
        XCTAssertEqual(table.values, [1, 2.5, -3, 400, 0.125, 6])
    }

    func testBlankLinesAreSkipped() throws {
        let table = try read("\n  \nx,y\n\n1,2\n \t \n3,4\n\n")
        XCTAssertEqual(table.header, ["x", "y"])
        XCTAssertEqual(table.rows, 2)
        XCTAssertEqual(table.values, [1, 2, 3, 4])
    }

    func testSemicolonsAndTabsAreDetected() throws {
        let semicolons = try read("p;q\n1;2\n3;4\n")
        XCTAssertEqual(semicolons.header, ["p", "q"])
        XCTAssertEqual(semicolons.values, [1, 2, 3, 4])
        let tabs = try read("1\t2\t3\n4\t5\t6\n")
        XCTAssertEqual(tabs.columns, 3)
        XCTAssertEqual(tabs.values, [1, 2, 3, 4, 5, 6])
        let single = try read("7\n8\n")
        XCTAssertEqual(single.columns, 1)
        XCTAssertEqual(single.values, [7, 8])
    }

    func testExplicitSeparator() throws {
        let table = try read("1|2\n3|4\n", separator: UInt8(ascii: "|"))
        XCTAssertEqual(table.columns, 2)
        XCTAssertEqual(table.values, [1, 2, 3, 4])
        assertError(.invalidArgument, "separator") { try read("1\n", separator: UInt8(ascii: "\"")) }
        assertError(.invalidArgument, "separator") { try read("1\n", separator: UInt8(ascii: "\n")) }
    }

    func testWindowsLineEndingsByteOrderMarkQuotesAndSpaces() throws {
        let table = try read("\u{FEFF}\"id\",\"value, in mm\"\r\n\"1\", 2.5 \r\n 3 ,\"4\"\r\n")
        XCTAssertEqual(table.header, ["id", "value, in mm"])
        XCTAssertEqual(table.rows, 2)
        XCTAssertEqual(table.values, [1, 2.5, 3, 4])
    }

    func testLastLineWithoutNewline() throws {
        XCTAssertEqual(try read("1,2\n3,4").values, [1, 2, 3, 4])
    }

    func testRaggedRowNamesLineAndExpectedColumns() {
        assertError(.format, "line 4 has 2 columns, expected 3 (as on line 1)") { try read("a,b,c\n1,2,3\n\n4,5\n") }
        assertError(.format, "line 2 has 4 columns, expected 3 (as on line 1)") { try read("1,2,3\n4,5,6,7\n") }
        assertError(.format, "line 3 has 1 column, expected 2 (as on line 2)") { try read("\n1,2\n3\n") }
    }

    func testNonNumericCellNamesLineAndColumn() {
        assertError(.format, "line 3, column 2: 'abc' is not a number") { try read("x,y\n1,2\n3,abc\n") }
        assertError(.format, "line 2, column 2: empty cell") { try read("1,2\n3,\n") }
        assertError(.format, "line 2, column 1: '1,5' is not a number") { try read("1;2\n\"1,5\";2\n") }
        assertError(.format, "\(directory)/test.csv: line 2") { try read("1\nfoo\n") }
    }

    func testNonFiniteCellsAreParsed() throws {
        let table = try read("nan,inf\n-inf,1e39\n")
        XCTAssertTrue(table.values[0].isNaN)
        XCTAssertEqual(Array(table.values[1...]), [.infinity, -.infinity, .infinity])
    }

    func testEmptyAndHeaderOnlyFiles() throws {
        let empty = try read("")
        XCTAssertNil(empty.header)
        XCTAssertEqual(empty.rows, 0)
        XCTAssertEqual(empty.columns, 0)
        let headerOnly = try read("a,b\n")
        XCTAssertEqual(headerOnly.header, ["a", "b"])
        XCTAssertEqual(headerOnly.rows, 0)
        XCTAssertEqual(headerOnly.columns, 2)
    }

    func testNumbersMatchTheStandardLibrary() throws {
        let cells = ["0", "-0", "255", "0.1", "0.2", "0.3", "-.5", "1.", "16777217", "123456789", "0.0039215689",
                     "3.921568859368562698e-03", "1.000000059604644775390625", "1.0000000596046447", "1.00000005960464477539062501",
                     "3.4028235e38", "1e-45", "7e-46", "1E5", "1e+05", "0x1p3", "1234567890123456789012"]
        let table = try read(cells.joined(separator: "\n"))
        XCTAssertEqual(table.rows, cells.count)
        for (cell, value) in zip(cells, table.values) {
            XCTAssertEqual(value.bitPattern, Float(cell)!.bitPattern, cell)
        }
    }

    func testMissingFileIsAnIOError() {
        let path = directory + "/absent.csv"
        assertError(.io, "cannot open '\(path)': No such file or directory") { try CSV.read(path: path) }
    }

    // MARK: - Helpers

    private func read(_ text: String, separator: UInt8? = nil) throws(AutoencoderError)
        -> (header: [String]?, rows: Int, columns: Int, values: [Float])
    {
        let path = directory + "/test.csv"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)))
        return try CSV.read(path: path, separator: separator)
    }

    /// Checks that `body` throws an AutoencoderError of `kind` whose message contains `fragment`.
    /// (`body` throws untyped: Swift 5 mode does not infer a closure's typed throws.)
    private func assertError<T>(_ kind: AutoencoderError.Kind, _ fragment: String,
                                file: StaticString = #filePath, line: UInt = #line,
                                _ body: () throws -> T) {
        do {
            let result = try body()
            XCTFail("expected a \(kind) error containing \"\(fragment)\", got \(result)", file: file, line: line)
        } catch let error as AutoencoderError {
            XCTAssertEqual(error.kind, kind, error.message, file: file, line: line)
            XCTAssertTrue(error.message.contains(fragment), "\"\(error.message)\" does not contain \"\(fragment)\"", file: file, line: line)
        } catch {
            XCTFail("expected an AutoencoderError, got \(error)", file: file, line: line)
        }
    }
}
