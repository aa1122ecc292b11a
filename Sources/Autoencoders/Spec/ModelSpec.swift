/// The declarative description of a model: architecture, loss, regularizers, optimizer, schedule
/// and seed. It is what C passes as a string, what Python builds from a dict, what the
/// command-line tool reads from a file, and what the model file stores. See docs/SPEC.md.
public struct ModelSpec: Equatable, Sendable {
    public static let currentVersion = 1
    /// Caps on the spec's lists (docs/SPEC.md, "Limits"): entries of the encoder, of the decoder
    /// and of each branch, and branches. With them a graph has at most `GraphBuilder.maxNodes`
    /// nodes, and building it is linear in that number.
    public static let maxLayers = 1000
    public static let maxBranches = 16
    /// Bytes of the model's "name".
    public static let maxNameBytes = 1000

    /// The spec as given (kept verbatim in the model file).
    public var json: JSON
    public var name: String?
    /// Per-sample input shape ([784] for dense models).
    public var inputShape: [Int]
    public var encoder: [LayerSpec]
    public var decoder: [LayerSpec]
    /// Branch heads trained with the main decoder (a variational branch regularizing the encoder).
    public var branches: [BranchSpec]
    /// Decoder dense layers reuse the transposes of the mirrored encoder weights.
    public var tiedWeights: Bool
    /// The reconstruction loss (unused by segmentation models).
    public var loss: ReconstructionLoss
    /// What the model is trained to output: its input (reconstruction), or a label per position
    /// (segmentation, with `"loss": "cross_entropy"`).
    public var task: Task
    /// A segmentation model's soft Dice loss (alone or with cross-entropy), or nil for plain
    /// cross-entropy (`"loss": "dice"` / `"dice_cross_entropy"`, Losses/SoftDice.swift).
    public var dice: SoftDice? = nil

    public enum Task: Equatable, Sendable {
        case reconstruction
        /// Per-position softmax cross-entropy against integer labels; positions labelled
        /// `ignoreIndex` are not counted.
        case segmentation(ignoreIndex: Int)
        /// Text: the output is a logit per vocabulary entry at every step (`[T, V]`), trained with
        /// the per-step softmax cross-entropy against the input's own token ids; steps whose
        /// token is `ignoreIndex` (and padded steps) are not counted.
        case sequenceCrossEntropy(ignoreIndex: Int)
    }

    /// The loss as the spec names it.
    public var lossName: String {
        if let dice { return dice.name }
        if case .segmentation = task { return "cross_entropy" }
        if case .sequenceCrossEntropy = task { return "sequence_cross_entropy" }
        return loss.name
    }
    public var optimizer: OptimizerConfiguration
    /// The optimizer's "clip_grad_norm": the global gradient norm each update is clipped to, or nil.
    public var clipGradNorm: Float?
    public var schedule: LearningRateSchedule
    /// Global weight decay (a dense layer's own "weight_decay" replaces it for that layer).
    public var weightDecay: WeightDecay?
    /// A sparsity penalty on the code (sparse autoencoder).
    public var sparsity: SparsityPenalty?
    /// The weight λ of the contractive penalty λ‖∂h/∂x‖²_F (contractive autoencoder).
    public var contractiveWeight: Float?
    /// The input corruption of training (denoising autoencoder).
    public var noise: Corruption?
    /// Default initializer; nil picks one per layer from its activation (He for ReLU-like, Xavier otherwise).
    public var initializer: Initializer?
    public var seed: UInt64
    /// An adversarial autoencoder's discriminator, prior and phase optimizers (Spec/AdversarialSpec.swift).
    public var adversarial: AdversarialSpec? = nil

    /// Parses and validates a spec; the first problem is reported with its JSON path.
    public init(json text: String) throws(AutoencoderError) {
        let json: JSON
        do {
            json = try JSON.parse(text)
        } catch {
            throw .invalidSpec("", "the spec is not valid JSON: \(error.description)")
        }
        try self.init(json)
    }

    public init(_ json: JSON) throws(AutoencoderError) {
        let root = try SpecReader(json, path: "")
        try root.allowOnly(["format", "version", "name", "input_shape", "input_size", "encoder", "decoder", "tied_weights",
                            "loss", "optimizer", "schedule", "regularization", "noise", "branches", "init", "seed", "adversarial"])
        if root.has("format") {
            _ = try root.choice("format", ["autoencoders.spec"])
        }
        let version = try root.int("version", default: ModelSpec.currentVersion)
        guard version == ModelSpec.currentVersion else {
            throw .invalidSpec("version", "this library reads spec version \(ModelSpec.currentVersion), got \(version)")
        }
        self.json = json
        name = root.has("name") ? try root.string("name") : nil
        if let name, name.utf8.count > ModelSpec.maxNameBytes || name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw .invalidSpec("name", "must be at most \(ModelSpec.maxNameBytes) bytes without control characters")
        }

        if let shape = try root.shape("input_shape") {
            guard !root.has("input_size") else { throw .invalidSpec("input_size", "give input_shape or input_size, not both") }
            inputShape = shape
        } else if root.has("input_size") {
            inputShape = [try root.int("input_size", minimum: 1, maximum: 1 << 24)]
        } else {
            throw .invalidSpec("input_size", "is required (the number of features), or input_shape")
        }

        func layers(_ key: String) throws(AutoencoderError) -> [LayerSpec] {
            guard let array = try root.array(key) else { throw .invalidSpec(key, "is required (a list of layers)") }
            guard !array.isEmpty else { throw .invalidSpec(key, "must hold at least one layer") }
            guard array.count <= ModelSpec.maxLayers else {
                throw .invalidSpec(key, "holds \(array.count) layers; at most \(ModelSpec.maxLayers) are allowed")
            }
            var specs: [LayerSpec] = []
            for (i, element) in array.enumerated() { specs.append(try LayerSpec.parse(element, path: "\(key)[\(i)]")) }
            return specs
        }
        encoder = try layers("encoder")
        decoder = try layers("decoder")
        branches = []
        if let array = try root.array("branches", limit: ModelSpec.maxBranches) {
            for (i, element) in array.enumerated() { branches.append(try BranchSpec.parse(element, path: "branches[\(i)]", index: i)) }
        }
        tiedWeights = try root.bool("tied_weights", default: false)
        if let (dice, ignoreIndex) = try SoftDice.parse(root.object["loss"], path: "loss") {
            (loss, task, self.dice) = (.mse, .segmentation(ignoreIndex: ignoreIndex), dice)
        } else {
            (loss, task) = try ModelSpec.parseObjective(root.object["loss"], path: "loss", encoder: encoder)
        }
        (optimizer, clipGradNorm) = try ModelSpec.parseOptimizerEntry(try root.reader("optimizer"))
        schedule = try root.reader("schedule").map { r throws(AutoencoderError) in try LearningRateSchedule.parse(r) } ?? .constant
        weightDecay = nil
        sparsity = nil
        contractiveWeight = nil
        if let regularization = try root.reader("regularization") {
            try regularization.allowOnly(["weight_decay", "sparsity", "contractive"])
            weightDecay = try regularization.reader("weight_decay").map { r throws(AutoencoderError) in try WeightDecay.parse(r) }
            sparsity = try regularization.reader("sparsity").map { r throws(AutoencoderError) in try SparsityPenalty.parse(r) }
            if let contractive = try regularization.reader("contractive") {
                try contractive.allowOnly(["weight"])
                contractiveWeight = try contractive.float("weight", minimum: 0)
            }
        }
        noise = try root.reader("noise").map { r throws(AutoencoderError) in try Corruption.parse(r) }
        initializer = root.has("init") ? Initializer(rawValue: try root.choice("init", Initializer.allCases.map(\.rawValue))) : nil
        if let seedJSON = root.object["seed"], seedJSON != .null {
            guard let value = seedJSON.intValue, value >= 0 else {
                throw .invalidSpec("seed", "must be a non-negative integer, got \(seedJSON.serialized())")
            }
            seed = UInt64(value)
        } else {
            seed = 0
        }
        adversarial = try root.reader("adversarial").map { r throws(AutoencoderError) in try AdversarialSpec.parse(r) }
        try checkTokenModel()
    }

    /// The loss entry: a reconstruction loss, cross-entropy for segmentation, or the per-step
    /// sequence cross-entropy of a token model (its ignore_index defaults to the embedding's
    /// padding id, else −100).
    static func parseObjective(_ json: JSON?, path: String, encoder: [LayerSpec] = []) throws(AutoencoderError) -> (ReconstructionLoss, Task) {
        let name = json?.stringValue ?? json?.objectValue?["type"]?.stringValue
        if name == "sequence_cross_entropy", let json {
            var ignore = -100
            if case let .embedding(_, _, padding?, _) = encoder.first?.kind { ignore = padding }
            guard json.objectValue != nil else { return (.mse, .sequenceCrossEntropy(ignoreIndex: ignore)) }
            let reader = try SpecReader(json, path: path)
            try reader.allowOnly(["type", "ignore_index"])
            return (.mse, .sequenceCrossEntropy(ignoreIndex: try reader.int("ignore_index", default: ignore, minimum: -1 << 31, maximum: 1 << 31)))
        }
        guard name == "cross_entropy", let json else { return (try parseLoss(json, path: path), .reconstruction) }
        guard let reader = json.objectValue == nil ? nil : try SpecReader(json, path: path) else {
            return (.mse, .segmentation(ignoreIndex: -100))
        }
        try reader.allowOnly(["type", "ignore_index"])
        return (.mse, .segmentation(ignoreIndex: try reader.int("ignore_index", default: -100, minimum: -1 << 31, maximum: 1 << 31)))
    }

    static func parseLoss(_ json: JSON?, path: String) throws(AutoencoderError) -> ReconstructionLoss {
        guard let json, json != .null else { return .mse }
        let names = ["mse", "l1", "huber", "smooth_l1", "bce", "bce_with_logits", "correntropy", "cross_entropy", "sequence_cross_entropy"]
        let name: String
        var reader: SpecReader? = nil
        if let string = json.stringValue {
            name = string
        } else {
            let r = try SpecReader(json, path: path)
            name = try r.choice("type", names)
            reader = r
        }
        let loss: ReconstructionLoss
        switch name {
        case "mse": loss = .mse
        case "l1": loss = .l1
        case "huber": loss = .huber(delta: try reader?.float("delta", default: 1, above: 0) ?? 1)
        case "smooth_l1": loss = .smoothL1(beta: try reader?.float("beta", default: 1, above: 0) ?? 1)
        case "bce": loss = .bce
        case "bce_with_logits": loss = .bceWithLogits
        case "correntropy": loss = .correntropy(sigma: try reader?.float("sigma", default: 1, above: 0) ?? 1)
        default: throw .invalidSpec(path, "unknown loss \"\(name)\"; expected one of \(names.joined(separator: ", "))")
        }
        if let reader {
            switch loss {
            case .huber: try reader.allowOnly(["type", "delta"])
            case .smoothL1: try reader.allowOnly(["type", "beta"])
            case .correntropy: try reader.allowOnly(["type", "sigma"])
            default: try reader.allowOnly(["type"])
            }
        }
        return loss
    }

    /// Whether the model reads token ids: its first encoder entry is an embedding.
    public var isTokenModel: Bool {
        if case .embedding = encoder.first?.kind { return true }
        return false
    }

    /// A token model (an embedding first) and the sequence cross-entropy go together; an
    /// embedding elsewhere, or noise on token ids, is refused.
    private func checkTokenModel() throws(AutoencoderError) {
        for (i, entry) in (encoder + decoder).enumerated() where i > 0 {
            if case .embedding = entry.kind {
                throw .invalidSpec(entry.path, "an embedding reads the model's token ids: it must be the encoder's first entry")
            }
        }
        for branch in branches {
            for entry in branch.layers { if case .embedding = entry.kind { throw .invalidSpec(entry.path, "an embedding must be the encoder's first entry") } }
        }
        let sequenceCE: Bool
        if case .sequenceCrossEntropy = task { sequenceCE = true } else { sequenceCE = false }
        if isTokenModel {
            guard inputShape.count == 1 else {
                throw .invalidSpec("input_shape", "a token model (embedding first) reads [T] token ids per sample, got \(inputShape)")
            }
            guard sequenceCE else {
                throw .invalidSpec("loss", "a token model (embedding first) is trained with \"sequence_cross_entropy\"")
            }
            guard noise == nil else { throw .invalidSpec("noise", "input noise does not apply to token ids") }
            guard branches.isEmpty else { throw .invalidSpec("branches", "a token model has no branch heads") }
        } else if sequenceCE {
            throw .invalidSpec("loss", "\"sequence_cross_entropy\" needs token input: make the encoder's first entry {\"type\": \"embedding\", ...}")
        }
    }

    static func parseOptimizer(_ r: SpecReader) throws(AutoencoderError) -> OptimizerConfiguration {
        let type = try r.choice("type", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
        func betas() throws(AutoencoderError) -> (Float, Float) {
            guard let array = try r.array("betas") else { return (0.9, 0.999) }
            guard array.count == 2, let b1 = array[0].doubleValue, let b2 = array[1].doubleValue,
                  b1 >= 0, b1 < 1, b2 >= 0, b2 < 1 else {
                throw .invalidSpec(r.path("betas"), "must be two numbers in [0, 1), like [0.9, 0.999]")
            }
            return (Float(b1), Float(b2))
        }
        switch type {
        case "sgd":
            try r.allowOnly(["type", "lr", "momentum", "dampening", "nesterov", "weight_decay"])
            let momentum = try r.float("momentum", default: 0, minimum: 0, below: 1)
            let dampening = try r.float("dampening", default: 0, minimum: 0, maximum: 1)
            let nesterov = try r.bool("nesterov", default: false)
            if nesterov && (momentum == 0 || dampening != 0) {
                throw .invalidSpec(r.path("nesterov"), "Nesterov momentum needs momentum > 0 and dampening 0")
            }
            return .sgd(learningRate: try r.float("lr", default: 0.01, above: 0), momentum: momentum, dampening: dampening,
                        nesterov: nesterov, weightDecay: try r.float("weight_decay", default: 0, minimum: 0))
        case "adam", "adamw":
            try r.allowOnly(["type", "lr", "betas", "eps", "weight_decay"])
            let (b1, b2) = try betas()
            let lr = try r.float("lr", default: 1e-3, above: 0)
            let eps = try r.float("eps", default: 1e-8, above: 0)
            if type == "adam" {
                return .adam(learningRate: lr, beta1: b1, beta2: b2, epsilon: eps, weightDecay: try r.float("weight_decay", default: 0, minimum: 0))
            }
            return .adamW(learningRate: lr, beta1: b1, beta2: b2, epsilon: eps, weightDecay: try r.float("weight_decay", default: 0.01, minimum: 0))
        case "rmsprop":
            try r.allowOnly(["type", "lr", "alpha", "eps", "momentum", "weight_decay"])
            return .rmsprop(learningRate: try r.float("lr", default: 0.01, above: 0), alpha: try r.float("alpha", default: 0.99, minimum: 0, below: 1),
                            epsilon: try r.float("eps", default: 1e-8, above: 0), momentum: try r.float("momentum", default: 0, minimum: 0, below: 1),
                            weightDecay: try r.float("weight_decay", default: 0, minimum: 0))
        default:
            try r.allowOnly(["type", "lr", "lr_decay", "eps", "weight_decay", "initial_accumulator_value"])
            return .adagrad(learningRate: try r.float("lr", default: 0.01, above: 0), learningRateDecay: try r.float("lr_decay", default: 0, minimum: 0),
                            epsilon: try r.float("eps", default: 1e-10, above: 0), weightDecay: try r.float("weight_decay", default: 0, minimum: 0),
                            initialAccumulator: try r.float("initial_accumulator_value", default: 0, minimum: 0))
        }
    }
}
