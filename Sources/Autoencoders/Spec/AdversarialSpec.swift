/// The spec's "adversarial" object: an adversarial autoencoder (Makhzani et al. 2015). A
/// discriminator on the code learns to tell prior samples from codes, and the encoder learns to
/// fool it, so the aggregated posterior q(z) is shaped to the prior instead of a KL term:
///
///     "adversarial": {"discriminator": {"hidden": [64, 64], "activation": "relu"},
///                     "prior": {"type": "mixture", "components": 10, "radius": 4, "std": 0.5,
///                               "supervised": true},
///                     "discriminator_optimizer": {"type": "adam", "lr": 1e-3, "betas": [0.5, 0.999]},
///                     "generator_optimizer": {"type": "adam", "lr": 1e-3, "betas": [0.5, 0.999]}}
///
/// The code size is only known once the graph is built, so the checks against it (the
/// discriminator's `input_size`, the mixture's means) are made by `AdversarialSpec.check(codeSize:)`
/// when the model is laid out, still at their JSON paths.
public struct AdversarialSpec: Equatable, Sendable {
    public var hidden: [Int]
    public var activation: ActivationFunction
    /// The discriminator's input size as the spec states it (optional; checked against the code).
    public var inputSize: Int?
    public var prior: Prior
    public var discriminatorOptimizer: OptimizerConfiguration
    public var generatorOptimizer: OptimizerConfiguration

    /// Adam at 10⁻³ with β₁ = 0.5 (the usual choice for adversarial games) for both phases, the
    /// rate of the default reconstruction optimizer. The generator must keep up with the
    /// discriminator and with the reconstruction phase, which also moves the encoder: with
    /// 2·10⁻⁴ for both, a 2-D MNIST code was not shaped at all (docs/RESULTS.md). Makhzani et al.
    /// used SGD with momentum 0.9 (rates 0.01 for reconstruction, 0.1 for the regularization
    /// phases); that is `{"type": "sgd", "lr": 0.1, "momentum": 0.9}` here.
    public static let defaultDiscriminatorOptimizer = OptimizerConfiguration.adam(learningRate: 1e-3, beta1: 0.5, beta2: 0.999,
                                                                                   epsilon: 1e-8, weightDecay: 0)
    public static let defaultGeneratorOptimizer = OptimizerConfiguration.adam(learningRate: 1e-3, beta1: 0.5, beta2: 0.999,
                                                                               epsilon: 1e-8, weightDecay: 0)
    static let maxHidden = 16

    static func parse(_ reader: SpecReader) throws(AutoencoderError) -> AdversarialSpec {
        try reader.allowOnly(["discriminator", "prior", "discriminator_optimizer", "generator_optimizer"])
        guard let discriminator = try reader.reader("discriminator") else {
            throw .invalidSpec(reader.path("discriminator"), "is required: {\"hidden\": [64, 64], \"activation\": \"relu\"}")
        }
        try discriminator.allowOnly(["hidden", "activation", "input_size"])
        var hidden: [Int] = [64, 64]
        if let array = try discriminator.array("hidden", limit: maxHidden) {
            hidden = []
            for (i, element) in array.enumerated() {
                guard let units = element.intValue, units >= 1, units <= 1 << 16 else {
                    throw .invalidSpec("\(discriminator.path("hidden"))[\(i)]", "must be a positive integer up to 65536, got \(element.serialized())")
                }
                hidden.append(units)
            }
            guard !hidden.isEmpty else { throw .invalidSpec(discriminator.path("hidden"), "must list at least one hidden layer") }
        }
        let activation = try discriminator.object["activation"].map { (json) throws(AutoencoderError) in
            try LayerSpec.parseActivation(json, path: discriminator.path("activation"))
        } ?? .relu
        let inputSize = discriminator.has("input_size") ? try discriminator.int("input_size", minimum: 1, maximum: 1 << 24) : nil
        guard let priorReader = try reader.reader("prior") else {
            throw .invalidSpec(reader.path("prior"), "is required: {\"type\": \"gaussian\", \"std\": 1}, {\"type\": \"uniform\", \"range\": [-1, 1]} or {\"type\": \"mixture\", ...}")
        }
        let prior = try Prior.parse(priorReader)
        func optimizer(_ key: String, _ fallback: OptimizerConfiguration) throws(AutoencoderError) -> OptimizerConfiguration {
            guard let r = try reader.reader(key) else { return fallback }
            return try ModelSpec.parseOptimizer(r)
        }
        return AdversarialSpec(hidden: hidden, activation: activation, inputSize: inputSize, prior: prior,
                               discriminatorOptimizer: try optimizer("discriminator_optimizer", defaultDiscriminatorOptimizer),
                               generatorOptimizer: try optimizer("generator_optimizer", defaultGeneratorOptimizer))
    }

    /// The discriminator reads the code, and for the supervised mixture also the one-hot label
    /// of the component (Makhzani et al. §2.3: the label switches the decision boundary).
    func discriminatorInputSize(codeSize: Int) -> Int { codeSize + (prior.isSupervised ? prior.componentCount : 0) }

    /// Checks what depends on the code size, at the spec's JSON paths.
    func check(codeSize: Int) throws(AutoencoderError) {
        let expected = discriminatorInputSize(codeSize: codeSize)
        if let inputSize, inputSize != expected {
            let what = prior.isSupervised ? "the code size \(codeSize) plus the \(prior.componentCount) one-hot labels of the supervised prior"
                                          : "the code size"
            throw .invalidSpec("adversarial.discriminator.input_size", "is \(inputSize), but the discriminator reads \(what): \(expected)")
        }
        try prior.check(codeSize: codeSize, path: "adversarial.prior")
    }
}
