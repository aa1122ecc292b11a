// libFuzzer harness for the data-file readers of the core (used by the command-line tool, not
// part of the C ABI): NPY.read(bytes:name:) and CSV.parse. The first byte of an input chooses the
// reader, the rest is the file:
//   0  .npy (NPY.read)
//   1  .csv with the separator detected (CSV.read(path:) with separator nil)
//   2  .csv with the separator given by the second byte (as `--separator`; the bytes CSV.read
//      refuses are skipped), the file from the third byte
// Besides crashes, it checks what the readers promise: an array's values match its shape, a
// table holds rows * columns values.
@testable import Autoencoders

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReaders(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size >= 1 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    switch bytes[0] % 3 {
    case 0:
        let file = UnsafeRawBufferPointer(rebasing: bytes[1...])
        guard let array = try? NPY.read(bytes: file, name: "fuzz.npy") else { return 0 }
        let count = array.shape.reduce(1) { $0 * $1 }  // traps on overflow: the reader checked it
        precondition(array.values.count == count, "NPY: \(array.values.count) values for shape \(array.shape)")
    case 1:
        checkTable(UnsafeRawBufferPointer(rebasing: bytes[1...]), separator: nil)
    default:
        guard size >= 2 else { return 0 }
        let separator = bytes[1]
        let refused: [UInt8] = [UInt8(ascii: "\""), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0]
        if separator >= 0x80 || refused.contains(separator) { return 0 }
        checkTable(UnsafeRawBufferPointer(rebasing: bytes[2...]), separator: separator)
    }
    return 0
}

private func checkTable(_ text: UnsafeRawBufferPointer, separator: UInt8?) {
    guard let table = try? CSV.parse(text, name: "fuzz.csv", separator: separator) else { return }
    precondition(table.rows >= 0 && table.columns >= 0, "CSV: \(table.rows) rows, \(table.columns) columns")
    precondition(table.values.count == table.rows * table.columns,
                 "CSV: \(table.values.count) values for \(table.rows) rows of \(table.columns) columns")
    if let header = table.header { precondition(header.count == table.columns, "CSV: header of \(header.count) names, \(table.columns) columns") }
}
