import Autoencoders

/// `autoencoders quantize-int8`: an int8, inference-only copy of a trained model (its dense and
/// convolutional weights in 8 bits; Sources/Autoencoders/Quantization/). Not to be confused with
/// `quantize`, which fits the code quantiser of the codec and leaves the weights alone.
enum Int8Command {
    static let usage = """
    Usage: autoencoders quantize-int8 MODEL.aem OUT.aem [--calibrate DATA.npy|DATA.csv] [--keep-float LAYER,...]
                                     [--require-all] [--threads N]

    Writes to OUT an int8 copy of MODEL for inference: each dense and convolutional layer's weight
    quantised to 8 bits per output row (symmetric, scale = max|w| / 127), its input to unsigned 8
    bits, multiplied in integers (AVX-512 VNNI, AVX2 or portable C). encode, decode, reconstruct,
    score, predict and compress work on OUT as on MODEL; training it is refused. MODEL is unchanged.

    Options:
      --calibrate DATA    fix each layer's input range from the samples of DATA (raw, like the
                          training data); without it the ranges are computed per sample (dynamic)
      --keep-float LAYERS leave these dense or convolutional layers in float (comma-separated
                          names as `inspect` lists them before ".weight", e.g. decoder.0): the
                          layers whose 8-bit error matters most, such as the one reading the code
      --require-all       fail, naming the layer, when a layer with weights has no int8 path (tied
                          dense decoders, transposed convolutions, recurrent and time-distributed
                          layers); by default such layers keep float weights and run in float
      --threads N         threads to compute with
      --key-file KEY      accept MODEL only if signed with this key, and sign OUT with it
    """

    static let options: [Option] = [.value("--model", "MODEL.aem"), .value("--out", "OUT.aem"), .value("--calibrate", "DATA.npy"),
                                     .value("--keep-float", "LAYER,..."), .flag("--require-all"), Shared.threads, Shared.keyFile]

    static func run(_ arguments: Arguments) throws {
        let modelPath = try arguments.required("--model")
        let out = try arguments.required("--out")
        try Shared.applyThreads(arguments)
        try checkWritable(out)
        let model = try Shared.loadModel(modelPath, arguments)
        let requireAll = arguments.flag("--require-all")
        // "decoder.0, decoder.2" as well as "decoder.0,decoder.2": spaces around a name are not part of it.
        let keepFloat = arguments.string("--keep-float").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingSpaces)
        } ?? []
        let quantized: Model
        if let calibration = arguments.string("--calibrate") {
            let x = try DataFile.load(calibration).matrix(expecting: model.inputSize, what: "the input size of \(modelPath)")
            quantized = try x.values.withUnsafeBufferPointer { (pointer) throws -> Model in
                try model.quantizedInt8(calibration: pointer.baseAddress!, rows: x.rows, requireAll: requireAll, keepFloat: keepFloat)
            }
        } else {
            quantized = try model.quantizedInt8(requireAll: requireAll, keepFloat: keepFloat)
        }
        try Shared.saveModel(quantized, to: out, arguments)
        let floatSize = try model.serialized(includeOptimizerState: false).count
        let size = try ModelFile.header(path: out).totalSize
        var line = "int8: \(quantized.int8QuantizedLayers.count) layers quantised ("
            + (quantized.int8IsCalibrated ? "calibrated" : "dynamic") + " input ranges, kernel \(Int8GEMM.kernel))"
        if !quantized.int8FallbackLayers.isEmpty {
            line += ", in float: " + quantized.int8FallbackLayers.joined(separator: ", ")
        }
        Console.out(line + "; \(InspectCommand.grouped(size)) bytes (float without optimizer state: \(InspectCommand.grouped(floatSize))), saved in \(out)")
    }
}
