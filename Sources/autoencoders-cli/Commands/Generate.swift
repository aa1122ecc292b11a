import Autoencoders

/// `autoencoders generate | interpolate`: new samples from a variational (or adversarial) autoencoder's prior, and
/// the decoded path between the codes of two samples.
enum GenerateCommand {
    static let generateUsage = """
    Usage: autoencoders generate --model VAE.aem --count N --out X.npy [--seed S] [--threads N]

    Draws N codes from the prior N(0, I) of a variational autoencoder (a model whose spec's
    encoder ends in {"type": "variational", ...}) and decodes them into data space: writes a
    float32 array of shape [N, ...input shape], in the units of the training data (the model's
    input scaling is undone, so a model trained with --divide-by 255 generates pixels in 0-255).
    The same --seed gives the same samples.

    Options:
      --model VAE.aem   a variational autoencoder
      --count N         samples to generate (1 to 1000000)
      --seed S          seed of the generator (0 to 18446744073709551615; default 0)
      --out X.npy       where to write the samples
      --threads N       OpenBLAS threads
    """

    static let interpolateUsage = """
    Usage: autoencoders interpolate --model MODEL.aem --data X.npy|X.csv --from I --to J --out PATH.npy [--steps K] [--threads N]

    Encodes samples I and J of the data file (0-based) and decodes K evenly spaced points of the
    straight line between their codes: the first is the reconstruction of sample I, the last that
    of sample J. Writes a float32 array of shape [K, ...the data file's per-sample shape], in
    data units. For a variational autoencoder the codes are the means of q(z | x); any model that
    can decode from its code works.

    Options:
      --model MODEL.aem   a model that can decode (not a segmentation model, nor one whose
                          decoder reads encoder feature maps)
      --data X.npy|X.csv  the samples
      --from I            index of the first end (0-based)
      --to J              index of the last end (0-based)
      --steps K           points on the path, ends included (2 to 1048576; default 8)
      --out PATH.npy      where to write them
      --threads N         OpenBLAS threads
    """

    static let generateOptions: [Option] = [
        .value("--model", "VAE.aem"), .value("--count", "N"), .value("--seed", "S"), .value("--out", "X.npy"), Shared.threads, Shared.keyFile,
    ]
    static let interpolateOptions: [Option] = [
        .value("--model", "MODEL.aem"), .value("--data", "X.npy"), .value("--from", "I"), .value("--to", "J"),
        .value("--steps", "K"), .value("--out", "PATH.npy"), Shared.threads, Shared.keyFile,
    ]

    /// The most floats one command writes (1 GiB of float32).
    static let maximumOutput = 1 << 28

    static func generate(_ arguments: Arguments) throws {
        let modelPath = try arguments.required("--model")
        let out = try arguments.required("--out")
        guard let count = try arguments.int("--count", minimum: 1, maximum: 1_000_000) else {
            throw CLIError.usage("'\(Console.toolName) generate' needs --count N (the number of samples)")
        }
        let seed = try seedValue(arguments)
        try Shared.applyThreads(arguments)
        try checkOutput(out)
        let model = try Shared.loadModel(modelPath, arguments)
        try Shared.requireReconstruction(model, modelPath, command: "generate")
        guard model.isVariational || model.isAdversarial else {
            throw CLIError.failure("\(modelPath) is not a variational or adversarial autoencoder: its encoder does not end in {\"type\": \"variational\", \"units\": ...}, so it has no prior to draw codes from; 'autoencoders generate' needs a VAE (use 'autoencoders decode' to decode codes of your own)")
        }
        let size = model.outputSize
        guard count <= maximumOutput / max(size, 1) else {
            throw CLIError.failure("--count \(count): \(count) samples of \(size) values are too many for one file (at most \(maximumOutput / max(size, 1)))")
        }
        var values = [Float](repeating: 0, count: count * size)
        try values.withUnsafeMutableBufferPointer { buffer in
            try model.generate(rows: count, seed: seed, into: buffer.baseAddress!)
        }
        try writeOutput(out, shape: [count] + model.inputShape, values: values)
        Console.out("generated \(count) sample\(count == 1 ? "" : "s") of \(describeShape(model.inputShape)) from seed \(seed): \(out)")
    }

    static func interpolate(_ arguments: Arguments) throws {
        let modelPath = try arguments.required("--model")
        let dataPath = try arguments.required("--data")
        let out = try arguments.required("--out")
        guard let from = try arguments.int("--from", minimum: 0) else {
            throw CLIError.usage("'\(Console.toolName) interpolate' needs --from I (the index of the first sample)")
        }
        guard let to = try arguments.int("--to", minimum: 0) else {
            throw CLIError.usage("'\(Console.toolName) interpolate' needs --to J (the index of the last sample)")
        }
        let steps = try arguments.int("--steps", minimum: 2, maximum: 1 << 20) ?? 8
        try Shared.applyThreads(arguments)
        try checkOutput(out)
        let model = try Shared.loadModel(modelPath, arguments)
        try Shared.requireReconstruction(model, modelPath, command: "interpolate")
        guard model.canDecode else {
            throw CLIError.failure("\(modelPath): this model cannot decode from codes alone: its decoder reads encoder feature maps besides the code (skip or index links), so there is no path between codes to decode")
        }
        let data = try DataFile.load(dataPath)
        let x = try data.matrix(expecting: model.inputSize, what: "the input size of \(modelPath)")
        for (option, index) in [("--from", from), ("--to", to)] where index >= x.rows {
            throw CLIError.failure("\(option) \(index): \(dataPath) holds \(x.rows) sample\(x.rows == 1 ? "" : "s") (indices 0 to \(x.rows - 1))")
        }
        let size = model.outputSize
        guard steps <= maximumOutput / max(size, 1) else {
            throw CLIError.failure("--steps \(steps): \(steps) samples of \(size) values are too many for one file (at most \(maximumOutput / max(size, 1)))")
        }
        var values = [Float](repeating: 0, count: steps * size)
        try x.values.withUnsafeBufferPointer { samples in
            try values.withUnsafeMutableBufferPointer { buffer in
                let base = samples.baseAddress!
                try model.interpolate(base + from * x.rowSize, base + to * x.rowSize, steps: steps, into: buffer.baseAddress!)
            }
        }
        // The data file's per-sample shape, so [N, 28, 28] samples give a [K, 28, 28] path.
        try writeOutput(out, shape: [steps] + data.sampleShape, values: values)
        Console.out("interpolated \(steps) samples from sample \(from) to sample \(to) of \(dataPath): \(out)")
    }

    /// --seed as the generator's 64-bit seed.
    static func seedValue(_ arguments: Arguments) throws -> UInt64 {
        guard let text = arguments.string("--seed") else { return 0 }
        guard let seed = UInt64(text) else {
            throw CLIError.usage("--seed must be an integer from 0 to \(UInt64.max), got '\(text)'")
        }
        return seed
    }
}
