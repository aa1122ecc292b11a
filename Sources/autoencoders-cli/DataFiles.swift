#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Autoencoders

/// A data file read as a batch of samples: an .npy array of shape [N, ...] (any numeric dtype) or
/// a numeric .csv/.tsv file (one sample per line, header auto-detected), as Float values with
/// N = `rows` samples of `features` values each. NaN and infinities are rejected with their position.
struct DataFile {
    let path: String
    /// The shape as stored: [N, ...] for .npy, [rows, columns] for CSV.
    let shape: [Int]
    let values: [Float]

    var rows: Int { shape.first ?? 0 }
    /// The shape of one sample ([28, 28] for MNIST images, [] for a 1-D array).
    var sampleShape: [Int] { Array(shape.dropFirst()) }
    var features: Int { sampleShape.reduce(1, *) }

    static func load(_ path: String) throws -> DataFile {
        let file: DataFile
        switch fileExtension(path) {
        case "npy":
            let array = try NPY.read(path: path)
            guard !array.shape.isEmpty else {
                throw CLIError.failure("\(path): holds a single value (a 0-d array); expected samples of shape [N, ...]")
            }
            file = DataFile(path: path, shape: array.shape, values: array.values)
        case "csv", "tsv", "txt":
            let table = try CSV.read(path: path, separator: fileExtension(path) == "tsv" ? UInt8(ascii: "\t") : nil)
            file = DataFile(path: path, shape: [table.rows, table.columns], values: table.values)
        default:
            throw CLIError.failure("\(path): unknown data file type; expected .npy or .csv")
        }
        guard file.rows > 0 else { throw CLIError.failure("\(path): holds no samples") }
        try file.checkFinite()
        return file
    }

    /// The samples as a [rows, features] tensor, after checking that each holds `expected` values.
    /// `what` names the expectation in the message ("the model's input size").
    func matrix(expecting expected: Int, what: String) throws -> Tensor {
        guard features == expected else {
            var message = "\(path): each sample has \(features) value\(features == 1 ? "" : "s") (shape \(describeShape(shape))), but \(what) is \(expected)"
            if shape.count == 1 { message += "; a 1-D array is read as \(rows) samples of one value (reshape one sample to [1, \(rows)])" }
            throw CLIError.failure(message)
        }
        return try Tensor(shape: [rows, features], values: values)
    }

    private var isCSV: Bool { fileExtension(path) != "npy" }

    private func checkFinite() throws {
        guard let bad = values.firstIndex(where: { !$0.isFinite }) else { return }
        throw CLIError.failure("\(path): \(position(of: bad)) is \(values[bad]); data must be finite")
    }

    /// Where the value at flat `index` sits, as the user sees the file: "element [3, 5, 7]" in an
    /// .npy array, "data row 4, column 2" in a CSV file.
    func position(of index: Int) -> String {
        if isCSV { return "data row \(index / max(features, 1) + 1), column \(index % max(features, 1) + 1)" }
        return "element " + describeShape(unravel(index, shape))
    }
}

/// The multi-index of flat position `index` in a C-order array of `shape`.
func unravel(_ index: Int, _ shape: [Int]) -> [Int] {
    var digits: [Int] = []
    var rest = index
    for dimension in shape.reversed() {
        digits.append(rest % max(dimension, 1))
        rest /= max(dimension, 1)
    }
    return digits.reversed()
}

/// The whole file, with an error naming it and the system's reason.
func readFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw CLIError.failure("cannot open '\(path)': \(systemError())") }
    defer { close(fd) }
    var info = stat()
    if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
        throw CLIError.failure("cannot read '\(path)': Is a directory")
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if got < 0 {
            if errno == EINTR { continue }
            throw CLIError.failure("cannot read '\(path)': \(systemError())")
        }
        if got == 0 { return bytes }
        bytes.append(contentsOf: chunk[..<got])
    }
}

/// Fails early (before a long run) when `path` cannot be created: its directory is missing or not writable.
func checkWritable(_ path: String) throws {
    let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
    let folder = directory.isEmpty ? "/" : directory
    var info = stat()
    guard stat(folder, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
        throw CLIError.failure("cannot write '\(path)': the directory '\(folder)' does not exist")
    }
    guard access(folder, W_OK) == 0 else {
        throw CLIError.failure("cannot write '\(path)': the directory '\(folder)' is not writable")
    }
}

func fileExtension(_ path: String) -> String {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
    return name[name.index(after: dot)...].lowercased()
}

private func systemError() -> String { String(cString: strerror(errno)) }
