/// The spec entries of sequence models (per-sample shape [T, F], batch-first like PyTorch's
/// `batch_first=True`): "lstm" and "gru" (stacked, bidirectional, returning the whole sequence
/// or the last hidden state), "repeat" (a code [H] repeated over T steps) and
/// "time_distributed_dense" (one dense layer applied at every step).
extension LayerSpec {
    /// A recurrent entry.
    public struct Recurrent: Equatable, Sendable {
        public var isGRU: Bool
        public var units: Int
        public var layers: Int
        public var bidirectional: Bool
        /// true: the top layer's final hidden state [D·H] (an encoder's code); false: the sequence [T, D·H].
        public var returnsLast: Bool
        public var dropout: Float
        public var initializer: Initializer?
        /// Names of the nodes holding h_0 (and, for an LSTM, c_0), each `[layers · D · H]`; empty: zeros.
        public var initialState: [String] = []
    }

    static let recurrentTypes = ["lstm", "gru", "repeat", "time_distributed_dense", "embedding"]

    /// Parses the entry when `type` is a convolutional, structural or sequence type, else nil.
    static func parseConvolutionalOrRecurrent(_ type: String, _ reader: SpecReader, json: JSON) throws(AutoencoderError) -> Kind? {
        if let kind = try parseRecurrent(type, reader) { return kind }
        return try parseConvolutional(type, reader, json: json)
    }

    /// Parses the entry when `type` is a sequence type, else nil.
    static func parseRecurrent(_ type: String, _ reader: SpecReader) throws(AutoencoderError) -> Kind? {
        let common = ["type", "name", "inputs"]
        func initializer() throws(AutoencoderError) -> Initializer? {
            reader.has("init") ? Initializer(rawValue: try reader.choice("init", Initializer.allCases.map(\.rawValue))) : nil
        }
        switch type {
        case "lstm", "gru":
            try reader.allowOnly(common + ["units", "layers", "bidirectional", "return", "dropout", "init", "initial_state"])
            guard reader.has("units") else { throw .invalidSpec(reader.path("units"), "is required: the hidden size (a positive integer)") }
            let layers = try reader.int("layers", default: 1, minimum: 1, maximum: 64)
            let dropout = try reader.float("dropout", default: 0, minimum: 0, below: 1)
            if dropout > 0 && layers == 1 {
                throw .invalidSpec(reader.path("dropout"), "applies between stacked layers: it needs \"layers\" of at least 2")
            }
            // "initial_state": "<node>" (h_0) or, for an LSTM, ["<h_0 node>", "<c_0 node>"].
            var initialState: [String] = []
            if let json = reader.object["initial_state"], json != .null {
                let path = reader.path("initial_state")
                let names: [JSON]
                if json.stringValue != nil {
                    names = [json]
                } else if let array = json.arrayValue, (1...2).contains(array.count) {
                    names = array
                } else {
                    throw .invalidSpec(path, "must name the node holding h_0 (a string) or, for an lstm, [h_0 node, c_0 node]")
                }
                guard names.count == 1 || type == "lstm" else {
                    throw .invalidSpec(path, "a gru has no cell state: name one node, its h_0")
                }
                for (i, name) in names.enumerated() {
                    let at = names.count == 1 && json.stringValue != nil ? path : "\(path)[\(i)]"
                    guard let string = name.stringValue else { throw .invalidSpec(at, "must be a node name (a string)") }
                    try SpecReader.checkName(string, path: at)
                    initialState.append(string)
                }
            }
            return .recurrent(Recurrent(isGRU: type == "gru", units: try reader.int("units", minimum: 1, maximum: 1 << 16),
                                        layers: layers, bidirectional: try reader.bool("bidirectional", default: false),
                                        returnsLast: try reader.choice("return", ["sequence", "last"], default: "sequence") == "last",
                                        dropout: dropout, initializer: try initializer(), initialState: initialState))
        case "embedding":
            try reader.allowOnly(common + ["vocabulary", "units", "padding_id", "init"])
            guard reader.has("vocabulary") else {
                throw .invalidSpec(reader.path("vocabulary"), "is required: the number of token ids V (ids are 0..V-1)")
            }
            guard reader.has("units") else { throw .invalidSpec(reader.path("units"), "is required: the embedding dimension") }
            let vocabulary = try reader.int("vocabulary", minimum: 1, maximum: Embedding.maximumVocabulary)
            var padding: Int? = nil
            if let json = reader.object["padding_id"], json != .null {
                padding = try reader.int("padding_id", minimum: 0, maximum: vocabulary - 1)
            }
            return .embedding(vocabulary: vocabulary, units: try reader.int("units", minimum: 1, maximum: 1 << 20),
                              paddingID: padding, initializer: try initializer())
        case "repeat":
            try reader.allowOnly(common + ["steps"])
            return .repeatSteps(try reader.int("steps", minimum: 1, maximum: 1 << 20))
        case "time_distributed_dense":
            try reader.allowOnly(common + ["units", "activation", "bias", "init"])
            let activation: ActivationFunction?
            if let json = reader.object["activation"], json != .null {
                activation = try parseActivation(json, path: reader.path("activation"))
            } else {
                activation = nil
            }
            return .timeDistributedDense(units: try reader.int("units", minimum: 1, maximum: 1 << 24), activation: activation,
                                         bias: try reader.bool("bias", default: true), initializer: try initializer())
        default:
            return nil
        }
    }
}
