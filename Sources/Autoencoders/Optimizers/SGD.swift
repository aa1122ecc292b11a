/// Stochastic gradient descent with momentum and Nesterov momentum (PyTorch's rule):
///
///     g = grad + wd·p
///     buf = g on the first step, else momentum·buf + (1 − dampening)·g
///     g = g + momentum·buf (Nesterov) or buf
///     p = p − lr·g
public final class SGD: Optimizer {
    public let configuration: OptimizerConfiguration
    public var learningRate: Float
    public var stepCount = 0
    let momentum: Float, dampening: Float, nesterov: Bool, weightDecay: Float
    let velocity: FloatBuffer

    init(_ configuration: OptimizerConfiguration, parameterCount: Int) throws(AutoencoderError) {
        guard case let .sgd(lr, momentum, dampening, nesterov, weightDecay) = configuration else {
            preconditionFailure("SGD built from \(configuration.name)")
        }
        self.configuration = configuration
        self.learningRate = lr
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.velocity = try FloatBuffer(count: momentum == 0 ? 0 : parameterCount)
    }

    public var state: [(name: String, buffer: FloatBuffer)] { momentum == 0 ? [] : [("momentum_buffer", velocity)] }

    public func step(parameters p: UnsafeMutablePointer<Float>, gradients grad: UnsafeMutablePointer<Float>, count: Int) {
        let lr = learningRate, wd = weightDecay, mu = momentum, keep = 1 - dampening
        if mu == 0 {
            Parallel.forEachRange(count: count, work: 4 * count) { range in
                for i in range {
                    p[i] -= lr * (grad[i] + wd * p[i])
                    grad[i] = 0
                }
            }
        } else {
            let buf = velocity.pointer
            let first = stepCount == 0, nesterov = nesterov
            Parallel.forEachRange(count: count, work: 6 * count) { range in
                for i in range {
                    let g = grad[i] + wd * p[i]
                    grad[i] = 0
                    let b = first ? g : mu * buf[i] + keep * g
                    buf[i] = b
                    p[i] -= lr * (nesterov ? g + mu * b : b)
                }
            }
        }
        stepCount += 1
    }
}
