import Autoencoders

/// `autoencoders encode | decode | reconstruct | score`: a saved model applied to a data file.
/// Inputs are raw data: the model's stored input scaling is applied inside.
enum InferenceCommand {
    static let encodeUsage = """
    Usage: autoencoders encode --model MODEL.aem --data X.npy|X.csv --out CODES.npy
                              [--logvar LOGVAR.npy] [--sample [--seed S]] [--threads N]

    Writes the code (bottleneck) of every sample: an array of shape [N, code...]. For a
    variational model the code is the mean of q(z | x); --logvar also writes its log-variance,
    and --sample writes codes drawn from q(z | x) instead (seeded by --seed, default 0).

    Sequence models read [N, T, F] arrays (token models integer ids [N, T]); --lengths L.npy
    gives each sample's length (integers of shape [N], each 1..T): the last state is taken there.
    """

    static let decodeUsage = """
    Usage: autoencoders decode --model MODEL.aem --data CODES.npy|CODES.csv --out X.npy [--threads N]

    Maps codes of shape [N, code...] back to data space: an array of shape [N, input...].
    Models whose decoder reads encoder feature maps besides the code cannot decode.
    """

    static let reconstructUsage = """
    Usage: autoencoders reconstruct --model MODEL.aem --data X.npy|X.csv --out XHAT.npy [--mask M.npy] [--threads N]

    Writes the reconstruction of every sample, in data space and in the input file's
    per-sample shape (for example [N, 28, 28]). With --mask (same shape as the data, 1 where a
    value is known, 0 where it is missing), fills in the missing values instead (inpainting):
    known values are kept and missing ones come from the model.

    Sequence models read [N, T, F] arrays; --lengths L.npy (integers of shape [N], each 1..T)
    gives each sample's length, and the steps past it are 0 in the output. A token model (an
    embedding first) reads integer ids [N, T] and writes int32 ids: the most likely token per
    step, the padding id past a sample's length.
    """

    static let scoreUsage = """
    Usage: autoencoders score --model MODEL.aem --data X.npy|X.csv [--out SCORES.npy] [--threads N]

    Computes every sample's anomaly score (mean squared reconstruction error in the model's
    scaled space), prints their count, mean, median, 95th percentile and maximum, and with
    --out writes them as an array of shape [N].

    Sequence models read [N, T, F] arrays; with --lengths L.npy (integers of shape [N], each
    1..T) a score averages over each sample's valid steps only. A token model's score is its mean
    cross-entropy per sample.
    """

    static let options: [Option] = [.value("--model", "MODEL.aem"), .value("--data", "X.npy"), .value("--out", "FILE.npy"), Shared.threads, Shared.keyFile]
    static let reconstructOptions: [Option] = options + [.value("--mask", "M.npy"), SequenceLengths.option]
    static let scoreOptions: [Option] = options + [SequenceLengths.option]

    static let encodeOptions: [Option] = options + [.value("--logvar", "LOGVAR.npy"), .flag("--sample"), .value("--seed", "S"),
                                                    SequenceLengths.option]

    static func encode(_ arguments: Arguments) throws {
        let (model, modelPath, data, out) = try prepare(arguments, outRequired: true)
        let x = try data.matrix(expecting: model.inputSize, what: "the input size of \(modelPath)")
        let lengths = try SequenceLengths.fromArguments(arguments, model: model, modelName: modelPath, rows: x.rows, dataPath: data.path)
        let logvarPath = arguments.string("--logvar")
        let sample = arguments.flag("--sample")
        if lengths != nil && (logvarPath != nil || sample) {
            throw CLIError.usage("--lengths cannot be combined with --logvar or --sample (variational models read whole samples)")
        }
        if logvarPath != nil || sample || arguments.has("--seed") {
            guard model.isVariational else {
                throw CLIError.failure("\(modelPath) is not a variational model: --logvar, --sample and --seed need an encoder ending in {\"type\": \"variational\"}")
            }
        }
        if let logvarPath { try checkOutput(logvarPath, option: "--logvar") }
        let rows = x.rows, size = rows * model.codeSize
        var codes = [Float](repeating: 0, count: size)
        if sample {
            let seed = UInt64(try arguments.int("--seed", minimum: 0) ?? 0)
            try x.values.withUnsafeBufferPointer { input in
                try codes.withUnsafeMutableBufferPointer { out in
                    if rows > 0 { try model.sampleCodes(input.baseAddress!, rows: rows, seed: seed, into: out.baseAddress!) }
                }
            }
        } else {
            try x.values.withUnsafeBufferPointer { input in
                try codes.withUnsafeMutableBufferPointer { out in
                    try withLengths(lengths) { l in
                        if rows > 0 { try model.encode(input.baseAddress!, rows: rows, lengths: l, into: out.baseAddress!) }
                    }
                }
            }
        }
        try writeOutput(out!, shape: [rows] + model.codeShape, values: codes)
        if let logvarPath {
            var mean = [Float](repeating: 0, count: size), logvar = mean
            try x.values.withUnsafeBufferPointer { input in
                try mean.withUnsafeMutableBufferPointer { m in
                    try logvar.withUnsafeMutableBufferPointer { l in
                        if rows > 0 { try model.encodeDistribution(input.baseAddress!, rows: rows, mean: m.baseAddress!, logVariance: l.baseAddress!) }
                    }
                }
            }
            try writeOutput(logvarPath, shape: [rows] + model.codeShape, values: logvar)
        }
    }

    static func decode(_ arguments: Arguments) throws {
        let (model, modelPath, data, out) = try prepare(arguments, outRequired: true) { model, path in
            try Shared.requireReconstruction(model, path, command: "decode")
            guard model.canDecode else {
                throw CLIError.failure("\(path): this model cannot decode from codes alone: its decoder reads encoder feature maps besides the code (skip or index links); use 'autoencoders reconstruct' instead")
            }
        }
        let codes = try data.matrix(expecting: model.codeSize, what: "the code size of \(modelPath)")
        if model.isTokenModel {
            var tokens = [Int32](repeating: 0, count: codes.rows * model.inputSize)
            try codes.values.withUnsafeBufferPointer { c in
                try tokens.withUnsafeMutableBufferPointer { t in
                    if codes.rows > 0 { try model.decodeTokens(c.baseAddress!, rows: codes.rows, into: t.baseAddress!) }
                }
            }
            try writeOutput(out!, shape: [codes.rows] + model.inputShape, integers: tokens)
            return
        }
        let output = try model.decode(codes)
        try writeOutput(out!, shape: output.shape, values: output.values)
    }

    static func reconstruct(_ arguments: Arguments) throws {
        let (model, modelPath, data, out) = try prepare(arguments, outRequired: true) { model, path in
            try Shared.requireReconstruction(model, path, command: "reconstruct")
        }
        let x = try data.matrix(expecting: model.inputSize, what: "the input size of \(modelPath)")
        let lengths = try SequenceLengths.fromArguments(arguments, model: model, modelName: modelPath, rows: x.rows, dataPath: data.path)
        if lengths != nil && arguments.has("--mask") { throw CLIError.usage("--lengths and --mask cannot be combined") }
        if model.isTokenModel {
            var tokens = [Int32](repeating: 0, count: x.rows * model.inputSize)
            try x.values.withUnsafeBufferPointer { input in
                try tokens.withUnsafeMutableBufferPointer { t in
                    try withLengths(lengths) { l in
                        if x.rows > 0 { try model.reconstructTokens(input.baseAddress!, rows: x.rows, lengths: l, into: t.baseAddress!) }
                    }
                }
            }
            try writeOutput(out!, shape: data.shape, integers: tokens)
            return
        }
        let output: Tensor
        if let lengths {
            var values = [Float](repeating: 0, count: x.rows * model.outputSize)
            try x.values.withUnsafeBufferPointer { input in
                try values.withUnsafeMutableBufferPointer { o in
                    try withLengths(lengths) { l in
                        if x.rows > 0 { try model.reconstruct(input.baseAddress!, rows: x.rows, lengths: l, into: o.baseAddress!) }
                    }
                }
            }
            output = try Tensor(shape: [x.rows, model.outputSize], values: values)
        } else if let maskPath = arguments.string("--mask") {
            let mask = try DataFile.load(maskPath).matrix(expecting: model.inputSize, what: "the input size of \(modelPath)")
            guard mask.rows == x.rows else {
                throw CLIError.failure("\(maskPath) has \(mask.rows) samples but \(data.path) has \(x.rows); the mask has the shape of the data")
            }
            output = try model.inpaint(x, mask: mask)
        } else {
            output = try model.reconstruct(x)
        }
        // The input file's per-sample shape, so [N, 28, 28] comes back as [N, 28, 28].
        try writeOutput(out!, shape: data.shape, values: output.values)
    }

    static func score(_ arguments: Arguments) throws {
        let (model, modelPath, data, out) = try prepare(arguments, outRequired: false) { model, path in
            try Shared.requireReconstruction(model, path, command: "score")
        }
        let x = try data.matrix(expecting: model.inputSize, what: "the input size of \(modelPath)")
        let lengths = try SequenceLengths.fromArguments(arguments, model: model, modelName: modelPath, rows: x.rows, dataPath: data.path)
        var scores = [Float](repeating: 0, count: x.rows)
        try x.values.withUnsafeBufferPointer { input in
            try scores.withUnsafeMutableBufferPointer { s in
                try withLengths(lengths) { l in
                    if x.rows > 0 { try model.score(input.baseAddress!, rows: x.rows, lengths: l, into: s.baseAddress!) }
                }
            }
        }
        if let out { try writeOutput(out, shape: [scores.count], values: scores) }
        let sorted = scores.map(Double.init).sorted()
        Console.out("count   \(sorted.count)")
        Console.out("mean    " + format("%.6g", sorted.reduce(0, +) / Double(sorted.count)))
        Console.out("median  " + format("%.6g", percentile(sorted, 50)))
        Console.out("p95     " + format("%.6g", percentile(sorted, 95)))
        Console.out("max     " + format("%.6g", sorted.last!))
    }

    /// The q-th percentile of sorted values, interpolated linearly (NumPy's default).
    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q / 100 * Double(sorted.count - 1)
        let low = Int(position), high = min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    /// Checks the options, then loads the model, lets `check` refuse it, and loads the data.
    static func prepare(_ arguments: Arguments, outRequired: Bool,
                        check: (Model, String) throws -> Void = { _, _ in }) throws -> (Model, String, DataFile, String?) {
        let modelPath = try arguments.required("--model")
        let dataPath = try arguments.required("--data")
        let out = outRequired ? try arguments.required("--out") : arguments.string("--out")
        try Shared.applyThreads(arguments)
        if let out { try checkOutput(out) }
        let model = try Shared.loadModel(modelPath, arguments)
        try check(model, modelPath)
        return (model, modelPath, try DataFile.load(dataPath), out)
    }
}
