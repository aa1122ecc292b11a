/// One entry of the spec's "encoder" or "decoder" list, validated.
public struct LayerSpec: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// A fully connected layer with an optional activation after it.
        case dense(units: Int, activation: ActivationFunction?, bias: Bool, initializer: Initializer?, weightDecay: WeightDecay?)
        /// A standalone activation.
        case activation(ActivationFunction)
        /// Keeps the k largest values of each sample (k-sparse autoencoder).
        case kSparse(k: Int)
        /// The variational code of a VAE: mean and log-variance heads, reparameterised sampling,
        /// and the β-weighted KL term (with a linear warm-up over epochs).
        case variational(units: Int, beta: Float, warmupEpochs: Int, initializer: Initializer?)
        /// Convolution (1-D or 2-D) with an optional activation after it.
        case convolution(Convolution)
        /// Transposed convolution with an optional activation after it.
        case transposedConvolution(Convolution)
        case pooling(Pooling)
        /// Undoes the max pooling of the named layer, with its indices (SegNet).
        case maxUnpool(dimensions: Int, indicesFrom: String)
        /// Nearest-neighbour upsampling, or bed of nails (values at the top-left of each block).
        case upsample(dimensions: Int, scale: Int, bedOfNails: Bool)
        case batchNorm(momentum: Float, epsilon: Float)
        /// Group normalization over contiguous blocks of channels (GroupNorm.swift).
        case groupNorm(groups: Int, epsilon: Float)
        case dropout(rate: Float)
        /// A new per-sample shape with the same element count; nil flattens.
        case reshape(shape: [Int]?)
        /// Channel concatenation of the named inputs (U-Net skips).
        case concat
        /// Elementwise sum of the named inputs (residual blocks).
        case add
        /// Sequence entries (RecurrentLayerSpec.swift): LSTM/GRU, repeat over T steps, per-step dense.
        case recurrent(Recurrent)
        case repeatSteps(Int)
        case timeDistributedDense(units: Int, activation: ActivationFunction?, bias: Bool, initializer: Initializer?)
        /// Token embeddings (text models): ids `[T]` → `[T, units]`; the padding id's row gets no gradient.
        case embedding(vocabulary: Int, units: Int, paddingID: Int?, initializer: Initializer?)
    }

    public var kind: Kind
    /// The entry's name, for links ("inputs") and parameter names; nil gets "encoder.<i>" / "decoder.<i>".
    public var name: String?
    /// Names of the nodes this entry reads; nil reads the previous entry (the input for the first).
    public var inputs: [String]?
    /// The entry's JSON path, for messages at build time.
    public var path: String

    /// The most nodes one entry reads (a concat's inputs).
    static let maxInputs = 64

    static let activationNames = ["identity", "relu", "leaky_relu", "elu", "selu", "gelu", "gelu_tanh", "sigmoid", "tanh", "softplus"]

    static func parse(_ json: JSON, path: String) throws(AutoencoderError) -> LayerSpec {
        let reader = try SpecReader(json, path: path)
        let type = try reader.string("type")
        let name = try reader.name("name")
        var inputs: [String]? = nil
        if let array = try reader.array("inputs", limit: LayerSpec.maxInputs) {
            guard !array.isEmpty else { throw .invalidSpec(reader.path("inputs"), "must name at least one node") }
            inputs = []
            for (i, element) in array.enumerated() {
                guard let input = element.stringValue else {
                    throw .invalidSpec("\(reader.path("inputs"))[\(i)]", "must be a node name (a string)")
                }
                try SpecReader.checkName(input, path: "\(reader.path("inputs"))[\(i)]")
                inputs!.append(input)
            }
        }
        let kind: Kind
        switch type {
        case "dense":
            try reader.allowOnly(["type", "name", "inputs", "units", "activation", "bias", "init", "weight_decay"])
            let activation: ActivationFunction?
            if let json = reader.object["activation"], json != .null {
                activation = try parseActivation(json, path: reader.path("activation"))
            } else {
                activation = nil
            }
            let initializer: Initializer?
            if reader.has("init") {
                initializer = Initializer(rawValue: try reader.choice("init", Initializer.allCases.map(\.rawValue)))
            } else {
                initializer = nil
            }
            kind = .dense(units: try reader.int("units", minimum: 1, maximum: 1 << 24), activation: activation,
                          bias: try reader.bool("bias", default: true), initializer: initializer,
                          weightDecay: try reader.reader("weight_decay").map { r throws(AutoencoderError) in try WeightDecay.parse(r) })
        case "variational":
            try reader.allowOnly(["type", "name", "inputs", "units", "beta", "kl_warmup_epochs", "init"])
            guard reader.has("units") else {
                throw .invalidSpec(reader.path("units"), "is required: the size of the latent code (a positive integer)")
            }
            kind = .variational(units: try reader.int("units", minimum: 1, maximum: 1 << 20),
                                beta: try reader.float("beta", default: 1, minimum: 0),
                                warmupEpochs: try reader.int("kl_warmup_epochs", default: 0, minimum: 0),
                                initializer: reader.has("init") ? Initializer(rawValue: try reader.choice("init", Initializer.allCases.map(\.rawValue))) : nil)
        case "k_sparse":
            try reader.allowOnly(["type", "name", "inputs", "k"])
            kind = .kSparse(k: try reader.int("k", minimum: 1))
        case "activation":
            try reader.allowOnly(["type", "name", "inputs", "function"])
            guard let function = reader.object["function"] else { throw .invalidSpec(reader.path("function"), "is required") }
            kind = .activation(try parseActivation(function, path: reader.path("function")))
        case _ where activationNames.contains(type):
            try reader.allowOnly(["type", "name", "inputs", "negative_slope", "alpha", "beta", "threshold"])
            kind = .activation(try parseActivation(json, path: path))
        default:
            guard let convolutional = try parseConvolutionalOrRecurrent(type, reader, json: json) else {
                let known = ["dense", "k_sparse", "activation"] + convolutionalTypes.keys.sorted() + structuralTypes + recurrentTypes + activationNames
                throw .invalidSpec(reader.path("type"), "unknown layer type \"\(type)\"; expected one of \(known.joined(separator: ", "))")
            }
            kind = convolutional
        }
        return LayerSpec(kind: kind, name: name, inputs: inputs, path: path)
    }

    /// An activation written as a name ("relu") or an object ({"type": "leaky_relu", "negative_slope": 0.2}).
    static func parseActivation(_ json: JSON, path: String) throws(AutoencoderError) -> ActivationFunction {
        let name: String
        var reader: SpecReader? = nil
        if let string = json.stringValue {
            name = string
        } else {
            let r = try SpecReader(json, path: path)
            name = try r.string("type")
            reader = r
        }
        func parameter(_ key: String, _ value: Float, positive: Bool = false) throws(AutoencoderError) -> Float {
            guard let reader else { return value }
            return positive ? try reader.float(key, default: value, above: 0) : try reader.float(key, default: value)
        }
        let function: ActivationFunction
        switch name {
        case "identity", "linear": function = .identity
        case "relu": function = .relu
        case "leaky_relu": function = .leakyReLU(negativeSlope: try parameter("negative_slope", 0.01))
        case "elu": function = .elu(alpha: try parameter("alpha", 1))
        case "selu": function = .selu
        case "gelu": function = .gelu
        case "gelu_tanh": function = .geluTanh
        case "sigmoid": function = .sigmoid
        case "tanh": function = .tanh
        case "softplus": function = .softplus(beta: try parameter("beta", 1, positive: true), threshold: try parameter("threshold", 20))
        default:
            throw .invalidSpec(reader == nil ? path : "\(path).type",
                               "unknown activation \"\(name)\"; expected one of \(activationNames.joined(separator: ", "))")
        }
        if let reader {
            let allowed: [String]
            switch function {
            case .leakyReLU: allowed = ["type", "negative_slope"]
            case .elu: allowed = ["type", "alpha"]
            case .softplus: allowed = ["type", "beta", "threshold"]
            default: allowed = ["type"]
            }
            // Layer entries carry name/inputs too; only the activation's own keys are checked here.
            for key in reader.object.keys where !allowed.contains(key) && !["name", "inputs"].contains(key) {
                throw .invalidSpec(reader.path(key), "is not a parameter of \(name); expected one of \(allowed.joined(separator: ", "))")
            }
        }
        return function
    }
}
