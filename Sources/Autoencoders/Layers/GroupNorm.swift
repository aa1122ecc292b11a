/// Group normalization (Wu & He 2018), PyTorch's GroupNorm(G, C): the C channels of each sample
/// fall into G contiguous blocks of C/G channels (channels 0..<C/G form group 0), and each block is
/// normalised over its channels and every spatial position, M = (C/G)·positions values, with the
/// biased variance; then each channel is scaled and shifted:
///
///     y = γ_c · (x − μ_{n,g}) / √(σ²_{n,g} + ε) + β_c
///
/// The statistics are per sample, so training and inference compute the same thing and nothing
/// depends on the batch (the reason Myronenko's segmentation network uses it at batch size 1).
/// Per-sample shapes [C], [C, L], [C, H, W] and [C, D, H, W] all work: a group's values are one
/// contiguous run of M floats.
///
/// Backward, with x̂ = (x − μ)·r, r = 1/√(σ² + ε), and means over the group's M values:
///
///     dβ_c += Σ dy,   dγ_c += Σ dy · x̂,   dx = r · (g − mean(g) − x̂ · mean(g · x̂)),  g = γ_c · dy
public final class GroupNorm: Layer {
    public let kind = "group_norm"
    public let inputShapes: [[Int]]
    public var outputShape: [Int] { inputShapes[0] }
    public let channels: Int
    public let groups: Int
    public let epsilon: Float
    /// Values per channel in one sample: the product of the spatial dimensions (1 for a vector).
    let positions: Int

    // Bound slices of the model's flat buffers, each [C].
    private var gamma: UnsafeMutablePointer<Float>! = nil
    private var beta: UnsafeMutablePointer<Float>! = nil
    private var gammaGradient: UnsafeMutablePointer<Float>! = nil
    private var betaGradient: UnsafeMutablePointer<Float>! = nil

    /// `shape` is the per-sample shape, channels first; `groups` must divide the channels.
    public init(shape: [Int], groups: Int, epsilon: Float = 1e-5) throws(AutoencoderError) {
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else {
            throw .invalidArgument("group_norm: the input shape must be non-empty with positive dimensions, got \(shape)")
        }
        guard groups >= 1, shape[0] % groups == 0 else {
            throw .invalidArgument("group_norm: groups (\(groups)) must be at least 1 and divide the input's \(shape[0]) channels "
                                   + "(input shape \(shape))")
        }
        guard epsilon > 0 && epsilon.isFinite else { throw .invalidArgument("group_norm: eps must be a positive number, got \(epsilon)") }
        inputShapes = [shape]
        channels = shape[0]
        self.groups = groups
        positions = shape.dropFirst().reduce(1, *)
        self.epsilon = epsilon
    }

    public var parameterDeclarations: [ParameterDeclaration] {
        [.init(suffix: "gamma", shape: [channels], initializer: .ones, fanIn: channels, fanOut: channels, isWeight: false),
         .init(suffix: "beta", shape: [channels], initializer: .zeros, fanIn: channels, fanOut: channels, isWeight: false)]
    }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        gamma = parameters[0]
        beta = parameters[1]
        gammaGradient = gradients[0]
        betaGradient = gradients[1]
    }

    /// Each sample's group means [batch, G], then their 1/√(σ² + ε) [batch, G].
    public func scratchSize(batch: Int) -> Int { 2 * groups * batch }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        // Samples are independent: the batch in parts, one per thread (`Parallel`).
        Parallel.forEachPart(count: io.batch, work: 3 * io.batch * channels * positions, scratch: io.scratch) { _, samples, _ in
            forward(io, samples: samples)
        }
    }

    private func forward(_ io: LayerBuffers, samples: Range<Int>) {
        let perGroup = channels / groups, count = perGroup * positions
        let mean = io.scratch, inverseStd = io.scratch + groups * io.batch
        for n in samples {
            for g in 0..<groups {
                let offset = (n * channels + g * perGroup) * positions
                let xs = io.input + offset, ys = io.output + offset
                let mu = Float(BatchNorm.sum(xs, count) { $0 } / Double(count))
                // Two passes: Σ(x − μ)² does not cancel the way Σx² − Mμ² does.
                let variance = BatchNorm.sum(xs, count) { v in (v - mu) * (v - mu) } / Double(count)
                let r = 1 / (Float(variance) + epsilon).squareRoot()
                mean[n * groups + g] = mu
                inverseStd[n * groups + g] = r
                for k in 0..<perGroup {
                    let c = g * perGroup + k, scale = gamma[c] * r, shift = beta[c] - mu * scale
                    let xc = xs + k * positions, yc = ys + k * positions
                    for i in 0..<positions { yc[i] = xc[i] * scale + shift }
                }
            }
        }
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        // The batch in parts, one per thread; the parts after the first accumulate dγ and dβ in
        // their own scratch, added in part order at the end.
        let channels = channels
        Parallel.forEachPart(count: io.batch, work: 4 * io.batch * channels * positions, scratch: io.scratch,
                             scratchSize: 2 * channels) { part, samples, scratch in
            var dGamma = gammaGradient!, dBeta = betaGradient!
            if part > 0 {
                (dGamma, dBeta) = (scratch, scratch + channels)
                scratch.update(repeating: 0, count: 2 * channels)
            }
            backward(io, samples: samples, gammaGradient: dGamma, betaGradient: dBeta, accumulateInputGradient: accumulateInputGradient)
        } combine: { scratches in
            for scratch in scratches.dropFirst() {
                Parallel.add(scratch, into: gammaGradient, count: channels)
                Parallel.add(scratch + channels, into: betaGradient, count: channels)
            }
        }
    }

    private func backward(_ io: LayerBuffers, samples: Range<Int>, gammaGradient: UnsafeMutablePointer<Float>,
                          betaGradient: UnsafeMutablePointer<Float>, accumulateInputGradient: Bool) {
        let perGroup = channels / groups, count = perGroup * positions
        let mean = io.scratch, inverseStd = io.scratch + groups * io.batch
        for n in samples {
            for g in 0..<groups {
                let mu = mean[n * groups + g], r = inverseStd[n * groups + g]
                let offset = (n * channels + g * perGroup) * positions
                let xs = io.input + offset, dys = io.gradOutput + offset
                // Per channel: Σ dy and Σ dy·x̂ (the parameter gradients), folded into the group's
                // Σ g and Σ g·x̂ with g = γ_c · dy.
                var sumG: Double = 0, sumGXhat: Double = 0
                for k in 0..<perGroup {
                    let c = g * perGroup + k
                    let xc = xs + k * positions, dyc = dys + k * positions
                    let sumDy = BatchNorm.sum(dyc, positions) { $0 }
                    let sumDyXhat = BatchNorm.sum(positions) { i in dyc[i] * (xc[i] - mu) * r }
                    betaGradient[c] += Float(sumDy)
                    gammaGradient[c] += Float(sumDyXhat)
                    sumG += Double(gamma[c]) * sumDy
                    sumGXhat += Double(gamma[c]) * sumDyXhat
                }
                guard let gradInput = io.gradInput else { continue }
                let meanG = Float(sumG / Double(count)), meanGXhat = Float(sumGXhat / Double(count))
                for k in 0..<perGroup {
                    let c = g * perGroup + k, gammaC = gamma[c]
                    let xc = xs + k * positions, dyc = dys + k * positions
                    Activation.store(gradInput + offset + k * positions, positions, accumulateInputGradient) { i in
                        r * (gammaC * dyc[i] - meanG - (xc[i] - mu) * r * meanGXhat)
                    }
                }
            }
        }
    }
}
