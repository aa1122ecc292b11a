/// RMSprop (Hinton), PyTorch's rule (ε outside the square root):
///
///     g = grad + wd·p;   v = αv + (1 − α)g²;   avg = √v + ε
///     with momentum: buf = momentum·buf + g/avg;  p = p − lr·buf
///     without:       p = p − lr·g/avg
public final class RMSprop: Optimizer {
    public let configuration: OptimizerConfiguration
    public var learningRate: Float
    public var stepCount = 0
    let alpha: Float, epsilon: Float, momentum: Float, weightDecay: Float
    let squareAverage: FloatBuffer
    let momentumBuffer: FloatBuffer

    init(_ configuration: OptimizerConfiguration, parameterCount: Int) throws(AutoencoderError) {
        guard case let .rmsprop(lr, alpha, eps, momentum, wd) = configuration else {
            preconditionFailure("RMSprop built from \(configuration.name)")
        }
        self.configuration = configuration
        learningRate = lr
        self.alpha = alpha
        epsilon = eps
        self.momentum = momentum
        weightDecay = wd
        squareAverage = try FloatBuffer(count: parameterCount)
        momentumBuffer = try FloatBuffer(count: momentum == 0 ? 0 : parameterCount)
    }

    public var state: [(name: String, buffer: FloatBuffer)] {
        momentum == 0 ? [("square_avg", squareAverage)] : [("square_avg", squareAverage), ("momentum_buffer", momentumBuffer)]
    }

    public func step(parameters p: UnsafeMutablePointer<Float>, gradients grad: UnsafeMutablePointer<Float>, count: Int) {
        let lr = learningRate, a = alpha, eps = epsilon, mu = momentum, wd = weightDecay
        let v = squareAverage.pointer
        if mu == 0 {
            Parallel.forEachRange(count: count, work: 6 * count) { range in
                for i in range {
                    let g = grad[i] + wd * p[i]
                    grad[i] = 0
                    let vi = a * v[i] + (1 - a) * g * g
                    v[i] = vi
                    p[i] -= lr * g / (FastMath.sqrt(vi) + eps)
                }
            }
        } else {
            let buf = momentumBuffer.pointer
            Parallel.forEachRange(count: count, work: 8 * count) { range in
                for i in range {
                    let g = grad[i] + wd * p[i]
                    grad[i] = 0
                    let vi = a * v[i] + (1 - a) * g * g
                    v[i] = vi
                    let b = mu * buf[i] + g / (FastMath.sqrt(vi) + eps)
                    buf[i] = b
                    p[i] -= lr * b
                }
            }
        }
        stepCount += 1
    }
}
