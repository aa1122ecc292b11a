import Autoencoders

/// Result files, written in the format their name says: .npy (float32, or int32 for labels, as
/// the Python API returns them), .csv (comma-separated) or .tsv (tab-separated), one sample per
/// line with its values flattened. Any other name is refused before any work is done, so that
/// `--out scores.txt` cannot silently hold .npy bytes.
enum OutputFormat {
    case npy, csv, tsv

    static let accepted = ".npy, .csv or .tsv"

    /// The format of `path`, from its extension; `option` names the argument in the error.
    init(path: String, option: String = "--out") throws {
        switch fileExtension(path) {
        case "npy": self = .npy
        case "csv": self = .csv
        case "tsv": self = .tsv
        case "": throw CLIError.usage("\(option) \(path): the file name has no extension; outputs are written as \(OutputFormat.accepted) (by the name's extension)")
        case let other: throw CLIError.usage("\(option) \(path): unknown extension '.\(other)'; outputs are written as \(OutputFormat.accepted) (by the name's extension)")
        }
    }

    var separator: Character { self == .tsv ? "\t" : "," }
}

/// Fails early, before any work, when `path` has no known output format or cannot be created.
func checkOutput(_ path: String, option: String = "--out") throws {
    _ = try OutputFormat(path: path, option: option)
    try checkWritable(path)
}

/// Writes float results of `shape` ([N, ...]) at `path`, in the format its extension names.
func writeOutput(_ path: String, shape: [Int], values: [Float]) throws {
    let format = try OutputFormat(path: path)
    try values.withUnsafeBufferPointer { buffer in
        switch format {
        case .npy:
            try NPY.write(path: path, shape: shape, values: buffer)
        case .csv, .tsv:
            let (rows, columns) = table(shape)
            try CSV.write(path: path, rows: rows, columns: columns, separator: format.separator, values: buffer)
        }
    }
}

/// Writes integer results (labels) of `shape` at `path`: int32 .npy, or whole numbers as text.
func writeOutput(_ path: String, shape: [Int], integers: [Int32]) throws {
    let format = try OutputFormat(path: path)
    try integers.withUnsafeBufferPointer { buffer in
        switch format {
        case .npy:
            try NPY.write(path: path, shape: shape, integers: buffer)
        case .csv, .tsv:
            let (rows, columns) = table(shape)
            try CSV.write(path: path, rows: rows, columns: columns, separator: format.separator, integers: buffer)
        }
    }
}

/// A text table's size: one row per sample, the rest of the shape flattened into columns.
private func table(_ shape: [Int]) -> (rows: Int, columns: Int) {
    guard let rows = shape.first else { return (1, 1) }
    return (rows, shape.dropFirst().reduce(1, *))
}
