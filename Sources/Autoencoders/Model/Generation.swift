/// Variational autoencoders at inference: the distribution q(z | x), generation from the prior,
/// and interpolation in code space.
extension Model {
    /// The variational code layer, or nil for a model without one.
    var variationalLayer: Variational? { graph.nodes[graph.codeNode].layer as? Variational }

    /// Whether the model is a VAE (its code is a variational layer).
    public var isVariational: Bool { variationalLayer != nil }

    private func requireVariational(_ operation: String) throws(AutoencoderError) -> Variational {
        guard let layer = variationalLayer else {
            throw .unsupported("\(operation): the model has no variational code; give the encoder a last entry {\"type\": \"variational\", \"units\": ...}")
        }
        return layer
    }

    /// mean, logVariance `[rows, codeSize]`: the parameters of q(z | x) for `rows` raw samples.
    public func encodeDistribution(_ x: UnsafePointer<Float>, rows: Int, mean: UnsafeMutablePointer<Float>,
                                   logVariance: UnsafeMutablePointer<Float>) throws(AutoencoderError) {
        let layer = try requireVariational("encode_distribution")
        try checkFinite(x, count: rows * inputSize, name: "input")
        let latent = codeSize
        try run(rows: rows) { workspace, start, count in
            infer(workspace, x + start * inputSize, rows: count, nodes: 0...graph.codeNode)
            let regions = layer.regions(workspace.scratch[graph.codeNode].pointer, batch: count)
            (mean + start * latent).update(from: regions.mean, count: count * latent)
            (logVariance + start * latent).update(from: regions.logVariance, count: count * latent)
        }
    }

    /// codes `[rows, codeSize]` sampled from q(z | x): z = μ + exp(½ log σ²) · ε, with ε from a
    /// generator seeded by `seed` (inference otherwise uses z = μ; the model's own generator is
    /// untouched).
    public func sampleCodes(_ x: UnsafePointer<Float>, rows: Int, seed: UInt64, into codes: UnsafeMutablePointer<Float>) throws(AutoencoderError) {
        _ = try requireVariational("sample_codes")
        guard rows > 0 else { return }
        let count = rows * codeSize
        var logVariance = [Float](repeating: 0, count: count)
        try logVariance.withUnsafeMutableBufferPointer { (buffer) throws(AutoencoderError) in
            try encodeDistribution(x, rows: rows, mean: codes, logVariance: buffer.baseAddress!)
        }
        var random = RandomGenerator(seed: seed)
        for i in 0..<count { codes[i] += _exp(0.5 * logVariance[i]) * random.normal() }
    }

    /// `rows` new samples: codes drawn from the prior (N(0, I) for a VAE, the spec's prior for an
    /// adversarial autoencoder) with a generator seeded by `seed`
    /// (the model's own generator is untouched), decoded into data space.
    public func generate(rows: Int, seed: UInt64, into output: UnsafeMutablePointer<Float>) throws(AutoencoderError) {
        if !isAdversarial { _ = try requireVariational("generate") }
        guard rows >= 0 else { throw .invalidArgument("rows must be non-negative, got \(rows)") }
        guard rows > 0 else { return }
        var random = RandomGenerator(seed: seed)
        var codes = [Float](repeating: 0, count: try Size.floats(rows, codeSize, for: "generate: the codes of \(rows) samples"))
        if isAdversarial {
            // An adversarial autoencoder's own prior (a mixture draws its components uniformly).
            try codes.withUnsafeMutableBufferPointer { (out) throws(AutoencoderError) in
                try samplePrior(rows: rows, seed: seed, into: out.baseAddress!)
            }
        } else {
            for i in 0..<codes.count { codes[i] = random.normal() }
        }
        try codes.withUnsafeBufferPointer { (pointer) throws(AutoencoderError) in
            try decode(pointer.baseAddress!, rows: rows, into: output)
        }
    }

    /// `steps` samples along the line between the codes of `a` and `b` (one raw sample each):
    /// output[t] = decode(code(a) + t·(code(b) − code(a))) for t evenly spaced in [0, 1]; for a VAE
    /// the codes are the means of q(z | x). a and b are encoded one at a time (each as a batch of
    /// one, as `encode(a, rows: 1)` does), so equal samples have equal codes, and the line is
    /// written as a + t·(b − a), not (1 − t)·a + t·b, because only the former gives a, bit for
    /// bit, at every t when a == b; the last point is code(b) itself. The points are decoded in
    /// one batch of `steps`: like any batch, equal rows may decode to outputs that differ in the
    /// last bits at different positions (the GEMM kernel rounds them differently).
    public func interpolate(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, steps: Int,
                            into output: UnsafeMutablePointer<Float>) throws(AutoencoderError) {
        guard steps >= 2 else { throw .invalidArgument("steps must be at least 2 (the two ends), got \(steps)") }
        var codes = [Float](repeating: 0, count: 2 * codeSize)
        try codes.withUnsafeMutableBufferPointer { (out) throws(AutoencoderError) in
            try encode(a, rows: 1, into: out.baseAddress!)
            try encode(b, rows: 1, into: out.baseAddress! + codeSize)
        }
        var path = [Float](repeating: 0, count: try Size.floats(steps, codeSize, for: "interpolate: the codes of \(steps) steps"))
        for step in 0..<steps {
            let t = Float(step) / Float(steps - 1)
            for j in 0..<codeSize {
                let start = codes[j], end = codes[codeSize + j]
                path[step * codeSize + j] = step == steps - 1 ? end : start + t * (end - start)
            }
        }
        try path.withUnsafeBufferPointer { (pointer) throws(AutoencoderError) in
            try decode(pointer.baseAddress!, rows: steps, into: output)
        }
    }
}
