/// Per-sample lengths of a sequence model's batch (input shape [steps, features]): where they
/// are checked before anything changes. See docs/ARCHITECTURE.md, "Sequences".
extension Model {
    /// Whether the model reads sequences `[steps, features]` (and so may take lengths).
    public var isSequenceModel: Bool { graph.inputShape.count == 2 && graph.nodes.contains { $0.layer is Recurrent } }

    /// Checks `rows` lengths for this model: a sequence model, and each length in 1...T.
    func checkLengths(_ lengths: UnsafePointer<Int32>?, rows: Int, masked: Bool = false) throws(AutoencoderError) {
        guard let lengths else { return }
        guard isSequenceModel else {
            throw .invalidArgument("lengths apply to sequence models (input shape [steps, features] and a recurrent layer); this model's input shape is \(graph.inputShape)")
        }
        guard !masked else { throw .invalidArgument("lengths and a mask cannot be combined (yet): give one of them") }
        try SequenceLoss.validate(lengths: lengths, batch: rows, steps: graph.inputShape[0])
    }
}
