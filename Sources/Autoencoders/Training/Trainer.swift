/// Step-by-step training of a model: the caller supplies each batch. `Model.fit` drives it over a
/// whole dataset. The trainer owns a workspace for `batchSize` samples, so a step allocates nothing.
///
/// A batch is prepared in the model's scaled space: the clean input becomes the target; then
/// missing inputs (with a mask) are zeroed and the spec's corruption (denoising) is applied to
/// the input alone.
public final class Trainer {
    public let model: Model
    public let batchSize: Int
    let workspace: Workspace
    /// What a step may change, captured before it so a failed step is undone exactly: allocated
    /// by the first step (and again only if the model's optimizer changes), reused after.
    var backup: Snapshot?
    var objective: Objective { model.objective }
    /// The terms of the last step's objective: the reconstruction loss and, for a VAE, the KL
    /// divergence (per sample, unweighted).
    private(set) var lastReconstruction: Double = 0
    private(set) var lastKL: Double = 0
    /// Indices of the current epoch's sample order.
    var order: UnsafeMutableBufferPointer<Int>
    /// Adversarial autoencoders (Adversarial/AdversarialPhases.swift): the discriminator's
    /// workspace for 2 · batchSize rows (prior samples, then codes), and each row's mixture
    /// component (the supervised prior's labels, or the components drawn).
    let discriminatorWorkspace: Workspace?
    let components: UnsafeMutablePointer<Int32>
    /// The last step's reconstruction term and, for an adversarial autoencoder, its
    /// discriminator and generator losses (NaN for other models).
    public var lastLosses: (reconstruction: Double, discriminator: Double, generator: Double) {
        (lastReconstruction, lastDiscriminator, lastGenerator)
    }
    /// The last step's discriminator and generator losses (NaN without a discriminator).
    var lastDiscriminator: Double = .nan
    var lastGenerator: Double = .nan

    public init(model: Model, batchSize: Int) throws(AutoencoderError) {
        try model.refuseIfInt8("training")
        guard batchSize >= 1, batchSize <= 1 << 20 else {
            throw .invalidArgument("batch_size must be between 1 and 1048576, got \(batchSize)")
        }
        let (_, overflow) = batchSize.multipliedReportingOverflow(by: max(model.graph.inputSize, model.graph.outputSize) * 8)
        guard !overflow else { throw .init(.outOfMemory, "batch_size \(batchSize) is too large for this model") }
        self.model = model
        self.batchSize = batchSize
        workspace = try Workspace(graph: model.graph, capacity: batchSize, trainable: true)
        if let discriminator = model.discriminator {
            discriminatorWorkspace = try Workspace(graph: discriminator.graph, capacity: 2 * batchSize, trainable: true)
        } else {
            discriminatorWorkspace = nil
        }
        components = .allocate(capacity: batchSize)
        components.initialize(repeating: 0, count: batchSize)
        order = .allocate(capacity: 0)
    }

    deinit {
        order.deallocate()
        components.deallocate()
    }

    /// The learning rate the next step uses.
    public var learningRate: Float {
        get { model.optimizer?.learningRate ?? model.spec.optimizer.learningRate }
        set { (try? model.trainingOptimizer())?.learningRate = newValue }
    }

    /// One optimisation step on `rows` raw samples (`[rows, inputSize]`, at most `batchSize`);
    /// with a `mask` of the same shape (1 = known, 0 = missing) the loss counts the known inputs
    /// only. A segmentation model needs `labels` (`[rows, labelSize]`, class indices as floats).
    /// A sequence model may take `lengths` (`[rows]`, each in 1...T): padded steps are ignored.
    /// Returns the objective on this batch before the update. A failed step changes nothing: a
    /// non-finite loss, or an update after which the batch's outputs are not finite (a learning
    /// rate far too large), restores the weights, the optimizer's state and step count and the
    /// generator, and throws `.numeric`.
    public func step(_ x: UnsafePointer<Float>, rows: Int, mask: UnsafePointer<Float>? = nil,
                     labels: UnsafePointer<Float>? = nil, lengths: UnsafePointer<Int32>? = nil) throws(AutoencoderError) -> Double {
        guard rows >= 1, rows <= batchSize else {
            throw .invalidArgument("rows must be between 1 and the trainer's batch size \(batchSize), got \(rows)")
        }
        try model.checkFinite(x, count: rows * model.inputSize, name: "batch")
        if let mask { try Model.checkMask(mask, count: rows * model.inputSize) }
        try model.checkTargets(labels, rows: rows)
        try model.checkBCETargets(x, rows: rows, mask: mask, name: "batch")
        try model.checkLengths(lengths, rows: rows, masked: mask != nil)
        return try model.lock.withWriteLock { () throws(AutoencoderError) -> Double in
            let backup = try captureBackup()
            do throws(AutoencoderError) {
                model.feed(workspace, x, rows: rows)
                workspace.setLengths(lengths, rows: rows)
                if let mask { workspace.mask.pointer.update(from: mask, count: rows * model.inputSize) }
                if let labels {
                    if model.takesComponentLabels {
                        for r in 0..<rows { components[r] = Int32(labels[r]) }
                    } else {
                        workspace.target.pointer.update(from: labels, count: rows * model.labelSize)
                    }
                }
                prepareBatch(rows: rows, masked: mask != nil)
                let loss = try stepOnWorkspace(rows: rows, masked: mask != nil)
                // The updated weights must be finite and give finite outputs. The outputs are
                // checked on the first few samples of the batch only: a full forward pass costs a
                // third of a step, these a few per cent (docs/RELIABILITY.md has the figures),
                // and a weight update large enough to overflow does so on any sample. An
                // overflow on other samples alone shows as a non-finite loss at the next step,
                // which then leaves the weights unchanged.
                guard model.optimizerStateIsFinite else {
                    throw AutoencoderError.numeric("after this update the optimizer's state is not finite (lower the learning rate, "
                                   + "or check the data scaling); the update was undone")
                }
                guard firstNonFinite(model.parameters.pointer, count: model.parameterCount) == nil,
                      outputsAreFinite(rows: min(rows, Trainer.checkedRows), masked: mask != nil) else {
                    throw AutoencoderError.numeric("after this update the outputs on this batch are not finite (lower the learning rate, "
                                   + "or check the data scaling); the update was undone")
                }
                return loss
            } catch {
                backup.restore(into: model)
                throw error
            }
        }
    }

    /// Samples of the batch whose outputs a step checks after its update.
    static let checkedRows = 4

    /// Captures the model into the trainer's backup (caller holds the write lock). The first
    /// call allocates it; a step allocates nothing after that. Nothing is changed on failure.
    func captureBackup() throws(AutoencoderError) -> Snapshot {
        if let backup, backup.fits(model) {
            backup.capture(model)
            return backup
        }
        let created = try Snapshot(model)
        backup = created
        return created
    }

    /// Whether the model's outputs on the first `rows` samples of the workspace are finite, in
    /// inference mode (which draws nothing from the generator). The check that catches finite
    /// weights whose outputs overflow; one forward pass over the outputs as the caller sees them.
    ///
    /// Every layer's output must be finite, not only the last: a ReLU maps NaN to 0, so an
    /// overflow inside the network can vanish from the outputs of this pass and still reach the
    /// caller's, because inference computes dense layers with other kernels (pre-packed, fused
    /// multiply-adds: fma(−∞ partial sum, +huge) stays −∞ where a rounded product gives
    /// ∞ − ∞ = NaN, and ReLU(+∞) passes on).
    /// It runs on the inputs the caller will reconstruct: a denoising model's update was computed on corrupted inputs, so the clean
    /// ones (the target) are put back first, with missing inputs still zero when `masked`.
    func outputsAreFinite(rows: Int, masked: Bool) -> Bool {
        if model.spec.noise != nil && !model.isSegmentation {
            let count = rows * model.inputSize
            let input = workspace.input.pointer, clean = workspace.target.pointer, mask = workspace.mask.pointer
            for i in 0..<count { input[i] = masked && mask[i] == 0 ? 0 : clean[i] }
        }
        // Node by node, each output checked as soon as it is computed: a ReLU working in place
        // (`Graph.worksInPlace`) rewrites its input's output, and max(NaN, 0) is 0.
        let graph = model.graph
        for node in 0...graph.outputNode {
            graph.infer(workspace, batch: rows, nodes: node...node)
            if node < graph.outputNode,
               firstNonFinite(workspace.activations[node].pointer, count: rows * graph.nodes[node].layer.outputSize) != nil {
                return false
            }
        }
        let outputs = workspace.activations[graph.outputNode].pointer, count = rows * graph.outputSize
        // What the caller reads back is in data space: undo the input scaling (in place: the
        // step is over, nothing reads these activations again), where a huge scale may overflow.
        if let scaling = model.inputScaling, !model.isSegmentation, graph.outputSize == scaling.offset.count {
            scaling.invert(outputs, rows: rows)
        }
        return firstNonFinite(outputs, count: count) == nil
    }

    /// Forward, loss, backward and update on the batch prepared in the workspace (caller holds the
    /// lock): compute, then apply. Returns the objective before the update.
    func stepOnWorkspace(rows: Int, masked: Bool) throws(AutoencoderError) -> Double {
        if model.gradientHeld {
            // A data-parallel gradient left unapplied is dropped: a step starts from zero.
            model.gradients.pointer.update(repeating: 0, count: model.table.trainableCount)
            model.gradientHeld = false
        }
        let value = try computeOnWorkspace(rows: rows, masked: masked)
        try applyGradients()
        if model.discriminator != nil { try adversarialPhases(rows: rows) }
        return value.total
    }

    /// The objective and its gradient on the batch prepared in the workspace (caller holds the
    /// lock): ∂objective/∂parameters is added to `model.gradients`, nothing is updated. A
    /// non-finite objective clears the gradient and throws `.numeric`.
    func computeOnWorkspace(rows: Int, masked: Bool) throws(AutoencoderError) -> ObjectiveValue {
        let value = objective.computeGradients(graph: model.graph, workspace: workspace, batch: rows, masked: masked,
                                               epoch: model.epochsCompleted, parameters: model.parameters,
                                               gradients: model.gradients, random: &model.random)
        guard value.total.isFinite else {
            model.gradients.pointer.update(repeating: 0, count: model.table.trainableCount)
            throw .numeric("the loss is \(value.total) on this batch; the weights were not updated (lower the learning rate, or check the data scaling)")
        }
        lastReconstruction = value.reconstruction
        lastKL = value.codeKL
        return value
    }

    /// The optimizer's update with the gradient in `model.gradients`, clipped to the spec's norm
    /// first (caller holds the lock). The optimizer zeroes the gradient as it reads it.
    func applyGradients() throws(AutoencoderError) {
        let optimizer = try model.trainingOptimizer()
        if let maxNorm = model.spec.clipGradNorm { try clipGradients(maxNorm) }
        optimizer.step(parameters: model.parameters.pointer, gradients: model.gradients.pointer, count: model.table.trainableCount)
    }

    /// Clips the gradient to the spec's global norm (PyTorch's clip_grad_norm_). A non-finite norm
    /// clears the gradient and refuses the step, leaving the weights unchanged.
    private func clipGradients(_ maxNorm: Float) throws(AutoencoderError) {
        let count = model.table.trainableCount
        let (norm, _) = GradientClipping.clip(model.gradients.pointer, count: count, maxNorm: maxNorm)
        guard norm.isFinite else {
            model.gradients.pointer.update(repeating: 0, count: count)
            throw .numeric("the gradient norm is \(norm) on this batch; the weights were not updated (lower the learning rate, or check the data scaling)")
        }
    }

    /// Test hook: forward, loss and backward on `rows` raw samples (at most `batchSize`), without the
    /// optimizer step. ∂objective/∂parameters is added to `model.gradients` and left there (the
    /// caller zeroes it); returns the objective. No corruption is applied.
    func computeGradients(_ x: UnsafePointer<Float>, rows: Int, lengths: UnsafePointer<Int32>? = nil) -> Double {
        model.lock.withWriteLock {
            model.feed(workspace, x, rows: rows)
            workspace.setLengths(lengths, rows: rows)
            prepareTargets(rows: rows)
            return objective.computeGradients(graph: model.graph, workspace: workspace, batch: rows, masked: false,
                                              epoch: model.epochsCompleted, parameters: model.parameters,
                                              gradients: model.gradients, random: &model.random).total
        }
    }

    /// The mean objective over `rows` raw samples in inference mode (no update, no corruption);
    /// a segmentation model needs their `labels`, a sequence model may take `lengths`.
    public func evaluate(_ x: UnsafePointer<Float>, rows: Int, labels: UnsafePointer<Float>? = nil,
                         lengths: UnsafePointer<Int32>? = nil) throws(AutoencoderError) -> Double {
        guard rows >= 1 else { throw .invalidArgument("rows must be at least 1, got \(rows)") }
        try model.checkFinite(x, count: rows * model.inputSize, name: "data")
        try model.checkTargets(labels, rows: rows)
        try model.checkBCETargets(x, rows: rows, name: "data")
        try model.checkLengths(lengths, rows: rows)
        return model.lock.withReadLock { evaluateUnlocked(x, rows: rows, labels: labels, lengths: lengths) }
    }

    /// The mean objective per sample; with lengths, each chunk's loss is a mean over its valid
    /// steps, weighted by its samples (as without lengths).
    func evaluateUnlocked(_ x: UnsafePointer<Float>, rows: Int, labels: UnsafePointer<Float>? = nil,
                          lengths: UnsafePointer<Int32>? = nil) -> Double {
        var total: Double = 0
        var start = 0
        while start < rows {
            let count = min(batchSize, rows - start)
            workspace.setLengths(lengths.map { $0 + start }, rows: count)
            model.feed(workspace, x + start * model.inputSize, rows: count)
            total += objectiveOfFedChunk(rows: count, labels: labels.map { $0 + start * model.labelSize })
            start += count
        }
        return total / Double(rows) + objective.penalty(parameters: model.parameters, gradients: nil)
    }

    /// The objective of the `rows` samples in the workspace's input (scaled, their lengths set)
    /// in inference mode, summed over the samples, without the parameter penalty.
    func objectiveOfFedChunk(rows: Int, labels: UnsafePointer<Float>?) -> Double {
        let graph = model.graph
        if let labels, !model.takesComponentLabels {
            workspace.target.pointer.update(from: labels, count: rows * model.labelSize)
        } else {
            workspace.target.pointer.update(from: workspace.input.pointer, count: rows * model.inputSize)
        }
        graph.infer(workspace, batch: rows, nodes: 0...graph.outputNode)
        let reconstruction = objective.reconstructionLoss(graph: graph, workspace: workspace, batch: rows, gradient: false)
        let codePenalty = objective.codePenalty(graph: graph, workspace: workspace, batch: rows, gradient: false)
            + objective.variationalTerms(workspace: workspace, batch: rows, gradient: false, epoch: model.epochsCompleted, branches: false).total
        return (reconstruction + codePenalty) * Double(rows)
    }

    /// Gathers the samples `order[from..<from+rows]` of `data` (and of `mask` and `labels`) into
    /// the workspace, scaled, and prepares the batch.
    func gather(_ data: UnsafePointer<Float>, mask: UnsafePointer<Float>?, labels: UnsafePointer<Float>? = nil,
                lengths: UnsafePointer<Int32>? = nil, from: Int, rows: Int) {
        let features = model.inputSize, labelSize = model.labelSize
        workspace.setLengths(gathering: lengths, order: UnsafePointer(order.baseAddress! + from), rows: rows)
        for r in 0..<rows {
            let sample = order[from + r]
            let row = workspace.input.pointer + r * features
            if let scaling = model.inputScaling {
                scaling.apply(data + sample * features, row, rows: 1)
            } else {
                row.update(from: data + sample * features, count: features)
            }
            if let mask { (workspace.mask.pointer + r * features).update(from: mask + sample * features, count: features) }
            if let labels {
                if model.takesComponentLabels {
                    components[r] = Int32(labels[sample])
                } else {
                    (workspace.target.pointer + r * labelSize).update(from: labels + sample * labelSize, count: labelSize)
                }
            }
        }
        prepareBatch(rows: rows, masked: mask != nil)
    }

    /// The clean input becomes the target (segmentation targets are labels, already in place);
    /// missing inputs are zeroed; the corruption is applied.
    func prepareBatch(rows: Int, masked: Bool) {
        let count = rows * model.inputSize
        let input = workspace.input.pointer
        prepareTargets(rows: rows)
        if masked {
            let mask = workspace.mask.pointer
            // A select, not input · mask: a huge missing value may scale to ∞, and 0 · ∞ is NaN.
            for i in 0..<count where mask[i] == 0 { input[i] = 0 }
        }
        model.spec.noise?.apply(input, count: count, random: &model.random)
    }

    /// The clean input becomes the target (segmentation targets are labels, already in place) and
    /// the branch heads' clean input.
    func prepareTargets(rows: Int) {
        let count = rows * model.inputSize
        let input = workspace.input.pointer
        if !model.isSegmentation { workspace.target.pointer.update(from: input, count: count) }
        if workspace.clean.count > 0 { workspace.clean.pointer.update(from: input, count: count) }
    }

    /// Makes `order` a permutation (or the identity) of `count` samples.
    func prepareOrder(count: Int, shuffle: Bool) {
        if order.count != count {
            order.deallocate()
            order = .allocate(capacity: count)
        }
        if shuffle {
            model.random.permutation(order)
        } else {
            for i in 0..<count { order[i] = i }
        }
    }
}
