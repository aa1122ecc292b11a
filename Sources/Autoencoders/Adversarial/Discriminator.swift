/// The discriminator of an adversarial autoencoder: a second graph, a small dense network from
/// the code (with the supervised prior's one-hot label appended) to one logit,
///
///     D(z) = W_L · f(… f(W_1 · z + b_1) …) + b_L,   P(z is a prior sample) = σ(D(z)).
///
/// Node 0 is an identity (a reshape to the same shape) so that backward leaves ∂loss/∂z in its
/// gradient: the generator phase needs the gradient with respect to the code. Its parameters are
/// the "discriminator.*" group of the model's one parameter table (ParameterTable).
struct Discriminator {
    let graph: Graph
    let spec: AdversarialSpec
    let codeSize: Int
    var inputSize: Int { graph.inputSize }

    init(spec: AdversarialSpec, codeSize: Int) throws(AutoencoderError) {
        try spec.check(codeSize: codeSize)
        let input = spec.discriminatorInputSize(codeSize: codeSize)
        var nodes: [GraphNode] = []
        let path = "adversarial.discriminator"
        func add(_ name: String, _ layer: Layer) {
            nodes.append(GraphNode(name: name, layer: layer, inputs: [nodes.count - 1], isEncoder: false, path: path))
        }
        do {
            nodes.append(GraphNode(name: "discriminator.input", layer: try Reshape(from: [input], to: [input]),
                                   inputs: [Graph.modelInput], isEncoder: false, path: path))
        } catch {
            throw .invalidSpec(path, error.message)
        }
        var features = input
        for (i, units) in spec.hidden.enumerated() {
            add("discriminator.\(i)", Dense(inputFeatures: features, outputFeatures: units, initializer: spec.activation.preferredInitializer))
            add("discriminator.\(i).\(spec.activation.name)", Activation(spec.activation, shape: [units]))
            features = units
        }
        add("discriminator.\(spec.hidden.count)", Dense(inputFeatures: features, outputFeatures: 1, initializer: .xavierUniform))
        graph = Graph(inputShape: [input], nodes: nodes, codeNode: 0)
        self.spec = spec
        self.codeSize = codeSize
    }

    /// The discriminator's input rows: the codes, then (supervised) the one-hot components.
    func fillInput(_ input: UnsafeMutablePointer<Float>, codes: UnsafePointer<Float>, rows: Int, components: UnsafePointer<Int32>?) {
        let width = inputSize
        for r in 0..<rows {
            let row = input + r * width
            row.update(from: codes + r * codeSize, count: codeSize)
            guard width > codeSize else { continue }
            (row + codeSize).update(repeating: 0, count: width - codeSize)
            if let components { row[codeSize + Int(components[r])] = 1 }
        }
    }
}

extension Discriminator {
    /// What the adversarial phases need of the autoencoder: a reconstruction model whose decoder
    /// reads only the code (the generator phase runs backward from the code alone, and samples
    /// from the prior are decoded).
    static func checkAutoencoder(spec: ModelSpec, graph: Graph) throws(AutoencoderError) {
        guard spec.task == .reconstruction, !spec.isTokenModel else {
            throw .invalidSpec("adversarial", "an adversarial autoencoder reconstructs its input (not a segmentation or token model)")
        }
        guard graph.decoderIsSelfContained else {
            throw .invalidSpec("adversarial", "an adversarial autoencoder's decoder must read only the code (no skip links into the encoder)")
        }
        guard spec.branches.isEmpty else { throw .invalidSpec("adversarial", "an adversarial autoencoder has no branch heads") }
    }
}
