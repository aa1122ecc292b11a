/// An autoencoder: a graph of layers built from a spec, its parameters in one flat buffer, the
/// input scaling it was trained with, its random generator and its training state.
///
/// Thread safety: inference (encode, decode, reconstruct, score) may run concurrently on one
/// model; training and parameter changes take the model exclusively.
public final class Model {
    public let spec: ModelSpec
    let graph: Graph
    let table: ParameterTable
    /// What training minimises (reconstruction loss and the spec's family terms).
    let objective: Objective
    /// All parameters, laid out as `parameterEntries` says.
    public let parameters: FloatBuffer
    /// Their gradients, same layout; zero between training steps.
    let gradients: FloatBuffer
    /// The scaling applied to raw inputs, or nil for none.
    public internal(set) var inputScaling: InputScaling?
    /// The model's one source of randomness (initialisation, shuffling, noise).
    public internal(set) var random: RandomGenerator
    /// The optimizer and its state; created on first training, kept in the model file.
    var optimizer: Optimizer?

    /// Whether the optimizer's state is finite. A finite update can leave it infinite (Adam's
    /// second moment is g², which overflows for a gradient above 1.8e19 while m / √v stays
    /// finite), and a model whose state is not finite could be saved but not loaded back.
    var optimizerStateIsFinite: Bool {
        (optimizer?.state ?? []).allSatisfy { firstNonFinite($0.buffer.pointer, count: $0.buffer.count) == nil }
    }
    /// Whether `gradients` holds a data-parallel gradient between its computation and its
    /// application (Training/DataParallel.swift); otherwise the buffer is all zeros.
    var gradientHeld = false
    /// Epochs trained so far (the learning-rate schedule continues from here).
    public internal(set) var epochsCompleted = 0
    /// The anomaly threshold on `score` (see AnomalyDetection.swift).
    var threshold: Float?
    /// The code quantiser for compression (Codec/), or nil before one is fitted.
    var quantizer: CodeQuantizer?
    /// An adversarial autoencoder's discriminator (its parameters are the table's
    /// "discriminator" group), or nil.
    let discriminator: Discriminator?
    /// The optimizers of the discriminator and generator phases (created on first training, kept
    /// in the model file), over `table.discriminatorRange` and the encoder's parameters.
    var discriminatorOptimizer: Optimizer?
    var generatorOptimizer: Optimizer?
    /// The int8 variant's layers (Quantization/), or nil for a float model: an int8 model is for
    /// inference only.
    var int8: Int8State?

    let lock = ReadWriteLock()
    let workspaces: WorkspacePool
    /// Dense weights packed for inference, rebuilt after parameter writes (PackedWeights.swift).
    let packedWeights = PackedWeights()

    /// Builds a model from a validated spec, with freshly initialised parameters.
    public convenience init(spec: ModelSpec) throws(AutoencoderError) {
        try self.init(spec: spec, layout: ParameterLayout(spec: spec), initialize: true)
    }

    /// Builds a model on the graph and table of `layout` (built from `spec`), so a loader that has
    /// checked a file against the layout does not build the graph twice. With `initialize: false`
    /// the parameters stay zero and the generator untouched (the loader reads both from the file).
    init(spec: ModelSpec, layout: ParameterLayout, initialize: Bool) throws(AutoencoderError) {
        self.spec = spec
        graph = layout.graph
        table = layout.table
        discriminator = layout.discriminator
        // Parameters and gradients together within physical memory (each buffer checks itself too).
        var total = SizeTotal()
        total.add(table.totalCount, times: 2)
        guard total.fitsInMemory else {
            throw .init(.outOfMemory, "the model's \(table.totalCount) parameters and their gradients need "
                        + "\(Size.describe(floats: 2 * table.totalCount)), more than the machine's \(Size.describe(bytes: Size.memoryLimit)) of memory")
        }
        parameters = try FloatBuffer(count: table.totalCount)
        gradients = try FloatBuffer(count: table.totalCount)
        table.bind(graph: graph, parameters: parameters, gradients: gradients)
        if let discriminator { table.bind(graph: discriminator.graph, parameters: parameters, gradients: gradients, group: .discriminator) }
        objective = try Objective(spec: spec, graph: graph, table: table)
        random = RandomGenerator(seed: spec.seed)
        if initialize { table.initialize(parameters, random: &random) }
        workspaces = WorkspacePool(graph: graph)
    }

    /// Builds a model from the JSON text of a spec.
    public convenience init(json: String) throws(AutoencoderError) {
        try self.init(spec: ModelSpec(json: json))
    }

    // MARK: Shapes

    /// Per-sample input shape.
    public var inputShape: [Int] { graph.inputShape }
    public var inputSize: Int { graph.inputSize }
    /// Per-sample code (bottleneck) shape.
    public var codeShape: [Int] { graph.codeShape }
    public var codeSize: Int { graph.codeSize }
    /// Per-sample output shape: the input's, or [classes] + spatial for a segmentation model.
    public var outputShape: [Int] { graph.outputShape }
    public var outputSize: Int { graph.outputSize }
    /// Whether `decode` works: false when the decoder reads encoder nodes besides the code.
    /// (Segmentation models output labels, not data: they never decode.)
    public var canDecode: Bool { graph.decoderIsSelfContained && !isSegmentation }
    /// The names of the graph's nodes, in execution order.
    public var nodeNames: [String] { graph.nodes.map(\.name) }

    // MARK: Parameters

    public var parameterCount: Int { table.totalCount }
    public var parameterEntries: [ParameterEntry] { table.entries }

    public func parameterEntry(named name: String) throws(AutoencoderError) -> ParameterEntry {
        guard let entry = table.entries.first(where: { $0.name == name }) else {
            throw .invalidArgument("name: the model has no parameter \"\(name)\"; it has \(table.entries.map(\.name).joined(separator: ", "))")
        }
        return entry
    }

    /// A copy of one parameter tensor.
    public func parameter(named name: String) throws(AutoencoderError) -> Tensor {
        let entry = try parameterEntry(named: name)
        return lock.withReadLock {
            Tensor(checkedShape: entry.shape, values: Array(UnsafeBufferPointer(start: parameters.pointer + entry.offset, count: entry.count)))
        }
    }

    /// Replaces one parameter tensor; values must be finite and exactly as many as the tensor holds.
    public func setParameter(named name: String, values: UnsafeBufferPointer<Float>) throws(AutoencoderError) {
        try refuseIfInt8("setting parameter \(name)")
        let entry = try parameterEntry(named: name)
        guard values.count == entry.count else {
            throw .shapeMismatch("values: parameter \(name) has shape \(entry.shape) (\(entry.count) values), got \(values.count)")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw .numeric("values[\(bad)] is \(values[bad]); parameters must be finite")
        }
        lock.withWriteLock {
            (parameters.pointer + entry.offset).update(from: values.baseAddress!, count: entry.count)
        }
    }

    /// Sets (or with nil removes) the per-feature input scaling.
    public func setInputScaling(_ scaling: InputScaling?) throws(AutoencoderError) {
        if scaling != nil && isTokenModel {
            throw .unsupported("input scaling does not apply to a token model: its inputs are token ids")
        }
        if let scaling, scaling.offset.count != inputSize {
            throw .shapeMismatch("input scaling has \(scaling.offset.count) features; the model's input has \(inputSize)")
        }
        lock.withWriteLock { inputScaling = scaling }
    }

    /// Optimizer updates performed so far (0 before the first training step); carried by the model file.
    public var optimizerStepCount: Int { lock.withReadLock { optimizer?.stepCount ?? 0 } }

    /// The optimizer of the spec, created on first use and kept with its state.
    func trainingOptimizer() throws(AutoencoderError) -> Optimizer {
        if let optimizer { return optimizer }
        let created = try spec.optimizer.makeOptimizer(parameterCount: table.trainableCount)
        optimizer = created
        return created
    }
}

/// Inference workspaces, reused across calls: one sample, or chunks of up to `chunk` samples.
/// Concurrent callers each take their own.
final class WorkspacePool: @unchecked Sendable {
    static let chunk = 256
    private let graph: Graph
    private let mutex = Mutex()
    private var single: [Workspace] = []
    private var batched: [Workspace] = []

    init(graph: Graph) { self.graph = graph }

    func withWorkspace<T>(rows: Int, _ body: (Workspace) -> T) throws(AutoencoderError) -> T {
        let one = rows <= 1
        let pooled = mutex.withLock { () -> Workspace? in one ? single.popLast() : batched.popLast() }
        let workspace: Workspace
        if let pooled {
            workspace = pooled
        } else {
            workspace = try Workspace(graph: graph, capacity: one ? 1 : WorkspacePool.chunk, trainable: false)
        }
        defer {
            mutex.withLock {
                if one { if single.count < 4 { single.append(workspace) } } else if batched.count < 4 { batched.append(workspace) }
            }
        }
        return body(workspace)
    }
}
