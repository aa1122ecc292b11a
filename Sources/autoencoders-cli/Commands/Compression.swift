import Autoencoders

/// `autoencoders quantize | compress | decompress`: a model with a quantiser as a lossy codec
/// (Sources/Autoencoders/Codec/, docs/FILE_FORMAT.md "Compressed files").
enum CompressionCommand {
    static let quantizeUsage = """
    Usage: autoencoders quantize MODEL.aem TRAIN.npy|TRAIN.csv [--bits B] [--out MODEL.aem] [--threads N]

    Encodes the samples of TRAIN (the model's training data), fits a quantiser of B bits per code
    value (4 to 8, default 8) with a per-dimension scale, zero point and histogram, and saves the
    model with it to --out (default: in place). Compression needs it.
    """

    static let compressUsage = """
    Usage: autoencoders compress MODEL.aem IN.npy|IN.csv OUT.aec [--threads N]

    Encodes every sample of IN, quantises the codes with the model's quantiser and range-codes them
    into OUT, which records the model it needs (by a digest), the sample shape and the bit depth.
    Prints the sizes. Lossy: 'decompress' gives the decoder's output, not IN.
    """

    static let decompressUsage = """
    Usage: autoencoders decompress MODEL.aem IN.aec OUT.npy|OUT.csv [--threads N]

    Decodes IN, which must have been written by 'compress' with this same model (and quantiser),
    and writes the reconstructions as an array of shape [N, ...sample shape].
    """

    static let quantizeOptions: [Option] = [.value("--model", "MODEL.aem"), .value("--data", "TRAIN.npy"), .value("--bits", "B"),
                                            .value("--out", "MODEL.aem"), Shared.threads, Shared.keyFile]
    static let compressOptions: [Option] = [.value("--model", "MODEL.aem"), .value("--data", "IN.npy"), .value("--out", "OUT.aec"),
                                            Shared.threads, Shared.keyFile]
    static let decompressOptions: [Option] = [.value("--model", "MODEL.aem"), .value("--data", "IN.aec"), .value("--out", "OUT.npy"),
                                              Shared.threads, Shared.keyFile]

    static func quantize(_ arguments: Arguments) throws {
        let modelPath = try arguments.required("--model")
        let dataPath = try arguments.required("--data")
        let bits = try arguments.int("--bits", minimum: 4, maximum: 8) ?? 8
        let out = arguments.string("--out") ?? modelPath
        try Shared.applyThreads(arguments)
        try checkWritable(out)
        let model = try Shared.loadModel(modelPath, arguments)
        let x = try DataFile.load(dataPath).matrix(expecting: model.inputSize, what: "the input size of \(modelPath)")
        let quantizer = try x.values.withUnsafeBufferPointer { (pointer) throws -> CodeQuantizer in
            try model.fitCodeQuantizer(pointer.baseAddress!, rows: x.rows, bits: bits)
        }
        try Shared.saveModel(model, to: out, arguments)
        Console.out("quantiser: \(bits) bits x \(quantizer.codeSize) code values, about "
                    + format("%.1f", quantizer.bitsPerSample) + " bits per sample on \(x.rows) training samples; saved in \(out)")
    }

    static func compress(_ arguments: Arguments) throws {
        let modelPath = try arguments.required("--model")
        let dataPath = try arguments.required("--data")
        let out = try arguments.required("--out")
        try Shared.applyThreads(arguments)
        try checkWritable(out)
        let model = try Shared.loadModel(modelPath, arguments)
        let data = try DataFile.load(dataPath)
        let x = try data.matrix(expecting: model.inputSize, what: "the input size of \(modelPath)")
        // Keep the file's own sample shape ([28, 28]) when it has one, so decompress restores it.
        let shape = data.sampleShape.isEmpty ? nil : data.sampleShape
        let bytes = try x.values.withUnsafeBufferPointer { (pointer) throws -> [UInt8] in
            try model.compress(pointer.baseAddress!, rows: x.rows, sampleShape: shape)
        }
        try CompressedCodes.write(bytes, to: out)
        let values = Double(max(x.rows * model.inputSize, 1))
        Console.out("compressed \(x.rows) samples into \(bytes.count) bytes: " + format("%.3f", Double(8 * bytes.count) / values)
                    + " bits per value (as 8-bit values 100% -> " + format("%.2f", 100 * Double(bytes.count) / values)
                    + "%, as float32 100% -> " + format("%.2f", 25 * Double(bytes.count) / values) + "%), written to \(out)")
    }

    static func decompress(_ arguments: Arguments) throws {
        let modelPath = try arguments.required("--model")
        let inPath = try arguments.required("--data")
        let out = try arguments.required("--out")
        try Shared.applyThreads(arguments)
        try checkOutput(out)
        let model = try Shared.loadModel(modelPath, arguments)
        let bytes = try CompressedCodes.read(path: inPath)
        let (shape, values) = try model.decompress(bytes, source: inPath)
        try writeOutput(out, shape: shape, values: values)
        Console.out("decompressed \(shape.first ?? 0) samples of shape \(describeShape(Array(shape.dropFirst()))) into \(out)")
    }
}
