/// The spec entries of convolutional models: convolution and transposed convolution, pooling,
/// the unpooling family, and the structural layers (batch norm, dropout, reshape, concat).
/// Types end in "1d" (per-sample shape [C, L]), "2d" ([C, H, W]) or "3d" ([C, D, H, W]).
extension LayerSpec {
    /// A convolution or transposed convolution.
    public struct Convolution: Equatable, Sendable {
        public var dimensions: Int
        public var filters: Int
        public var kernel: Int
        public var stride: Int
        public var padding: Int
        public var dilation: Int
        /// Transposed convolution only: extra rows/columns on one side of the output.
        public var outputPadding: Int
        public var activation: ActivationFunction?
        public var bias: Bool
        public var initializer: Initializer?
        public var weightDecay: WeightDecay?
    }

    /// A max or average pooling window.
    public struct Pooling: Equatable, Sendable {
        public var dimensions: Int
        public var isMax: Bool
        public var kernel: Int
        public var stride: Int
        public var padding: Int
    }

    /// The convolutional layer types, each with its dimensions: ("conv", 2) for "conv2d".
    static let convolutionalTypes: [String: (family: String, dimensions: Int)] = {
        var types: [String: (String, Int)] = [:]
        for family in ["conv", "conv_transpose", "max_pool", "avg_pool", "max_unpool", "bed_of_nails", "upsample_nearest"] {
            types["\(family)1d"] = (family, 1)
            types["\(family)2d"] = (family, 2)
            types["\(family)3d"] = (family, 3)
        }
        return types
    }()

    static let structuralTypes = ["batch_norm", "group_norm", "dropout", "flatten", "reshape", "concat", "add"]

    /// Parses the entry when `type` is one of the convolutional or structural types, else nil.
    static func parseConvolutional(_ type: String, _ reader: SpecReader, json: JSON) throws(AutoencoderError) -> Kind? {
        let common = ["type", "name", "inputs"]
        if let (family, dimensions) = convolutionalTypes[type] {
            switch family {
            case "conv", "conv_transpose":
                let transposed = family == "conv_transpose"
                try reader.allowOnly(common + ["filters", "kernel", "stride", "padding", "dilation", "activation", "bias", "init", "weight_decay"]
                                     + (transposed ? ["output_padding"] : []))
                var activation: ActivationFunction? = nil
                if let value = reader.object["activation"], value != .null {
                    activation = try parseActivation(value, path: reader.path("activation"))
                }
                let spec = Convolution(
                    dimensions: dimensions, filters: try reader.int("filters", minimum: 1, maximum: 1 << 16),
                    kernel: try reader.int("kernel", minimum: 1, maximum: 1 << 12),
                    stride: try reader.int("stride", default: 1, minimum: 1, maximum: 1 << 12),
                    padding: try reader.int("padding", default: 0, minimum: 0, maximum: 1 << 12),
                    dilation: try reader.int("dilation", default: 1, minimum: 1, maximum: 1 << 12),
                    outputPadding: transposed ? try reader.int("output_padding", default: 0, minimum: 0, maximum: 1 << 12) : 0,
                    activation: activation, bias: try reader.bool("bias", default: true),
                    initializer: reader.has("init") ? Initializer(rawValue: try reader.choice("init", Initializer.allCases.map(\.rawValue))) : nil,
                    weightDecay: try reader.reader("weight_decay").map { r throws(AutoencoderError) in try WeightDecay.parse(r) })
                return transposed ? .transposedConvolution(spec) : .convolution(spec)
            case "max_pool", "avg_pool":
                try reader.allowOnly(common + ["kernel", "stride", "padding"])
                let kernel = try reader.int("kernel", minimum: 1, maximum: 1 << 12)
                return .pooling(Pooling(dimensions: dimensions, isMax: family == "max_pool", kernel: kernel,
                                        stride: try reader.int("stride", default: kernel, minimum: 1, maximum: 1 << 12),
                                        padding: try reader.int("padding", default: 0, minimum: 0, maximum: 1 << 12)))
            case "max_unpool":
                try reader.allowOnly(common + ["indices_from"])
                guard let source = try reader.name("indices_from") else { throw .invalidSpec(reader.path("indices_from"), "is required (a string)") }
                return .maxUnpool(dimensions: dimensions, indicesFrom: source)
            default:
                try reader.allowOnly(common + ["scale"])
                return .upsample(dimensions: dimensions, scale: try reader.int("scale", default: 2, minimum: 1, maximum: 1 << 12),
                                 bedOfNails: family == "bed_of_nails")
            }
        }
        switch type {
        case "batch_norm":
            try reader.allowOnly(common + ["momentum", "eps"])
            return .batchNorm(momentum: try reader.float("momentum", default: 0.1, minimum: 0, maximum: 1),
                              epsilon: try reader.float("eps", default: 1e-5, above: 0))
        case "group_norm":
            try reader.allowOnly(common + ["groups", "eps"])
            guard reader.has("groups") else { throw .invalidSpec(reader.path("groups"), "is required (a positive integer dividing the channels)") }
            return .groupNorm(groups: try reader.int("groups", minimum: 1, maximum: 1 << 16),
                              epsilon: try reader.float("eps", default: 1e-5, above: 0))
        case "dropout":
            try reader.allowOnly(common + ["rate"])
            return .dropout(rate: try reader.float("rate", minimum: 0, below: 1))
        case "flatten":
            try reader.allowOnly(common)
            return .reshape(shape: nil)
        case "reshape":
            try reader.allowOnly(common + ["shape"])
            guard let shape = try reader.shape("shape") else { throw .invalidSpec(reader.path("shape"), "is required") }
            return .reshape(shape: shape)
        case "concat":
            try reader.allowOnly(common)
            guard let inputs = reader.object["inputs"]?.arrayValue, inputs.count >= 2 else {
                throw .invalidSpec(reader.path("inputs"), "a concat layer needs \"inputs\" naming at least two nodes")
            }
            return .concat
        case "add":
            try reader.allowOnly(common)
            guard let inputs = reader.object["inputs"]?.arrayValue, inputs.count >= 2 else {
                throw .invalidSpec(reader.path("inputs"), "an add layer needs \"inputs\" naming at least two nodes")
            }
            return .add
        default:
            return nil
        }
    }
}
