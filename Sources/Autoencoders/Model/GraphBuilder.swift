/// Turns a validated spec into a graph of layers: resolves names and links, checks that shapes
/// line up, mirrors tied weights, and chooses initializers. Dense-model entries are built here;
/// convolutional and structural ones in GraphBuilder+Convolutional.swift.
struct GraphBuilder {
    let spec: ModelSpec
    private(set) var nodes: [GraphNode] = []
    /// Entry names to the node that holds the entry's output.
    var nodeByName: [String: Int] = [:]
    /// The spec entry of each node, for messages.
    private(set) var nodePaths: [String] = []
    /// Every node name, so a duplicate is found in constant time (building stays linear).
    private var names: Set<String> = []
    // Tied weights: the encoder's dense layers, and how many decoder dense layers mirrored them.
    private var encoderDense: [Dense] = []
    private var decoderDenseIndex = 0

    init(spec: ModelSpec) { self.spec = spec }

    /// Per-sample shape of a node's output (or of the model input).
    func shape(of node: Int) -> [Int] { node == Graph.modelInput ? spec.inputShape : nodes[node].layer.outputShape }

    /// Appends a node; the entry's name now refers to it. The node's output and its scratch are
    /// bounded here, before any later layer or workspace multiplies them (see `Size`).
    @discardableResult
    mutating func add(_ name: String, _ layer: Layer, _ inputs: [Int], links: [Int] = [], encoder: Bool,
                      path: String) throws(AutoencoderError) -> Int {
        guard names.insert(name).inserted else {
            throw .invalidSpec(path, "the name \"\(name)\" is used twice")
        }
        guard Size.elements(layer.outputShape) != nil else {
            throw .invalidSpec(path, "the output of shape \(layer.outputShape) holds \(Self.describe(layer.outputShape)) per sample; "
                               + "a node holds at most \(Size.maxElements) (2^31 − 1)")
        }
        // Scratch is affine in the batch (Layer.scratchSize); both terms are bounded like a node.
        let fixed = layer.scratchSize(batch: 0), perSample = layer.scratchSize(batch: 1) - fixed
        guard fixed >= 0, perSample >= 0, fixed <= Size.maxElements, perSample <= 8 * Size.maxElements else {
            throw .invalidSpec(path, "the layer's scratch holds more than \(Size.maxElements) floats per sample")
        }
        guard nodes.count < GraphBuilder.maxNodes else {
            throw .invalidSpec(path, "the model has more than \(GraphBuilder.maxNodes) nodes")
        }
        nodes.append(GraphNode(name: name, layer: layer, inputs: inputs, isEncoder: encoder, links: links, path: path))
        nodePaths.append(path)
        nodeByName[name] = nodes.count - 1
        return nodes.count - 1
    }

    /// The most nodes a graph holds: every list of the spec is capped (docs/SPEC.md, "Limits"),
    /// and an entry makes at most two nodes.
    static let maxNodes = 2 * (2 * ModelSpec.maxLayers + ModelSpec.maxBranches * ModelSpec.maxLayers)

    /// "N floats" for a shape whose product may overflow Int.
    private static func describe(_ shape: [Int]) -> String {
        var product = 1.0
        for dimension in shape { product *= Double(dimension) }
        if let exact = Size.elements(shape, limit: Int.max) { return "\(exact) floats" }
        return "about \(product) floats"
    }

    /// Appends `activation` after `node` as "<name>.<activation>"; the entry's name then refers to it.
    mutating func addActivation(_ activation: ActivationFunction?, after node: Int, name: String, encoder: Bool,
                                path: String) throws(AutoencoderError) {
        guard let activation else { return }
        let activationNode = try add("\(name).\(activation.name)", Activation(activation, shape: shape(of: node)),
                                     [node], encoder: encoder, path: path)
        nodeByName[name] = activationNode
    }

    /// The node named `name` (or the model input for "input"), for the entry at `path`.
    func node(named name: String, path: String) throws(AutoencoderError) -> Int {
        if name == "input" { return Graph.modelInput }
        guard let index = nodeByName[name] else {
            throw .invalidSpec(path, "no earlier node is named \"\(name)\"; known: \((["input"] + nodes.prefix(50).map(\.name)).joined(separator: ", "))\(nodes.count > 50 ? ", …" : "")")
        }
        return index
    }

    mutating func build() throws(AutoencoderError) -> Graph {
        var codeNode = -1
        for (part, entries) in [("encoder", spec.encoder), ("decoder", spec.decoder)] {
            let isEncoder = part == "encoder"
            for (i, entry) in entries.enumerated() {
                let name = entry.name ?? "\(part).\(i)"
                // Inputs: named nodes, or the previous node (the model input for the very first).
                var inputs: [Int] = []
                if let names = entry.inputs {
                    for (j, inputName) in names.enumerated() {
                        inputs.append(try node(named: inputName, path: "\(entry.path).inputs[\(j)]"))
                    }
                } else {
                    inputs = [nodes.isEmpty ? Graph.modelInput : nodes.count - 1]
                }
                try addEntry(entry, name: name, inputs: inputs, isEncoder: isEncoder)
            }
            if isEncoder { codeNode = nodes.count - 1 }
        }
        let outputNode = nodes.count - 1
        var branchOutputs: [Int] = []
        for (b, branch) in spec.branches.enumerated() {
            for (i, entry) in branch.layers.enumerated() {
                var inputs: [Int] = []
                if let names = entry.inputs {
                    for (j, inputName) in names.enumerated() {
                        let index = try node(named: inputName, path: "\(entry.path).inputs[\(j)]")
                        guard index <= codeNode || index > outputNode else {
                            throw .invalidSpec("\(entry.path).inputs[\(j)]", "a branch reads encoder nodes or its own, not the decoder's \"\(inputName)\"")
                        }
                        inputs.append(index)
                    }
                } else {
                    inputs = [i == 0 ? codeNode : nodes.count - 1]
                }
                try addEntry(entry, name: entry.name ?? "\(branch.name).\(i)", inputs: inputs, isEncoder: false)
            }
            branchOutputs.append(nodes.count - 1)
            guard shape(of: nodes.count - 1) == spec.inputShape else {
                throw .invalidSpec("branches[\(b)]", "a branch reconstructs the input: its output shape \(shape(of: nodes.count - 1)) must equal the input shape \(spec.inputShape)")
            }
        }
        let encoderDenseCount = encoderDense.count
        if spec.tiedWeights && decoderDenseIndex != encoderDenseCount {
            throw .invalidSpec("tied_weights", "the decoder has \(decoderDenseIndex) dense layers but the encoder has \(encoderDenseCount); tied weights need a mirror image")
        }
        try checkOutputShape(outputNode)
        // Every node but the output must feed another node, or its gradient would be undefined.
        var consumed = Set<Int>(branchOutputs)
        consumed.insert(outputNode)
        for node in nodes { consumed.formUnion(node.inputs) }
        for index in nodes.indices where !consumed.contains(index) {
            throw .invalidSpec(nodePaths[index], "node \"\(nodes[index].name)\" is not read by any later node")
        }
        return Graph(inputShape: spec.inputShape, nodes: nodes, codeNode: codeNode, outputNode: outputNode, branchOutputs: branchOutputs)
    }

    /// A reconstruction model outputs the input's shape; a segmentation model outputs one logit per
    /// class at every position of the input: [classes, spatial...].
    private func checkOutputShape(_ outputNode: Int) throws(AutoencoderError) {
        let outputShape = nodes[outputNode].layer.outputShape
        if case .sequenceCrossEntropy = spec.task, case let .embedding(vocabulary, _, _, _) = spec.encoder.first?.kind {
            let expected = [spec.inputShape[0], vocabulary]
            guard outputShape == expected else {
                throw .invalidSpec("decoder", "a token model outputs a logit per vocabulary entry at every step, [T, V] = \(expected) (end the decoder with {\"type\": \"time_distributed_dense\", \"units\": \(vocabulary)}), got \(outputShape)")
            }
        } else if case .segmentation = spec.task {
            guard outputShape.count == spec.inputShape.count, outputShape.count >= 2,
                  Array(outputShape.dropFirst()) == Array(spec.inputShape.dropFirst()) else {
                throw .invalidSpec("decoder", "a segmentation model's output must be [classes] + the input's spatial shape \(Array(spec.inputShape.dropFirst())), got \(outputShape)")
            }
        } else {
            guard outputShape == spec.inputShape else {
                throw .invalidSpec("decoder", "the output shape \(outputShape) must equal the input shape \(spec.inputShape)")
            }
        }
    }

    private mutating func addEntry(_ entry: LayerSpec, name: String, inputs: [Int], isEncoder: Bool) throws(AutoencoderError) {
        switch entry.kind {
        case let .dense(units, activation, bias, initializer, _):
            guard inputs.count == 1 else { throw .invalidSpec("\(entry.path).inputs", "a dense layer reads exactly one node") }
            let inputShape = shape(of: inputs[0])
            guard inputShape.count == 1 else {
                throw .invalidSpec(entry.path, "a dense layer needs a flat input, got shape \(inputShape); insert {\"type\": \"flatten\"}")
            }
            let tiedTo = isEncoder || !spec.tiedWeights ? nil : try mirroredEncoderLayer(units: units, inputs: inputShape[0], path: entry.path)
            let chosen = initializer ?? spec.initializer ?? (activation ?? .identity).preferredInitializer
            let dense = Dense(inputFeatures: inputShape[0], outputFeatures: units, bias: bias, initializer: chosen, tiedTo: tiedTo)
            if isEncoder { encoderDense.append(dense) }
            let denseNode = try add(name, dense, inputs, encoder: isEncoder, path: entry.path)
            try addActivation(activation, after: denseNode, name: name, encoder: isEncoder, path: entry.path)
        case let .kSparse(k):
            guard inputs.count == 1 else { throw .invalidSpec("\(entry.path).inputs", "a k_sparse layer reads exactly one node") }
            let shape = shape(of: inputs[0])
            let size = shape.reduce(1, *)
            guard k <= size else {
                throw .invalidSpec("\(entry.path).k", "must be at most the layer's \(size) values, got \(k)")
            }
            try add(name, KSparse(k: k, shape: shape), inputs, encoder: isEncoder, path: entry.path)
        case let .variational(units, beta, warmup, initializer):
            guard (isEncoder && entry.path == "encoder[\(spec.encoder.count - 1)]") || entry.path.hasPrefix("branches[") else {
                throw .invalidSpec(entry.path, "a variational layer is a code: the encoder's last entry, or in a branch")
            }
            guard inputs.count == 1, shape(of: inputs[0]).count == 1 else {
                throw .invalidSpec(entry.path, "a variational layer needs one flat input, got shape \(inputs.count == 1 ? shape(of: inputs[0]) : []); insert {\"type\": \"flatten\"}")
            }
            let layer = Variational(inputFeatures: shape(of: inputs[0])[0], latent: units, beta: beta, warmupEpochs: warmup,
                                    initializer: initializer ?? spec.initializer ?? .xavierUniform)
            try add(name, layer, inputs, encoder: isEncoder, path: entry.path)
        case let .activation(function):
            guard inputs.count == 1 else { throw .invalidSpec("\(entry.path).inputs", "an activation reads exactly one node") }
            try add(name, Activation(function, shape: shape(of: inputs[0])), inputs, encoder: isEncoder, path: entry.path)
        case .convolution, .transposedConvolution, .pooling, .maxUnpool, .upsample, .batchNorm, .groupNorm, .dropout, .reshape, .concat, .add:
            try addConvolutional(entry, name: name, inputs: inputs, isEncoder: isEncoder)
        case .recurrent, .repeatSteps, .timeDistributedDense, .embedding:
            try addRecurrent(entry, name: name, inputs: inputs, isEncoder: isEncoder)
        }
    }

    /// The encoder dense layer a tied decoder layer mirrors (the k-th decoder dense layer mirrors
    /// the k-th from the end of the encoder).
    private mutating func mirroredEncoderLayer(units: Int, inputs: Int, path: String) throws(AutoencoderError) -> Dense {
        let mirror = encoderDense.count - 1 - decoderDenseIndex
        guard mirror >= 0 else { throw .invalidSpec(path, "tied_weights: the decoder has more dense layers than the encoder") }
        let encoderLayer = encoderDense[mirror]
        guard encoderLayer.inputFeatures == units, encoderLayer.outputFeatures == inputs else {
            throw .invalidSpec(path, "tied_weights: this layer (\(inputs)→\(units)) must mirror encoder dense layer \(mirror) (\(encoderLayer.inputFeatures)→\(encoderLayer.outputFeatures))")
        }
        decoderDenseIndex += 1
        return encoderLayer
    }
}
