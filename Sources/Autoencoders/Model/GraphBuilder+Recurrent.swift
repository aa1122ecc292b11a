/// Builds the sequence entries of a spec: LSTM and GRU stacks, repeat and the per-step dense
/// layer. A sequence is [T, F] per sample; a code is a vector [H].
extension GraphBuilder {
    mutating func addRecurrent(_ entry: LayerSpec, name: String, inputs: [Int], isEncoder: Bool) throws(AutoencoderError) {
        let path = entry.path
        // Layers report impossible configurations as .invalidArgument; in a spec they belong to the entry.
        func build<L: Layer>(_ make: () throws(AutoencoderError) -> L) throws(AutoencoderError) -> L {
            do { return try make() } catch { throw error.kind == .invalidArgument ? .invalidSpec(path, error.message) : error }
        }
        guard inputs.count == 1 else { throw .invalidSpec("\(path).inputs", "this layer reads exactly one node") }
        let input = shape(of: inputs[0])
        func requireSequence(_ what: String) throws(AutoencoderError) -> (steps: Int, features: Int) {
            guard input.count == 2 else {
                throw .invalidSpec(path, "\(what) needs a sequence input of shape [steps, features], got \(input)")
            }
            return (input[0], input[1])
        }
        switch entry.kind {
        case let .recurrent(r):
            let (steps, features) = try requireSequence(r.isGRU ? "a gru layer" : "an lstm layer")
            // An initial state: h_0 (and c_0) read from named nodes of shape [layers · D · H].
            let stateSize = r.layers * (r.bidirectional ? 2 : 1) * r.units
            var stateNodes: [Int] = []
            for (i, stateName) in r.initialState.enumerated() {
                let at = r.initialState.count == 1 ? "\(path).initial_state" : "\(path).initial_state[\(i)]"
                let node = try node(named: stateName, path: at)
                guard node != Graph.modelInput, shape(of: node) == [stateSize] else {
                    throw .invalidSpec(at, "the initial state must be a vector of layers · directions · units = \(stateSize) values per sample; \"\(stateName)\" has shape \(shape(of: node))")
                }
                stateNodes.append(node)
            }
            let initialState: Recurrent.InitialState = stateNodes.isEmpty ? .zeros : stateNodes.count == 1 ? .hidden : .hiddenAndCell
            let layer = try build { () throws(AutoencoderError) in
                try Recurrent(cell: r.isGRU ? .gru : .lstm, steps: steps, inputFeatures: features, hidden: r.units, layers: r.layers,
                              bidirectional: r.bidirectional, outputs: r.returnsLast ? .last : .sequence, initialState: initialState,
                              dropout: r.dropout, initializer: r.initializer ?? spec.initializer ?? .pytorch)
            }
            // Reading a repeated code (the classic LSTM autoencoder's decoder): only the sum of the
            // input gradient over the steps is read back (Recurrent.inputGradientIsSummedOverSteps).
            layer.inputGradientIsSummedOverSteps = inputs[0] != Graph.modelInput && nodes[inputs[0]].layer is Repeat
            try add(name, layer, inputs + stateNodes, encoder: isEncoder, path: path)
        case let .embedding(vocabulary, units, padding, initializer):
            guard inputs == [Graph.modelInput], input.count == 1 else {
                throw .invalidSpec(path, "an embedding reads the model's token ids [T] (\"input_shape\": [T]), got \(input)")
            }
            let layer = try build { () throws(AutoencoderError) in
                try Embedding(steps: input[0], vocabulary: vocabulary, dimension: units, paddingIndex: padding,
                              initializer: initializer ?? spec.initializer ?? .lecunNormal)
            }
            try add(name, layer, inputs, encoder: isEncoder, path: path)
        case let .repeatSteps(steps):
            guard input.count == 1 else {
                throw .invalidSpec(path, "repeat needs a vector input [features] (a code), got \(input)")
            }
            try add(name, try build { () throws(AutoencoderError) in try Repeat(steps: steps, features: input[0]) }, inputs,
                    encoder: isEncoder, path: path)
        case let .timeDistributedDense(units, activation, bias, initializer):
            let (steps, features) = try requireSequence("a time_distributed_dense layer")
            let chosen = initializer ?? spec.initializer ?? .pytorch
            let layer = try build { () throws(AutoencoderError) in
                try TimeDistributedDense(steps: steps, inputFeatures: features, outputFeatures: units, bias: bias, initializer: chosen)
            }
            let node = try add(name, layer, inputs, encoder: isEncoder, path: path)
            try addActivation(activation, after: node, name: name, encoder: isEncoder, path: path)
        default:
            throw .invalidSpec(path, "internal: \(entry.kind) is not a sequence entry")
        }
    }
}
