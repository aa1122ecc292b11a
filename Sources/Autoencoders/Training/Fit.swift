/// Options of `Model.fit`: epochs, batching, validation, early stopping and progress.
public struct TrainingOptions: Sendable {
    public var epochs = 10
    public var batchSize = 32
    /// Reshuffle the training samples at every epoch (from the model's generator).
    public var shuffle = true
    /// Fraction of the data held out for validation (the last samples, in the given order);
    /// ignored when explicit validation data is given.
    public var validationSplit: Float = 0
    /// Stop after this many epochs without improvement of the monitored loss (validation loss if
    /// there is validation data, else training loss); 0 disables early stopping.
    public var patience = 0
    /// The least decrease that counts as an improvement.
    public var minDelta: Float = 0
    /// With early stopping, end on the weights of the best epoch (unless the progress callback
    /// stopped training: then the weights stay as the callback saw them).
    public var restoreBestWeights = true
    /// Also report progress after every batch, not only after every epoch.
    public var reportBatches = false

    public init() {}

    func validate() throws(AutoencoderError) {
        guard epochs >= 0, epochs <= 1_000_000 else { throw .invalidArgument("epochs must be between 0 and 1000000, got \(epochs)") }
        guard batchSize >= 1 else { throw .invalidArgument("batch_size must be at least 1, got \(batchSize)") }
        guard validationSplit >= 0, validationSplit < 1 else {
            throw .invalidArgument("validation_split must be in [0, 1), got \(validationSplit)")
        }
        guard patience >= 0 else { throw .invalidArgument("patience must be non-negative, got \(patience)") }
        guard minDelta >= 0, minDelta.isFinite else { throw .invalidArgument("min_delta must be a non-negative number, got \(minDelta)") }
    }
}

/// What the progress callback sees.
public struct TrainingProgress: Sendable {
    /// 0-based epoch of this run, and the number of epochs asked for.
    public var epoch: Int
    public var epochs: Int
    /// Batches done in this epoch, and per epoch.
    public var batch: Int
    public var batches: Int
    /// Mean objective over the batches so far in this epoch.
    public var trainLoss: Double
    /// Validation objective at the end of the epoch (nil within an epoch or without validation data).
    public var validationLoss: Double?
    /// The terms of the training objective so far this epoch: the reconstruction loss and, for a
    /// VAE, the KL divergence per sample (unweighted; the ELBO is their sum at β = 1).
    public var reconstructionLoss: Double
    public var klDivergence: Double?
    /// An adversarial autoencoder's discriminator and generator losses so far this epoch (mean
    /// BCE with logits; nil for other models). At equilibrium L_D ≈ 2 ln 2 and L_G ≈ ln 2.
    public var discriminatorLoss: Double? = nil
    public var generatorLoss: Double? = nil
    public var learningRate: Float
    /// Seconds since fit started.
    public var elapsed: Double
    /// True for the report that closes an epoch.
    public var isEpochEnd: Bool
}

/// The outcome of `Model.fit`.
public struct TrainingReport: Sendable {
    public enum StopReason: Int32, Sendable {
        case completed = 0
        case earlyStopping = 1
        case callback = 2
    }
    public var epochsRun = 0
    public var stopReason = StopReason.completed
    /// Per-epoch mean training objective, and validation objective (empty without validation).
    public var trainLoss: [Double] = []
    public var validationLoss: [Double] = []
    /// Per-epoch reconstruction term and, for a VAE, KL divergence of the training objective.
    public var reconstructionLoss: [Double] = []
    public var klDivergence: [Double] = []
    /// Per-epoch discriminator and generator losses of an adversarial autoencoder (else empty).
    public var discriminatorLoss: [Double] = []
    public var generatorLoss: [Double] = []
    /// 0-based epoch of the best monitored loss, and that loss.
    public var bestEpoch = -1
    public var bestLoss = Double.infinity
    public var seconds: Double = 0
}

extension Model {
    /// Trains on `rows` samples of raw data `[rows, inputSize]`. `progress` returns false to stop.
    /// A sequence model may take per-sample `lengths` (`[rows]`, each in 1...T), shuffled with
    /// their samples, and `validationLengths` for explicit validation data; a validation split
    /// keeps the held-out samples' lengths.
    /// If the loss, a parameter or the final outputs become NaN or infinite, the model is
    /// restored to its state before the call (weights, optimizer and its state, epoch count,
    /// generator) and a `.numeric` error is thrown. Any failure leaves the model unchanged.
    public func fit(
        _ data: UnsafePointer<Float>, rows: Int, mask: UnsafePointer<Float>? = nil, labels: UnsafePointer<Float>? = nil,
        validation: UnsafePointer<Float>? = nil, validationLabels: UnsafePointer<Float>? = nil, validationRows: Int = 0,
        lengths: UnsafePointer<Int32>? = nil, validationLengths: UnsafePointer<Int32>? = nil,
        options: TrainingOptions = TrainingOptions(),
        progress: ((TrainingProgress) -> Bool)? = nil
    ) throws(AutoencoderError) -> TrainingReport {
        try options.validate()
        guard rows >= 1 else { throw .invalidArgument("data must hold at least one sample") }
        try checkFinite(data, count: rows * inputSize, name: "data")
        try checkTargets(labels, rows: rows)
        try checkBCETargets(data, rows: rows, mask: mask, name: "data")
        try checkLengths(lengths, rows: rows, masked: mask != nil)
        if validationLengths != nil && validation == nil {
            throw .invalidArgument("validation_lengths: given without validation data")
        }
        if let mask {
            try Model.checkMask(mask, count: rows * inputSize)
            guard validation != nil || options.validationSplit == 0 else {
                throw .invalidArgument("validation_split cannot be combined with a mask: pass complete samples as validation data")
            }
        }
        var trainRows = rows
        var validationData = validation
        var validationCount = validationRows
        var validationTargets = validationLabels
        var validationLengths = validationLengths
        if let validation {
            guard validationRows >= 1 else { throw .invalidArgument("validation data must hold at least one sample") }
            try checkFinite(validation, count: validationRows * inputSize, name: "validation data")
            // (An adversarial autoencoder's labels only pick prior components in training.)
            if !takesComponentLabels { try checkTargets(validationLabels, rows: validationRows, name: "validation labels") }
            try checkBCETargets(validation, rows: validationRows, name: "validation data")
            try checkLengths(validationLengths, rows: validationRows, name: "validation_lengths")
        } else if options.validationSplit > 0 {
            validationCount = Int((Float(rows) * options.validationSplit).rounded())
            guard validationCount >= 1, validationCount < rows else {
                throw .invalidArgument("validation_split \(options.validationSplit) of \(rows) samples leaves no training or no validation samples")
            }
            trainRows = rows - validationCount
            validationData = data + trainRows * inputSize
            validationTargets = labels.map { $0 + trainRows * labelSize }
            validationLengths = lengths.map { $0 + trainRows }
        }

        var validate: ((Trainer) throws(AutoencoderError) -> Double)? = nil
        if let validationData {
            let (rows, targets, lengths) = (validationCount, validationTargets, validationLengths)
            validate = { trainer in
                self.lock.withReadLock { trainer.evaluateUnlocked(validationData, rows: rows, labels: targets, lengths: lengths) }
            }
        }
        let samples = FitSamples(trainRows: trainRows, masked: mask != nil, load: nil, gather: { trainer, from, count in
            trainer.gather(data, mask: mask, labels: labels, lengths: lengths, from: from, rows: count)
        }, validate: validate)
        return try fit(samples, options: options, progress: progress)
    }

    /// The training loop of every `fit`: epochs of batches drawn by `samples`, validation, early
    /// stopping, progress, and the rollback of a failed call.
    func fit(_ samples: FitSamples, options: TrainingOptions,
             progress: ((TrainingProgress) -> Bool)?) throws(AutoencoderError) -> TrainingReport {
        let trainRows = samples.trainRows, masked = samples.masked
        let trainer = try Trainer(model: self, batchSize: min(options.batchSize, trainRows))
        // A failed call changes nothing: everything it may change is captured first (before the
        // optimizer is created, so a failed first fit leaves none behind) and restored on failure.
        let initial = try lock.withReadLock { () throws(AutoencoderError) in try Snapshot(self) }
        func fail(_ error: AutoencoderError) -> AutoencoderError {
            lock.withWriteLock { initial.restore(into: self) }
            return error
        }
        let optimizer: Optimizer
        do { optimizer = try lock.withWriteLock { () throws(AutoencoderError) in try trainingOptimizer() } } catch { throw fail(error) }
        let baseRate = spec.optimizer.learningRate
        let batches = (trainRows + trainer.batchSize - 1) / trainer.batchSize
        let start = Clock.now()
        var report = TrainingReport()

        // The best weights, for early stopping.
        var best: Snapshot? = nil
        var epochsWithoutImprovement = 0

        for epoch in 0..<options.epochs {
            optimizer.learningRate = spec.schedule.learningRate(base: baseRate, epoch: epochsCompleted)
            var sum: Double = 0, reconstructionSum: Double = 0, klSum: Double = 0, discriminatorSum: Double = 0, generatorSum: Double = 0
            var seen = 0
            var stoppedByCallback = false
            for batch in 0..<batches {
                let from = batch * trainer.batchSize
                let count = min(trainer.batchSize, trainRows - from)
                if batch == 0 { lock.withWriteLock { trainer.prepareOrder(count: trainRows, shuffle: options.shuffle) } }
                // Outside the lock: a sample source's function may call the model's inference.
                if let load = samples.load {
                    do { try load(trainer, from, count) } catch { throw fail(error) }
                }
                let loss: Double
                do {
                    loss = try lock.withWriteLock { () throws(AutoencoderError) -> Double in
                        samples.gather(trainer, from, count)
                        return try trainer.stepOnWorkspace(rows: count, masked: masked)
                    }
                } catch {
                    let at = "epoch \(epochsCompleted + 1), batch \(batch + 1)"
                    throw fail(.numeric("training diverged at \(at): \(error.message); the model was restored to its state before this call"))
                }
                sum += loss * Double(count)
                reconstructionSum += trainer.lastReconstruction * Double(count)
                klSum += trainer.lastKL * Double(count)
                discriminatorSum += trainer.lastDiscriminator * Double(count)
                generatorSum += trainer.lastGenerator * Double(count)
                seen += count
                if options.reportBatches, let progress, batch + 1 < batches {
                    var state = TrainingProgress(epoch: epoch, epochs: options.epochs, batch: batch + 1, batches: batches,
                                                 trainLoss: sum / Double(seen), validationLoss: nil,
                                                 reconstructionLoss: reconstructionSum / Double(seen),
                                                 klDivergence: isVariational ? klSum / Double(seen) : nil,
                                                 learningRate: optimizer.learningRate, elapsed: Clock.now() - start, isEpochEnd: false)
                    if isAdversarial {
                        state.discriminatorLoss = discriminatorSum / Double(seen)
                        state.generatorLoss = generatorSum / Double(seen)
                    }
                    if !progress(state) { stoppedByCallback = true; break }
                }
            }
            // An update can overflow the weights although the loss it started from was finite:
            // such an epoch must not become the "last good" one.
            if let bad = firstNonFinite(parameters.pointer, count: parameterCount) {
                let value = parameters.pointer[bad]
                throw fail(.numeric("training diverged in epoch \(epochsCompleted + 1): a parameter became \(value) (lower the learning rate, or check the data scaling); the model was restored to its state before this call"))
            }
            if stoppedByCallback {
                // Stopped within the epoch: it does not count as completed, and no epoch-end report follows.
                report.stopReason = .callback
                break
            }
            let trainLoss = sum / Double(max(seen, 1))
            report.trainLoss.append(trainLoss)
            report.reconstructionLoss.append(reconstructionSum / Double(max(seen, 1)))
            if isVariational { report.klDivergence.append(klSum / Double(max(seen, 1))) }
            if isAdversarial {
                report.discriminatorLoss.append(discriminatorSum / Double(max(seen, 1)))
                report.generatorLoss.append(generatorSum / Double(max(seen, 1)))
            }
            var validationLoss: Double? = nil
            if let validate = samples.validate {
                let loss: Double
                do { loss = try validate(trainer) } catch { throw fail(error) }
                validationLoss = loss
                report.validationLoss.append(loss)
            }
            epochsCompleted += 1
            report.epochsRun = epoch + 1

            // Early stopping and the best weights watch the validation loss when there is one.
            let monitored = validationLoss ?? trainLoss
            if monitored < report.bestLoss - Double(options.minDelta) {
                report.bestLoss = monitored
                report.bestEpoch = epoch
                epochsWithoutImprovement = 0
                if options.restoreBestWeights && (options.patience > 0) {
                    if let best {
                        lock.withReadLock { best.capture(self) }
                    } else {
                        do { best = try lock.withReadLock { () throws(AutoencoderError) in try Snapshot(self) } } catch { throw fail(error) }
                    }
                }
            } else {
                epochsWithoutImprovement += 1
            }
            if let progress {
                var state = TrainingProgress(epoch: epoch, epochs: options.epochs, batch: seen == 0 ? 0 : batches, batches: batches,
                                             trainLoss: trainLoss, validationLoss: validationLoss,
                                             reconstructionLoss: report.reconstructionLoss.last ?? 0,
                                             klDivergence: report.klDivergence.last,
                                             learningRate: optimizer.learningRate, elapsed: Clock.now() - start, isEpochEnd: true)
                state.discriminatorLoss = report.discriminatorLoss.last
                state.generatorLoss = report.generatorLoss.last
                if !progress(state) { stoppedByCallback = true }
            }
            if stoppedByCallback {
                report.stopReason = .callback
                break
            }
            if options.patience > 0 && epochsWithoutImprovement >= options.patience {
                report.stopReason = .earlyStopping
                break
            }
        }
        // A callback's stop keeps the weights as they are, as the callback saw them.
        if let best, options.restoreBestWeights, report.stopReason != .callback {
            lock.withWriteLock { best.restore(into: self, parametersOnly: true) }
        }
        // The last update may leave finite weights whose outputs overflow (a huge learning rate):
        // the next forward pass would show it, so run one on the last batch.
        if report.epochsRun > 0 || report.stopReason == .callback {
            let finite = lock.withWriteLock {
                optimizerStateIsFinite && trainer.outputsAreFinite(rows: min(trainer.batchSize, trainRows), masked: masked)
            }
            guard finite else {
                throw fail(.numeric("training diverged: after the last update the model's outputs are not finite (lower the learning rate, or check the data scaling); the model was restored to its state before this call"))
            }
        }
        report.seconds = Clock.now() - start
        return report
    }

    /// `fit` for Swift arrays: `data` is `[rows, inputSize]`.
    public func fit(_ data: Tensor, validation: Tensor? = nil, options: TrainingOptions = TrainingOptions(),
                    progress: ((TrainingProgress) -> Bool)? = nil) throws(AutoencoderError) -> TrainingReport {
        let rows = try rowCount(of: data, features: inputSize, name: "data")
        guard rows >= 1 else { throw .invalidArgument("data must hold at least one sample") }
        let validationRows = try validation.map { v throws(AutoencoderError) in try rowCount(of: v, features: inputSize, name: "validation") } ?? 0
        return try data.values.withUnsafeBufferPointer { (x) throws(AutoencoderError) -> TrainingReport in
            guard let validation, validationRows > 0 else {
                return try fit(x.baseAddress!, rows: rows, options: options, progress: progress)
            }
            return try validation.values.withUnsafeBufferPointer { (v) throws(AutoencoderError) -> TrainingReport in
                try fit(x.baseAddress!, rows: rows, validation: v.baseAddress!, validationRows: validationRows,
                        options: options, progress: progress)
            }
        }
    }
}

/// The samples of one `fit`: how a batch reaches the trainer's workspace and how the validation
/// loss is taken, for data in memory or from a `SampleSource`.
struct FitSamples {
    /// Samples trained on per epoch (the validation split's are not among them).
    let trainRows: Int
    /// Whether the batches carry a mask of known inputs.
    let masked: Bool
    /// Reads the raw samples `trainer.order[from..<from + rows]` into the trainer's workspace and
    /// checks them, without the model's lock; nil when `gather` reads memory the caller holds.
    let load: ((Trainer, _ from: Int, _ rows: Int) throws(AutoencoderError) -> Void)?
    /// Puts the batch into the workspace, scaled and prepared (under the model's write lock).
    let gather: (Trainer, _ from: Int, _ rows: Int) -> Void
    /// The validation objective (taking the model's read lock itself); nil without validation data.
    let validate: ((Trainer) throws(AutoencoderError) -> Double)?
}

/// A copy of the state training changes, to roll back to: the parameters (batch normalization's
/// running statistics included), the optimizer (whether it exists, its state and step count),
/// the epoch count and the generator. Allocated once; `capture` and `restore` allocate nothing.
final class Snapshot {
    /// The model's optimizer when the snapshot was taken; nil when it had none yet.
    private(set) var optimizer: Optimizer?
    let parameters: FloatBuffer
    private(set) var optimizerState: [FloatBuffer]
    var optimizerStep: Int
    var learningRate: Float
    var epochsCompleted: Int
    var random: RandomGenerator
    /// An adversarial autoencoder's discriminator and generator optimizers.
    private var phaseOptimizers: [OptimizerCopy]

    init(_ model: Model) throws(AutoencoderError) {
        optimizer = model.optimizer
        parameters = try model.parameters.copy()
        var state: [FloatBuffer] = []
        for slot in optimizer?.state ?? [] { state.append(try slot.buffer.copy()) }
        optimizerState = state
        optimizerStep = optimizer?.stepCount ?? 0
        learningRate = optimizer?.learningRate ?? 0
        epochsCompleted = model.epochsCompleted
        random = model.random
        phaseOptimizers = [try OptimizerCopy(model.discriminatorOptimizer), try OptimizerCopy(model.generatorOptimizer)]
    }

    /// Whether `capture` can reuse this snapshot's buffers for `model` (same optimizer objects).
    func fits(_ model: Model) -> Bool {
        optimizer === model.optimizer && phaseOptimizers[0].optimizer === model.discriminatorOptimizer
            && phaseOptimizers[1].optimizer === model.generatorOptimizer
    }

    func capture(_ model: Model) {
        parameters.copy(from: model.parameters)
        if let optimizer {
            for (saved, live) in zip(optimizerState, optimizer.state) { saved.copy(from: live.buffer) }
            optimizerStep = optimizer.stepCount
            learningRate = optimizer.learningRate
        }
        epochsCompleted = model.epochsCompleted
        random = model.random
        for copy in phaseOptimizers { copy.capture() }
    }

    /// Puts the model back as captured; with `parametersOnly`, only the parameters (early
    /// stopping's best weights).
    func restore(into model: Model, parametersOnly: Bool = false) {
        model.parameters.copy(from: parameters)
        model.gradients.zero()
        guard !parametersOnly else { return }
        if let optimizer {
            for (saved, live) in zip(optimizerState, optimizer.state) { live.buffer.copy(from: saved) }
            optimizer.stepCount = optimizerStep
            optimizer.learningRate = learningRate
        }
        // An optimizer created since (by the failed call) is dropped again.
        model.optimizer = optimizer
        model.epochsCompleted = epochsCompleted
        model.random = random
        model.discriminatorOptimizer = phaseOptimizers[0].restore()
        model.generatorOptimizer = phaseOptimizers[1].restore()
    }
}

/// One optimizer's state as captured by a `Snapshot` (nil: the model had none yet).
final class OptimizerCopy {
    let optimizer: Optimizer?
    private let state: [FloatBuffer]
    private var step = 0
    private var learningRate: Float = 0

    init(_ optimizer: Optimizer?) throws(AutoencoderError) {
        self.optimizer = optimizer
        var state: [FloatBuffer] = []
        for slot in optimizer?.state ?? [] { state.append(try slot.buffer.copy()) }
        self.state = state
        capture()
    }

    func capture() {
        guard let optimizer else { return }
        for (saved, live) in zip(state, optimizer.state) { saved.copy(from: live.buffer) }
        step = optimizer.stepCount
        learningRate = optimizer.learningRate
    }

    /// Puts the state back and returns the optimizer the model should hold.
    func restore() -> Optimizer? {
        guard let optimizer else { return nil }
        for (saved, live) in zip(state, optimizer.state) { live.buffer.copy(from: saved) }
        optimizer.stepCount = step
        optimizer.learningRate = learningRate
        return optimizer
    }
}
