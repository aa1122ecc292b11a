/// Per-sample lengths of a sequence model's batch (input shape [steps, features], or [steps] token
/// ids): where they are checked before anything changes, and what they do to outputs. See
/// docs/ARCHITECTURE.md, "Sequences".
extension Model {
    /// Whether the model reads sequences `[steps, features]` or token ids `[steps]` through a
    /// recurrent layer (and so may take lengths).
    public var isSequenceModel: Bool {
        (graph.inputShape.count == 2 || isTokenModel) && graph.nodes.contains { $0.layer is Recurrent }
    }

    /// T and F of a sequence model's input (F = 1 for token ids), or nil for other models.
    public var sequenceShape: (steps: Int, features: Int)? {
        guard isSequenceModel else { return nil }
        return (graph.inputShape[0], graph.inputShape.count == 2 ? graph.inputShape[1] : 1)
    }

    /// Checks `rows` lengths for this model: a sequence model, and each length in 1...T.
    func checkLengths(_ lengths: UnsafePointer<Int32>?, rows: Int, masked: Bool = false, name: String = "lengths") throws(AutoencoderError) {
        guard let lengths else { return }
        guard isSequenceModel else {
            throw .invalidArgument("\(name): lengths apply to sequence models (input shape [steps, features] and a recurrent layer); this model's input shape is \(graph.inputShape)")
        }
        guard !masked else { throw .invalidArgument("\(name): lengths and a mask cannot be combined (yet): give one of them") }
        try SequenceLoss.validate(lengths: lengths, batch: rows, steps: graph.inputShape[0], name: name)
    }

    /// Sets the steps past each sample's length (the workspace's lengths) to 0 in `rows` output
    /// rows `[T, F]` in caller memory; nothing without lengths or for a non-sequence output.
    func zeroPaddedSteps(_ workspace: Workspace, _ output: UnsafeMutablePointer<Float>, rows: Int) {
        guard let lengths = workspace.activeLengths, outputShape.count == 2, outputShape[0] == inputShape[0] else { return }
        let steps = outputShape[0], features = outputShape[1]
        for r in 0..<rows {
            let valid = SequenceLoss.validSteps(lengths, r, steps)
            (output + (r * steps + valid) * features).update(repeating: 0, count: (steps - valid) * features)
        }
    }
}
