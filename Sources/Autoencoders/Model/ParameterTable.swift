/// Where each named parameter tensor lives in the model's one flat buffer.
public struct ParameterEntry: Sendable {
    /// "<node>.<suffix>", e.g. "encoder.0.linear.weight".
    public let name: String
    public let shape: [Int]
    /// Offset in floats from the start of the flat buffer.
    public let offset: Int
    public let count: Int
    /// Weights (not biases): where weight decay applies by default.
    public let isWeight: Bool
    /// Index of the node that owns it, and the position among that layer's declarations.
    let node: Int
    let declarationIndex: Int
    /// Whether the optimizer updates it (false for state such as running statistics).
    public var trainable: Bool { declaration.trainable }
    let declaration: ParameterDeclaration
    /// The network it belongs to: the autoencoder, or an adversarial autoencoder's discriminator
    /// (whose `node` indexes the discriminator's graph).
    public var group: ParameterGroup = .autoencoder
}

/// The named parameter groups of the one table; each training phase updates one range of it.
public enum ParameterGroup: String, Sendable {
    case autoencoder
    case discriminator
}

/// Lays out every parameter of a graph in one contiguous buffer and binds the layers to it.
struct ParameterTable {
    let entries: [ParameterEntry]
    let totalCount: Int
    /// The trainable parameters are `[0, trainableCount)` of the flat buffer: the optimizer's range.
    let trainableCount: Int
    /// The trainable parameters of the encoder: `[0, encoderTrainableCount)` (trainable entries are
    /// in node order and the encoder's nodes come first). The generator phase updates these.
    let encoderTrainableCount: Int
    /// An adversarial autoencoder's discriminator parameters, after everything else (so a model
    /// without one lays out, and draws its initial values, exactly as before); empty otherwise.
    let discriminatorRange: Range<Int>

    init(graph: Graph, discriminator: Graph? = nil) throws(AutoencoderError) {
        // Every declaration with its node and position; trainable ones first, each group in node order.
        var declared: [(node: Int, position: Int, declaration: ParameterDeclaration)] = []
        for (index, node) in graph.nodes.enumerated() {
            for (position, declaration) in node.layer.parameterDeclarations.enumerated() {
                declared.append((index, position, declaration))
            }
        }
        let ordered = declared.filter { $0.declaration.trainable } + declared.filter { !$0.declaration.trainable }
        var entries: [ParameterEntry] = []
        var offset = 0
        var trainable = 0
        for (node, position, declaration) in ordered {
            let name = "\(graph.nodes[node].name).\(declaration.suffix)"
            let path = graph.nodes[node].path
            guard let count = Size.elements(declaration.shape) else {
                throw .invalidSpec(path, "parameter \(name) of shape \(declaration.shape) holds more than \(Size.maxElements) "
                                   + "values (2^31 − 1, the most a tensor holds)")
            }
            guard let end = Size.sum(offset, count), end <= Size.maxParameters else {
                throw .invalidSpec(path, "with parameter \(name) (\(count) values) the model holds more than \(Size.maxParameters) "
                                   + "parameters (2^31 − 1)")
            }
            entries.append(ParameterEntry(name: name, shape: declaration.shape, offset: offset, count: count,
                                          isWeight: declaration.isWeight, node: node, declarationIndex: position,
                                          declaration: declaration))
            offset = end
            if declaration.trainable { trainable = offset }
        }
        encoderTrainableCount = entries.filter { $0.trainable && $0.node <= graph.codeNode }.map { $0.offset + $0.count }.max() ?? 0
        let discriminatorStart = offset
        if let discriminator {
            for (index, node) in discriminator.nodes.enumerated() {
                for (position, declaration) in node.layer.parameterDeclarations.enumerated() {
                    let name = "\(node.name).\(declaration.suffix)"
                    guard let count = Size.elements(declaration.shape), let end = Size.sum(offset, count), end <= Size.maxParameters else {
                        throw .invalidSpec(node.path, "with parameter \(name) the model holds more than \(Size.maxParameters) parameters (2^31 − 1)")
                    }
                    var entry = ParameterEntry(name: name, shape: declaration.shape, offset: offset, count: count,
                                               isWeight: declaration.isWeight, node: index, declarationIndex: position,
                                               declaration: declaration)
                    entry.group = .discriminator
                    entries.append(entry)
                    offset = end
                }
            }
        }
        discriminatorRange = discriminatorStart..<offset
        self.entries = entries
        totalCount = offset
        trainableCount = trainable
    }

    /// Hands each layer its slices, in node order (so a tied decoder layer finds its encoder bound).
    func bind(graph: Graph, parameters: FloatBuffer, gradients: FloatBuffer, group: ParameterGroup = .autoencoder) {
        var slices = [[(declaration: Int, offset: Int)]](repeating: [], count: graph.nodes.count)
        for entry in entries where entry.group == group { slices[entry.node].append((entry.declarationIndex, entry.offset)) }
        for (index, node) in graph.nodes.enumerated() {
            let ordered = slices[index].sorted { $0.declaration < $1.declaration }
            node.layer.bind(parameters: ordered.map { parameters.pointer + $0.offset },
                            gradients: ordered.map { gradients.pointer + $0.offset })
        }
    }

    /// Draws initial values from the model's generator, tensor by tensor in table order.
    func initialize(_ parameters: FloatBuffer, random: inout RandomGenerator) {
        for entry in entries {
            let d = entry.declaration
            let p = parameters.pointer + entry.offset
            let fanIn = Float(max(d.fanIn, 1)), fanOut = Float(max(d.fanOut, 1))
            switch d.initializer {
            case .zeros: p.update(repeating: 0, count: entry.count)
            case .ones: p.update(repeating: 1, count: entry.count)
            case .xavierUniform: fillUniform(p, entry.count, (6 / (fanIn + fanOut)).squareRoot(), &random)
            case .xavierNormal: fillNormal(p, entry.count, (2 / (fanIn + fanOut)).squareRoot(), &random)
            case .heUniform: fillUniform(p, entry.count, (6 / fanIn).squareRoot(), &random)
            case .heNormal: fillNormal(p, entry.count, (2 / fanIn).squareRoot(), &random)
            case .lecunNormal: fillNormal(p, entry.count, (1 / fanIn).squareRoot(), &random)
            case .pytorch: fillUniform(p, entry.count, 1 / fanIn.squareRoot(), &random)
            }
        }
    }

    private func fillUniform(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ bound: Float, _ random: inout RandomGenerator) {
        for i in 0..<count { p[i] = random.uniform(-bound, bound) }
    }

    private func fillNormal(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ std: Float, _ random: inout RandomGenerator) {
        for i in 0..<count { p[i] = std * random.normal() }
    }
}
