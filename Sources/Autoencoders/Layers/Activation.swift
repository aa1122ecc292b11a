import CGemm

/// The elementwise nonlinearities, with the exact conventions of PyTorch (relu'(0) = 0, leaky_relu
/// uses its slope at 0, softplus is linear above its threshold, gelu in both erf and tanh forms).
public enum ActivationFunction: Equatable, Sendable {
    case identity
    case relu
    /// max(0, x) + slope · min(0, x)
    case leakyReLU(negativeSlope: Float)
    /// x if x > 0 else α(eˣ − 1)
    case elu(alpha: Float)
    /// λ · (x if x > 0 else α(eˣ − 1)), λ = 1.0507…, α = 1.6732…
    case selu
    /// x · Φ(x), Φ the normal CDF (via erf)
    case gelu
    /// ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
    case geluTanh
    case sigmoid
    case tanh
    /// log(1 + e^{βx}) / β, and x where βx > threshold
    case softplus(beta: Float, threshold: Float)

    /// The spec's name for the function.
    public var name: String {
        switch self {
        case .identity: return "identity"
        case .relu: return "relu"
        case .leakyReLU: return "leaky_relu"
        case .elu: return "elu"
        case .selu: return "selu"
        case .gelu: return "gelu"
        case .geluTanh: return "gelu_tanh"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .softplus: return "softplus"
        }
    }

    /// The initialiser that keeps activations at unit scale through this function.
    public var preferredInitializer: Initializer {
        switch self {
        case .relu, .leakyReLU, .elu, .gelu, .geluTanh: return .heUniform
        case .selu: return .lecunNormal
        case .identity, .sigmoid, .tanh, .softplus: return .xavierUniform
        }
    }

    /// dx[i] = g(i), or dx[i] += g(i) when accumulating (never 0 · dx, which would keep a stale NaN).
    @inline(__always)
    static func store(_ dx: UnsafeMutablePointer<Float>, _ count: Int, _ accumulate: Bool, _ g: (Int) -> Float) {
        if accumulate {
            for i in 0..<count { dx[i] += g(i) }
        } else {
            for i in 0..<count { dx[i] = g(i) }
        }
    }
}

/// An elementwise activation layer: y = f(x). Backward uses the saved input x (and output y).
public final class Activation: Layer {
    /// Each sample on its own: the graph may split the batch across threads.
    public var isSampleParallel: Bool { true }
    public let function: ActivationFunction
    public let inputShapes: [[Int]]
    public var outputShape: [Int] { inputShapes[0] }
    public var kind: String { function.name }

    public init(_ function: ActivationFunction, shape: [Int]) {
        self.function = function
        self.inputShapes = [shape]
    }

    static let seluAlpha: Float = 1.6732632423543772
    static let seluScale: Float = 1.0507009873554805
    static let sqrt2OverPi: Float = 0.7978845608028654
    static let invSqrt2: Float = 0.7071067811865476
    static let invSqrt2Pi: Float = 0.3989422804014327

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        Activation.apply(function, io.input, io.output, io.batch * outputSize)
    }

    /// y[i] = f(x[i]) for i < count; x and y may be the same buffer.
    public static func apply(_ function: ActivationFunction, _ x: UnsafePointer<Float>,
                             _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        switch function {
        case .identity:
            if UnsafePointer(y) != x { y.update(from: x, count: count) }
        case .relu:
            relu(x, y, count)
        case .leakyReLU(let slope):
            for i in 0..<count { y[i] = x[i] > 0 ? x[i] : slope * x[i] }
        case .elu(let alpha):
            for i in 0..<count { y[i] = x[i] > 0 ? x[i] : alpha * _expm1(x[i]) }
        case .selu:
            for i in 0..<count { y[i] = seluScale * (x[i] > 0 ? x[i] : seluAlpha * _expm1(x[i])) }
        case .gelu:
            for i in 0..<count { y[i] = 0.5 * x[i] * (1 + _erf(x[i] * invSqrt2)) }
        case .geluTanh:
            for i in 0..<count {
                let v = x[i]
                y[i] = 0.5 * v * (1 + _tanh(sqrt2OverPi * (v + 0.044715 * v * v * v)))
            }
        case .sigmoid:
            aeg_sigmoid(count, x, y)          // Autoencoders.sigmoid, bit for bit, in wide vectors
        case .tanh:
            for i in 0..<count { y[i] = _tanh(x[i]) }
        case .softplus(let beta, let threshold):
            for i in 0..<count {
                let bx = beta * x[i]
                y[i] = bx > threshold ? x[i] : softplusStable(bx) / beta
            }
        }
    }

    /// log(1 + eᶻ) without overflow.
    @inline(__always) static func softplusStable(_ z: Float) -> Float {
        z > 0 ? z + _log1p(_exp(-z)) : _log1p(_exp(z))
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        guard let gradInput = io.gradInput else { return }
        Activation.gradient(function, x: io.input, y: io.output, gradOutput: io.gradOutput,
                            gradInput: gradInput, count: io.batch * outputSize, accumulate: accumulateInputGradient)
    }

    /// dx[i] (+)= dy[i] · f'(x[i]), using the saved y where that is cheaper.
    public static func gradient(_ function: ActivationFunction, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
                                gradOutput dy: UnsafePointer<Float>, gradInput dx: UnsafeMutablePointer<Float>,
                                count: Int, accumulate: Bool) {
        switch function {
        case .identity:
            store(dx, count, accumulate) { i in dy[i] }
        case .relu:
            reluGradient(x: x, gradOutput: dy, gradInput: dx, count: count, accumulate: accumulate)
        case .leakyReLU(let slope):
            store(dx, count, accumulate) { i in (x[i] > 0 ? dy[i] : slope * dy[i]) }
        case .elu(let alpha):
            // f'(x) = f(x) + α for x ≤ 0
            store(dx, count, accumulate) { i in (x[i] > 0 ? dy[i] : dy[i] * (y[i] + alpha)) }
        case .selu:
            store(dx, count, accumulate) { i in x[i] > 0 ? seluScale * dy[i] : dy[i] * (y[i] + seluScale * seluAlpha) }
        case .gelu:
            store(dx, count, accumulate) { i in
                let v = x[i]
                let cdf = 0.5 * (1 + _erf(v * invSqrt2))
                let pdf = invSqrt2Pi * _exp(-0.5 * v * v)
                return dy[i] * (cdf + v * pdf)
            }
        case .geluTanh:
            store(dx, count, accumulate) { i in
                let v = x[i]
                let inner = sqrt2OverPi * (v + 0.044715 * v * v * v)
                let t = _tanh(inner)
                let dInner = sqrt2OverPi * (1 + 3 * 0.044715 * v * v)
                return dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * dInner)
            }
        case .sigmoid:
            store(dx, count, accumulate) { i in dy[i] * y[i] * (1 - y[i]) }
        case .tanh:
            store(dx, count, accumulate) { i in dy[i] * (1 - y[i] * y[i]) }
        case .softplus(let beta, let threshold):
            store(dx, count, accumulate) { i in
                let bx = beta * x[i]
                return bx > threshold ? dy[i] : dy[i] * Autoencoders.sigmoid(bx)
            }
        }
    }

    /// dx[i] = g(i), or dx[i] += g(i) when accumulating (never 0 · dx, which would keep a stale NaN).
    @inline(__always)
    static func store(_ dx: UnsafeMutablePointer<Float>, _ count: Int, _ accumulate: Bool, _ g: (Int) -> Float) {
        if accumulate {
            for i in 0..<count { dx[i] += g(i) }
        } else {
            for i in 0..<count { dx[i] = g(i) }
        }
    }

    /// y = x where x > 0, else 0 (NaN → 0), in CGemm's AVX-512 or AVX2 (aeelementwise.h). x and y
    /// may be the same.
    static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        aeg_relu(count, x, y)
    }

    /// dx (+)= dy where x > 0, else 0 (see `relu`).
    static func reluGradient(x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>, gradInput dx: UnsafeMutablePointer<Float>,
                             count: Int, accumulate: Bool) {
        aeg_relu_gradient(count, x, dy, dx, accumulate ? 1 : 0)
    }
}
