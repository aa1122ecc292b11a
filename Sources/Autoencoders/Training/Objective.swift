/// What training minimises: the reconstruction loss (mean over every element of the batch) plus
/// the regularization terms of the spec. The autoencoder families are compositions of these terms.
struct Objective {
    let loss: ReconstructionLoss
    /// A sigmoid output feeding BCE is computed as one fused step from the logits (exact and cheaper).
    let fusedSigmoidBCE: Bool
    /// The node backward starts from: the output, or the sigmoid's input when fused.
    let backwardStart: Int
    /// The last node training must run forward: the fused sigmoid itself is not needed.
    var lastForwardNode: Int { backwardStart }
    /// Weight-decay terms: a slice of the parameter buffer and its penalty.
    let decayTerms: [(offset: Int, count: Int, decay: WeightDecay)]

    init(spec: ModelSpec, graph: Graph, table: ParameterTable) {
        loss = spec.loss
        let output = graph.nodes[graph.outputNode]
        if spec.loss == .bce, let sigmoid = output.layer as? Activation, sigmoid.function == .sigmoid,
           output.inputs.count == 1, output.inputs[0] != Graph.modelInput {
            fusedSigmoidBCE = true
            backwardStart = graph.outputNode - 1
        } else {
            fusedSigmoidBCE = false
            backwardStart = graph.outputNode
        }
        // A dense layer's own weight_decay replaces the global one for that layer.
        var terms: [(offset: Int, count: Int, decay: WeightDecay)] = []
        var layerDecay: [String: WeightDecay?] = [:]
        for entry in spec.encoder + spec.decoder {
            if case let .dense(_, _, _, _, decay) = entry.kind, let decay { layerDecay[entry.path] = decay }
        }
        let entriesByPath = Objective.specPaths(spec: spec, graph: graph)
        for parameter in table.entries {
            let own = entriesByPath[parameter.node].flatMap { layerDecay[$0] } ?? nil
            guard let decay = own ?? spec.weightDecay, decay.lambda > 0 else { continue }
            if parameter.isWeight || decay.includeBiases {
                terms.append((parameter.offset, parameter.count, decay))
            }
        }
        decayTerms = terms
    }

    /// The spec path of the entry each node came from ("encoder[0]"), by matching names.
    private static func specPaths(spec: ModelSpec, graph: Graph) -> [String?] {
        var byName: [String: String] = [:]
        for (part, entries) in [("encoder", spec.encoder), ("decoder", spec.decoder)] {
            for (i, entry) in entries.enumerated() {
                let name = entry.name ?? "\(part).\(i)"
                byName[name] = entry.path
            }
        }
        return graph.nodes.map { byName[$0.name] }
    }

    /// The mean reconstruction loss of the first `batch` rows against `workspace.target`. With
    /// `gradient`, also seeds the gradient of node `backwardStart` with ∂loss/∂output.
    func reconstructionLoss(graph: Graph, workspace: Workspace, batch: Int, gradient: Bool) -> Double {
        let count = batch * graph.outputSize
        let scale = 1 / Float(count)
        let target = workspace.target.pointer
        if fusedSigmoidBCE {
            let logitsNode = graph.nodes[graph.outputNode].inputs[0]
            let sum = ReconstructionLoss.sigmoidBCE(
                logits: workspace.activations[logitsNode].pointer, target: target, count: count,
                gradient: gradient ? workspace.gradients[logitsNode].pointer : nil, scale: scale)
            return sum / Double(count)
        }
        let sum = loss.evaluate(output: workspace.activations[graph.outputNode].pointer, target: target, count: count,
                                gradient: gradient ? workspace.gradients[graph.outputNode].pointer : nil, scale: scale)
        return sum / Double(count)
    }

    /// The weight-decay penalty; with `gradients`, adds its gradient.
    func penalty(parameters: FloatBuffer, gradients: FloatBuffer?) -> Double {
        var total: Double = 0
        for term in decayTerms {
            total += term.decay.apply(parameters.pointer + term.offset, count: term.count,
                                      gradient: gradients.map { $0.pointer + term.offset })
        }
        return total
    }
}
