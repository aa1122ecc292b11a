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
    /// Index of the node that owns it.
    let node: Int
    let declaration: ParameterDeclaration
}

/// Lays out every parameter of a graph in one contiguous buffer and binds the layers to it.
struct ParameterTable {
    let entries: [ParameterEntry]
    let totalCount: Int

    init(graph: Graph) throws(AutoencoderError) {
        var entries: [ParameterEntry] = []
        var offset = 0
        for (index, node) in graph.nodes.enumerated() {
            for declaration in node.layer.parameterDeclarations {
                guard let count = Tensor.elementCount(declaration.shape) else {
                    throw .init(.outOfMemory, "parameter \(node.name).\(declaration.suffix) is too large")
                }
                let (end, overflow) = offset.addingReportingOverflow(count)
                guard !overflow, end <= 1 << 31 else {
                    throw .init(.outOfMemory, "the model has more than 2^31 parameters")
                }
                entries.append(ParameterEntry(name: "\(node.name).\(declaration.suffix)", shape: declaration.shape,
                                              offset: offset, count: count, isWeight: declaration.isWeight,
                                              node: index, declaration: declaration))
                offset = end
            }
        }
        self.entries = entries
        totalCount = offset
    }

    /// Hands each layer its slices, in node order (so a tied decoder layer finds its encoder bound).
    func bind(graph: Graph, parameters: FloatBuffer, gradients: FloatBuffer) {
        var next = 0
        for (index, node) in graph.nodes.enumerated() {
            var p: [UnsafeMutablePointer<Float>] = []
            var g: [UnsafeMutablePointer<Float>] = []
            while next < entries.count && entries[next].node == index {
                p.append(parameters.pointer + entries[next].offset)
                g.append(gradients.pointer + entries[next].offset)
                next += 1
            }
            node.layer.bind(parameters: p, gradients: g)
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
