import Autoencoders

/// `--lengths FILE.npy` of the sequence commands: one length per sample (an integer .npy of
/// shape [N], int32 or int64, or whole numbers in a float one), each in 1..T, for a model that
/// reads sequences ([N, T, F] floats, or [N, T] token ids). Steps past a sample's length are
/// padding: ignored by training and scores, 0 (or the padding id) in reconstructions.
enum SequenceLengths {
    static let option = Option.value("--lengths", "L.npy")

    /// The lengths in `path` for the `rows` samples of `dataPath`, checked against the model.
    static func read(_ path: String, model: Model, modelName: String, rows: Int, dataPath: String) throws -> [Int32] {
        guard let shape = model.sequenceShape else {
            throw CLIError.failure("--lengths \(path): \(modelName) does not read sequences (its input shape is \(describeShape(model.inputShape)) and it has no lstm or gru); lengths apply to sequence models")
        }
        var fileShape: [Int]
        var values: [Int]
        if fileExtension(path) == "npy", let exact = try? NPY.readIntegers(path: path) {
            (fileShape, values) = exact
        } else {
            let file = try DataFile.load(path)
            if let bad = file.values.firstIndex(where: { $0 != $0.rounded() || abs($0) >= 1e15 }) {
                throw CLIError.failure("--lengths \(path): \(file.position(of: bad)) is \(file.values[bad]); lengths are whole numbers of steps")
            }
            fileShape = file.shape
            values = file.values.map { Int($0) }
        }
        guard fileShape.count == 1 || (fileShape.count == 2 && fileShape[1] == 1), values.count == rows else {
            throw CLIError.failure("--lengths \(path) has shape \(describeShape(fileShape)) but \(dataPath) has \(rows) sample\(rows == 1 ? "" : "s"); expected one length per sample, shape [\(rows)]")
        }
        if let bad = values.firstIndex(where: { $0 < 1 || $0 > shape.steps }) {
            throw CLIError.failure("--lengths \(path): element [\(bad)] is \(values[bad]); each length must be between 1 and T = \(shape.steps) (the model's steps)")
        }
        return values.map { Int32($0) }
    }

    /// The lengths of `--lengths` (or nil without it) for the data of a command.
    static func fromArguments(_ arguments: Arguments, model: Model, modelName: String, rows: Int, dataPath: String,
                              option: String = "--lengths") throws -> [Int32]? {
        guard let path = arguments.string(option) else { return nil }
        return try read(path, model: model, modelName: modelName, rows: rows, dataPath: dataPath)
    }
}

/// `body` with a pointer to the lengths, or nil.
func withLengths<R>(_ lengths: [Int32]?, _ body: (UnsafePointer<Int32>?) throws -> R) rethrows -> R {
    guard let lengths else { return try body(nil) }
    return try lengths.withUnsafeBufferPointer { try body($0.baseAddress) }
}
