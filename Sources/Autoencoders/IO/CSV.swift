#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Numeric CSV files: one sample per line, one feature per column.
///
/// The file is parsed as bytes. Lines end with "\n" or "\r\n"; blank lines are skipped; a
/// UTF-8 byte-order mark is ignored. Cells may be quoted ("1.5", with "" for a quote inside), but a
/// quoted cell cannot span lines. Spaces around a cell are ignored (and tabs, unless tab is the
/// separator).
public enum CSV {
    /// Reads a numeric CSV file into a row-major [rows, columns] Float matrix.
    ///
    /// - Parameters:
    ///   - path: the file to read.
    ///   - separator: the cell separator; nil means ',', or ';' or tab when the first line holds no
    ///     comma but does hold that character.
    /// - Returns: the header's names if the first line does not parse as numbers (it is then
    ///   skipped), the matrix size, and the values [rows * columns]. With no data lines, `rows` is
    ///   0 (and `columns` is the header's width, or 0 for an empty file).
    ///   Cells such as "nan" and "inf" are parsed: the caller decides whether to reject them.
    /// - Throws: `.invalidArgument` for an unusable separator; `.io` when the file cannot be read;
    ///   `.format` naming the line (and column) for a row whose width differs from the first line's,
    ///   and for an empty or non-numeric cell.
    public static func read(path: String, separator: UInt8? = nil) throws(AutoencoderError)
        -> (header: [String]?, rows: Int, columns: Int, values: [Float])
    {
        if let separator {
            let forbidden: [UInt8] = [UInt8(ascii: "\""), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0]
            if separator >= 0x80 || forbidden.contains(separator) {
                throw .invalidArgument("CSV separator \(separator) must be an ASCII character other than a quote, NUL or a line break")
            }
        }
        let bytes = try FileIO.readAll(path: path)
        let result: Result<Table, AutoencoderError> = bytes.withUnsafeBytes { buffer in
            do throws(AutoencoderError) {
                return .success(try parse(buffer, name: path, separator: separator))
            } catch {
                return .failure(error)
            }
        }
        let table = try result.get()
        return (table.header, table.rows, table.columns, table.values)
    }

    struct Table {
        var header: [String]?
        var rows: Int
        var columns: Int
        var values: [Float]  // [rows, columns]
    }

    /// Parses CSV text held in memory; `name` starts every error message.
    static func parse(_ text: UnsafeRawBufferPointer, name: String, separator: UInt8?) throws(AutoencoderError) -> Table {
        var table = Table(header: nil, rows: 0, columns: 0, values: [])
        var separator = separator
        var position = text.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var lineNumber = 0
        var firstLine = 0  // the line that set the column count

        while position < text.count {
            lineNumber += 1
            let start = position
            var end = find(newline, in: text, from: start, to: text.count) ?? text.count
            position = end + 1
            if end > start && text[end - 1] == carriageReturn { end -= 1 }
            if isBlank(text, start, end) { continue }

            let hasQuotes = find(quote, in: text, from: start, to: end) != nil
            if firstLine == 0 {
                // The first line sets the separator and the width, and is a header unless all its
                // cells are numbers.
                firstLine = lineNumber
                let chosen = separator ?? detectSeparator(text, start, end)
                separator = chosen
                var isHeader = false
                if hasQuotes {
                    let cells = splitQuoted(text, start, end, separator: chosen)
                    let numbers = cells.compactMap { number(in: $0, separator: chosen) }
                    isHeader = numbers.count < cells.count
                    table.columns = cells.count
                    if !isHeader { table.values = numbers }
                } else {
                    switch appendNumbers(text, start, end, separator: chosen, limit: Int.max, to: &table.values) {
                    case .cells(let count): table.columns = count
                    case .notANumber, .tooMany: isHeader = true
                    }
                }
                if isHeader {
                    let cells = splitQuoted(text, start, end, separator: chosen)
                    table.header = cells.map { String(decoding: trim($0, separator: chosen), as: UTF8.self) }
                    table.columns = cells.count
                    table.values = []
                } else {
                    table.rows = 1
                }
                table.values.reserveCapacity(table.values.count + estimatedCells(text, from: position, columns: table.columns))
                continue
            }

            let separator = separator!
            let line = LineContext(name: name, number: lineNumber, columns: table.columns, firstLine: firstLine)
            if hasQuotes {
                let cells = splitQuoted(text, start, end, separator: separator)
                if cells.count != table.columns { throw line.ragged(found: cells.count) }
                for (index, cell) in cells.enumerated() {
                    guard let value = number(in: cell, separator: separator) else {
                        throw line.notANumber(trim(cell, separator: separator), column: index + 1)
                    }
                    table.values.append(value)
                }
            } else {
                switch appendNumbers(text, start, end, separator: separator, limit: table.columns, to: &table.values) {
                case .cells(let count):
                    if count != table.columns { throw line.ragged(found: count) }
                case .notANumber(let column, let cell):
                    throw line.notANumber(trim(UnsafeRawBufferPointer(rebasing: text[cell]), separator: separator), column: column)
                case .tooMany:
                    throw line.ragged(found: 1 + text[start..<end].reduce(0) { $0 + ($1 == separator ? 1 : 0) })
                }
            }
            table.rows += 1
        }
        return table
    }

    // MARK: - Lines and cells

    private enum LineOutcome {
        case cells(Int)
        case notANumber(column: Int, cell: Range<Int>)
        case tooMany
    }

    /// The fast path for a line without quotes: appends its cells' numbers to `values` and
    /// returns how many there were; stops at the first cell that is not a number, or when there are
    /// more than `limit` cells.
    @inline(__always)
    private static func appendNumbers(_ text: UnsafeRawBufferPointer, _ start: Int, _ end: Int, separator: UInt8,
                                      limit: Int, to values: inout [Float]) -> LineOutcome {
        var column = 0
        var cellStart = start
        var index = start
        while true {
            if index == end || text[index] == separator {
                column += 1
                if column > limit { return .tooMany }
                guard let value = number(in: UnsafeRawBufferPointer(rebasing: text[cellStart..<index]), separator: separator) else {
                    return .notANumber(column: column, cell: cellStart..<index)
                }
                values.append(value)
                if index == end { return .cells(column) }
                cellStart = index + 1
            }
            index += 1
        }
    }

    private static let newline = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")
    private static let quote = UInt8(ascii: "\"")
    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")

    /// Where a data line sits, for error messages.
    private struct LineContext {
        let name: String
        let number: Int
        let columns: Int
        let firstLine: Int

        func ragged(found: Int) -> AutoencoderError {
            .format("\(name): line \(number) has \(found) column\(found == 1 ? "" : "s"), expected \(columns) (as on line \(firstLine))")
        }

        func notANumber<Cell: Collection<UInt8>>(_ cell: Cell, column: Int) -> AutoencoderError {
            if cell.isEmpty {
                return .format("\(name): line \(number), column \(column): empty cell (expected a number)")
            }
            let text = String(decoding: cell.prefix(40), as: UTF8.self) + (cell.count > 40 ? "..." : "")
            return .format("\(name): line \(number), column \(column): '\(text)' is not a number")
        }
    }

    /// The index of the first `byte` in text[from..<to], found with memchr.
    private static func find(_ byte: UInt8, in text: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        guard from < to, let base = text.baseAddress, let found = memchr(base + from, Int32(byte), to - from) else { return nil }
        return UnsafeRawPointer(found) - base
    }

    private static func isBlank(_ text: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        text[start..<end].allSatisfy { $0 == space || $0 == tab }
    }

    /// ',' unless the line holds no comma but a ';' (or else a tab).
    private static func detectSeparator(_ text: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> UInt8 {
        let line = text[start..<end]
        for candidate in [UInt8(ascii: ","), UInt8(ascii: ";"), tab] where line.contains(candidate) {
            return candidate
        }
        return UInt8(ascii: ",")
    }

    /// Splits a line into cells, honouring quotes: `"a,b"` is one cell `a,b`, and `""` inside quotes
    /// is a quote. Used for the first line and for lines that hold a quote.
    private static func splitQuoted(_ text: UnsafeRawBufferPointer, _ start: Int, _ end: Int, separator: UInt8) -> [[UInt8]] {
        var cells: [[UInt8]] = []
        var cell: [UInt8] = []
        var inQuotes = false
        var index = start
        while index < end {
            let byte = text[index]
            if inQuotes {
                if byte == quote {
                    if index + 1 < end && text[index + 1] == quote {
                        cell.append(quote)
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    cell.append(byte)
                }
            } else if byte == quote && trim(cell, separator: separator).isEmpty {
                inQuotes = true
                cell.removeAll()
            } else if byte == separator {
                cells.append(cell)
                cell.removeAll()
            } else {
                cell.append(byte)
            }
            index += 1
        }
        cells.append(cell)
        return cells
    }

    /// The cell without surrounding spaces (and tabs, unless tab separates cells).
    private static func trim<Cell: BidirectionalCollection<UInt8>>(_ cell: Cell, separator: UInt8) -> Cell.SubSequence {
        let isPadding = { (byte: UInt8) in (byte == space && separator != space) || (byte == tab && separator != tab) }
        var trimmed = cell[...]
        while let first = trimmed.first, isPadding(first) { trimmed = trimmed.dropFirst() }
        while let last = trimmed.last, isPadding(last) { trimmed = trimmed.dropLast() }
        return trimmed
    }

    /// A capacity for the values: columns per remaining line, bounded by what the bytes can hold
    /// (every cell takes at least two bytes), so a hostile file cannot make it huge.
    private static func estimatedCells(_ text: UnsafeRawBufferPointer, from position: Int, columns: Int) -> Int {
        var lines = 1
        var next = position
        while let found = find(newline, in: text, from: next, to: text.count) {
            lines += 1
            next = found + 1
        }
        let (cells, overflow) = (lines + 1).multipliedReportingOverflow(by: columns)
        return min(overflow ? Int.max : cells, text.count / 2 + columns)
    }

    // MARK: - Numbers

    /// Exact powers of ten: 10^10 = 2^10 * 5^10 with 5^10 < 2^24 fits a Float, 10^22 with
    /// 5^22 < 2^53 fits a Double.
    private static let floatPowersOfTen: [Float] = (0...10).map { Float(pow10($0)) }
    private static let doublePowersOfTen: [Double] = (0...22).map { pow10($0) }
    private static func pow10(_ exponent: Int) -> Double {
        (0..<exponent).reduce(1) { product, _ in product * 10 }
    }

    /// The cell's number, or nil when it is empty or not a number.
    @inline(__always)
    private static func number<Cell: BidirectionalCollection<UInt8>>(in cell: Cell, separator: UInt8) -> Float? {
        let trimmed = trim(cell, separator: separator)
        if trimmed.isEmpty { return nil }
        if let value = fastDecimal(trimmed) { return value }
        return Float(String(decoding: trimmed, as: UTF8.self))
    }

    /// A fast path that returns exactly what `Float(String)` returns, or nil to defer to it.
    ///
    /// It reads [sign] digits [. digits] [e [sign] digits] as `mantissa * 10^exponent` with at most
    /// 19 significant digits, then:
    /// * mantissa <= 2^24 and |exponent| <= 10 (cells such as "255" or "-0.5"): mantissa and 10^|exponent|
    ///   are exact Floats, so one Float multiplication or division rounds correctly;
    /// * otherwise, if |exponent| <= 22 (such as NumPy's "3.921568859368562698e-03"): a Double
    ///   within 2 of its ulps of the exact value; its Float rounding is the correct one unless a
    ///   midpoint between two Floats lies that close, which is left to the standard library.
    /// "nan", "inf", hex and longer digit strings return nil.
    @inline(__always)
    private static func fastDecimal<Cell: Collection<UInt8>>(_ cell: Cell) -> Float? {
        var index = cell.startIndex
        var negative = false
        if cell[index] == UInt8(ascii: "-") || cell[index] == UInt8(ascii: "+") {
            negative = cell[index] == UInt8(ascii: "-")
            index = cell.index(after: index)
        }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var exponent = 0
        var sawPoint = false
        var sawDigit = false
        while index != cell.endIndex {
            let byte = cell[index]
            let digit = byte &- UInt8(ascii: "0")
            if digit < 10 {
                if mantissa != 0 || digit != 0 {
                    significantDigits += 1
                    if significantDigits > 19 { return nil }
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                }
                if sawPoint { exponent -= 1 }
                sawDigit = true
            } else if byte == UInt8(ascii: ".") && !sawPoint {
                sawPoint = true
            } else if (byte | 0x20) == UInt8(ascii: "e") && sawDigit {
                index = cell.index(after: index)
                guard let written = smallExponent(cell[index...]) else { return nil }
                exponent += written
                index = cell.endIndex
                break
            } else {
                return nil
            }
            index = cell.index(after: index)
        }
        guard sawDigit else { return nil }
        if mantissa == 0 { return negative ? -0.0 : 0.0 }

        var value: Float
        if mantissa <= 1 << 24 && exponent >= -10 && exponent <= 10 {
            value = exponent < 0 ? Float(mantissa) / floatPowersOfTen[-exponent] : Float(mantissa) * floatPowersOfTen[exponent]
        } else if exponent >= -22 && exponent <= 22 {
            let approximate = exponent < 0 ? Double(mantissa) / doublePowersOfTen[-exponent] : Double(mantissa) * doublePowersOfTen[exponent]
            value = Float(approximate)
            guard value.isNormal, value.magnitude < .greatestFiniteMagnitude else { return nil }
            let below = (Double(value) + Double(value.nextDown)) / 2
            let above = (Double(value) + Double(value.nextUp)) / 2
            let margin = 8 * approximate.ulp
            guard approximate - below > margin, above - approximate > margin else { return nil }
        } else {
            return nil
        }
        return negative ? -value : value
    }

    /// The digits of a decimal exponent ([sign] 1 to 3 digits), or nil.
    private static func smallExponent<Digits: Collection<UInt8>>(_ digits: Digits) -> Int? {
        var index = digits.startIndex
        var negative = false
        if index != digits.endIndex && (digits[index] == UInt8(ascii: "-") || digits[index] == UInt8(ascii: "+")) {
            negative = digits[index] == UInt8(ascii: "-")
            index = digits.index(after: index)
        }
        var value = 0
        var count = 0
        while index != digits.endIndex {
            let digit = digits[index] &- UInt8(ascii: "0")
            guard digit < 10, count < 3 else { return nil }
            value = value * 10 + Int(digit)
            count += 1
            index = digits.index(after: index)
        }
        guard count > 0 else { return nil }
        return negative ? -value : value
    }
}
