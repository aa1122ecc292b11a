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
    let activations: [FloatBuffer]
    let gradients: [FloatBuffer]
    let scratch: [FloatBuffer]
    /// Per-node views handed to the layers.
    var buffers: [LayerBuffers]
    private var pointerArrays: [UnsafeMutableRawPointer] = []

    init(graph: Graph, capacity: Int, trainable: Bool) {
        self.capacity = capacity
        self.trainable = trainable
        input = FloatBuffer(count: capacity * graph.inputSize)
        target = FloatBuffer(count: trainable ? capacity * graph.outputSize : 0)
        activations = graph.nodes.map { FloatBuffer(count: capacity * $0.layer.outputSize) }
        gradients = graph.nodes.map { FloatBuffer(count: trainable ? capacity * $0.layer.outputSize : 0) }
        scratch = graph.nodes.map { FloatBuffer(count: $0.layer.scratchSize(batch: capacity)) }
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
            for (i, source) in node.inputs.enumerated() {
                if source == Graph.modelInput {
                    inputs[i] = input.pointer
                    gradInputs[i] = nil
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
                batch: capacity))
        }
    }

    deinit {
        for pointer in pointerArrays { pointer.deallocate() }
    }

    /// Bytes held, for reporting memory use.
    var byteCount: Int {
        let floats = input.count + target.count + activations.reduce(0) { $0 + $1.count }
            + gradients.reduce(0) { $0 + $1.count } + scratch.reduce(0) { $0 + $1.count }
        return floats * MemoryLayout<Float>.stride
    }
}
