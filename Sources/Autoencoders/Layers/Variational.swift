/// The variational head of a VAE (Kingma & Welling 2014): from its input h it computes the mean
/// μ = W_μ h + b_μ and the log-variance log σ² = W_σ h + b_σ of q(z | x), and outputs
///
///     z = μ + exp(½ log σ²) · ε,  ε ~ N(0, I) from the model's generator   (training)
///     z = μ                                                                 (inference)
///
/// The KL term β · KL(q(z|x) ‖ N(0, I)) is the objective's (Training/Objective.swift), which puts
/// its gradient with respect to μ and log σ² into this layer's scratch before backward runs.
public final class Variational: Layer {
    public let kind = "variational"
    public let inputFeatures: Int
    public let latent: Int
    /// β of the β-VAE and the epochs of its linear warm-up from 0.
    public let beta: Float
    public let warmupEpochs: Int
    let meanHead: Dense
    let logVarianceHead: Dense
    /// Test hook: when set, training draws ε from here (`[batch, latent]`) instead of the generator,
    /// so gradients can be checked by finite differences with ε fixed and compared with PyTorch.
    var fixedNoise: [Float]? = nil
    /// Data-parallel training: the batch is rows `first..<first+batch` of a global batch of `total`
    /// rows spread over processes. ε is then the noise one process would draw for those rows of
    /// the global batch, and the generator ends where that process's would (set by the trainer
    /// for one computation, under the model's write lock; nil otherwise).
    var rowShard: (first: Int, total: Int)? = nil

    public var inputShapes: [[Int]] { [[inputFeatures]] }
    public var outputShape: [Int] { [latent] }

    public init(inputFeatures: Int, latent: Int, beta: Float = 1, warmupEpochs: Int = 0, initializer: Initializer = .xavierUniform) {
        self.inputFeatures = inputFeatures
        self.latent = latent
        self.beta = beta
        self.warmupEpochs = warmupEpochs
        meanHead = Dense(inputFeatures: inputFeatures, outputFeatures: latent, initializer: initializer)
        logVarianceHead = Dense(inputFeatures: inputFeatures, outputFeatures: latent, initializer: initializer)
    }

    public var parameterDeclarations: [ParameterDeclaration] {
        meanHead.parameterDeclarations.map { renamed($0, "mu") } + logVarianceHead.parameterDeclarations.map { renamed($0, "logvar") }
    }

    private func renamed(_ declaration: ParameterDeclaration, _ head: String) -> ParameterDeclaration {
        var copy = declaration
        copy.suffix = "\(head).\(declaration.suffix)"
        return copy
    }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        let split = meanHead.parameterDeclarations.count
        meanHead.bind(parameters: Array(parameters[..<split]), gradients: Array(gradients[..<split]))
        logVarianceHead.bind(parameters: Array(parameters[split...]), gradients: Array(gradients[split...]))
    }

    /// Scratch, each `[batch, latent]`: μ, log σ², ε, then ∂KL/∂μ and ∂KL/∂log σ² (set by the objective).
    public func scratchSize(batch: Int) -> Int { 5 * batch * latent }

    /// The five scratch regions.
    func regions(_ scratch: UnsafeMutablePointer<Float>, batch: Int)
        -> (mean: UnsafeMutablePointer<Float>, logVariance: UnsafeMutablePointer<Float>, noise: UnsafeMutablePointer<Float>,
            klMean: UnsafeMutablePointer<Float>, klLogVariance: UnsafeMutablePointer<Float>) {
        let size = batch * latent
        return (scratch, scratch + size, scratch + 2 * size, scratch + 3 * size, scratch + 4 * size)
    }

    /// A view of `io` that writes a head's output to `output` (and reads its gradient from `gradOutput`).
    private func head(_ io: LayerBuffers, output: UnsafeMutablePointer<Float>, gradOutput: UnsafeMutablePointer<Float>) -> LayerBuffers {
        var view = io
        view.output = output
        view.gradOutput = gradOutput
        return view
    }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        let n = io.batch, count = n * latent
        let r = regions(io.scratch, batch: n)
        meanHead.forward(head(io, output: r.mean, gradOutput: r.klMean), mode: mode, random: &random)
        logVarianceHead.forward(head(io, output: r.logVariance, gradOutput: r.klLogVariance), mode: mode, random: &random)
        let z = io.output
        if mode == .training, let fixedNoise, fixedNoise.count >= count {
            for i in 0..<count { r.noise[i] = fixedNoise[i] }
            for i in 0..<count { z[i] = r.mean[i] + _exp(0.5 * r.logVariance[i]) * r.noise[i] }
        } else if mode == .training {
            drawNoise(r.noise, batch: n, random: &random)
            for i in 0..<count { z[i] = r.mean[i] + _exp(0.5 * r.logVariance[i]) * r.noise[i] }
        } else {
            r.noise.update(repeating: 0, count: count)
            z.update(from: r.mean, count: count)
        }
    }

    /// ε for `batch` rows: value i of the global batch's noise comes from Box–Muller pair i / 2.
    /// Without a shard the global batch is this batch. With one, the pairs before the shard's
    /// first value and after its last are drawn and discarded (two generator words each), so
    /// every process of a data-parallel step draws what one process would, and ends in the same
    /// generator state.
    private func drawNoise(_ noise: UnsafeMutablePointer<Float>, batch: Int, random: inout RandomGenerator) {
        let (first, total) = rowShard ?? (0, batch)
        let begin = first * latent, end = begin + batch * latent, all = total * latent
        var i = 0
        while i < all {
            if i + 1 < begin || i >= end {
                _ = random.next()
                _ = random.next()
            } else {
                let (a, b) = random.normalPair()
                if i >= begin { noise[i - begin] = a }
                if i + 1 < end, i + 1 < all { noise[i + 1 - begin] = b }
            }
            i += 2
        }
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        let n = io.batch, count = n * latent
        let r = regions(io.scratch, batch: n)
        let dz = io.gradOutput
        // ∂/∂μ = dz + ∂KL/∂μ;  ∂/∂log σ² = dz · ε · ½ exp(½ log σ²) + ∂KL/∂log σ²  (in place in the KL regions)
        for i in 0..<count {
            r.klMean[i] += dz[i]
            r.klLogVariance[i] += dz[i] * r.noise[i] * 0.5 * _exp(0.5 * r.logVariance[i])
        }
        meanHead.backward(head(io, output: r.mean, gradOutput: r.klMean), accumulateInputGradient: accumulateInputGradient)
        logVarianceHead.backward(head(io, output: r.logVariance, gradOutput: r.klLogVariance), accumulateInputGradient: true)
    }

    /// KL(q(z|x) ‖ N(0, I)) = −½ Σⱼ (1 + log σ²ⱼ − μⱼ² − σ²ⱼ) per sample, averaged over the batch, from
    /// the last forward's scratch. With `weight`, writes weight · ∂KL/∂μ and ∂KL/∂log σ² into the
    /// scratch for backward.
    func klDivergence(scratch: UnsafeMutablePointer<Float>, batch: Int, gradientWeight weight: Float?) -> Double {
        let count = batch * latent
        let r = regions(scratch, batch: batch)
        var sum: Double = 0
        for i in 0..<count {
            let mu = r.mean[i], logVariance = r.logVariance[i]
            let variance = _exp(logVariance)
            sum += Double(-0.5 * (1 + logVariance - mu * mu - variance))
            if let weight {
                let scale = weight / Float(batch)
                r.klMean[i] = scale * mu
                r.klLogVariance[i] = scale * 0.5 * (variance - 1)
            }
        }
        return sum / Double(batch)
    }

    /// β at a given epoch, with the linear warm-up.
    func beta(atEpoch epoch: Int) -> Float {
        warmupEpochs > 0 ? beta * min(1, Float(epoch + 1) / Float(warmupEpochs)) : beta
    }
}
