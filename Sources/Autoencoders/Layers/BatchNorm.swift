/// Batch normalization over channels (Ioffe & Szegedy 2015), with the semantics of PyTorch's
/// BatchNorm1d/2d. The channel is axis 0 of the per-sample shape ([C, H, W], [C, L], or [n] with
/// one channel per feature); statistics run over the batch and every spatial position, M values
/// per channel.
///
///     training:   y = γ · (x − μ) / √(σ² + ε) + β,   μ, σ² the batch mean and BIASED variance (÷ M)
///                 running_mean ← (1 − m) · running_mean + m · μ
///                 running_var  ← (1 − m) · running_var  + m · σ² · M / (M − 1)   (UNBIASED)
///     inference:  y = γ · (x − running_mean) / √(running_var + ε) + β
///
/// The running statistics are non-trainable parameters: they live in the parameter buffer (so the
/// model file saves them), change only in a training-mode forward (the model holds its write lock
/// then), and the optimizer never touches them. The batch statistics backward needs go to scratch;
/// an inference-mode forward reads only parameters and writes only the output, so inference may run
/// concurrently on one model.
public final class BatchNorm: Layer {
    public let kind = "batch_norm"
    public let inputShapes: [[Int]]
    public var outputShape: [Int] { inputShapes[0] }
    public let channels: Int
    /// Weight of the batch statistic in the running average.
    public let momentum: Float
    public let epsilon: Float
    /// Values per channel in one sample: the product of the spatial dimensions (1 for a vector).
    let positions: Int

    // Bound slices of the model's flat buffers, each [C].
    private var gamma: UnsafeMutablePointer<Float>! = nil
    private var beta: UnsafeMutablePointer<Float>! = nil
    private var runningMean: UnsafeMutablePointer<Float>! = nil
    private var runningVariance: UnsafeMutablePointer<Float>! = nil
    private var gammaGradient: UnsafeMutablePointer<Float>! = nil
    private var betaGradient: UnsafeMutablePointer<Float>! = nil

    /// `shape` is the per-sample shape, channels first. Momentum in [0, 1], epsilon > 0.
    public init(shape: [Int], momentum: Float = 0.1, epsilon: Float = 1e-5) throws(AutoencoderError) {
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else {
            throw .invalidArgument("batch_norm: the input shape must be non-empty with positive dimensions, got \(shape)")
        }
        guard momentum >= 0 && momentum <= 1 else { throw .invalidArgument("batch_norm: momentum must be in [0, 1], got \(momentum)") }
        guard epsilon > 0 && epsilon.isFinite else { throw .invalidArgument("batch_norm: eps must be a positive number, got \(epsilon)") }
        inputShapes = [shape]
        channels = shape[0]
        positions = shape.dropFirst().reduce(1, *)
        self.momentum = momentum
        self.epsilon = epsilon
    }

    public var parameterDeclarations: [ParameterDeclaration] {
        [.init(suffix: "gamma", shape: [channels], initializer: .ones, fanIn: channels, fanOut: channels, isWeight: false),
         .init(suffix: "beta", shape: [channels], initializer: .zeros, fanIn: channels, fanOut: channels, isWeight: false),
         .init(suffix: "running_mean", shape: [channels], initializer: .zeros, fanIn: channels, fanOut: channels,
               isWeight: false, trainable: false),
         .init(suffix: "running_var", shape: [channels], initializer: .ones, fanIn: channels, fanOut: channels,
               isWeight: false, trainable: false)]
    }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        gamma = parameters[0]
        beta = parameters[1]
        runningMean = parameters[2]
        runningVariance = parameters[3]
        gammaGradient = gradients[0]
        betaGradient = gradients[1]
    }

    /// The last training batch's mean [C], then its 1/√(σ² + ε) [C].
    public func scratchSize(batch: Int) -> Int { 2 * channels }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        let n = io.batch, x = io.input, y = io.output
        let stride = channels * positions
        if mode == .inference {
            for c in 0..<channels {
                let scale = gamma[c] / (runningVariance[c] + epsilon).squareRoot()
                normalize(x, y, batch: n, channel: c, center: runningMean[c], scale: scale, shift: beta[c])
            }
            return
        }
        let mean = io.scratch, inverseStd = io.scratch + channels
        let count = n * positions
        for c in 0..<channels {
            var sum: Double = 0
            for sample in 0..<n { sum += BatchNorm.sum(x + sample * stride + c * positions, positions) { $0 } }
            let mu = Float(sum / Double(count))
            // Two passes: Σ(x − μ)² does not cancel the way Σx² − Mμ² does.
            var squares: Double = 0
            for sample in 0..<n {
                squares += BatchNorm.sum(x + sample * stride + c * positions, positions) { v in (v - mu) * (v - mu) }
            }
            let variance = squares / Double(count)                       // biased: normalises
            mean[c] = mu
            inverseStd[c] = 1 / (Float(variance) + epsilon).squareRoot()
            runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mu
            // The unbiased estimate needs M ≥ 2 (PyTorch refuses M = 1); with one value the running
            // variance is left as it is rather than made infinite.
            if count > 1 {
                let unbiased = Float(variance * Double(count) / Double(count - 1))
                runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * unbiased
            }
            normalize(x, y, batch: n, channel: c, center: mu, scale: gamma[c] * inverseStd[c], shift: beta[c])
        }
    }

    /// y = (x − center) · scale + shift over every value of channel `c`.
    @inline(__always)
    private func normalize(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, channel c: Int,
                           center: Float, scale: Float, shift: Float) {
        let stride = channels * positions
        for sample in 0..<batch {
            let xs = x + sample * stride + c * positions, ys = y + sample * stride + c * positions
            for i in 0..<positions { ys[i] = (xs[i] - center) * scale + shift }
        }
    }

    /// With x̂ = (x − μ)/√(σ² + ε) and means over the channel's M values:
    ///     dβ += Σ dy,   dγ += Σ dy · x̂,   dx = γ/√(σ² + ε) · (dy − mean(dy) − x̂ · mean(dy · x̂))
    /// Uses the batch statistics of the last training-mode forward.
    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        let n = io.batch, x = io.input, dy = io.gradOutput
        let stride = channels * positions
        let mean = io.scratch, inverseStd = io.scratch + channels
        let count = Double(n * positions)
        for c in 0..<channels {
            let mu = mean[c], invStd = inverseStd[c]
            var sumDy: Double = 0, sumDyXhat: Double = 0
            for sample in 0..<n {
                let offset = sample * stride + c * positions
                let xs = x + offset, dys = dy + offset
                sumDy += BatchNorm.sum(dys, positions) { $0 }
                sumDyXhat += BatchNorm.sum(positions) { i in dys[i] * (xs[i] - mu) * invStd }
            }
            betaGradient[c] += Float(sumDy)
            gammaGradient[c] += Float(sumDyXhat)
            guard let dx = io.gradInput else { continue }
            let k = gamma[c] * invStd
            let meanDy = Float(sumDy / count), meanDyXhat = Float(sumDyXhat / count)
            for sample in 0..<n {
                let offset = sample * stride + c * positions
                let xs = x + offset, dys = dy + offset
                Activation.store(dx + offset, positions, accumulateInputGradient) { i in
                    k * (dys[i] - meanDy - (xs[i] - mu) * invStd * meanDyXhat)
                }
            }
        }
    }

    /// Σ f(p[i]) for i < count: Float partial sums over blocks, carried in Double.
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, _ count: Int, _ f: (Float) -> Float) -> Double {
        sum(count) { i in f(p[i]) }
    }

    @inline(__always)
    static func sum(_ count: Int, _ term: (Int) -> Float) -> Double {
        var total: Double = 0
        var start = 0
        while start < count {
            let end = min(start + 1024, count)
            var partial: Float = 0
            for i in start..<end { partial += term(i) }
            total += Double(partial)
            start = end
        }
        return total
    }
}
