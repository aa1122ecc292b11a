/// Training on samples the caller produces on request instead of holding them as floats: data on
/// disk, compressed, augmented as it is read, or kept in its own compact form (8-bit pixels take a
/// quarter of the memory of their floats). `fit(source:)` asks for each batch's samples by index
/// and checks them as they arrive; the training is otherwise that of `fit` on the same samples in
/// memory, bit for bit (the same order, the same batches, the same validation split).
public struct SampleSource {
    /// Number of samples: every index passed to `fill` is in `0..<count`.
    public let count: Int
    /// Writes the raw samples (before the model's input scaling) at `indices`, one row of the
    /// model's input size each, to `rows`. A thrown error stops training, and `fit` rethrows it
    /// with the model restored to its state before the call.
    public let fill: (_ indices: UnsafeBufferPointer<Int>, _ rows: UnsafeMutablePointer<Float>) throws(AutoencoderError) -> Void

    public init(count: Int,
                fill: @escaping (_ indices: UnsafeBufferPointer<Int>, _ rows: UnsafeMutablePointer<Float>) throws(AutoencoderError) -> Void) {
        self.count = count
        self.fill = fill
    }

    /// Fills the workspace's input with the samples at `indices` and checks them: finite, and
    /// targets in [0, 1] for a BCE reconstruction; the message names the sample's index.
    fileprivate func load(_ indices: UnsafeBufferPointer<Int>, into trainer: Trainer) throws(AutoencoderError) {
        let model = trainer.model, features = model.inputSize
        let rows = trainer.workspace.input.pointer
        try fill(indices, rows)
        if let i = firstNonFinite(rows, count: indices.count * features) {
            throw .numeric("the sample source gave \(rows[i]) for feature \(i % features) of sample \(indices[i / features]); data must be finite")
        }
        do {
            try model.checkBCETargets(rows, rows: indices.count, name: "the sample source's batch")
        } catch {
            // Only now, the row by row pass whose message names the sample's index in the source.
            for (r, index) in indices.enumerated() {
                try model.checkBCETargets(rows + r * features, rows: 1, name: "sample \(index) of the sample source")
            }
            throw error
        }
    }
}

extension Model {
    /// Trains on the `source.count` samples of `source`, read batch by batch: each epoch asks
    /// `source.fill` for the samples of every batch in the epoch's (shuffled) order, and, with a
    /// validation split, for the last samples at every epoch's end. Options, progress, the
    /// report and the rollback of a failed call are those of `fit` on data in memory; explicit
    /// `validation` samples are in memory. A reconstruction model without masks or per-sample
    /// lengths: segmentation labels, inpainting masks, sequence lengths and token ids need `fit`.
    public func fit(source: SampleSource, validation: UnsafePointer<Float>? = nil, validationRows: Int = 0,
                    options: TrainingOptions = TrainingOptions(),
                    progress: ((TrainingProgress) -> Bool)? = nil) throws(AutoencoderError) -> TrainingReport {
        try options.validate()
        guard source.count >= 1 else { throw .invalidArgument("the sample source must hold at least one sample") }
        guard !isSegmentation else {
            throw .invalidArgument("a segmentation model trains on labels, which a sample source does not give: use fit with labels")
        }
        guard !isTokenModel else {
            throw .invalidArgument("a token model trains on token ids: use fit with the ids")
        }
        var trainRows = source.count, validationCount = validationRows
        var fromSource = false
        if let validation {
            guard validationRows >= 1 else { throw .invalidArgument("validation data must hold at least one sample") }
            try checkFinite(validation, count: validationRows * inputSize, name: "validation data")
            try checkBCETargets(validation, rows: validationRows, name: "validation data")
        } else if options.validationSplit > 0 {
            validationCount = Int((Float(source.count) * options.validationSplit).rounded())
            guard validationCount >= 1, validationCount < source.count else {
                throw .invalidArgument("validation_split \(options.validationSplit) of \(source.count) samples leaves no training or no validation samples")
            }
            trainRows = source.count - validationCount
            fromSource = true
        }

        var validate: ((Trainer) throws(AutoencoderError) -> Double)? = nil
        if let validation {
            let rows = validationCount
            validate = { trainer in self.lock.withReadLock { trainer.evaluateUnlocked(validation, rows: rows) } }
        } else if fromSource {
            let (first, rows) = (trainRows, validationCount)
            validate = { trainer throws(AutoencoderError) in try trainer.evaluate(source, first: first, rows: rows) }
        }
        let samples = FitSamples(trainRows: trainRows, masked: false, load: { trainer, from, count throws(AutoencoderError) in
            try source.load(UnsafeBufferPointer(rebasing: trainer.order[from..<(from + count)]), into: trainer)
        }, gather: { trainer, _, count in
            trainer.prepareLoaded(rows: count)
        }, validate: validate)
        return try fit(samples, options: options, progress: progress)
    }
}

extension Trainer {
    /// Scales the raw samples `load` put in the workspace's input, in place, and prepares the
    /// batch (the `gather` of samples from a source; caller holds the model's write lock).
    fileprivate func prepareLoaded(rows: Int) {
        scaleLoaded(rows: rows)
        prepareBatch(rows: rows, masked: false)
    }

    /// The model's input scaling applied in place to the `rows` samples a source put in the
    /// workspace's input, which fill every time step (no lengths).
    private func scaleLoaded(rows: Int) {
        workspace.setLengths(nil, rows: rows)
        if let scaling = model.inputScaling {
            scaling.apply(workspace.input.pointer, workspace.input.pointer, rows: rows)
        }
    }

    /// The mean objective of the samples `first..<first + rows` of `source`, read a batch at a
    /// time (the model's read lock is taken for each batch's pass, not while the source fills it).
    fileprivate func evaluate(_ source: SampleSource, first: Int, rows: Int) throws(AutoencoderError) -> Double {
        var indices = [Int](repeating: 0, count: min(batchSize, rows))
        var total: Double = 0
        var start = 0
        while start < rows {
            let count = min(batchSize, rows - start)
            for r in 0..<count { indices[r] = first + start + r }
            try indices.withUnsafeBufferPointer { (all) throws(AutoencoderError) in
                try source.load(UnsafeBufferPointer(rebasing: all[0..<count]), into: self)
            }
            total += model.lock.withReadLock { () -> Double in
                scaleLoaded(rows: count)
                return objectiveOfFedChunk(rows: count, labels: nil)
            }
            start += count
        }
        return model.lock.withReadLock { total / Double(rows) + objective.penalty(parameters: model.parameters, gradients: nil) }
    }
}
