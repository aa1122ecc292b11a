import Autoencoders

/// `autoencoders threshold | predict`: anomaly detection with a threshold on the per-sample score,
/// fitted on normal data and kept in the model file.
enum AnomalyCommand {
    static let thresholdUsage = """
    Usage: autoencoders threshold --model MODEL.aem --data NORMAL.npy|NORMAL.csv [--quantile Q] [--out MODEL.aem] [--threads N]

    Scores the samples of NORMAL (data the model should consider normal, e.g. its training data)
    and sets the model's anomaly threshold to the Q-th quantile of their scores (default 0.99).
    Saves the model to --out (default: in place) and prints the threshold.
    """

    static let predictUsage = """
    Usage: autoencoders predict --model MODEL.aem --data X.npy|X.csv [--out LABELS.npy] [--threads N]

    Labels every sample 1 (anomaly: its score exceeds the model's threshold) or 0, prints how many
    were flagged, and with --out writes the labels as an array of shape [N].
    """

    static let thresholdOptions: [Option] = [.value("--model", "MODEL.aem"), .value("--data", "X.npy"),
                                             .value("--quantile", "Q"), .value("--out", "MODEL.aem"), Shared.threads, Shared.keyFile]
    static let predictOptions: [Option] = [.value("--model", "MODEL.aem"), .value("--data", "X.npy"),
                                           .value("--out", "LABELS.npy"), Shared.threads, Shared.keyFile]

    static func threshold(_ arguments: Arguments) throws {
        let modelPath = try arguments.required("--model")
        let dataPath = try arguments.required("--data")
        let quantile = try arguments.double("--quantile", minimum: 0) ?? 0.99
        guard quantile <= 1 else { throw CLIError.usage("--quantile must be in [0, 1], got \(quantile)") }
        let out = arguments.string("--out") ?? modelPath
        try Shared.applyThreads(arguments)
        try checkWritable(out)
        let model = try Shared.loadModel(modelPath, arguments)
        try Shared.requireReconstruction(model, modelPath, command: "threshold")
        let x = try DataFile.load(dataPath).matrix(expecting: model.inputSize, what: "the input size of \(modelPath)")
        let value = try x.values.withUnsafeBufferPointer { (pointer) throws -> Float in
            try model.fitAnomalyThreshold(pointer.baseAddress!, rows: x.rows, quantile: quantile)
        }
        try Shared.saveModel(model, to: out, arguments)
        Console.out("threshold " + format("%.6g", Double(value)) + " (quantile \(quantile) of \(x.rows) scores), saved in \(out)")
    }

    static func predict(_ arguments: Arguments) throws {
        let modelPath = try arguments.required("--model")
        let dataPath = try arguments.required("--data")
        let out = arguments.string("--out")
        try Shared.applyThreads(arguments)
        if let out { try checkOutput(out) }
        let model = try Shared.loadModel(modelPath, arguments)
        try Shared.requireReconstruction(model, modelPath, command: "predict")
        guard let limit = model.anomalyThreshold else {
            throw CLIError.failure("\(modelPath) has no anomaly threshold; fit one with 'autoencoders threshold --model \(modelPath) --data NORMAL.npy'")
        }
        let x = try DataFile.load(dataPath).matrix(expecting: model.inputSize, what: "the input size of \(modelPath)")
        var labels = [Int32](repeating: 0, count: x.rows)
        try x.values.withUnsafeBufferPointer { (pointer) throws in
            try labels.withUnsafeMutableBufferPointer { (out) throws in
                try model.predictAnomalies(pointer.baseAddress!, rows: x.rows, into: out.baseAddress!)
            }
        }
        let flagged = labels.reduce(0) { $0 + Int($1) }
        if let out { try writeOutput(out, shape: [labels.count], integers: labels) }
        Console.out("anomalies \(flagged) of \(labels.count) (threshold " + format("%.6g", Double(limit)) + ")")
    }
}
