/// Whether a forward pass is for training (dropout, noise and batch statistics active) or inference.
public enum ForwardMode: Sendable { case training, inference }

/// How a parameter tensor is initialised when a model is created from its spec.
public enum Initializer: String, Sendable, CaseIterable {
    /// U(±√(6 / (fanIn + fanOut))), Glorot & Bengio 2010.
    case xavierUniform = "xavier_uniform"
    /// N(0, 2 / (fanIn + fanOut)).
    case xavierNormal = "xavier_normal"
    /// U(±√(6 / fanIn)), He et al. 2015, for ReLU-family activations.
    case heUniform = "he_uniform"
    /// N(0, 2 / fanIn).
    case heNormal = "he_normal"
    /// N(0, 1 / fanIn), for SELU.
    case lecunNormal = "lecun_normal"
    /// PyTorch's default for Linear and Conv: U(±1/√fanIn) for weights and biases alike.
    case pytorch = "pytorch"
    case zeros = "zeros"
    case ones = "ones"
}

/// A parameter tensor a layer asks for. The model lays all of them out in one flat buffer.
public struct ParameterDeclaration: Sendable {
    /// Suffix of the parameter's name: the full name is "<node name>.<suffix>", e.g. "encoder.0.weight".
    public var suffix: String
    public var shape: [Int]
    public var initializer: Initializer
    public var fanIn: Int
    public var fanOut: Int
    /// Whether weight decay applies by default (weights yes, biases no).
    public var isWeight: Bool
    /// Whether the optimizer updates it. State such as batch normalization's running statistics is
    /// not trainable: it lives in the same buffer (so it is saved with the model) but after the
    /// trainable parameters, outside the optimizer's range.
    public var trainable: Bool

    public init(suffix: String, shape: [Int], initializer: Initializer, fanIn: Int, fanOut: Int,
                isWeight: Bool, trainable: Bool = true) {
        self.suffix = suffix
        self.shape = shape
        self.initializer = initializer
        self.fanIn = fanIn
        self.fanOut = fanOut
        self.isWeight = isWeight
        self.trainable = trainable
    }
}

extension ParameterDeclaration {
    /// A weight and, with `bias`, a bias of `biasCount`: the declarations of dense and
    /// convolutional layers. Biases start at zero, except under PyTorch's scheme, which draws them
    /// like the weights.
    static func weightAndBias(weightShape: [Int], biasCount: Int, bias: Bool, initializer: Initializer,
                              fanIn: Int, fanOut: Int) -> [ParameterDeclaration] {
        var declarations = [ParameterDeclaration(suffix: "weight", shape: weightShape, initializer: initializer,
                                                 fanIn: fanIn, fanOut: fanOut, isWeight: true)]
        if bias {
            declarations.append(ParameterDeclaration(suffix: "bias", shape: [biasCount],
                                                     initializer: initializer == .pytorch ? .pytorch : .zeros,
                                                     fanIn: fanIn, fanOut: fanOut, isWeight: false))
        }
        return declarations
    }
}

/// The buffers of one node for one batch. Activations and gradients are `[batch, size]` row-major,
/// where size is the product of the per-sample shape.
public struct LayerBuffers {
    /// Activations of the node's inputs, `[batch, inputSizes[i]]` each.
    public var inputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>
    /// This node's output, `[batch, outputSize]`.
    public var output: UnsafeMutablePointer<Float>
    /// Where to put dLoss/dInput for each input; nil where no gradient is needed (the model input).
    public var gradInputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>?>
    /// For layers with several inputs: whether backward adds to `gradInputs[i]` (true) or overwrites it.
    /// Single-input layers get the same answer as the `accumulateInputGradient` argument of `backward`.
    public var accumulatesGradInputs: UnsafeBufferPointer<Bool>
    /// dLoss/dOutput, `[batch, outputSize]`.
    public var gradOutput: UnsafeMutablePointer<Float>
    /// The layer's own per-batch state (masks, indices), `scratchSize(batch:)` floats.
    public var scratch: UnsafeMutablePointer<Float>
    /// The scratch of the nodes this node is linked to (not inputs: no gradient flows through a
    /// link), e.g. the indices of the pooling layer a max-unpooling layer undoes.
    public var links: UnsafeBufferPointer<UnsafeMutablePointer<Float>>
    public var batch: Int
    /// Sequence batches only: each sample's valid length (1...T, like PyTorch's packed sequences),
    /// `batch` of them, or nil when every sample fills the whole time axis. Steps at or past a
    /// sample's length are padding: recurrent layers output zeros there, and losses skip them.
    public var lengths: UnsafePointer<Int32>? = nil

    @inline(__always) public var input: UnsafeMutablePointer<Float> { inputs[0] }
    @inline(__always) public var gradInput: UnsafeMutablePointer<Float>? { gradInputs[0] }
}

/// One operation of a model graph. Forward and backward sit side by side in each layer's file.
///
/// Backward *accumulates* parameter gradients (`+=`) into the slices bound by `bind`; the optimizer
/// step zeroes them. Into `gradInputs` it writes (`accumulateInputGradient == false`) or adds (`true`,
/// when another consumer of the same input has already written its part).
public protocol Layer: AnyObject {
    /// A short name of the kind for messages and the spec ("dense", "relu").
    var kind: String { get }
    /// Per-sample shapes of the inputs, fixed at build time.
    var inputShapes: [[Int]] { get }
    /// Per-sample shape of the output.
    var outputShape: [Int] { get }
    /// The parameters the layer owns.
    var parameterDeclarations: [ParameterDeclaration] { get }
    /// Receives the parameter and gradient slices, in declaration order, once the model's buffers exist.
    func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>])
    /// Floats of per-batch state the layer needs between forward and backward. Other nodes may
    /// read it through links (a max-unpooling layer reads its pooling layer's indices).
    /// Must be affine in `batch` (a + b · batch): workspaces bound it from `scratchSize(batch: 0)`
    /// and `scratchSize(batch: 1)` with checked arithmetic before calling it for their capacity.
    func scratchSize(batch: Int) -> Int
    /// Reads the inputs and never writes them: inference may hand the first nodes the caller's
    /// rows in place (`Workspace.reading`).
    func forward(_ buffers: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator)
    func backward(_ buffers: LayerBuffers, accumulateInputGradient: Bool)
    /// Whether forward and backward treat each sample on its own: all they read and write for
    /// sample n is row n of the inputs, the output, their gradients, the scratch (laid out
    /// `[batch, scratchSize(batch: 1)]`, `scratchSize(batch: 0) == 0`) and the linked scratch; they
    /// accumulate no parameter gradient and draw no random number. The graph then splits such a
    /// layer's batch across threads (`Parallel`), handing each thread the rows of its samples.
    var isSampleParallel: Bool { get }
}

extension Layer {
    public var parameterDeclarations: [ParameterDeclaration] { [] }
    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {}
    public func scratchSize(batch: Int) -> Int { 0 }
    public var isSampleParallel: Bool { false }
    public var inputSize: Int { inputShapes[0].reduce(1, *) }
    public var outputSize: Int { outputShape.reduce(1, *) }
}
