/// What training minimises: the reconstruction loss (mean over every element of the batch) plus
/// the regularization terms of the spec. The autoencoder families are compositions of these terms.
struct Objective {
    let loss: ReconstructionLoss
    /// Segmentation: per-position cross-entropy against the labels in `workspace.target`.
    let task: ModelSpec.Task
    /// Segmentation with a soft Dice loss (alone or with the cross-entropy), else nil.
    let dice: SoftDice?
    /// A sigmoid output feeding BCE is computed as one fused step from the logits (exact and cheaper).
    let fusedSigmoidBCE: Bool
    /// The node backward starts from: the output, or the sigmoid's input when fused.
    let backwardStart: Int
    /// The last node training must run forward: the fused sigmoid itself is not needed, unless
    /// branch heads follow it.
    var lastForwardNode: Int { branches.last?.output ?? backwardStart }
    /// Weight-decay terms: a slice of the parameter buffer and its penalty.
    let decayTerms: [(offset: Int, count: Int, decay: WeightDecay)]
    /// Terms on the code: sparsity (sparse AE) and contraction (contractive AE).
    let sparsity: SparsityPenalty?
    let contractive: ContractivePenalty?
    /// A variational code (VAE): its KL term, and the ELBO's per-sample reduction (the
    /// reconstruction loss summed over features, averaged over samples).
    let variational: Variational?
    /// Every variational layer (the code's and the branches'), with the weight of its KL term.
    let variationalNodes: [(node: Int, layer: Variational, weight: Float)]
    /// Branch heads: each reconstructs the clean input with its loss and weight; a branch with a
    /// variational layer uses the ELBO's per-sample reduction.
    let branches: [(output: Int, weight: Float, loss: ReconstructionLoss, perSample: Bool)]
    let codeNode: Int

    init(spec: ModelSpec, graph: Graph, table: ParameterTable) throws(AutoencoderError) {
        loss = spec.loss
        task = spec.task
        dice = spec.dice
        codeNode = graph.codeNode
        let code = graph.nodes[graph.codeNode]
        let codeActivation = (code.layer as? Activation)?.function
        variational = code.layer as? Variational
        var variationalNodes: [(node: Int, layer: Variational, weight: Float)] = []
        if let variational { variationalNodes.append((graph.codeNode, variational, 1)) }
        var branches: [(output: Int, weight: Float, loss: ReconstructionLoss, perSample: Bool)] = []
        var first = graph.outputNode + 1
        for (spec, output) in zip(spec.branches, graph.branchOutputs) {
            var perSample = false
            // Myronenko's "mean" reduction divides the KL by the input's elements (voxels).
            let klWeight = (spec.klWeight ?? spec.weight) / (spec.meanReduction ? Float(graph.inputSize) : 1)
            for index in first...output {
                if let layer = graph.nodes[index].layer as? Variational {
                    variationalNodes.append((index, layer, klWeight))
                    perSample = !spec.meanReduction
                }
            }
            branches.append((output, spec.weight, spec.loss, perSample))
            first = output + 1
        }
        self.variationalNodes = variationalNodes
        self.branches = branches
        sparsity = spec.sparsity
        if case .kl = spec.sparsity, codeActivation != .sigmoid {
            throw .invalidSpec("regularization.sparsity", "the KL penalty needs mean code activations in (0, 1): give the code layer a sigmoid activation (it has \(codeActivation?.name ?? code.layer.kind))")
        }
        if let weight = spec.contractiveWeight {
            guard let function = codeActivation, function == .sigmoid || function == .tanh,
                  code.inputs[0] != Graph.modelInput, let dense = graph.nodes[code.inputs[0]].layer as? Dense else {
                throw .invalidSpec("regularization.contractive", "the closed-form penalty needs a code layer that is dense with a sigmoid or tanh activation (the code here is \(codeActivation?.name ?? code.layer.kind))")
            }
            contractive = ContractivePenalty(weight: weight, isSigmoid: function == .sigmoid, dense: dense)
        } else {
            contractive = nil
        }
        let output = graph.nodes[graph.outputNode]
        if spec.task == .reconstruction, spec.loss == .bce, let sigmoid = output.layer as? Activation, sigmoid.function == .sigmoid,
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
        for parameter in table.entries where parameter.group == .autoencoder {
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

    /// The mean reconstruction loss of the first `batch` rows against `workspace.target`, over the
    /// known elements when `masked` (the mask is in `workspace.mask`). With `gradient`, also seeds
    /// the gradient of node `backwardStart` with ∂loss/∂output.
    func reconstructionLoss(graph: Graph, workspace: Workspace, batch: Int, gradient: Bool, masked: Bool = false) -> Double {
        if case let .segmentation(ignoreLabel) = task {
            return crossEntropy(graph: graph, workspace: workspace, batch: batch, gradient: gradient, ignoreLabel: ignoreLabel)
        }
        if case let .sequenceCrossEntropy(ignoreLabel) = task {
            return sequenceCrossEntropy(graph: graph, workspace: workspace, batch: batch, gradient: gradient, ignoreLabel: ignoreLabel)
        }
        if let lengths = workspace.activeLengths, graph.outputShape.count == 2 {
            return sequenceLoss(graph: graph, workspace: workspace, batch: batch, gradient: gradient, lengths: lengths)
        }
        let elements = batch * graph.outputSize
        let mask: UnsafePointer<Float>? = masked ? UnsafePointer(workspace.mask.pointer) : nil
        var count = elements
        if let mask {
            var known: Float = 0
            for i in 0..<elements { known += mask[i] }
            count = max(Int(known), 1)
        }
        if variational != nil {
            // The ELBO: summed over the (known) features of a sample, averaged over the samples.
            count = batch
        }
        let scale = 1 / Float(count)
        let target = workspace.target.pointer
        if fusedSigmoidBCE {
            let logitsNode = graph.nodes[graph.outputNode].inputs[0]
            let sum = ReconstructionLoss.sigmoidBCE(
                logits: workspace.activations[logitsNode].pointer, target: target, count: elements,
                gradient: gradient ? workspace.gradients[logitsNode].pointer : nil, scale: scale, mask: mask)
            return sum / Double(count)
        }
        let sum = loss.evaluate(output: workspace.activations[graph.outputNode].pointer, target: target, count: elements,
                                gradient: gradient ? workspace.gradients[graph.outputNode].pointer : nil, scale: scale, mask: mask)
        return sum / Double(count)
    }

    /// A sequence batch with lengths: the mean loss over the valid steps' values only (padded
    /// steps add nothing and get a zero gradient); a VAE's ELBO still averages over samples.
    private func sequenceLoss(graph: Graph, workspace: Workspace, batch: Int, gradient: Bool, lengths: UnsafePointer<Int32>) -> Double {
        let steps = graph.outputShape[0], features = graph.outputShape[1]
        let count = SequenceLoss.countedValues(batch: batch, steps: steps, features: features, lengths: lengths)
        let divisor = variational != nil ? batch : max(count, 1)
        let node = fusedSigmoidBCE ? graph.nodes[graph.outputNode].inputs[0] : graph.outputNode
        let (sum, _) = SequenceLoss.reconstruction(
            fusedSigmoidBCE ? nil : loss, output: workspace.activations[node].pointer, target: workspace.target.pointer,
            batch: batch, steps: steps, features: features, lengths: lengths,
            gradient: gradient ? workspace.gradients[node].pointer : nil, scale: 1 / Float(divisor))
        return sum / Double(divisor)
    }

    /// Text: the mean per-step cross-entropy of the logits [batch, T, V] against the token ids in
    /// `workspace.target` over the counted steps (valid, not `ignoreLabel`); 0 with a zero
    /// gradient when no step counts.
    private func sequenceCrossEntropy(graph: Graph, workspace: Workspace, batch: Int, gradient: Bool, ignoreLabel: Int) -> Double {
        let steps = graph.outputShape[0], vocabulary = graph.outputShape[1]
        let labels = UnsafePointer(workspace.target.pointer), lengths = workspace.activeLengths
        let counted = SequenceLoss.countedSteps(labels: labels, batch: batch, steps: steps, vocabulary: vocabulary,
                                                lengths: lengths, ignoreLabel: ignoreLabel)
        let gradientBuffer = gradient ? workspace.gradients[graph.outputNode].pointer : nil
        guard counted > 0 else {
            gradientBuffer?.update(repeating: 0, count: batch * graph.outputSize)
            return 0
        }
        let (sum, _) = SequenceLoss.crossEntropy(logits: workspace.activations[graph.outputNode].pointer, labels: labels, batch: batch,
                                                 steps: steps, vocabulary: vocabulary, lengths: lengths, gradient: gradientBuffer,
                                                 scale: 1 / Float(counted), ignoreLabel: ignoreLabel)
        return sum / Double(counted)
    }

    /// Segmentation: mean cross-entropy over the counted (not ignored) positions of the batch;
    /// the output node holds logits [batch, classes, positions].
    private func crossEntropy(graph: Graph, workspace: Workspace, batch: Int, gradient: Bool, ignoreLabel: Int) -> Double {
        let classes = graph.outputShape[0], positions = graph.outputSize / classes
        let labels = UnsafePointer(workspace.target.pointer)
        let counted = CrossEntropy.countedPixels(labels: labels, count: batch * positions, classes: classes, ignoreLabel: ignoreLabel)
        let gradientBuffer = gradient ? workspace.gradients[graph.outputNode].pointer : nil
        guard counted > 0 else {
            gradientBuffer?.update(repeating: 0, count: batch * graph.outputSize)
            return 0
        }
        let logits = UnsafePointer(workspace.activations[graph.outputNode].pointer)
        guard let dice else {
            let (sum, _) = CrossEntropy.evaluate(logits: logits, labels: labels, batch: batch, classes: classes, positions: positions,
                                                 gradient: gradientBuffer, scale: 1 / Float(counted), ignoreLabel: ignoreLabel)
            return sum / Double(counted)
        }
        // Soft Dice, with cross-entropy when weighted in: the CE writes the gradient, Dice adds to it.
        var total: Double = 0
        if dice.crossEntropyWeight > 0 {
            let (sum, _) = CrossEntropy.evaluate(logits: logits, labels: labels, batch: batch, classes: classes, positions: positions,
                                                 gradient: gradientBuffer, scale: dice.crossEntropyWeight / Float(counted),
                                                 ignoreLabel: ignoreLabel)
            total += Double(dice.crossEntropyWeight) * sum / Double(counted)
        } else {
            gradientBuffer?.update(repeating: 0, count: batch * graph.outputSize)
        }
        total += Double(dice.diceWeight) * dice.evaluate(logits: logits, labels: labels, batch: batch, classes: classes,
                                                         positions: positions, gradient: gradientBuffer, scale: dice.diceWeight,
                                                         ignoreLabel: ignoreLabel)
        return total
    }

    /// The unweighted KL divergence of a variational code for the last forward pass (0 without one).
    func klDivergence(workspace: Workspace, batch: Int) -> Double {
        guard let variational else { return 0 }
        return variational.klDivergence(scratch: workspace.scratch[codeNode].pointer, batch: batch, gradientWeight: nil)
    }

    /// Whether the objective has terms on the code.
    var hasCodeTerms: Bool { sparsity != nil || contractive != nil }

    /// The weighted KL terms of the variational layers (the branches' only when `branches`, as
    /// they run in training only); with `gradient`, puts each layer's KL gradient into its scratch
    /// for its backward pass. Needs only the forward pass.
    /// Returns their weighted sum, and the code's own KL divergence unweighted (0 without a
    /// variational code) for reports.
    func variationalTerms(workspace: Workspace, batch: Int, gradient: Bool, epoch: Int,
                          branches: Bool) -> (total: Double, codeKL: Double) {
        var total: Double = 0, codeKL: Double = 0
        for (node, layer, weight) in variationalNodes where branches || node == codeNode {
            let beta = weight * layer.beta(atEpoch: epoch)
            let kl = layer.klDivergence(scratch: workspace.scratch[node].pointer, batch: batch, gradientWeight: gradient ? beta : nil)
            total += Double(beta) * kl
            if node == codeNode { codeKL = kl }
        }
        return (total, codeKL)
    }

    /// The weighted reconstruction losses of the branch heads against the clean input
    /// (`workspace.clean`); with `gradient`, seeds each branch output's gradient.
    func branchLosses(graph: Graph, workspace: Workspace, batch: Int, gradient: Bool) -> Double {
        var total: Double = 0
        let elements = batch * graph.inputSize
        for (output, weight, loss, perSample) in branches {
            let divisor = perSample ? batch : elements
            let sum = loss.evaluate(output: workspace.activations[output].pointer, target: workspace.clean.pointer, count: elements,
                                    gradient: gradient ? workspace.gradients[output].pointer : nil,
                                    scale: weight / Float(divisor))
            total += Double(weight) * sum / Double(divisor)
        }
        return total
    }

    /// The code terms' value on the code of the first `batch` rows; with `gradient`, adds their
    /// gradient to the code node's gradient (and the contractive term's direct weight gradient).
    func codePenalty(graph: Graph, workspace: Workspace, batch: Int, gradient: Bool, epoch: Int = 0) -> Double {
        guard hasCodeTerms else { return 0 }
        let h = UnsafePointer(workspace.activations[codeNode].pointer)
        let gradientH = gradient ? workspace.gradients[codeNode].pointer : nil
        var total: Double = 0
        if let sparsity {
            total += sparsity.apply(h, batch: batch, units: graph.codeSize, gradient: gradientH,
                                    scratch: workspace.penaltyScratch.pointer)
        }
        if let contractive {
            total += contractive.apply(h, batch: batch, gradientH: gradientH, scratch: workspace.penaltyScratch.pointer)
        }
        return total
    }

    /// Backward through the whole graph, adding the code terms' gradient where the decoder's
    /// gradient has arrived at the code. Returns the code terms' value.
    func backward(graph: Graph, workspace: Workspace, batch: Int, epoch: Int = 0) -> Double {
        // Branch heads first (they come last in the graph), then the main decoder, then the encoder.
        if let last = graph.branchOutputs.last {
            graph.backward(workspace, batch: batch, from: last, through: graph.outputNode + 1)
        }
        graph.backward(workspace, batch: batch, from: backwardStart, through: codeNode + 1)
        let penalty = codePenalty(graph: graph, workspace: workspace, batch: batch, gradient: true, epoch: epoch)
        graph.backward(workspace, batch: batch, from: min(codeNode, backwardStart), through: 0)
        return penalty
    }

    /// The whole objective on the first `batch` rows prepared in `workspace`, with its gradient:
    /// the forward pass in training mode, the reconstruction and branch losses, the variational
    /// terms, the backward pass with the code terms, and the weight penalty. ∂objective/∂parameters
    /// is added to `gradients`. The one place the objective is assembled: a training step, the
    /// data-parallel phases and the gradient tests all compute through here.
    func computeGradients(graph: Graph, workspace: Workspace, batch: Int, masked: Bool, epoch: Int,
                          parameters: FloatBuffer, gradients: FloatBuffer, random: inout RandomGenerator) -> ObjectiveValue {
        graph.forward(workspace, batch: batch, nodes: 0...lastForwardNode, mode: .training, random: &random)
        let reconstruction = reconstructionLoss(graph: graph, workspace: workspace, batch: batch, gradient: true, masked: masked)
            + branchLosses(graph: graph, workspace: workspace, batch: batch, gradient: true)
        let kl = variationalTerms(workspace: workspace, batch: batch, gradient: true, epoch: epoch, branches: true)
        let codeTerms = backward(graph: graph, workspace: workspace, batch: batch, epoch: epoch)
        let weightPenalty = penalty(parameters: parameters, gradients: gradients)
        return ObjectiveValue(total: reconstruction + kl.total + codeTerms + weightPenalty,
                              reconstruction: reconstruction, codeKL: kl.codeKL)
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

/// The objective on one batch and the parts a training report shows.
struct ObjectiveValue {
    /// Everything minimised: losses, code terms, weighted KL terms and the weight penalty.
    var total: Double
    /// The reconstruction (or segmentation) loss and the branch heads' weighted losses.
    var reconstruction: Double
    /// The code's KL divergence, unweighted (0 without a variational code).
    var codeKL: Double
}
