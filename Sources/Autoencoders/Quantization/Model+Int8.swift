/// int8 inference: a trained model's dense and convolutional weights quantised to 8 bits per
/// output row (Int8Weights.swift), for smaller files and faster inference on embedded targets.
///
/// The quantised model is a new, inference-only model: encode, decode, reconstruct, score and
/// the codec run unchanged on it; training, parameter changes and data-parallel steps are
/// refused (`.unsupported`). Layers that compute with a weight matrix but have no int8 path
/// (tied dense decoders, transposed convolutions, recurrent layers, time-distributed dense
/// layers) keep their float weights and run in float: a documented fallback, listed by
/// `int8FallbackLayers`, or an error naming the layer with `requireAll`. The caller may keep
/// quantisable layers in float too (`keepFloat`), listed the same way. Normalisation,
/// embedding and the layers without weights always run in float.
final class Int8State {
    struct QuantizedLayer {
        let node: Int
        let name: String
        let weights: Int8Weights
    }

    let layers: [QuantizedLayer]
    /// "name (kind)" of each layer that computes with a weight matrix in float.
    let fallback: [String]

    init(layers: [QuantizedLayer], fallback: [String]) {
        self.layers = layers
        self.fallback = fallback
    }

    var isCalibrated: Bool { layers.contains { $0.weights.calibrated != nil } }

    /// "name (kind)" of each node up to the output with a weight matrix that is not among
    /// `quantized` (node indices): the layers without an int8 path and those kept in float.
    static func floatLayers(of graph: Graph, quantized: Set<Int>) -> [String] {
        var labels: [String] = []
        for (index, node) in graph.nodes.enumerated() where index <= graph.outputNode && !quantized.contains(index) {
            switch node.int8Candidate {
            case .quantizable, .fallback: labels.append("\(node.name) (\(node.layer.kind))")
            case .none: break
            }
        }
        return labels
    }
}

/// What a node offers for int8: its float weight `[rows, columns]` and where to attach the int8
/// weights, or why it has none.
enum Int8Candidate {
    case quantizable(weight: UnsafeMutablePointer<Float>, rows: Int, columns: Int, attach: (Int8Weights) -> Void)
    case fallback(reason: String)
    /// No weight matrix (activations, pooling, normalisation, embedding lookups).
    case none
}

extension GraphNode {
    var int8Candidate: Int8Candidate {
        switch layer {
        case let dense as Dense:
            if dense.tiedTo != nil { return .fallback(reason: "its weight is tied to an encoder layer's (transposed)") }
            guard dense.inputFeatures <= Int8Weights.maxColumns else {
                return .fallback(reason: "\(dense.inputFeatures) input features, more than the int8 GEMM's \(Int8Weights.maxColumns)")
            }
            return .quantizable(weight: dense.weight, rows: dense.outputFeatures, columns: dense.inputFeatures) { dense.int8 = $0 }
        case let convolution as Convolution:
            let columns = convolution.geometry.columnRows
            guard columns <= Int8Weights.maxColumns else {
                return .fallback(reason: "\(columns) values per filter, more than the int8 GEMM's \(Int8Weights.maxColumns)")
            }
            return .quantizable(weight: convolution.weight, rows: convolution.filters, columns: columns) { convolution.int8 = $0 }
        case is TransposedConvolution:
            return .fallback(reason: "transposed convolutions have no int8 path")
        case is Recurrent:
            return .fallback(reason: "recurrent layers have no int8 path")
        case is TimeDistributedDense:
            return .fallback(reason: "time-distributed dense layers have no int8 path")
        default:
            return .none
        }
    }
}

extension Model {
    /// Whether this is an int8 (inference-only) model.
    public var isInt8: Bool { int8 != nil }

    /// The nodes that run on int8 weights, in graph order.
    public var int8QuantizedLayers: [String] { int8?.layers.map(\.name) ?? [] }

    /// The nodes with a weight matrix that run in float in an int8 model ("name (kind)").
    public var int8FallbackLayers: [String] { int8?.fallback ?? [] }

    /// Whether the int8 layers use fixed input ranges from calibration (else dynamic, per sample).
    public var int8IsCalibrated: Bool { int8?.isCalibrated ?? false }

    /// A new, inference-only model with this model's dense and convolutional weights in int8.
    ///
    /// - Parameters:
    ///   - calibration: `rows` raw samples (`[rows, inputSize]`) from which each int8 layer's input
    ///     range is fixed (min and max of what the layer sees, running the float model); nil for
    ///     dynamic ranges, computed for each sample from its own values at inference.
    ///   - requireAll: refuse (`.unsupported`, naming the layer) a model with a layer that would
    ///     fall back to float, instead of falling back.
    ///   - keepFloat: names of dense or convolutional layers (`int8QuantizedLayers` of a copy
    ///     quantised without it) to leave in float, as ONNX Runtime's `nodes_to_exclude`: the
    ///     layers whose 8-bit error matters most, such as the first decoder layer reading a small
    ///     code. They are listed with `int8FallbackLayers`; `requireAll` does not refuse them.
    /// The copy keeps the spec, input scaling, anomaly threshold, code quantiser and training
    /// counters; it drops the optimizer state. This model is not changed.
    public func quantizedInt8(calibration: UnsafePointer<Float>? = nil, rows: Int = 0, requireAll: Bool = false,
                              keepFloat: [String] = []) throws(AutoencoderError) -> Model {
        guard int8 == nil else { throw .unsupported("the model is already an int8 model") }
        if let calibration {
            guard rows >= 1 else { throw .invalidArgument("calibration: pass at least one sample, got \(rows)") }
            try checkFinite(calibration, count: rows * inputSize, name: "calibration data")
        } else if rows != 0 {
            throw .invalidArgument("calibration: no data given but rows is \(rows)")
        }
        var quantizable: [String] = []
        for (index, node) in graph.nodes.enumerated() where index <= graph.outputNode {
            switch node.int8Candidate {
            case .fallback(let reason) where requireAll:
                let label = "\(node.name) (\(node.layer.kind))"
                throw .unsupported("layer \(label)\(node.path.isEmpty ? "" : " at \(node.path)") has no int8 path: \(reason); "
                                   + "quantise without require_all to keep it in float")
            case .quantizable: quantizable.append(node.name)
            case .fallback, .none: break
            }
        }
        let kept = Set(keepFloat)
        for name in keepFloat where !quantizable.contains(name) {
            throw .invalidArgument("layer \"\(name)\", to keep in float, is not a layer of this model that int8 quantises; "
                                   + "those are: \(quantizable.joined(separator: ", "))")
        }
        guard quantizable.contains(where: { !kept.contains($0) }) else {
            throw .unsupported("the model has no dense or convolutional layer to quantise to int8"
                               + (quantizable.isEmpty ? "" : " (all of them are kept in float)"))
        }
        let copy = try ModelFile.decode(try serialized(includeOptimizerState: false), source: "the model's copy")
        var layers: [Int8State.QuantizedLayer] = []
        for (index, node) in copy.graph.nodes.enumerated() where index <= copy.graph.outputNode && !kept.contains(node.name) {
            guard case .quantizable(let weight, let rows, let columns, let attach) = node.int8Candidate else { continue }
            let weights = try Int8Weights(quantizing: weight, rows: rows, columns: columns)
            weights.dequantize(into: weight)
            attach(weights)
            layers.append(.init(node: index, name: node.name, weights: weights))
        }
        if let calibration {
            for layer in layers { layer.weights.calibrating = true }
            try copy.run(rows: rows) { workspace, start, count in
                copy.feed(workspace, calibration + start * copy.inputSize, rows: count)
                copy.graph.infer(workspace, batch: count, nodes: 0...copy.graph.outputNode)
            }
            for layer in layers {
                let seen = layer.weights.observed ?? (0, 0)
                layer.weights.calibrated = Int8ActivationRange(low: seen.low, high: seen.high)
                layer.weights.calibrating = false
                layer.weights.observed = nil
            }
        }
        copy.int8 = Int8State(layers: layers, fallback: Int8State.floatLayers(of: copy.graph, quantized: Set(layers.map(\.node))))
        return copy
    }

    /// Refuses `what` on an int8 model, which is for inference only.
    func refuseIfInt8(_ what: String) throws(AutoencoderError) {
        guard int8 != nil else { return }
        throw .unsupported("\(what): this is an int8 model, for inference only (its weights are quantised to 8 bits); "
                           + "train the float model and quantise it again")
    }
}
