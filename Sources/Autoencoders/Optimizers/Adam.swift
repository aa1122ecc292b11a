import CGemm

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), PyTorch's rule:
///
///     AdamW only: p = p·(1 − lr·wd)
///     Adam only:  g = grad + wd·p
///     m = β₁m + (1 − β₁)g;   v = β₂v + (1 − β₂)g²
///     p = p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
public final class Adam: Optimizer {
    public let configuration: OptimizerConfiguration
    public var learningRate: Float
    public var stepCount = 0
    let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, decoupled: Bool
    let firstMoment: FloatBuffer
    let secondMoment: FloatBuffer

    init(_ configuration: OptimizerConfiguration, parameterCount: Int) throws(AutoencoderError) {
        switch configuration {
        case let .adam(lr, b1, b2, eps, wd), let .adamW(lr, b1, b2, eps, wd):
            learningRate = lr
            beta1 = b1
            beta2 = b2
            epsilon = eps
            weightDecay = wd
        default:
            preconditionFailure("Adam built from \(configuration.name)")
        }
        if case .adamW = configuration { decoupled = true } else { decoupled = false }
        self.configuration = configuration
        firstMoment = try FloatBuffer(count: parameterCount)
        secondMoment = try FloatBuffer(count: parameterCount)
    }

    public var state: [(name: String, buffer: FloatBuffer)] { [("exp_avg", firstMoment), ("exp_avg_sq", secondMoment)] }

    public func step(parameters p: UnsafeMutablePointer<Float>, gradients grad: UnsafeMutablePointer<Float>, count: Int) {
        stepCount += 1
        let t = Double(stepCount)
        let stepSize = Float(Double(learningRate) / (1 - _pow(Double(beta1), t)))
        let invBiasCorrection2 = Float(1 / (1 - _pow(Double(beta2), t)).squareRoot())
        let b1 = beta1, b2 = beta2, eps = epsilon
        let m = firstMoment.pointer, v = secondMoment.pointer
        let coupledDecay = decoupled ? 0 : weightDecay
        let shrink = decoupled ? 1 - learningRate * weightDecay : 1
        // In CGemm (aeelementwise.h): the rule above in AVX-512 or AVX2, bit for bit what this
        // loop written in Swift gave (the core is compiled for the x86-64 baseline's 4 floats).
        Parallel.forEachRange(count: count, work: 8 * count) { range in
            let i = range.lowerBound
            aeg_adam_update(range.count, p + i, grad + i, m + i, v + i, b1, b2, eps, stepSize, invBiasCorrection2,
                            coupledDecay, shrink)
        }
    }
}
