/// Elementwise addition (the merge of a residual block): inputs of one shape give their sum,
///
///     y = x₁ + x₂ + …,   ∂y/∂xᵢ = 1, so dxᵢ = dy
///
/// Backward hands every input the whole of dy: written, or added where `accumulatesGradInputs[i]`
/// says another consumer of that node wrote first; inputs without a gradient (nil) are skipped.
public final class Add: Layer {
    /// Each sample on its own: the graph may split the batch across threads.
    public var isSampleParallel: Bool { true }
    public let kind = "add"
    public let inputShapes: [[Int]]
    public var outputShape: [Int] { inputShapes[0] }

    /// Fails unless there are at least two inputs, all of the same shape.
    public init(inputShapes: [[Int]]) throws(AutoencoderError) {
        guard inputShapes.count >= 2 else {
            throw .invalidArgument("add: needs at least two inputs, got \(inputShapes.count)")
        }
        for (i, shape) in inputShapes.enumerated() where shape != inputShapes[0] {
            throw .invalidArgument("add: input 0 has shape \(inputShapes[0]) but input \(i) has shape \(shape); "
                                   + "addition needs equal shapes")
        }
        self.inputShapes = inputShapes
    }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        let count = io.batch * outputSize, y = io.output
        y.update(from: io.inputs[0], count: count)
        for i in 1..<io.inputs.count {
            let x = io.inputs[i]
            for j in 0..<count { y[j] += x[j] }
        }
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        let count = io.batch * outputSize, dy = io.gradOutput
        for i in 0..<io.gradInputs.count {
            guard let dx = io.gradInputs[i] else { continue }
            if io.accumulatesGradInputs[i] {
                for j in 0..<count { dx[j] += dy[j] }
            } else {
                dx.update(from: dy, count: count)
            }
        }
    }
}
