/// Inference: encode, decode, reconstruct and the per-sample anomaly score. Inputs are raw data
/// (the model's input scaling is applied inside), `[rows, inputSize]` row-major; results are
/// written to caller memory. Concurrent calls on one model are safe.
extension Model {
    /// code[rows, codeSize] = encoder(scale(x)); a sequence model may take per-sample `lengths`
    /// (`[rows]`, each in 1...T; see SequenceLengths.swift).
    public func encode(_ x: UnsafePointer<Float>, rows: Int, lengths: UnsafePointer<Int32>? = nil,
                       into code: UnsafeMutablePointer<Float>) throws(AutoencoderError) {
        try checkFinite(x, count: rows * inputSize, name: "input")
        try checkLengths(lengths, rows: rows)
        try run(rows: rows, lengths: lengths) { workspace, start, count in
            infer(workspace, x + start * inputSize, rows: count, nodes: 0...graph.codeNode)
            (code + start * codeSize).update(from: workspace.activations[graph.codeNode].pointer, count: count * codeSize)
        }
    }

    /// x̂[rows, inputSize] = unscale(decoder(code)). Refused when the decoder needs encoder side information.
    public func decode(_ code: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>) throws(AutoencoderError) {
        try requireReconstruction("decode")
        guard canDecode else {
            throw .unsupported("decode: this model's decoder reads encoder feature maps besides the code (skip or index links); use reconstruct instead")
        }
        try checkFinite(code, count: rows * codeSize, name: "code", rowSize: codeSize)
        try run(rows: rows) { workspace, start, count in
            workspace.activations[graph.codeNode].pointer.update(from: code + start * codeSize, count: count * codeSize)
            if graph.codeNode < graph.outputNode {
                graph.infer(workspace, batch: count, nodes: (graph.codeNode + 1)...graph.outputNode)
            }
            emit(workspace, into: output + start * outputSize, rows: count)
        }
    }

    /// x̂[rows, inputSize] = unscale(decoder(encoder(scale(x)))). With `lengths` (a sequence
    /// model), the steps past each sample's length are 0 in the output.
    public func reconstruct(_ x: UnsafePointer<Float>, rows: Int, lengths: UnsafePointer<Int32>? = nil,
                            into output: UnsafeMutablePointer<Float>) throws(AutoencoderError) {
        try requireReconstruction("reconstruct")
        try checkFinite(x, count: rows * inputSize, name: "input")
        try checkLengths(lengths, rows: rows)
        try reconstruct(x, rows: rows, lengths: lengths, into: output, prepare: nil)
    }

    /// Reconstruction with a hook that may change each chunk's scaled input (`[count, inputSize]`,
    /// starting at sample `start`) before the forward pass. Inputs are already checked.
    func reconstruct(_ x: UnsafePointer<Float>, rows: Int, lengths: UnsafePointer<Int32>? = nil, into output: UnsafeMutablePointer<Float>,
                     prepare: ((_ input: UnsafeMutablePointer<Float>, _ start: Int, _ count: Int) -> Void)?) throws(AutoencoderError) {
        try run(rows: rows, lengths: lengths) { workspace, start, count in
            if let prepare {
                feed(workspace, x + start * inputSize, rows: count)
                prepare(workspace.input.pointer, start, count)
                graph.infer(workspace, batch: count, nodes: 0...graph.outputNode)
            } else if writesInPlace(x + start * inputSize, into: output + start * outputSize, rows: count) {
                // The output node writes the caller's rows, finished there: no copy.
                workspace.writing(node: graph.outputNode, into: output + start * outputSize) {
                    infer(workspace, x + start * inputSize, rows: count, nodes: 0...graph.outputNode)
                }
                finish(workspace, output + start * outputSize, rows: count)
                return
            } else {
                infer(workspace, x + start * inputSize, rows: count, nodes: 0...graph.outputNode)
            }
            emit(workspace, into: output + start * outputSize, rows: count)
        }
    }

    /// Whether a reconstruction's output node can write the caller's `output` rows directly
    /// (`Workspace.writing`): its buffer is its own (not shared by a node working in place), and
    /// the rows do not overlap the input rows, which the first layers may read where they are.
    private func writesInPlace(_ x: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, rows: Int) -> Bool {
        guard !graph.worksInPlace[graph.outputNode] else { return false }
        let input = UnsafeRawPointer(x), written = UnsafeRawPointer(output)
        return written + rows * outputSize * MemoryLayout<Float>.stride <= input
            || input + rows * inputSize * MemoryLayout<Float>.stride <= written
    }

    /// score[r] = mean over features of (x̂ − x)², in the model's scaled space: the reconstruction
    /// error that serves as an anomaly score. With `lengths` (a sequence model) the mean runs over
    /// the values of each sample's valid steps; a token model's score is its mean cross-entropy.
    public func score(_ x: UnsafePointer<Float>, rows: Int, lengths: UnsafePointer<Int32>? = nil,
                      into scores: UnsafeMutablePointer<Float>) throws(AutoencoderError) {
        if isTokenModel { return try scoreTokens(x, rows: rows, lengths: lengths, into: scores) }
        try requireReconstruction("score")
        try checkFinite(x, count: rows * inputSize, name: "input")
        try checkLengths(lengths, rows: rows)
        let features = outputSize
        let steps = isSequenceModel ? inputShape[0] : 1
        try run(rows: rows, lengths: lengths) { workspace, start, count in
            feed(workspace, x + start * inputSize, rows: count)
            graph.infer(workspace, batch: count, nodes: 0...graph.outputNode)
            let output = workspace.activations[graph.outputNode].pointer
            if let activation = spec.loss.outputActivation { Activation.apply(activation, output, output, count * features) }
            let target = workspace.input.pointer
            for r in 0..<count {
                var sum: Float = 0
                let valid = lengths.map { features / steps * Int($0[start + r]) } ?? features
                let o = output + r * features, t = target + r * features
                for j in 0..<valid { let d = o[j] - t[j]; sum += d * d }
                scores[start + r] = sum / Float(valid)
            }
        }
    }

    // MARK: Tensor conveniences for Swift callers

    public func encode(_ x: Tensor) throws(AutoencoderError) -> Tensor {
        let (rows, code) = try mapRows(x, features: inputSize, name: "input", outputFeatures: codeSize) {
            (input, rows, out) throws(AutoencoderError) in try encode(input, rows: rows, into: out)
        }
        return Tensor(checkedShape: [rows] + codeShape, values: code)
    }

    public func decode(_ code: Tensor) throws(AutoencoderError) -> Tensor {
        let (rows, output) = try mapRows(code, features: codeSize, name: "code", outputFeatures: outputSize) {
            (input, rows, out) throws(AutoencoderError) in try decode(input, rows: rows, into: out)
        }
        return Tensor(checkedShape: [rows] + inputShape, values: output)
    }

    public func reconstruct(_ x: Tensor) throws(AutoencoderError) -> Tensor {
        let (rows, output) = try mapRows(x, features: inputSize, name: "input", outputFeatures: outputSize) {
            (input, rows, out) throws(AutoencoderError) in try reconstruct(input, rows: rows, into: out)
        }
        return Tensor(checkedShape: [rows] + inputShape, values: output)
    }

    public func score(_ x: Tensor) throws(AutoencoderError) -> [Float] {
        try mapRows(x, features: inputSize, name: "input", outputFeatures: 1) {
            (input, rows, out) throws(AutoencoderError) in try score(input, rows: rows, into: out)
        }.values
    }

    /// Checks that `x` is `[rows, features]`, then runs `body` from its values into a new
    /// `[rows, outputFeatures]` array (nothing runs for zero rows).
    func mapRows(_ x: Tensor, features: Int, name: String, outputFeatures: Int,
                 _ body: (UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) throws(AutoencoderError) -> Void)
        throws(AutoencoderError) -> (rows: Int, values: [Float]) {
        let rows = try rowCount(of: x, features: features, name: name)
        var output = [Float](repeating: 0, count: try Size.floats(rows, outputFeatures, for: "the output of \(rows) samples"))
        guard rows > 0 else { return (0, output) }
        try x.values.withUnsafeBufferPointer { (input) throws(AutoencoderError) in
            try output.withUnsafeMutableBufferPointer { (out) throws(AutoencoderError) in
                try body(input.baseAddress!, rows, out.baseAddress!)
            }
        }
        return (rows, output)
    }

    // MARK: Plumbing

    /// Runs `body` over chunks of at most `WorkspacePool.chunk` rows, under the read lock, with
    /// each chunk's `lengths` (already checked) in the workspace, or none.
    func run(rows: Int, lengths: UnsafePointer<Int32>? = nil, _ body: (Workspace, _ start: Int, _ count: Int) -> Void) throws(AutoencoderError) {
        guard rows >= 0 else { throw .invalidArgument("rows must be non-negative, got \(rows)") }
        guard rows > 0 else { return }
        try lock.withReadLock { () throws(AutoencoderError) in
            let plan = packedWeights.plan(graph: graph, writes: lock.writes)
            try workspaces.withWorkspace(rows: rows) { workspace in
                workspace.inferencePlan = plan
                defer { workspace.inferencePlan = nil }
                var start = 0
                while start < rows {
                    let count = min(workspace.capacity, rows - start)
                    workspace.setLengths(lengths.map { $0 + start }, rows: count)
                    body(workspace, start, count)
                    start += count
                }
            }
        }
    }

    /// Scales (or copies) raw rows into the workspace's input.
    func feed(_ workspace: Workspace, _ x: UnsafePointer<Float>, rows: Int) {
        if let inputScaling {
            inputScaling.apply(x, workspace.input.pointer, rows: rows)
        } else {
            workspace.input.pointer.update(from: x, count: rows * inputSize)
        }
    }

    /// Runs `nodes` in inference on `rows` raw rows: where they are when the model has no input
    /// scaling (`Workspace.reading`: W3's batch of 256 spent 2.6 % of its time copying them), else
    /// scaled into the workspace's input first.
    func infer(_ workspace: Workspace, _ x: UnsafePointer<Float>, rows: Int, nodes: ClosedRange<Int>) {
        guard inputScaling == nil else {
            feed(workspace, x, rows: rows)
            return graph.infer(workspace, batch: rows, nodes: nodes)
        }
        workspace.reading(x) { graph.infer(workspace, batch: rows, nodes: nodes) }
    }

    /// Copies the output node into caller memory in data space (output activation, then unscaling).
    private func emit(_ workspace: Workspace, into output: UnsafeMutablePointer<Float>, rows: Int) {
        let source = workspace.activations[graph.outputNode].pointer
        if let activation = spec.loss.outputActivation {
            Activation.apply(activation, source, output, rows * outputSize)
        } else {
            output.update(from: source, count: rows * outputSize)
        }
        inputScaling?.invert(output, rows: rows)
        zeroPaddedSteps(workspace, output, rows: rows)
    }

    /// `emit` for an output node that wrote the caller's rows: the same steps, in place.
    private func finish(_ workspace: Workspace, _ output: UnsafeMutablePointer<Float>, rows: Int) {
        if let activation = spec.loss.outputActivation { Activation.apply(activation, output, output, rows * outputSize) }
        inputScaling?.invert(output, rows: rows)
        zeroPaddedSteps(workspace, output, rows: rows)
    }

    /// Rejects non-finite values; `rowSize` (default: the input size) numbers the sample in the message.
    func checkFinite(_ x: UnsafePointer<Float>, count: Int, name: String, rowSize: Int? = nil) throws(AutoencoderError) {
        if let i = firstNonFinite(x, count: count) {
            let row = i / max(rowSize ?? inputSize, 1)
            throw .numeric("\(name): element \(i) (sample \(row)) is \(x[i]); data must be finite")
        }
        // A token model's inputs are ids: each must be an integer in 0..<V.
        if rowSize == nil, let embedding { try embedding.validate(ids: x, count: count, name: name) }
    }

    func rowCount(of tensor: Tensor, features: Int, name: String) throws(AutoencoderError) -> Int {
        guard tensor.shape.count >= 1, tensor.rowSize == features else {
            throw .shapeMismatch("\(name): expected shape [rows, \(features)], got \(tensor.shape)")
        }
        return tensor.rows
    }
}

extension ReconstructionLoss {
    /// The function that maps the network's output to data space (σ for a logits loss).
    var outputActivation: ActivationFunction? { self == .bceWithLogits ? .sigmoid : nil }
}
