/// One node of a model graph: a layer and the nodes it reads.
struct GraphNode {
    /// Unique name; parameter names are "<name>.<suffix>".
    let name: String
    let layer: Layer
    /// Indices of the nodes read, in order; `Graph.modelInput` (-1) is the model's input.
    let inputs: [Int]
    /// Whether the node belongs to the encoder (input → code) or the decoder (code → output).
    let isEncoder: Bool
    /// Nodes whose scratch the layer reads (a max-unpooling layer's pooling layer); no gradient
    /// flows through a link.
    var links: [Int] = []
    /// The JSON path of the spec entry the node comes from, for messages.
    var path = ""
}

/// The model as a directed acyclic graph in execution order. The encoder's last node is the code
/// (bottleneck); the decoder's last node is the output (the reconstruction, or a segmentation's
/// logits). Nodes may read any earlier node by name, which is how U-Net skips and SegNet index links
/// are expressed. Branch heads (a variational reconstruction branch regularizing a segmentation
/// encoder) come after the decoder: they run in training only, each with its own output.
final class Graph {
    static let modelInput = -1

    let inputShape: [Int]
    let nodes: [GraphNode]
    let codeNode: Int
    let outputNode: Int
    /// The output nodes of the branch heads, after `outputNode`.
    let branchOutputs: [Int]
    /// For each node and each of its inputs: whether backward adds to that input's gradient
    /// (another consumer wrote it first) instead of overwriting it.
    let accumulatesInputGradient: [[Bool]]
    /// Whether decode(code) is defined: no decoder node reads the encoder except through the code.
    let decoderIsSelfContained: Bool
    /// For each node whose layer is sample-parallel: the per-sample floats of its buffers.
    let sampleLayouts: [SampleLayout?]
    /// For each node: whether it works in place, its output and output gradient being those of
    /// its one input (`Workspace`). So does a ReLU whose input is a dense layer, a convolution or
    /// a transposed convolution that nothing else reads and whose output the model does not
    /// expose (the code, the outputs): ReLU's output is positive exactly where its input is, so
    /// its backward needs only the output, and those layers' backward never reads their own
    /// output. The ReLU then rewrites that output and its gradient where they are instead of
    /// streaming a second copy of each (W2's ReLU passes were 12 % of a step), and the workspace
    /// holds two buffers fewer per ReLU.
    let worksInPlace: [Bool]

    init(inputShape: [Int], nodes: [GraphNode], codeNode: Int, outputNode: Int? = nil, branchOutputs: [Int] = []) {
        self.inputShape = inputShape
        self.nodes = nodes
        self.codeNode = codeNode
        self.outputNode = outputNode ?? nodes.count - 1
        self.branchOutputs = branchOutputs
        // Backward runs from the last node to the first: the first consumer met there writes.
        var written = Set<Int>()
        var flags = [[Bool]](repeating: [], count: nodes.count)
        for index in nodes.indices.reversed() {
            flags[index] = nodes[index].inputs.map { input in
                if written.contains(input) { return true }
                written.insert(input)
                return false
            }
        }
        accumulatesInputGradient = flags
        decoderIsSelfContained = nodes[(codeNode + 1)...(outputNode ?? nodes.count - 1)].allSatisfy { node in
            node.inputs.allSatisfy { $0 >= codeNode } && node.links.allSatisfy { $0 > codeNode }
        }
        sampleLayouts = nodes.map { node in SampleLayout(node.layer, links: node.links.map { nodes[$0].layer }) }
        var readers = [Int](repeating: 0, count: nodes.count)
        for node in nodes { for input in node.inputs where input >= 0 { readers[input] += 1 } }
        let exposed = Set([codeNode, self.outputNode] + branchOutputs)
        worksInPlace = nodes.map { node in
            guard let activation = node.layer as? Activation, activation.function == .relu, node.inputs.count == 1,
                  let input = node.inputs.first, input >= 0, readers[input] == 1, !exposed.contains(input) else { return false }
            let producer = nodes[input].layer
            return producer is Dense || producer is Convolution || producer is TransposedConvolution
        }
    }

    var inputSize: Int { inputShape.reduce(1, *) }
    var codeShape: [Int] { nodes[codeNode].layer.outputShape }
    var codeSize: Int { nodes[codeNode].layer.outputSize }
    var outputShape: [Int] { nodes[outputNode].layer.outputShape }
    var outputSize: Int { nodes[outputNode].layer.outputSize }

    /// Runs nodes `range` forward on the first `batch` rows of the workspace.
    func forward(_ workspace: Workspace, batch: Int, nodes range: ClosedRange<Int>, mode: ForwardMode,
                 random: inout RandomGenerator) {
        let plan = mode == .inference ? workspace.inferencePlan : nil
        var skip = -1
        for index in range where index != skip {
            workspace.buffers[index].batch = batch
            let layer = nodes[index].layer
            if let plan, let packed = plan.packs[index], let dense = plan.dense[index] {
                // Pre-packed weights; with the next node's ReLU fused, straight into its output.
                let fuse = plan.fusesReLU[index] && index < range.upperBound
                if fuse {
                    workspace.buffers[index + 1].batch = batch
                    skip = index + 1
                }
                dense.infer(workspace.buffers[index], packed: packed,
                            into: fuse ? workspace.buffers[index + 1].output : workspace.buffers[index].output, relu: fuse)
                continue
            }
            if let layout = sampleLayouts[index], batch > 1 {
                layout.inParts(workspace.buffers[index]) { part in
                    var unused = Graph.inferenceGenerator      // sample-parallel layers draw no random numbers
                    layer.forward(part, mode: mode, random: &unused)
                }
            } else {
                layer.forward(workspace.buffers[index], mode: mode, random: &random)
            }
        }
    }

    /// Runs nodes `range` in inference mode, which draws no random numbers.
    func infer(_ workspace: Workspace, batch: Int, nodes range: ClosedRange<Int>) {
        var unused = Graph.inferenceGenerator
        forward(workspace, batch: batch, nodes: range, mode: .inference, random: &unused)
    }

    private static let inferenceGenerator = RandomGenerator(seed: 0)

    /// Runs backward from node `last` down to node `first`. The gradient of node `last`'s output must be set.
    func backward(_ workspace: Workspace, batch: Int, from last: Int, through first: Int = 0) {
        guard last >= first else { return }
        for index in stride(from: last, through: first, by: -1) {
            workspace.buffers[index].batch = batch
            let accumulate = accumulatesInputGradient[index].first ?? false, layer = nodes[index].layer
            if let layout = sampleLayouts[index], batch > 1 {
                layout.inParts(workspace.buffers[index]) { part in layer.backward(part, accumulateInputGradient: accumulate) }
            } else {
                layer.backward(workspace.buffers[index], accumulateInputGradient: accumulate)
            }
        }
    }
}

/// The per-sample floats of a sample-parallel layer's buffers (`Layer.isSampleParallel`), to hand
/// each thread of a split batch the rows of its own samples.
struct SampleLayout {
    /// Of each input (and its gradient).
    let inputs: [Int]
    let output: Int
    let scratch: Int
    /// Of each linked node's scratch.
    let links: [Int]

    /// nil unless `layer` is sample-parallel and its scratch, and that of `links`, is per sample.
    init?(_ layer: Layer, links: [Layer]) {
        guard layer.isSampleParallel, layer.scratchSize(batch: 0) == 0,
              links.allSatisfy({ $0.scratchSize(batch: 0) == 0 }) else { return nil }
        inputs = layer.inputShapes.map { $0.reduce(1, *) }
        output = layer.outputSize
        scratch = layer.scratchSize(batch: 1)
        self.links = links.map { $0.scratchSize(batch: 1) }
    }

    /// Runs `body` on the rows of each part of `io`'s batch (`Parallel.forEachPart`), or on `io`
    /// itself when the batch is not split.
    func inParts(_ io: LayerBuffers, _ body: (LayerBuffers) -> Void) {
        let work = io.batch * inputs.reduce(output, +)
        guard Parallel.parts(count: io.batch, work: work) > 1 else { return body(io) }
        Parallel.forEachPart(count: io.batch, work: work, scratch: io.scratch) { _, samples, _ in
            rows(samples, of: io, body)
        }
    }

    /// `io` narrowed to the rows of `samples`.
    private func rows(_ samples: Range<Int>, of io: LayerBuffers, _ body: (LayerBuffers) -> Void) {
        let first = samples.lowerBound
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: inputs.count + links.count) { pointers in
            withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: inputs.count) { gradients in
                for (i, size) in inputs.enumerated() {
                    pointers.initializeElement(at: i, to: io.inputs[i] + first * size)
                    gradients.initializeElement(at: i, to: io.gradInputs[i].map { $0 + first * size })
                }
                for (j, size) in links.enumerated() { pointers.initializeElement(at: inputs.count + j, to: io.links[j] + first * size) }
                var part = io
                part.inputs = UnsafeBufferPointer(rebasing: pointers[0..<inputs.count])
                part.gradInputs = UnsafeBufferPointer(gradients)
                part.links = UnsafeBufferPointer(rebasing: pointers[inputs.count...])
                part.output = io.output + first * output
                part.gradOutput = io.gradOutput + first * output
                part.scratch = io.scratch + first * scratch
                part.lengths = io.lengths.map { $0 + first }
                part.batch = samples.count
                body(part)
            }
        }
    }
}
