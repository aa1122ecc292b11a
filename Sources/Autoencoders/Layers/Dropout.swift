/// Inverted dropout (Srivastava et al. 2014), PyTorch's `Dropout(p)`:
///
///     training:   y = x · mᵢ / (1 − p),   mᵢ ~ Bernoulli(1 − p)  (keep with probability 1 − p)
///     inference:  y = x
///
/// The kept units are scaled up in training so that inference needs no rescaling. The mask (0 or
/// 1/(1 − p) per value) is drawn from the model's generator and kept in scratch for backward,
/// dx = dy · mask. A rate of 0 draws no random numbers.
public final class Dropout: Layer {
    public let kind = "dropout"
    /// The probability p of dropping a value, in [0, 1).
    public let rate: Float
    public let inputShapes: [[Int]]
    public var outputShape: [Int] { inputShapes[0] }

    public init(rate: Float, shape: [Int]) throws(AutoencoderError) {
        guard rate >= 0 && rate < 1 else { throw .invalidArgument("dropout: the rate must be in [0, 1), got \(rate)") }
        guard shape.allSatisfy({ $0 > 0 }) else {
            throw .invalidArgument("dropout: the input shape must have positive dimensions, got \(shape)")
        }
        self.rate = rate
        self.inputShapes = [shape]
    }

    /// The mask of the last training-mode forward, [batch, size]: 0 or 1/(1 − p).
    public func scratchSize(batch: Int) -> Int { batch * outputSize }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        let count = io.batch * outputSize, x = io.input, y = io.output, mask = io.scratch
        guard mode == .training, rate > 0 else {
            if mode == .training { mask.update(repeating: 1, count: count) }
            if UnsafePointer(y) != UnsafePointer(x) { y.update(from: x, count: count) }
            return
        }
        Dropout.apply(x, mask: mask, into: y, count: count, keep: 1 - rate, random: &random)
    }

    /// Inverted dropout in training: each value kept with probability `keep` and scaled by
    /// 1/keep (the mask holds that factor or 0, for backward). Shared with the recurrent layers'
    /// dropout between stacked layers, so both draw from the generator the same way.
    static func apply(_ x: UnsafePointer<Float>, mask: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>,
                      count: Int, keep: Float, random: inout RandomGenerator) {
        let scale = 1 / keep
        for i in 0..<count {
            let m: Float = random.uniform() < keep ? scale : 0
            mask[i] = m
            y[i] = x[i] * m
        }
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        guard let gradInput = io.gradInput else { return }
        let dy = io.gradOutput, mask = io.scratch
        Activation.store(gradInput, io.batch * outputSize, accumulateInputGradient) { i in dy[i] * mask[i] }
    }
}
