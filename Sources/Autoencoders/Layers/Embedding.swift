/// Token embeddings, PyTorch's `nn.Embedding(V, E, padding_idx=p)`: a sequence of T token ids
/// `[T]` becomes `[T, E]` by looking up rows of the weight `[V, E]`:
///
///     y[t] = W[id_t];        dW[v] += Σ_{n,t : id_t = v} dy[t]   (a scatter-add; nothing for v = p)
///
/// Ids arrive as floats in the batch rows, like every input; a Float holds every integer up to
/// 2²⁴ exactly, which bounds the vocabulary. Ids must be validated (`validate`) where data
/// enters: forward and backward treat an id that is not an integer in 0..<V as a zero row with
/// no gradient rather than read out of bounds. The padding id still looks up its row (as
/// PyTorch does) but its row never receives a gradient. Ids get no gradient.
/// PyTorch initialises W ~ N(0, 1): `.lecunNormal` with fan-in 1 by default.
public final class Embedding: Layer {
    public let kind = "embedding"
    public let steps: Int
    public let vocabulary: Int
    public let dimension: Int
    public let paddingIndex: Int?
    public let initializer: Initializer
    public var inputShapes: [[Int]] { [[steps]] }
    public var outputShape: [Int] { [steps, dimension] }

    /// The largest vocabulary whose ids are all exact in Float32.
    public static let maximumVocabulary = 1 << 24

    private var weight: UnsafeMutablePointer<Float>! = nil
    private var weightGradient: UnsafeMutablePointer<Float>! = nil

    public init(steps: Int, vocabulary: Int, dimension: Int, paddingIndex: Int? = nil,
                initializer: Initializer = .lecunNormal) throws(AutoencoderError) {
        guard steps >= 1 else { throw .invalidArgument("embedding: steps must be at least 1, got \(steps)") }
        guard vocabulary >= 1, vocabulary <= Embedding.maximumVocabulary else {
            throw .invalidArgument("embedding: the vocabulary size must be between 1 and 2^24 = 16777216 (ids travel as exact floats), got \(vocabulary)")
        }
        guard dimension >= 1 else { throw .invalidArgument("embedding: the dimension must be at least 1, got \(dimension)") }
        if let paddingIndex, !(0..<vocabulary).contains(paddingIndex) {
            throw .invalidArgument("embedding: the padding id must be in 0..<\(vocabulary), got \(paddingIndex)")
        }
        self.steps = steps
        self.vocabulary = vocabulary
        self.dimension = dimension
        self.paddingIndex = paddingIndex
        self.initializer = initializer
    }

    public var parameterDeclarations: [ParameterDeclaration] {
        [ParameterDeclaration(suffix: "weight", shape: [vocabulary, dimension], initializer: initializer,
                              fanIn: 1, fanOut: dimension, isWeight: true)]
    }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        weight = parameters[0]
        weightGradient = gradients[0]
    }

    /// The row an id selects, or −1 for anything that is not an integer in 0..<V (NaN included).
    @inline(__always) func row(_ id: Float) -> Int {
        guard id >= 0 && id < Float(vocabulary) else { return -1 }
        let index = Int(id)
        return Float(index) == id ? index : -1
    }

    /// Checks `count` ids: each must be an integer in 0..<V. Throws `.invalidArgument` naming the
    /// first bad one by its [sample, step], e.g. "ids[2, 7] = 3.5 is not an integer token id in 0..<30".
    public func validate(ids: UnsafePointer<Float>, count: Int, name: String = "ids") throws(AutoencoderError) {
        for i in 0..<count where row(ids[i]) < 0 {
            let id = ids[i]
            let shown = id.isFinite && id == id.rounded() && abs(id) < 1e15 ? "\(Int(id))" : "\(id)"
            throw .invalidArgument("\(name)[\(i / steps), \(i % steps)] = \(shown) is not an integer token id in 0..<\(vocabulary)")
        }
    }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        let E = dimension
        for p in 0..<(io.batch * steps) {
            let y = io.output + p * E, r = row(io.input[p])
            if r >= 0 { y.update(from: weight + r * E, count: E) } else { y.update(repeating: 0, count: E) }
        }
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        let E = dimension
        for p in 0..<(io.batch * steps) {
            let r = row(io.input[p])
            guard r >= 0, r != paddingIndex else { continue }
            let g = weightGradient + r * E, dy = io.gradOutput + p * E
            for j in 0..<E { g[j] += dy[j] }
        }
        // Ids are not differentiable: their gradient is zero.
        if let gradInput = io.gradInput, !accumulateInputGradient { gradInput.update(repeating: 0, count: io.batch * steps) }
    }
}
