/// Token (text) models: the encoder's first entry is an embedding, the input is `[T]` token ids
/// (passed as exact floats, like every input), the output a logit per vocabulary entry at every
/// step (`[T, V]`) trained with the per-step cross-entropy against the input's own ids
/// (`"loss": "sequence_cross_entropy"`). Reconstruction is the most likely token per step.
extension Model {
    /// The embedding that reads a token model's ids, or nil.
    var embedding: Embedding? { graph.nodes.first?.layer as? Embedding }

    /// Whether the model reads token ids.
    public var isTokenModel: Bool { embedding != nil }

    /// The vocabulary size V of a token model, 0 for other models.
    public var vocabularySize: Int { embedding?.vocabulary ?? 0 }

    /// The id padded steps receive in `reconstructTokens`: the embedding's padding id, else 0.
    public var paddingID: Int32 { Int32(embedding?.paddingIndex ?? 0) }

    /// Refuses float-output calls on a token model.
    public func requireFloatOutput(_ operation: String) throws(AutoencoderError) {
        if isTokenModel {
            throw .unsupported("\(operation): this is a token model (an embedding reads token ids and the output is a logit per vocabulary entry); use the token calls (reconstruct_tokens, decode_tokens, score_tokens)")
        }
    }

    /// Refuses token calls on a model that takes floats.
    public func requireTokenModel(_ operation: String) throws(AutoencoderError) {
        guard isTokenModel else {
            throw .unsupported("\(operation): this model takes floats, not token ids (a token model's first encoder entry is an \"embedding\")")
        }
    }

    /// tokens[r, t] = argmax_v logits[r, t, v] of the reconstruction of `rows` samples of ids
    /// (`[rows, T]`, as floats); steps past a sample's length get the padding id.
    public func reconstructTokens(_ x: UnsafePointer<Float>, rows: Int, lengths: UnsafePointer<Int32>? = nil,
                                  into tokens: UnsafeMutablePointer<Int32>) throws(AutoencoderError) {
        try requireTokenModel("reconstruct_tokens")
        try checkFinite(x, count: rows * inputSize, name: "tokens")
        try checkLengths(lengths, rows: rows)
        let steps = inputShape[0], padding = paddingID
        try run(rows: rows, lengths: lengths) { workspace, start, count in
            infer(workspace, x + start * inputSize, rows: count, nodes: 0...graph.outputNode)
            emitTokens(workspace, into: tokens + start * steps, rows: count, padding: padding)
        }
    }

    /// tokens[r, t]: the most likely token at every step of decoder(code) for `rows` codes.
    public func decodeTokens(_ code: UnsafePointer<Float>, rows: Int, into tokens: UnsafeMutablePointer<Int32>) throws(AutoencoderError) {
        try requireTokenModel("decode_tokens")
        guard canDecode else {
            throw .unsupported("decode_tokens: this model's decoder reads encoder nodes besides the code; use reconstruct_tokens instead")
        }
        try checkFinite(code, count: rows * codeSize, name: "code", rowSize: codeSize)
        let steps = inputShape[0], padding = paddingID
        try run(rows: rows) { workspace, start, count in
            workspace.activations[graph.codeNode].pointer.update(from: code + start * codeSize, count: count * codeSize)
            if graph.codeNode < graph.outputNode {
                graph.infer(workspace, batch: count, nodes: (graph.codeNode + 1)...graph.outputNode)
            }
            emitTokens(workspace, into: tokens + start * steps, rows: count, padding: padding)
        }
    }

    /// scores[r]: sample r's mean cross-entropy over its counted steps (valid, and whose token is
    /// not the ignore index); 0 for a sample without any.
    public func scoreTokens(_ x: UnsafePointer<Float>, rows: Int, lengths: UnsafePointer<Int32>? = nil,
                            into scores: UnsafeMutablePointer<Float>) throws(AutoencoderError) {
        try requireTokenModel("score_tokens")
        try checkFinite(x, count: rows * inputSize, name: "tokens")
        try checkLengths(lengths, rows: rows)
        guard case let .sequenceCrossEntropy(ignore) = spec.task else { return }
        let steps = inputShape[0], vocabulary = vocabularySize
        try run(rows: rows, lengths: lengths) { workspace, start, count in
            feed(workspace, x + start * inputSize, rows: count)
            graph.infer(workspace, batch: count, nodes: 0...graph.outputNode)
            let logits = workspace.activations[graph.outputNode].pointer, ids = UnsafePointer(workspace.input.pointer)
            for r in 0..<count {
                let length: UnsafePointer<Int32>? = lengths.map { $0 + start + r }
                let (sum, counted) = SequenceLoss.crossEntropy(logits: logits + r * steps * vocabulary, labels: ids + r * steps, batch: 1,
                                                               steps: steps, vocabulary: vocabulary, lengths: length, gradient: nil,
                                                               scale: 0, ignoreLabel: ignore)
                scores[start + r] = counted > 0 ? Float(sum / Double(counted)) : 0
            }
        }
    }

    /// Writes the argmax of each step's logits, and the padding id past each sample's length.
    private func emitTokens(_ workspace: Workspace, into tokens: UnsafeMutablePointer<Int32>, rows: Int, padding: Int32) {
        let steps = inputShape[0], vocabulary = vocabularySize
        let logits = workspace.activations[graph.outputNode].pointer, lengths = workspace.activeLengths
        for r in 0..<rows {
            let valid = SequenceLoss.validSteps(lengths, r, steps)
            for t in 0..<steps {
                guard t < valid else { tokens[r * steps + t] = padding; continue }
                let z = logits + (r * steps + t) * vocabulary
                var best = 0
                for v in 1..<max(vocabulary, 1) where z[v] > z[best] { best = v }
                tokens[r * steps + t] = Int32(best)
            }
        }
    }
}
