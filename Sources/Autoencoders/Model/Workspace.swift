/// The buffers one forward (and backward) pass needs for up to `capacity` samples: the scaled
/// input, each node's activations, and for training each node's gradient and scratch. Allocated
/// once; a training step or an inference call allocates nothing.
final class Workspace {
    let capacity: Int
    let trainable: Bool
    /// The graph's input, `[capacity, inputSize]`, already scaled.
    let input: FloatBuffer
    /// The clean target for training, `[capacity, outputSize]` (equal to the input unless it was corrupted).
    let target: FloatBuffer
    /// Training only: which inputs are known (1) or missing (0), `[capacity, inputSize]`.
    let mask: FloatBuffer
    /// Training with branch heads only: the clean scaled input they reconstruct.
    let clean: FloatBuffer
    /// Training only: scratch of the objective's code terms (2 · code size).
    let penaltyScratch: FloatBuffer
    /// Each node's output and its gradient (`[capacity, outputSize]`); a node that works in place
    /// (`Graph.worksInPlace`) shares its input's.
    let activations: [FloatBuffer]
    let gradients: [FloatBuffer]
    let scratch: [FloatBuffer]
    /// Per-node views handed to the layers.
    var buffers: [LayerBuffers]
    /// Inference calls (Model.run) only: the packed dense weights to run on (PackedWeights.swift).
    var inferencePlan: InferencePlan?
    /// Sequence batches: each sample's valid length, `[capacity]`, in use while `hasLengths`
    /// (every node's `LayerBuffers.lengths` then points here; see `setLengths`).
    let lengths: UnsafeMutablePointer<Int32>
    private(set) var hasLengths = false
    private var pointerArrays: [UnsafeMutableRawPointer] = []
    /// The input slots of the nodes that read the model's input, as (node, input).
    private var modelInputSlots: [(node: Int, input: Int)] = []

    /// - Parameter sharing: whether nodes that work in place share their input's buffers (always,
    ///   but for tests that compare the two).
    init(graph: Graph, capacity: Int, trainable: Bool, sharing: Bool = true) throws(AutoencoderError) {
        // Every buffer is sized from the spec: add them all up with checked arithmetic and refuse
        // a workspace beyond physical memory before allocating any of them.
        let floats = Workspace.floats(graph: graph, capacity: capacity, trainable: trainable, sharing: sharing)
        guard let floats, let bytes = Size.product(floats, MemoryLayout<Float>.stride), bytes <= Size.memoryLimit else {
            let needed = floats.map { Size.describe(floats: $0) } ?? "more floats than fit in 64 bits"
            throw .init(.outOfMemory, "a \(trainable ? "training" : "inference") workspace for \(capacity) samples needs \(needed), "
                        + "more than the machine's \(Size.describe(bytes: Size.memoryLimit)) of memory; use a smaller batch size")
        }
        self.capacity = capacity
        self.trainable = trainable
        input = try FloatBuffer(count: capacity * graph.inputSize)
        target = try FloatBuffer(count: trainable ? capacity * graph.outputSize : 0)
        mask = try FloatBuffer(count: trainable ? capacity * graph.inputSize : 0)
        penaltyScratch = try FloatBuffer(count: trainable ? 2 * graph.codeSize : 0)
        clean = try FloatBuffer(count: trainable && !graph.branchOutputs.isEmpty ? capacity * graph.inputSize : 0)
        var activations: [FloatBuffer] = [], gradients: [FloatBuffer] = [], scratch: [FloatBuffer] = []
        for (index, node) in graph.nodes.enumerated() {
            if sharing, graph.worksInPlace[index] {
                activations.append(activations[node.inputs[0]])
                gradients.append(gradients[node.inputs[0]])
            } else {
                activations.append(try FloatBuffer(count: capacity * node.layer.outputSize))
                gradients.append(try FloatBuffer(count: trainable ? capacity * node.layer.outputSize : 0))
            }
            scratch.append(try FloatBuffer(count: node.layer.scratchSize(batch: capacity)))
        }
        lengths = .allocate(capacity: max(capacity, 1))
        lengths.initialize(repeating: 0, count: max(capacity, 1))
        self.activations = activations
        self.gradients = gradients
        self.scratch = scratch
        buffers = []
        buffers.reserveCapacity(graph.nodes.count)
        for (index, node) in graph.nodes.enumerated() {
            let inputs = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: max(node.inputs.count, 1))
            let gradInputs = UnsafeMutablePointer<UnsafeMutablePointer<Float>?>.allocate(capacity: max(node.inputs.count, 1))
            pointerArrays.append(UnsafeMutableRawPointer(inputs))
            let accumulates = UnsafeMutablePointer<Bool>.allocate(capacity: max(node.inputs.count, 1))
            pointerArrays.append(UnsafeMutableRawPointer(gradInputs))
            pointerArrays.append(UnsafeMutableRawPointer(accumulates))
            for (i, flag) in graph.accumulatesInputGradient[index].enumerated() { accumulates[i] = flag }
            let links = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: max(node.links.count, 1))
            pointerArrays.append(UnsafeMutableRawPointer(links))
            for (i, source) in node.links.enumerated() { links[i] = scratch[source].pointer }
            for (i, source) in node.inputs.enumerated() {
                if source == Graph.modelInput {
                    inputs[i] = input.pointer
                    gradInputs[i] = nil
                    modelInputSlots.append((index, i))
                } else {
                    inputs[i] = activations[source].pointer
                    gradInputs[i] = trainable ? gradients[source].pointer : nil
                }
            }
            buffers.append(LayerBuffers(
                inputs: UnsafeBufferPointer(start: inputs, count: node.inputs.count),
                output: activations[index].pointer,
                gradInputs: UnsafeBufferPointer(start: gradInputs, count: node.inputs.count),
                accumulatesGradInputs: UnsafeBufferPointer(start: accumulates, count: node.inputs.count),
                gradOutput: gradients[index].pointer,
                scratch: scratch[index].pointer,
                links: UnsafeBufferPointer(start: links, count: node.links.count),
                batch: capacity))
        }
    }

    /// Runs `body` with the graph reading its input from `x` (caller memory, already in the
    /// model's scaled space, as many rows as the pass runs) where it is, instead of from `input`:
    /// no copy. Layers never write their inputs (`Layer.forward`). The nodes read `input` again
    /// once `body` returns.
    func reading(_ x: UnsafePointer<Float>, _ body: () -> Void) {
        pointModelInput(at: UnsafeMutablePointer(mutating: x))
        defer { pointModelInput(at: input.pointer) }
        body()
    }

    /// Runs `body` with node `node` writing its output to `y` (caller memory, as many rows as the
    /// pass runs) instead of its buffer. For the last node a pass runs (none after it reads the
    /// buffer), and one whose buffer no node working in place shares (`Graph.worksInPlace`): the
    /// nodes that read it hold its buffer's address, not `y`. The node writes its buffer again
    /// once `body` returns.
    func writing(node: Int, into y: UnsafeMutablePointer<Float>, _ body: () -> Void) {
        let own = buffers[node].output
        buffers[node].output = y
        defer { buffers[node].output = own }
        body()
    }

    private func pointModelInput(at pointer: UnsafeMutablePointer<Float>) {
        for slot in modelInputSlots {
            UnsafeMutablePointer(mutating: buffers[slot.node].inputs.baseAddress!)[slot.input] = pointer
        }
    }

    /// The floats a workspace holds, or nil when the total overflows Int. Node sizes are bounded
    /// by `GraphBuilder.add`; the capacity multiplies them here, checked.
    static func floats(graph: Graph, capacity: Int, trainable: Bool, sharing: Bool = true) -> Int? {
        var total = SizeTotal()
        let inputSize = Size.elements(graph.inputShape) ?? Int.max
        total.add(capacity, times: inputSize)                                   // input
        if trainable {
            total.add(capacity, times: graph.nodes[graph.outputNode].layer.outputSize)  // target
            total.add(capacity, times: inputSize)                               // mask
            total.add(2, times: graph.codeSize)                                 // penalty scratch
            if !graph.branchOutputs.isEmpty { total.add(capacity, times: inputSize) }   // clean
        }
        for (index, node) in graph.nodes.enumerated() {
            let layer = node.layer
            if !(sharing && graph.worksInPlace[index]) {
                total.add(capacity, times: layer.outputSize * (trainable ? 2 : 1))  // activations (and gradients)
            }
            let fixed = layer.scratchSize(batch: 0)
            total.add(fixed)
            total.add(capacity, times: layer.scratchSize(batch: 1) - fixed)    // scratch, affine in the batch
        }
        return total.floats
    }

    deinit {
        for pointer in pointerArrays { pointer.deallocate() }
        lengths.deallocate()
    }

    /// The lengths of the batch's samples when it has them, else nil.
    var activeLengths: UnsafePointer<Int32>? { hasLengths ? UnsafePointer(lengths) : nil }

    /// Copies the first `rows` lengths (already validated) for the next passes, or with nil
    /// declares that every sample fills the whole time axis. Allocates nothing.
    func setLengths(_ source: UnsafePointer<Int32>?, rows: Int) {
        if let source { lengths.update(from: source, count: rows) }
        hasLengths = source != nil
        for index in buffers.indices { buffers[index].lengths = activeLengths }
    }

    /// Gathers the lengths of the samples `order[0..<rows]` of `source` (already validated), or
    /// with nil declares that every sample fills the whole time axis. Allocates nothing.
    func setLengths(gathering source: UnsafePointer<Int32>?, order: UnsafePointer<Int>, rows: Int) {
        if let source { for r in 0..<rows { lengths[r] = source[order[r]] } }
        hasLengths = source != nil
        for index in buffers.indices { buffers[index].lengths = activeLengths }
    }

    /// Bytes held, for reporting memory use.
    var byteCount: Int {
        var seen = Set<ObjectIdentifier>()      // nodes that work in place share their input's buffers
        let distinct = (activations + gradients).filter { seen.insert(ObjectIdentifier($0)).inserted }
        let floats = input.count + target.count + mask.count + penaltyScratch.count + distinct.reduce(0) { $0 + $1.count }
            + scratch.reduce(0) { $0 + $1.count }
        return floats * MemoryLayout<Float>.stride
    }
}
