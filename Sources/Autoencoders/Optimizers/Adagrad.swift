/// Adagrad (Duchi et al. 2011), PyTorch's rule:
///
///     t += 1;  g = grad + wd·p;  clr = lr / (1 + (t − 1)·lr_decay)
///     sum = sum + g²  (starting at initial_accumulator_value);  p = p − clr · g / (√sum + ε)
public final class Adagrad: Optimizer {
    public let configuration: OptimizerConfiguration
    public var learningRate: Float
    public var stepCount = 0
    let learningRateDecay: Float, epsilon: Float, weightDecay: Float
    let sum: FloatBuffer

    init(_ configuration: OptimizerConfiguration, parameterCount: Int) throws(AutoencoderError) {
        guard case let .adagrad(lr, decay, eps, wd, initial) = configuration else {
            preconditionFailure("Adagrad built from \(configuration.name)")
        }
        self.configuration = configuration
        learningRate = lr
        learningRateDecay = decay
        epsilon = eps
        weightDecay = wd
        sum = try FloatBuffer(count: parameterCount)
        sum.pointer.update(repeating: initial, count: parameterCount)
    }

    public var state: [(name: String, buffer: FloatBuffer)] { [("sum", sum)] }

    public func step(parameters p: UnsafeMutablePointer<Float>, gradients grad: UnsafeMutablePointer<Float>, count: Int) {
        stepCount += 1
        let clr = learningRate / (1 + Float(stepCount - 1) * learningRateDecay)
        let eps = epsilon, wd = weightDecay
        let s = sum.pointer
        Parallel.forEachRange(count: count, work: 6 * count) { range in
            for i in range {
                let g = grad[i] + wd * p[i]
                grad[i] = 0
                let si = s[i] + g * g
                s[i] = si
                p[i] -= clr * g / (FastMath.sqrt(si) + eps)
            }
        }
    }
}
