/// An adversarial autoencoder at the model level: what it is, its labels, its optimizers, and
/// sampling from its prior.
extension Model {
    /// Whether the spec has an "adversarial" section (a discriminator and a prior).
    public var isAdversarial: Bool { discriminator != nil }

    /// The prior's mixture components (0 without a mixture prior).
    public var priorComponents: Int { discriminator?.spec.prior.componentCount ?? 0 }

    /// Whether training takes one label per sample: the supervised mixture prior (§2.3 of
    /// Makhzani et al.), where a sample's label picks its component.
    public var takesComponentLabels: Bool { discriminator?.spec.prior.isSupervised ?? false }

    /// The supervised prior's labels: required, one per sample, each a component.
    func checkComponentLabels(_ labels: UnsafePointer<Float>?, rows: Int, name: String) throws(AutoencoderError) {
        guard let labels else {
            throw .invalidArgument("\(name) are required: the supervised mixture prior picks each sample's component from its label (one per sample, 0..<\(priorComponents))")
        }
        for i in 0..<rows {
            let value = labels[i]
            guard value.isFinite, value >= 0, value < Float(priorComponents), value == value.rounded() else {
                throw .invalidArgument("\(name)[\(i)] = \(value) is not a component of the prior in 0..<\(priorComponents)")
            }
        }
    }

    /// The discriminator and generator optimizers, created on first use and kept with their state.
    func adversarialOptimizers() throws(AutoencoderError) -> (discriminator: Optimizer, generator: Optimizer) {
        guard let spec = discriminator?.spec else { throw .init(.internal, "adversarialOptimizers: the model has no discriminator") }
        let d: Optimizer, g: Optimizer
        if let existing = discriminatorOptimizer { d = existing } else {
            d = try spec.discriminatorOptimizer.makeOptimizer(parameterCount: table.discriminatorRange.count)
        }
        if let existing = generatorOptimizer { g = existing } else {
            g = try spec.generatorOptimizer.makeOptimizer(parameterCount: table.encoderTrainableCount)
        }
        discriminatorOptimizer = d
        generatorOptimizer = g
        return (d, g)
    }

    /// Optimizer updates of the discriminator and generator phases so far (0 before training or
    /// for a model without a discriminator).
    public var adversarialStepCounts: (discriminator: Int, generator: Int) {
        lock.withReadLock { (discriminatorOptimizer?.stepCount ?? 0, generatorOptimizer?.stepCount ?? 0) }
    }

    /// codes[rows, codeSize] drawn from the adversarial autoencoder's prior by a generator seeded
    /// with `seed` (the model's own is untouched). For a mixture, `labels` (`rows` values, or nil
    /// for uniform draws) pick each row's component. Decode them to generate samples.
    public func samplePrior(rows: Int, seed: UInt64, labels: UnsafePointer<Int32>? = nil,
                            into codes: UnsafeMutablePointer<Float>) throws(AutoencoderError) {
        guard let discriminator else {
            throw .unsupported("sample_prior: the model has no prior; give the spec an \"adversarial\" section")
        }
        let prior = discriminator.spec.prior
        if let labels {
            guard case .mixture = prior else {
                throw .invalidArgument("labels: only a mixture prior takes labels (this prior is not a mixture)")
            }
            for i in 0..<rows where labels[i] < 0 || Int(labels[i]) >= priorComponents {
                throw .invalidArgument("labels[\(i)] = \(labels[i]) is not a component of the prior in 0..<\(priorComponents)")
            }
        }
        var random = RandomGenerator(seed: seed)
        var picked = [Int32](repeating: 0, count: max(rows, 1))
        var supervisedPrior = prior
        if case .mixture(var mixture) = prior {
            if let labels {
                for i in 0..<rows { picked[i] = labels[i] }
                mixture.supervised = true
            } else {
                mixture.supervised = false
            }
            supervisedPrior = .mixture(mixture)
        }
        picked.withUnsafeMutableBufferPointer { components in
            supervisedPrior.sample(into: codes, rows: rows, codeSize: codeSize, components: components.baseAddress, random: &random)
        }
    }
}
