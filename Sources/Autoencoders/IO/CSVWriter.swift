// Writing a matrix as delimited text: CSV (comma) or TSV (tab), for tools that do not read .npy.

extension CSV {
    /// Writes `values` as a [rows, columns] matrix (row-major), one row per line, cells separated
    /// by `separator` (a comma for CSV, a tab for TSV), atomically: see `FileIO.writeAtomically`.
    /// Each float is written in the shortest form that reads back as the same float32 ("0.1",
    /// "1e-05", "300.0"), so nothing is lost.
    /// Errors: `.shapeMismatch` when rows · columns is not `values.count`, `.invalidArgument` for
    /// a negative size; `.io` naming the path and the system's reason.
    public static func write(path: String, rows: Int, columns: Int, separator: Character = ",",
                             values: UnsafeBufferPointer<Float>) throws(AutoencoderError) {
        try writeCells(path: path, rows: rows, columns: columns, separator: separator, count: values.count) { "\(values[$0])" }
    }

    /// Writes whole numbers (class labels) the same way: "0", "3", "-1".
    public static func write(path: String, rows: Int, columns: Int, separator: Character = ",",
                             integers values: UnsafeBufferPointer<Int32>) throws(AutoencoderError) {
        try writeCells(path: path, rows: rows, columns: columns, separator: separator, count: values.count) { "\(values[$0])" }
    }

    private static func writeCells(path: String, rows: Int, columns: Int, separator: Character, count: Int,
                                   cell: (Int) -> String) throws(AutoencoderError) {
        guard rows >= 0, columns >= 0 else {
            throw .invalidArgument("\(path): a table of \(rows) rows and \(columns) columns has a negative size")
        }
        let (product, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow, product == count else {
            throw .shapeMismatch("\(path): \(rows) rows of \(columns) columns hold \(product) values, but \(count) were given")
        }
        var text = ""
        text.reserveCapacity(count * 12)
        for r in 0..<rows {
            for c in 0..<columns {
                if c > 0 { text.append(separator) }
                text += cell(r * columns + c)
            }
            text += "\n"
        }
        try NPY.withBytes(Array(text.utf8)) { (buffer) throws(AutoencoderError) in
            try FileIO.writeAtomically(path: path, bytes: buffer)
        }
    }
}
