/// A dense layer applied at every step of a sequence `[T, F]` → `[T, O]` (Keras'
/// TimeDistributed(Dense), or PyTorch's Linear on a `[N, T, F]` tensor), sharing one weight:
///
///     y[t] = W x[t] + b;      dW += Σ_{n,t} dy[t]ᵀ x[t];   db += Σ_{n,t} dy[t];   dx[t] = dy[t] W
///
/// A batch of N sequences is a batch of N·T rows of F floats, so this is the `Dense` layer run
/// on N·T rows: one GEMM for all steps of all samples, forward and backward. Steps past a
/// sample's length still get the bias (as PyTorch's Linear would); losses ignore them.
public final class TimeDistributedDense: Layer {
    public let kind = "time_distributed_dense"
    public let steps: Int
    public let dense: Dense
    public var inputShapes: [[Int]] { [[steps, dense.inputFeatures]] }
    public var outputShape: [Int] { [steps, dense.outputFeatures] }

    public init(steps: Int, inputFeatures: Int, outputFeatures: Int, bias: Bool = true,
                initializer: Initializer = .pytorch) throws(AutoencoderError) {
        guard steps >= 1 else { throw .invalidArgument("time_distributed_dense: steps must be at least 1, got \(steps)") }
        guard inputFeatures >= 1, outputFeatures >= 1 else {
            throw .invalidArgument("time_distributed_dense: input and output features must be at least 1, got \(inputFeatures) and \(outputFeatures)")
        }
        self.steps = steps
        dense = Dense(inputFeatures: inputFeatures, outputFeatures: outputFeatures, bias: bias, initializer: initializer)
    }

    public var parameterDeclarations: [ParameterDeclaration] { dense.parameterDeclarations }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        dense.bind(parameters: parameters, gradients: gradients)
    }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        var rows = io
        rows.batch = io.batch * steps
        dense.forward(rows, mode: mode, random: &random)
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        var rows = io
        rows.batch = io.batch * steps
        dense.backward(rows, accumulateInputGradient: accumulateInputGradient)
    }
}
