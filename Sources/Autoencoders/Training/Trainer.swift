/// Step-by-step training of a model: the caller supplies each batch. `Model.fit` drives it over a
/// whole dataset. The trainer owns a workspace for `batchSize` samples, so a step allocates nothing.
public final class Trainer {
    public let model: Model
    public let batchSize: Int
    let workspace: Workspace
    let objective: Objective
    /// Indices of the current epoch's sample order.
    var order: UnsafeMutableBufferPointer<Int>

    public init(model: Model, batchSize: Int) throws(AutoencoderError) {
        guard batchSize >= 1, batchSize <= 1 << 20 else {
            throw .invalidArgument("batch_size must be between 1 and 1048576, got \(batchSize)")
        }
        let (_, overflow) = batchSize.multipliedReportingOverflow(by: max(model.graph.inputSize, model.graph.outputSize) * 8)
        guard !overflow else { throw .init(.outOfMemory, "batch_size \(batchSize) is too large for this model") }
        self.model = model
        self.batchSize = batchSize
        workspace = Workspace(graph: model.graph, capacity: batchSize, trainable: true)
        objective = Objective(spec: model.spec, graph: model.graph, table: model.table)
        order = .allocate(capacity: 0)
    }

    deinit { order.deallocate() }

    /// The learning rate the next step uses.
    public var learningRate: Float {
        get { model.trainingOptimizer().learningRate }
        set { model.trainingOptimizer().learningRate = newValue }
    }

    /// One optimisation step on `rows` raw samples (`[rows, inputSize]`, at most `batchSize`).
    /// Returns the objective on this batch before the update. A non-finite loss leaves the weights
    /// unchanged and throws.
    public func step(_ x: UnsafePointer<Float>, rows: Int) throws(AutoencoderError) -> Double {
        guard rows >= 1, rows <= batchSize else {
            throw .invalidArgument("rows must be between 1 and the trainer's batch size \(batchSize), got \(rows)")
        }
        try model.checkFinite(x, count: rows * model.inputSize, name: "batch")
        return try model.lock.withWriteLock { () throws(AutoencoderError) -> Double in
            model.feed(workspace, x, rows: rows)
            workspace.target.pointer.update(from: workspace.input.pointer, count: rows * model.inputSize)
            return try stepOnWorkspace(rows: rows)
        }
    }

    /// Forward, loss, backward and update on the batch already in the workspace (caller holds the lock).
    func stepOnWorkspace(rows: Int) throws(AutoencoderError) -> Double {
        let graph = model.graph
        graph.forward(workspace, batch: rows, nodes: 0...objective.lastForwardNode, mode: .training, random: &model.random)
        let reconstruction = objective.reconstructionLoss(graph: graph, workspace: workspace, batch: rows, gradient: true)
        guard reconstruction.isFinite else {
            throw .numeric("the loss is \(reconstruction) on this batch; the weights were not updated (lower the learning rate, or check the data scaling)")
        }
        graph.backward(workspace, batch: rows, from: objective.backwardStart)
        let penalty = objective.penalty(parameters: model.parameters, gradients: model.gradients)
        model.trainingOptimizer().step(parameters: model.parameters.pointer, gradients: model.gradients.pointer,
                                       count: model.parameterCount)
        return reconstruction + penalty
    }

    /// Test hook: forward, loss and backward on `rows` raw samples (at most `batchSize`), without the
    /// optimizer step. ∂objective/∂parameters is added to `model.gradients` and left there (the
    /// caller zeroes it); returns the objective.
    func computeGradients(_ x: UnsafePointer<Float>, rows: Int) -> Double {
        model.lock.withWriteLock {
            let graph = model.graph
            model.feed(workspace, x, rows: rows)
            workspace.target.pointer.update(from: workspace.input.pointer, count: rows * model.inputSize)
            graph.forward(workspace, batch: rows, nodes: 0...objective.lastForwardNode, mode: .training, random: &model.random)
            let reconstruction = objective.reconstructionLoss(graph: graph, workspace: workspace, batch: rows, gradient: true)
            graph.backward(workspace, batch: rows, from: objective.backwardStart)
            return reconstruction + objective.penalty(parameters: model.parameters, gradients: model.gradients)
        }
    }

    /// The mean objective over `rows` raw samples in inference mode (no update).
    public func evaluate(_ x: UnsafePointer<Float>, rows: Int) throws(AutoencoderError) -> Double {
        guard rows >= 1 else { throw .invalidArgument("rows must be at least 1, got \(rows)") }
        try model.checkFinite(x, count: rows * model.inputSize, name: "data")
        return model.lock.withReadLock { evaluateUnlocked(x, rows: rows) }
    }

    func evaluateUnlocked(_ x: UnsafePointer<Float>, rows: Int) -> Double {
        let graph = model.graph
        var total: Double = 0
        var start = 0
        while start < rows {
            let count = min(batchSize, rows - start)
            model.feed(workspace, x + start * model.inputSize, rows: count)
            workspace.target.pointer.update(from: workspace.input.pointer, count: count * model.inputSize)
            graph.infer(workspace, batch: count, nodes: 0...graph.outputNode)
            total += objective.reconstructionLoss(graph: graph, workspace: workspace, batch: count, gradient: false) * Double(count)
            start += count
        }
        return total / Double(rows) + objective.penalty(parameters: model.parameters, gradients: nil)
    }

    /// Gathers the samples `order[from..<from+rows]` of `data` into the workspace, scaled.
    func gather(_ data: UnsafePointer<Float>, from: Int, rows: Int) {
        let features = model.inputSize
        for r in 0..<rows {
            let source = data + order[from + r] * features
            let row = workspace.input.pointer + r * features
            if let scaling = model.inputScaling {
                scaling.apply(source, row, rows: 1)
            } else {
                row.update(from: source, count: features)
            }
        }
        workspace.target.pointer.update(from: workspace.input.pointer, count: rows * features)
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
