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
            let layer = try build { () throws(AutoencoderError) in
                try Recurrent(cell: r.isGRU ? .gru : .lstm, steps: steps, inputFeatures: features, hidden: r.units, layers: r.layers,
                              bidirectional: r.bidirectional, outputs: r.returnsLast ? .last : .sequence, dropout: r.dropout,
                              initializer: r.initializer ?? spec.initializer ?? .pytorch)
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
