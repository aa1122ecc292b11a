/// Turns a validated spec into a graph of layers: resolves names and links, checks that shapes
/// line up, mirrors tied weights, and chooses initializers.
struct GraphBuilder {
    let spec: ModelSpec

    func build() throws(AutoencoderError) -> Graph {
        var nodes: [GraphNode] = []
        var nodeByName: [String: Int] = [:]
        var nodePaths: [String] = []     // the spec entry of each node, for messages
        var encoderDense: [Dense] = []
        var decoderDenseIndex = 0
        let encoderDenseCount = spec.encoder.reduce(0) { count, entry in
            if case .dense = entry.kind { return count + 1 }
            return count
        }
        var codeNode = -1

        func shape(of node: Int) -> [Int] { node == Graph.modelInput ? spec.inputShape : nodes[node].layer.outputShape }

        func add(_ name: String, _ layer: Layer, _ inputs: [Int], encoder: Bool, path: String) throws(AutoencoderError) -> Int {
            guard nodeByName[name] == nil else { throw .invalidSpec(path, "the name \"\(name)\" is used twice") }
            nodes.append(GraphNode(name: name, layer: layer, inputs: inputs, isEncoder: encoder))
            nodePaths.append(path)
            nodeByName[name] = nodes.count - 1
            return nodes.count - 1
        }

        for (part, entries) in [("encoder", spec.encoder), ("decoder", spec.decoder)] {
            let isEncoder = part == "encoder"
            for (i, entry) in entries.enumerated() {
                let name = entry.name ?? "\(part).\(i)"
                // Inputs: named nodes, or the previous node (the model input for the very first).
                var inputs: [Int] = []
                if let names = entry.inputs {
                    for (j, inputName) in names.enumerated() {
                        if inputName == "input" { inputs.append(Graph.modelInput); continue }
                        guard let index = nodeByName[inputName] else {
                            throw .invalidSpec("\(entry.path).inputs[\(j)]",
                                               "no earlier node is named \"\(inputName)\"; known: \(["input"] + nodes.map(\.name))")
                        }
                        inputs.append(index)
                    }
                } else {
                    inputs = [nodes.isEmpty ? Graph.modelInput : nodes.count - 1]
                }
                switch entry.kind {
                case let .dense(units, activation, bias, initializer, _):
                    guard inputs.count == 1 else { throw .invalidSpec("\(entry.path).inputs", "a dense layer reads exactly one node") }
                    let inputShape = shape(of: inputs[0])
                    guard inputShape.count == 1 else {
                        throw .invalidSpec(entry.path, "a dense layer needs a flat input, got shape \(inputShape)")
                    }
                    var tiedTo: Dense? = nil
                    if spec.tiedWeights && !isEncoder {
                        let mirror = encoderDenseCount - 1 - decoderDenseIndex
                        guard mirror >= 0 else {
                            throw .invalidSpec(entry.path, "tied_weights: the decoder has more dense layers than the encoder")
                        }
                        let encoderLayer = encoderDense[mirror]
                        guard encoderLayer.inputFeatures == units, encoderLayer.outputFeatures == inputShape[0] else {
                            throw .invalidSpec(entry.path, "tied_weights: this layer (\(inputShape[0])→\(units)) must mirror encoder dense layer \(mirror) (\(encoderLayer.inputFeatures)→\(encoderLayer.outputFeatures))")
                        }
                        tiedTo = encoderLayer
                        decoderDenseIndex += 1
                    }
                    let chosen = initializer ?? spec.initializer ?? (activation ?? .identity).preferredInitializer
                    let dense = Dense(inputFeatures: inputShape[0], outputFeatures: units, bias: bias,
                                      initializer: chosen, tiedTo: tiedTo)
                    if isEncoder { encoderDense.append(dense) }
                    let denseNode = try add(name, dense, inputs, encoder: isEncoder, path: entry.path)
                    if let activation {
                        // Links to the entry's name read its output: the activation.
                        let activationNode = try add("\(name).\(activation.name)", Activation(activation, shape: [units]),
                                                     [denseNode], encoder: isEncoder, path: entry.path)
                        nodeByName[name] = activationNode
                    }
                case let .kSparse(k):
                    guard inputs.count == 1 else { throw .invalidSpec("\(entry.path).inputs", "a k_sparse layer reads exactly one node") }
                    let shape = shape(of: inputs[0])
                    let size = shape.reduce(1, *)
                    guard k <= size else {
                        throw .invalidSpec("\(entry.path).k", "must be at most the layer's \(size) values, got \(k)")
                    }
                    _ = try add(name, KSparse(k: k, shape: shape), inputs, encoder: isEncoder, path: entry.path)
                case let .activation(function):
                    guard inputs.count == 1 else { throw .invalidSpec("\(entry.path).inputs", "an activation reads exactly one node") }
                    _ = try add(name, Activation(function, shape: shape(of: inputs[0])), inputs, encoder: isEncoder, path: entry.path)
                }
            }
            if isEncoder { codeNode = nodes.count - 1 }
        }
        if spec.tiedWeights && decoderDenseIndex != encoderDenseCount {
            throw .invalidSpec("tied_weights", "the decoder has \(decoderDenseIndex) dense layers but the encoder has \(encoderDenseCount); tied weights need a mirror image")
        }
        let outputShape = nodes[nodes.count - 1].layer.outputShape
        guard outputShape == spec.inputShape else {
            throw .invalidSpec("decoder", "the output shape \(outputShape) must equal the input shape \(spec.inputShape)")
        }
        // Every node but the output must feed another node, or its gradient would be undefined.
        var consumed = Set<Int>()
        for node in nodes { consumed.formUnion(node.inputs) }
        for index in 0..<(nodes.count - 1) where !consumed.contains(index) {
            throw .invalidSpec(nodePaths[index], "node \"\(nodes[index].name)\" is not read by any later node")
        }
        return Graph(inputShape: spec.inputShape, nodes: nodes, codeNode: codeNode)
    }
}
