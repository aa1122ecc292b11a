/// Segmentation models: trained with `"loss": "cross_entropy"` against a label per input position,
/// they output one logit per class at every position ([classes, spatial...]); `segment` returns
/// the label map.
extension Model {
    /// Whether the model segments (cross-entropy against labels) rather than reconstructs.
    public var isSegmentation: Bool {
        if case .segmentation = spec.task { return true }
        return false
    }

    /// Classes of a segmentation model (0 for a reconstruction model).
    public var classCount: Int { isSegmentation ? graph.outputShape[0] : 0 }

    /// Training targets per sample: a label per position for segmentation, else the input itself.
    /// (The supervised prior of an adversarial autoencoder takes one label per sample.)
    public var labelSize: Int {
        if takesComponentLabels { return 1 }
        return isSegmentation ? graph.outputSize / graph.outputShape[0] : inputSize
    }

    /// labels[r, position] = the most likely class, for `rows` raw samples.
    public func segment(_ x: UnsafePointer<Float>, rows: Int, into labels: UnsafeMutablePointer<Int32>) throws(AutoencoderError) {
        guard isSegmentation else {
            throw .unsupported("segment: this model reconstructs its input; segmentation needs a model trained with \"loss\": \"cross_entropy\"")
        }
        try checkFinite(x, count: rows * inputSize, name: "input")
        let classes = classCount, positions = labelSize
        try run(rows: rows) { workspace, start, count in
            infer(workspace, x + start * inputSize, rows: count, nodes: 0...graph.outputNode)
            CrossEntropy.argmax(logits: workspace.activations[graph.outputNode].pointer, batch: count, classes: classes,
                                positions: positions, labels: labels + start * positions)
        }
    }

    /// `segment` for Swift arrays: returns `[rows] + spatial shape` labels.
    public func segment(_ x: Tensor) throws(AutoencoderError) -> (shape: [Int], labels: [Int32]) {
        let rows = try rowCount(of: x, features: inputSize, name: "input")
        var labels = [Int32](repeating: 0, count: rows * labelSize)
        try x.values.withUnsafeBufferPointer { (input) throws(AutoencoderError) in
            try labels.withUnsafeMutableBufferPointer { (out) throws(AutoencoderError) in
                guard rows > 0 else { return }
                try segment(input.baseAddress!, rows: rows, into: out.baseAddress!)
            }
        }
        return ([rows] + Array(graph.outputShape.dropFirst()), labels)
    }

    /// Training targets: labels for a segmentation model (required, each a class or the ignore
    /// label), none for a reconstruction model.
    func checkTargets(_ labels: UnsafePointer<Float>?, rows: Int, name: String = "labels") throws(AutoencoderError) {
        if takesComponentLabels { return try checkComponentLabels(labels, rows: rows, name: name) }
        guard case let .segmentation(ignoreLabel) = spec.task else {
            guard labels == nil else {
                throw .invalidArgument("\(name): this model reconstructs its input and takes no labels")
            }
            return
        }
        guard let labels else {
            throw .invalidArgument("\(name) are required: a segmentation model trains against a label per position (\(labelSize) per sample)")
        }
        do {
            try CrossEntropy.validateLabels(labels, batch: rows, shape: Array(graph.outputShape.dropFirst()), classes: classCount,
                                            ignoreLabel: ignoreLabel)
        } catch {
            throw .invalidArgument("\(name): \(error.message)")
        }
    }

    /// Refuses reconstruction-only calls on a segmentation model.
    public func requireReconstruction(_ operation: String) throws(AutoencoderError) {
        if isSegmentation {
            throw .unsupported("\(operation): this is a segmentation model (cross-entropy against labels); use segment")
        }
        try requireFloatOutput(operation)
    }
}
