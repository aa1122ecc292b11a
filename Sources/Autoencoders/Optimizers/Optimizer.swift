/// The optimizers, each a single fused loop over the model's one flat parameter buffer.
/// Update rules are PyTorch's (torch.optim, single-tensor path); each file states its rule.
public protocol Optimizer: AnyObject {
    var configuration: OptimizerConfiguration { get }
    /// The current learning rate (schedules change it between epochs).
    var learningRate: Float { get set }
    /// Updates performed so far (t in Adam's bias correction).
    var stepCount: Int { get set }
    /// The optimizer's buffers, each as long as the parameter buffer, with stable names for the model file.
    var state: [(name: String, buffer: FloatBuffer)] { get }
    /// p ← update(p, g) over `count` parameters, zeroing each gradient as it is read, so the next
    /// backward pass can accumulate from zero without a separate pass over the buffer.
    func step(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafeMutablePointer<Float>, count: Int)
}

/// An optimizer and its hyperparameters, as written in the spec's "optimizer" object.
public enum OptimizerConfiguration: Equatable, Sendable {
    case sgd(learningRate: Float, momentum: Float, dampening: Float, nesterov: Bool, weightDecay: Float)
    case adam(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float)
    case adamW(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float)
    case rmsprop(learningRate: Float, alpha: Float, epsilon: Float, momentum: Float, weightDecay: Float)
    case adagrad(learningRate: Float, learningRateDecay: Float, epsilon: Float, weightDecay: Float, initialAccumulator: Float)

    public static let defaultAdam = OptimizerConfiguration.adam(learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0)

    public var name: String {
        switch self {
        case .sgd: return "sgd"
        case .adam: return "adam"
        case .adamW: return "adamw"
        case .rmsprop: return "rmsprop"
        case .adagrad: return "adagrad"
        }
    }

    public var learningRate: Float {
        switch self {
        case .sgd(let lr, _, _, _, _), .adam(let lr, _, _, _, _), .adamW(let lr, _, _, _, _),
             .rmsprop(let lr, _, _, _, _), .adagrad(let lr, _, _, _, _):
            return lr
        }
    }

    /// A fresh optimizer for `parameterCount` parameters.
    public func makeOptimizer(parameterCount: Int) throws(AutoencoderError) -> Optimizer {
        switch self {
        case .sgd: return try SGD(self, parameterCount: parameterCount)
        case .adam, .adamW: return try Adam(self, parameterCount: parameterCount)
        case .rmsprop: return try RMSprop(self, parameterCount: parameterCount)
        case .adagrad: return try Adagrad(self, parameterCount: parameterCount)
        }
    }
}
