import Autoencoders

/// `autoencoders train`: builds a model from a spec (or resumes a saved one), fits it to a data
/// file with progress on stderr, prints a summary and saves the model atomically.
enum TrainCommand {
    static let usage = """
    Usage: autoencoders train --spec SPEC.json --data X.npy|X.csv --out MODEL.aem [options]
           autoencoders train --resume MODEL.aem --data X.npy|X.csv --out MODEL.aem [options]
           autoencoders train --spec SEG.json --data X.npy --labels Y.npy --out MODEL.aem [options]

    Trains an autoencoder on the samples of a data file ([N, ...] arrays are flattened to
    [N, features], so [N, 28, 28] images fit an input_shape of [1, 28, 28]) and saves it. With
    --resume, training continues from a saved model: its weights, optimizer state, input scaling
    and epoch count.

    A segmentation model (spec "loss": "cross_entropy") trains against --labels: the class of
    every position of every sample, shape [N, ...spatial] (e.g. [N, 28, 28]) or [N, positions],
    any integer dtype or whole numbers in a float one; the spec's ignore_index (default -100)
    marks positions that do not count.

    An adversarial autoencoder (spec "adversarial") prints its three losses (reconstruction,
    discriminator, generator) each epoch; with a supervised mixture prior it trains against
    --labels, one component per sample, shape [N].

    Options:
      --spec SPEC.json          the model to build (see examples/specs)
      --resume MODEL.aem        continue training a saved model instead of --spec
      --data X.npy|X.csv        training samples (.npy of any numeric dtype, or numeric .csv)
      --labels Y.npy|Y.csv      segmentation models only (and required for them): the class of
                                every position of every sample; for an adversarial autoencoder
                                with a supervised prior, one component per sample
      --out MODEL.aem           where to save the trained model (may equal --resume)
      --epochs N                epochs to train (default 10)
      --batch-size N            samples per batch (default 32)
      --validation-split F      hold out the last fraction F of the samples for validation
      --validation V.npy        validation samples from another file (reconstruction models;
                                a segmentation model validates with --validation-split)
      --patience N              stop after N epochs without improvement (validation loss if
                                any, else training loss) and keep the best weights; 0 = off
      --min-delta F             the least decrease that counts as an improvement (default 0)
      --no-shuffle              keep the sample order (default: reshuffle every epoch)
      --divide-by F             divide inputs by F first (255 for 8-bit pixels)
      --scale KIND              none (default), standardize (mean 0, std 1 per feature) or
                                minmax (each feature to [0, 1]); fitted on the training samples
      --threads N               OpenBLAS threads
      --quiet                   print only the final summary
      --key-file KEY            sign the saved model with this secret key (the file's bytes),
                                and load --resume only if it is signed with it
      --lengths L.npy           sequence models: each sample's length (integers of shape [N],
                                each 1..T); the steps past it are padding and do not count
      --validation-lengths L.npy  the lengths of the --validation samples

    Sequence models (input_shape [T, F] and an lstm or gru) train on .npy arrays of shape
    [N, T, F]; token models (an embedding first, "loss": "sequence_cross_entropy") on integer
    token ids of shape [N, T]. A --validation-split keeps the held-out samples' lengths.

    The input scaling (--divide-by, --scale) is stored in the model and applied by every later
    command, so they take raw data too. A resumed model keeps its own scaling. A BCE loss needs
    its targets, the scaled input, in [0, 1]: 8-bit pixels need --divide-by 255.

    Progress: one line per epoch on stderr; on a terminal also a live bar for the current epoch.
    Ctrl-C stops training after the current batch and saves the model as trained so far (exit
    status 130); a second Ctrl-C exits at once without saving.

    A variational autoencoder (the spec's encoder ends in {"type": "variational", ...}) trains on
    the negative ELBO per sample; its progress lines and summary add the KL divergence ("kl").
    """

    static let options: [Option] = [
        .value("--spec", "SPEC.json"), .value("--resume", "MODEL.aem"), .value("--data", "X.npy"),
        .value("--out", "MODEL.aem"), .value("--labels", "Y.npy"), .value("--epochs", "N"), .value("--batch-size", "N"),
        .value("--validation-split", "F"), .value("--validation", "V.npy"), .value("--patience", "N"),
        .value("--min-delta", "F"), .flag("--no-shuffle"), .value("--divide-by", "F"),
        .value("--scale", "KIND"), Shared.threads, Shared.keyFile, .flag("--quiet"),
        SequenceLengths.option, .value("--validation-lengths", "L.npy"),
    ]

    static func run(_ arguments: Arguments) throws {
        // Everything about the command line is checked before anything is read.
        try arguments.exclusive("--spec", "--resume")
        try arguments.exclusive("--validation-split", "--validation")
        if arguments.has("--validation-lengths") && !arguments.has("--validation") {
            throw CLIError.usage("--validation-lengths gives the lengths of --validation samples; with --validation-split the held-out samples keep their --lengths")
        }
        guard arguments.has("--spec") || arguments.has("--resume") else {
            throw CLIError.usage("'autoencoders train' needs --spec SPEC.json (a new model) or --resume MODEL.aem (continue training)")
        }
        let resume = arguments.string("--resume")
        if resume != nil, arguments.has("--scale") || arguments.has("--divide-by") {
            throw CLIError.usage("--scale and --divide-by set a new model's input scaling; a resumed model keeps its own")
        }
        let dataPath = try arguments.required("--data")
        let out = try arguments.required("--out")
        var options = TrainingOptions()
        options.epochs = try arguments.int("--epochs", minimum: 0, maximum: 1_000_000) ?? options.epochs
        options.batchSize = try arguments.int("--batch-size", minimum: 1, maximum: 1 << 20) ?? options.batchSize
        options.validationSplit = Float(try arguments.double("--validation-split", minimum: 0, below: 1) ?? 0)
        options.patience = try arguments.int("--patience", minimum: 0) ?? 0
        options.minDelta = Float(try arguments.double("--min-delta", minimum: 0) ?? 0)
        options.shuffle = !arguments.flag("--no-shuffle")
        let scale = try arguments.choice("--scale", ["none", "standardize", "minmax"]) ?? "none"
        let divideBy = try arguments.double("--divide-by")
        if divideBy == 0 { throw CLIError.usage("--divide-by must be non-zero") }
        try Shared.applyThreads(arguments)
        let progress = ProgressBar.forStderr(quiet: arguments.flag("--quiet"))
        // Every batch reports, so that Ctrl-C can stop after the current one (the lines style
        // prints epoch ends only).
        options.reportBatches = true

        try checkWritable(out)
        _ = try Shared.key(arguments)  // a bad --key-file fails before training, not after
        let model: Model
        let source: String
        if let resume {
            model = try Shared.loadModel(resume, arguments)
            source = resume
        } else {
            source = try arguments.required("--spec")
            model = try Shared.buildModel(specPath: source)
        }
        let labelsPath = arguments.string("--labels")
        if model.isSegmentation {
            guard labelsPath != nil else {
                throw CLIError.failure("\(source) is a segmentation model (\"loss\": \"cross_entropy\", \(model.classCount) classes): it trains against labels; give --labels Y.npy with the class of every position, shape [N, \(Array(model.inputShape.dropFirst()).map(String.init).joined(separator: ", "))]")
            }
            if arguments.has("--validation") {
                throw CLIError.failure("--validation gives samples without labels, which a segmentation model cannot be validated on; use --validation-split F (the last samples and their labels)")
            }
        } else if model.takesComponentLabels {
            guard labelsPath != nil else {
                throw CLIError.failure("\(source) is an adversarial autoencoder with a supervised mixture prior: each sample's label picks its component; give --labels Y.npy with one label per sample, 0 to \(model.priorComponents - 1)")
            }
        } else if let labelsPath {
            throw CLIError.failure("--labels \(labelsPath): \(source) reconstructs its input and trains without labels; --labels is for segmentation models (spec \"loss\": \"cross_entropy\")")
        }
        let what = "the input size of \(source)"
        let data = try DataFile.load(dataPath)
        let x = try data.matrix(expecting: model.inputSize, what: what)
        let labels = try labelsPath.map { try readLabels($0, model: model, rows: x.rows, dataPath: dataPath) }
        let validation = try arguments.string("--validation").map { try DataFile.load($0).matrix(expecting: model.inputSize, what: what) }
        let lengths = try SequenceLengths.fromArguments(arguments, model: model, modelName: source, rows: x.rows, dataPath: dataPath)
        let validationLengths = try validation.flatMap { v in
            try SequenceLengths.fromArguments(arguments, model: model, modelName: source, rows: v.rows,
                                              dataPath: arguments.string("--validation") ?? "", option: "--validation-lengths")
        }
        let trainRows = validation != nil ? x.rows : x.rows - Int((Float(x.rows) * options.validationSplit).rounded())

        if resume == nil {
            try model.setInputScaling(try inputScaling(scale, divideBy: divideBy, data: x, rows: max(trainRows, 1)))
        }
        let report: TrainingReport
        var last: TrainingProgress? = nil
        Interrupt.install(terminal: progress.style == .bar)
        defer { Interrupt.uninstall() }
        do {
            let update: (TrainingProgress) -> Bool = { state in
                progress.update(state)
                last = state
                return !Interrupt.requested
            }
            if let labels {
                report = try x.values.withUnsafeBufferPointer { samples in
                    try labels.withUnsafeBufferPointer { targets in
                        try model.fit(samples.baseAddress!, rows: x.rows, labels: targets.baseAddress!, options: options, progress: update)
                    }
                }
            } else if lengths != nil || validationLengths != nil {
                report = try x.values.withUnsafeBufferPointer { samples in
                    try withLengths(lengths) { l in
                        try withLengths(validationLengths) { vl in
                            guard let validation else {
                                return try model.fit(samples.baseAddress!, rows: x.rows, lengths: l, options: options, progress: update)
                            }
                            return try validation.values.withUnsafeBufferPointer { v in
                                try model.fit(samples.baseAddress!, rows: x.rows, validation: v.baseAddress!, validationRows: validation.rows,
                                              lengths: l, validationLengths: vl, options: options, progress: update)
                            }
                        }
                    }
                }
            } else {
                report = try model.fit(x, validation: validation, options: options, progress: update)
            }
            progress.finish()
        } catch {
            progress.finish()  // the error message starts on a fresh line
            throw error
        }
        try Shared.saveModel(model, to: out, arguments)
        printSummary(report, options: options, trainRows: trainRows, model: model, out: out)
        if report.stopReason == .callback, Interrupt.requested {
            throw CLIError.interrupted(interruptedMessage(last, report: report, out: out))
        }
    }

    /// Where Ctrl-C stopped training and what was saved.
    static func interruptedMessage(_ last: TrainingProgress?, report: TrainingReport, out: String) -> String {
        guard let last else { return "interrupted before the first batch: saved the model unchanged to \(out)" }
        if last.isEpochEnd {
            return "interrupted after epoch \(last.epoch + 1): saved the model as trained so far (\(report.epochsRun) epochs) to \(out)"
        }
        return "interrupted in epoch \(last.epoch + 1) after batch \(last.batch) of \(last.batches): saved the model as trained so far (\(report.epochsRun) epochs and \(last.batch) batches) to \(out)"
    }

    /// The labels of a segmentation model from `path`: one class per position of each of `rows`
    /// samples, in a file of shape [N, ...spatial] or [N, positions] (any layout with that many
    /// values per sample). Integer .npy files are read exactly; float ones must hold whole numbers.
    /// Every label must be a class (0 to classes - 1) or the spec's ignore label. Returns them as
    /// the core's float targets.
    static func readLabels(_ path: String, model: Model, rows: Int, dataPath: String) throws -> [Float] {
        let positions = model.labelSize, classes = model.takesComponentLabels ? model.priorComponents : model.classCount
        let spatial = model.takesComponentLabels ? [] : Array(model.inputShape.dropFirst())
        let ignore = model.takesComponentLabels ? Int.min : Shared.ignoreLabel(of: model) ?? -100
        var shape: [Int]
        var labels: [Int]
        var describe: (Int) -> String
        if fileExtension(path) == "npy", let exact = try? NPY.readIntegers(path: path), !exact.shape.isEmpty {
            (shape, labels) = exact
            describe = { "element " + describeShape(unravel($0, exact.shape)) }
        } else {
            let file = try DataFile.load(path)
            if let bad = file.values.firstIndex(where: { $0 != $0.rounded() || abs($0) >= 1e15 }) {
                throw CLIError.failure("\(path): \(file.position(of: bad)) is \(file.values[bad]); labels are whole class numbers")
            }
            shape = file.shape
            labels = file.values.map { Int($0) }
            describe = file.position(of:)
        }
        let fileRows = shape.first ?? 0
        let perSample = shape.dropFirst().reduce(1, *)
        guard fileRows == rows else {
            throw CLIError.failure("\(path) holds labels for \(fileRows) sample\(fileRows == 1 ? "" : "s") (shape \(describeShape(shape))) but \(dataPath) has \(rows); give one label map per sample")
        }
        guard perSample == positions, labels.count == rows * positions else {
            throw CLIError.failure("\(path): each sample has \(perSample) label\(perSample == 1 ? "" : "s") (shape \(describeShape(shape))), but the model labels \(positions) positions per sample; expected shape \(describeShape([rows] + spatial)) or \(describeShape([rows, positions]))")
        }
        if let bad = labels.firstIndex(where: { !(0..<classes).contains($0) && $0 != ignore }) {
            throw CLIError.failure("\(path): \(describe(bad)) is \(labels[bad]); labels must be classes 0 to \(classes - 1) or the ignore label \(ignore)")
        }
        return labels.map { Float($0) }
    }

    /// The scaling for a new model: --divide-by F is applied first (offset 0, scale F), then
    /// --scale is fitted on the first `rows` samples so divided, and the two compose into one.
    static func inputScaling(_ kind: String, divideBy: Double?, data: Tensor, rows: Int) throws -> InputScaling? {
        let divisor = Float(divideBy ?? 1)
        let features = data.rowSize
        guard let fitted = InputScaling.Kind(rawValue: kind) else {
            guard divideBy != nil else { return nil }
            return try InputScaling(offset: Array(repeating: 0, count: features), scale: Array(repeating: divisor, count: features))
        }
        let divided = divisor == 1 ? data.values : data.values.map { $0 / divisor }
        let scaling = try divided.withUnsafeBufferPointer { values in
            try InputScaling.fit(fitted, data: values.baseAddress!, rows: rows, features: features)
        }
        // ((x / d) − offset) / scale  =  (x − d·offset) / (d·scale)
        return try InputScaling(offset: scaling.offset.map { $0 * divisor }, scale: scaling.scale.map { $0 * divisor })
    }

    static func printSummary(_ report: TrainingReport, options: TrainingOptions, trainRows: Int, model: Model, out: String) {
        let stop: String
        switch report.stopReason {
        case .completed: stop = "completed"
        case .earlyStopping: stop = "early stopping: no improvement for \(options.patience) epochs"
        case .callback: stop = "interrupted"
        }
        func losses(_ epoch: Int) -> String {
            var text = formatLoss(report.trainLoss[epoch], digits: 6)
            if epoch < report.validationLoss.count { text += ", val_loss " + formatLoss(report.validationLoss[epoch], digits: 6) }
            return text
        }
        Console.out("epochs    \(report.epochsRun) of \(options.epochs) (\(stop))")
        if report.epochsRun > 0 {
            Console.out("loss      " + losses(report.epochsRun - 1))
            // A VAE's loss is the negative ELBO per sample: its two terms.
            let last = report.epochsRun - 1
            if last < report.klDivergence.count, last < report.reconstructionLoss.count {
                Console.out("kl        \(formatLoss(report.klDivergence[last], digits: 6)) per sample (reconstruction \(formatLoss(report.reconstructionLoss[last], digits: 6)))")
            }
            // An adversarial autoencoder's three phases.
            if last < report.discriminatorLoss.count, last < report.generatorLoss.count, last < report.reconstructionLoss.count {
                Console.out("phases    reconstruction \(formatLoss(report.reconstructionLoss[last], digits: 6)), discriminator \(formatLoss(report.discriminatorLoss[last], digits: 4)), generator \(formatLoss(report.generatorLoss[last], digits: 4))")
            }
        }
        // With early stopping on, fit puts back the best epoch's weights: those are what is saved.
        if options.patience > 0, options.restoreBestWeights, report.bestEpoch >= 0, report.bestEpoch + 1 < report.epochsRun {
            Console.out("kept      epoch \(report.bestEpoch + 1), the best: loss " + losses(report.bestEpoch))
        }
        let rate = report.seconds > 0 ? Double(trainRows * report.epochsRun) / report.seconds : 0
        Console.out(format("time      %.2fs (%.0f samples/s)", report.seconds, rate))
        Console.out("saved     \(out) (\(model.epochsCompleted) epochs in total)")
    }
}
