/// A new per-sample shape with the same values in the same (row-major) order: y = x. Flatten is
/// the reshape to [count]. Forward and backward are copies; a reshape carries no parameters.
public final class Reshape: Layer {
    /// Each sample on its own: the graph may split the batch across threads.
    public var isSampleParallel: Bool { true }
    /// "reshape", or "flatten" for the reshape to one dimension made by `init(flattening:)`.
    public let kind: String
    public let inputShapes: [[Int]]
    public let outputShape: [Int]

    /// Fails when either shape has a non-positive dimension or their element counts differ.
    public init(from inputShape: [Int], to outputShape: [Int]) throws(AutoencoderError) {
        guard inputShape.allSatisfy({ $0 > 0 }), outputShape.allSatisfy({ $0 > 0 }) else {
            throw .invalidArgument("reshape: dimensions must be positive, got \(inputShape) → \(outputShape)")
        }
        let inputCount = inputShape.reduce(1, *), outputCount = outputShape.reduce(1, *)
        guard inputCount == outputCount else {
            throw .invalidArgument("reshape: \(inputShape) holds \(inputCount) values but \(outputShape) holds \(outputCount)")
        }
        self.kind = "reshape"
        self.inputShapes = [inputShape]
        self.outputShape = outputShape
    }

    /// Flatten: `shape` to [product of shape].
    public init(flattening shape: [Int]) throws(AutoencoderError) {
        guard shape.allSatisfy({ $0 > 0 }) else {
            throw .invalidArgument("flatten: dimensions must be positive, got \(shape)")
        }
        self.kind = "flatten"
        self.inputShapes = [shape]
        self.outputShape = [shape.reduce(1, *)]
    }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        if UnsafePointer(io.output) != UnsafePointer(io.input) { io.output.update(from: io.input, count: io.batch * outputSize) }
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        guard let gradInput = io.gradInput else { return }
        let dy = io.gradOutput
        Activation.store(gradInput, io.batch * outputSize, accumulateInputGradient) { i in dy[i] }
    }
}
