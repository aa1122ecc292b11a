/// Channel concatenation (the U-Net skip): inputs [C₁, …], [C₂, …], … with equal spatial shapes
/// give [C₁ + C₂ + …, …]. Per sample the output is input 0's values, then input 1's, and so on,
/// so each input's block is contiguous; for vectors [n₁] ++ [n₂] = [n₁ + n₂].
///
/// Backward hands each input its block of dy: written, or added where `accumulatesGradInputs[i]`
/// says another consumer of that node wrote first; inputs without a gradient (nil) are skipped.
public final class Concat: Layer {
    /// Each sample on its own: the graph may split the batch across threads.
    public var isSampleParallel: Bool { true }
    public let kind = "concat"
    public let inputShapes: [[Int]]
    public let outputShape: [Int]
    /// Values of each input per sample, and where its block starts in an output sample.
    let inputSizes: [Int]
    let offsets: [Int]

    /// Fails unless there are at least two inputs whose shapes agree after the channel axis.
    public init(inputShapes: [[Int]]) throws(AutoencoderError) {
        guard inputShapes.count >= 2 else {
            throw .invalidArgument("concat: needs at least two inputs, got \(inputShapes.count)")
        }
        for (i, shape) in inputShapes.enumerated() where shape.isEmpty || !shape.allSatisfy({ $0 > 0 }) {
            throw .invalidArgument("concat: input \(i) has shape \(shape); expected [channels, ...] with positive dimensions")
        }
        let first = inputShapes[0]
        for (i, shape) in inputShapes.enumerated().dropFirst() where Array(shape.dropFirst()) != Array(first.dropFirst()) {
            throw .invalidArgument("concat: input 0 has shape \(first) but input \(i) has shape \(shape); "
                                   + "channel concatenation needs equal spatial shapes (\(Array(first.dropFirst())) vs \(Array(shape.dropFirst())))")
        }
        self.inputShapes = inputShapes
        self.outputShape = [inputShapes.reduce(0) { $0 + $1[0] }] + first.dropFirst()
        let sizes = inputShapes.map { $0.reduce(1, *) }
        self.inputSizes = sizes
        var offsets: [Int] = [], offset = 0
        for size in sizes {
            offsets.append(offset)
            offset += size
        }
        self.offsets = offsets
    }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        let outputSize = self.outputSize
        for (i, size) in inputSizes.enumerated() {
            let x = io.inputs[i], offset = offsets[i]
            for sample in 0..<io.batch {
                (io.output + sample * outputSize + offset).update(from: x + sample * size, count: size)
            }
        }
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        let outputSize = self.outputSize
        for (i, size) in inputSizes.enumerated() {
            guard let dx = io.gradInputs[i] else { continue }
            let accumulate = io.accumulatesGradInputs[i], offset = offsets[i]
            for sample in 0..<io.batch {
                let dys = io.gradOutput + sample * outputSize + offset
                let dxs = dx + sample * size
                if accumulate {
                    for j in 0..<size { dxs[j] += dys[j] }
                } else {
                    dxs.update(from: dys, count: size)
                }
            }
        }
    }
}
