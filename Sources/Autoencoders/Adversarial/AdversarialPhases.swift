/// The regularization phases of an adversarial autoencoder (Makhzani et al. 2015, §2), run by a
/// trainer step after the reconstruction phase (the objective of Training/Objective.swift and
/// the spec's optimizer, over the autoencoder's parameters) on the same batch:
///
/// 2. discriminator: z ~ prior (label 1) and q = encoder(x) (label 0);
///    L_D = mean BCE(D(z), 1) + mean BCE(D(q), 0); its optimizer updates the discriminator group only.
/// 3. generator: L_G = mean BCE(D(q), 1); ∂L_G/∂q flows back through the encoder, whose
///    parameters alone its optimizer updates (the discriminator's gradient is dropped).
///
/// Each phase has its own optimizer, learning rate and state (model.discriminatorOptimizer,
/// model.generatorOptimizer). The code of phase 2 is computed once after the reconstruction
/// update and reused by phase 3 (the encoder does not change in between), so the encoder's
/// forward state is still in the workspace for its backward pass.
extension Trainer {
    func adversarialPhases(rows: Int) throws(AutoencoderError) {
        try encodeForAdversarialPhases(rows: rows)
        let discriminatorLoss = try discriminatorPhase(rows: rows)
        let generatorLoss = try generatorPhase(rows: rows)
        lastDiscriminator = discriminatorLoss
        lastGenerator = generatorLoss
    }

    /// The codes of the (updated) encoder for the batch in the workspace, in training mode.
    func encodeForAdversarialPhases(rows: Int) throws(AutoencoderError) {
        _ = try model.adversarialOptimizers()
        let graph = model.graph
        graph.forward(workspace, batch: rows, nodes: 0...graph.codeNode, mode: .training, random: &model.random)
    }

    /// Phase 2 on the codes in the workspace: prior samples in rows [0, rows) of the
    /// discriminator's input, codes in [rows, 2 rows); updates the discriminator group only.
    func discriminatorPhase(rows: Int) throws(AutoencoderError) -> Double {
        guard let discriminator = model.discriminator, let dw = discriminatorWorkspace,
              let optimizer = model.discriminatorOptimizer else { return .nan }
        let graph = model.graph, dGraph = discriminator.graph, out = dGraph.outputNode
        let codeSize = graph.codeSize, width = discriminator.inputSize
        let range = model.table.discriminatorRange
        let labels: UnsafePointer<Int32>? = model.takesComponentLabels ? UnsafePointer(components) : nil
        let codes = UnsafePointer(workspace.activations[graph.codeNode].pointer)
        let input = dw.input.pointer
        withUnsafeTemporaryAllocation(of: Float.self, capacity: rows * codeSize) { samples in
            discriminator.spec.prior.sample(into: samples.baseAddress!, rows: rows, codeSize: codeSize,
                                            components: components, random: &model.random)
            discriminator.fillInput(input, codes: samples.baseAddress!, rows: rows, components: labels)
        }
        discriminator.fillInput(input + rows * width, codes: codes, rows: rows, components: labels)
        dGraph.forward(dw, batch: 2 * rows, nodes: 0...out, mode: .training, random: &model.random)
        let logits = UnsafePointer(dw.activations[out].pointer), dLogits = dw.gradients[out].pointer
        let scale = 1 / Float(rows)
        let loss = AdversarialLoss.evaluate(logits: logits, rows: rows, target: 1, gradient: dLogits, scale: scale)
            + AdversarialLoss.evaluate(logits: logits + rows, rows: rows, target: 0, gradient: dLogits + rows, scale: scale)
        guard loss.isFinite else {
            throw .numeric("the discriminator's loss is \(loss) on this batch (lower the discriminator's learning rate)")
        }
        dGraph.backward(dw, batch: 2 * rows, from: out, through: 0)
        optimizer.step(parameters: model.parameters.pointer + range.lowerBound,
                       gradients: model.gradients.pointer + range.lowerBound, count: range.count)
        return loss
    }

    /// Phase 3 on the codes in the workspace: L_G = mean BCE(D(q), 1) through the discriminator,
    /// back through the encoder; updates the encoder's parameters only.
    func generatorPhase(rows: Int) throws(AutoencoderError) -> Double {
        guard let discriminator = model.discriminator, let dw = discriminatorWorkspace,
              let optimizer = model.generatorOptimizer else { return .nan }
        let graph = model.graph, dGraph = discriminator.graph, out = dGraph.outputNode
        let codeSize = graph.codeSize, width = discriminator.inputSize
        let range = model.table.discriminatorRange
        let labels: UnsafePointer<Int32>? = model.takesComponentLabels ? UnsafePointer(components) : nil
        let codes = UnsafePointer(workspace.activations[graph.codeNode].pointer)
        discriminator.fillInput(dw.input.pointer, codes: codes, rows: rows, components: labels)
        dGraph.forward(dw, batch: rows, nodes: 0...out, mode: .training, random: &model.random)
        let logits = UnsafePointer(dw.activations[out].pointer), dLogits = dw.gradients[out].pointer
        let loss = AdversarialLoss.evaluate(logits: logits, rows: rows, target: 1, gradient: dLogits, scale: 1 / Float(rows))
        guard loss.isFinite else {
            throw .numeric("the generator's loss is \(loss) on this batch (lower the generator's learning rate)")
        }
        dGraph.backward(dw, batch: rows, from: out, through: 0)
        // The discriminator is not updated in this phase: its gradient is dropped.
        (model.gradients.pointer + range.lowerBound).update(repeating: 0, count: range.count)
        let dCode = workspace.gradients[graph.codeNode].pointer, dInput = UnsafePointer(dw.gradients[0].pointer)
        for r in 0..<rows { (dCode + r * codeSize).update(from: dInput + r * width, count: codeSize) }
        graph.backward(workspace, batch: rows, from: graph.codeNode, through: 0)
        optimizer.step(parameters: model.parameters.pointer, gradients: model.gradients.pointer,
                       count: model.table.encoderTrainableCount)
        return loss
    }

    /// Test hook: the discriminator loss L_D on prior samples `z` and codes `q` (`[rows, input
    /// width]` each, already with any one-hot columns), with its gradient added to the
    /// discriminator's parameter gradients, and the generator loss L_G on `q` with ∂L_G/∂q
    /// written to `dq`. Nothing is updated.
    func discriminatorLosses(prior z: UnsafePointer<Float>, codes q: UnsafePointer<Float>, rows: Int,
                             codeGradient dq: UnsafeMutablePointer<Float>) -> (discriminator: Double, generator: Double) {
        guard let discriminator = model.discriminator, let dw = discriminatorWorkspace else { return (.nan, .nan) }
        let dGraph = discriminator.graph, out = dGraph.outputNode, width = discriminator.inputSize
        let scale = 1 / Float(rows)
        dw.input.pointer.update(from: z, count: rows * width)
        (dw.input.pointer + rows * width).update(from: q, count: rows * width)
        dGraph.forward(dw, batch: 2 * rows, nodes: 0...out, mode: .training, random: &model.random)
        let logits = UnsafePointer(dw.activations[out].pointer), dLogits = dw.gradients[out].pointer
        let d = AdversarialLoss.evaluate(logits: logits, rows: rows, target: 1, gradient: dLogits, scale: scale)
            + AdversarialLoss.evaluate(logits: logits + rows, rows: rows, target: 0, gradient: dLogits + rows, scale: scale)
        dGraph.backward(dw, batch: 2 * rows, from: out, through: 0)
        // The generator loss's gradient with respect to q; the parameter gradients it adds are removed.
        let range = model.table.discriminatorRange
        let saved = Array(UnsafeBufferPointer(start: model.gradients.pointer + range.lowerBound, count: range.count))
        dw.input.pointer.update(from: q, count: rows * width)
        dGraph.forward(dw, batch: rows, nodes: 0...out, mode: .training, random: &model.random)
        let g = AdversarialLoss.evaluate(logits: logits, rows: rows, target: 1, gradient: dLogits, scale: scale)
        dGraph.backward(dw, batch: rows, from: out, through: 0)
        dq.update(from: dw.gradients[0].pointer, count: rows * width)
        saved.withUnsafeBufferPointer { (model.gradients.pointer + range.lowerBound).update(from: $0.baseAddress!, count: range.count) }
        return (d, g)
    }

    /// The discriminator's accuracy on `rows` codes of the data (classified as codes) and as many
    /// prior samples (classified as prior), in inference mode, with prior draws from a generator
    /// seeded by `seed`: 0.5 when the aggregated posterior matches the prior as far as the
    /// discriminator can tell. `labels` for the supervised prior.
    public func discriminatorAccuracy(_ x: UnsafePointer<Float>, rows: Int, labels: UnsafePointer<Float>? = nil,
                                      seed: UInt64 = 0) throws(AutoencoderError) -> Double {
        guard let discriminator = model.discriminator, let dw = discriminatorWorkspace else {
            throw .unsupported("discriminator_accuracy: the model has no discriminator")
        }
        try model.checkFinite(x, count: rows * model.inputSize, name: "data")
        try model.checkTargets(labels, rows: rows)
        return model.lock.withReadLock {
            var random = RandomGenerator(seed: seed)
            let graph = model.graph, dGraph = discriminator.graph, width = discriminator.inputSize, codeSize = graph.codeSize
            let supervised = model.takesComponentLabels
            var right = 0.0, start = 0
            while start < rows {
                let count = min(batchSize, rows - start)
                model.feed(workspace, x + start * model.inputSize, rows: count)
                graph.infer(workspace, batch: count, nodes: 0...graph.codeNode)
                if let labels { for r in 0..<count { components[r] = Int32(labels[start + r]) } }
                withUnsafeTemporaryAllocation(of: Float.self, capacity: count * codeSize) { samples in
                    discriminator.spec.prior.sample(into: samples.baseAddress!, rows: count, codeSize: codeSize,
                                                    components: components, random: &random)
                    discriminator.fillInput(dw.input.pointer, codes: samples.baseAddress!, rows: count, components: supervised ? components : nil)
                }
                discriminator.fillInput(dw.input.pointer + count * width, codes: workspace.activations[graph.codeNode].pointer, rows: count,
                                        components: supervised ? components : nil)
                dGraph.infer(dw, batch: 2 * count, nodes: 0...dGraph.outputNode)
                let logits = UnsafePointer(dw.activations[dGraph.outputNode].pointer)
                right += AdversarialLoss.accuracy(logits: logits, rows: count, target: 1) * Double(count)
                right += AdversarialLoss.accuracy(logits: logits + count, rows: count, target: 0) * Double(count)
                start += count
            }
            return right / Double(2 * max(rows, 1))
        }
    }
}
