import CGemm

/// The element-wise reconstruction losses, with PyTorch's definitions. Reduction is the mean over
/// every element of the batch (PyTorch's 'mean'); per-sample values (the anomaly score) average
/// over the features of one sample.
public enum ReconstructionLoss: Equatable, Sendable {
    /// (x − t)²
    case mse
    /// |x − t|
    case l1
    /// ½d² if |d| < δ else δ(|d| − ½δ), d = x − t
    case huber(delta: Float)
    /// ½d²/β if |d| < β else |d| − ½β
    case smoothL1(beta: Float)
    /// −[t log x + (1 − t) log(1 − x)] on probabilities x ∈ [0, 1]; each log is clamped at −100.
    case bce
    /// −[t log σ(z) + (1 − t) log(1 − σ(z))] on logits z, computed without overflow.
    /// The model's reconstruction is then σ(z).
    case bceWithLogits
    /// 1 − exp(−(x − t)²/2σ²), the correntropy-induced loss (robust autoencoder): it grows like
    /// MSE/2σ² for small errors and saturates for outliers, which therefore barely pull the model.
    case correntropy(sigma: Float)

    public var name: String {
        switch self {
        case .mse: return "mse"
        case .l1: return "l1"
        case .huber: return "huber"
        case .smoothL1: return "smooth_l1"
        case .bce: return "bce"
        case .bceWithLogits: return "bce_with_logits"
        case .correntropy: return "correntropy"
        }
    }

    /// Σᵢ ℓ(xᵢ, tᵢ) over `count` elements, in Double. When `gradient` is given it receives
    /// `scale · ∂ℓ/∂xᵢ` (overwriting it). With a `mask` (1 = known, 0 = missing), missing elements
    /// add nothing and get a zero gradient.
    public func evaluate(output x: UnsafePointer<Float>, target t: UnsafePointer<Float>, count: Int,
                         gradient g: UnsafeMutablePointer<Float>?, scale: Float,
                         mask: UnsafePointer<Float>? = nil) -> Double {
        // The switch sits outside the loops so each loop is specialised and vectorisable.
        switch self {
        case .mse: return ReconstructionLoss.sum(x, t, count, g, scale, mask, ReconstructionLoss.mse)
        case .l1: return ReconstructionLoss.sum(x, t, count, g, scale, mask, ReconstructionLoss.l1)
        case .huber(let delta): return ReconstructionLoss.sum(x, t, count, g, scale, mask) { ReconstructionLoss.huber($0, $1, delta) }
        case .smoothL1(let beta): return ReconstructionLoss.sum(x, t, count, g, scale, mask) { ReconstructionLoss.smoothL1($0, $1, beta) }
        case .bce: return ReconstructionLoss.sum(x, t, count, g, scale, mask, ReconstructionLoss.bce)
        case .bceWithLogits: return ReconstructionLoss.sum(x, t, count, g, scale, mask, ReconstructionLoss.bceWithLogits)
        case .correntropy(let sigma):
            let inverseTwoVariance = 1 / (2 * sigma * sigma)
            return ReconstructionLoss.sum(x, t, count, g, scale, mask) { ReconstructionLoss.correntropy($0, $1, inverseTwoVariance) }
        }
    }

    /// Sums ℓ in Float blocks carried in Double (fast, and accurate over millions of elements), and
    /// writes the scaled derivative.
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, _ t: UnsafePointer<Float>, _ count: Int, _ g: UnsafeMutablePointer<Float>?,
                    _ scale: Float, _ mask: UnsafePointer<Float>?, _ element: (Float, Float) -> (Float, Float)) -> Double {
        var total: Double = 0
        var start = 0
        while start < count {
            let end = min(start + 4096, count)
            var partial: Float = 0
            if let mask {
                // A select, not known · value: a missing element may hold anything (an overflowed
                // residual, a garbage target), and 0 · ∞ would make the sum and gradient NaN.
                for i in start..<end {
                    let (value, derivative) = element(x[i], t[i])
                    let known = mask[i] != 0
                    partial += known ? value : 0
                    if let g { g[i] = known ? scale * derivative : 0 }
                }
            } else if let g {
                for i in start..<end {
                    let (value, derivative) = element(x[i], t[i])
                    partial += value
                    g[i] = scale * derivative
                }
            } else {
                for i in start..<end { partial += element(x[i], t[i]).0 }
            }
            total += Double(partial)
            start = end
        }
        return total
    }

    // Each element's loss ℓ(x, t) and derivative ∂ℓ/∂x.

    @inline(__always) static func mse(_ x: Float, _ t: Float) -> (Float, Float) {
        let d = x - t
        return (d * d, 2 * d)
    }

    @inline(__always) static func l1(_ x: Float, _ t: Float) -> (Float, Float) {
        let d = x - t
        return (abs(d), d > 0 ? 1 : (d < 0 ? -1 : 0))
    }

    @inline(__always) static func huber(_ x: Float, _ t: Float, _ delta: Float) -> (Float, Float) {
        let d = x - t, a = abs(d)
        if a < delta { return (0.5 * d * d, d) }
        return (delta * (a - 0.5 * delta), d > 0 ? delta : -delta)
    }

    @inline(__always) static func smoothL1(_ x: Float, _ t: Float, _ beta: Float) -> (Float, Float) {
        let d = x - t, a = abs(d)
        if a < beta { return (0.5 * d * d / beta, d / beta) }
        return (a - 0.5 * beta, d > 0 ? 1 : (d < 0 ? -1 : 0))
    }

    /// PyTorch: each log clamped at −100; gradient (p − t) / max(p(1 − p), 1e-12).
    @inline(__always) static func bce(_ p: Float, _ t: Float) -> (Float, Float) {
        let logP = max(_log(p), -100), log1mP = max(_log(1 - p), -100)
        return (-(t * logP + (1 - t) * log1mP), (p - t) / max((1 - p) * p, 1e-12))
    }

    @inline(__always) static func bceWithLogits(_ z: Float, _ t: Float) -> (Float, Float) {
        (max(z, 0) - z * t + _log1p(_exp(-abs(z))), sigmoid(z) - t)
    }

    /// 1 − exp(−d²/2σ²): quadratic near 0, bounded for outliers. The value is −expm1(−u), since
    /// 1 − exp(−u) in Float cancels for the small residuals of a trained model (relative error
    /// ~6e-8/u); the gradient keeps exp(−u), which 1 − value would lose for large residuals.
    @inline(__always) static func correntropy(_ x: Float, _ t: Float, _ inverseTwoVariance: Float) -> (Float, Float) {
        let d = x - t
        let u = d * d * inverseTwoVariance
        return (-_expm1(-u), 2 * d * inverseTwoVariance * _exp(-u))
    }

    /// Fused sigmoid + binary cross-entropy: from logits z, the loss of p = σ(z) against t and
    /// `scale · ∂ℓ/∂z = scale · (p − t)`. Used when a sigmoid output layer feeds `.bce`, so the pair
    /// costs one pass and never divides by p(1 − p).
    public static func sigmoidBCE(logits z: UnsafePointer<Float>, target t: UnsafePointer<Float>, count: Int,
                                  gradient g: UnsafeMutablePointer<Float>?, scale: Float,
                                  mask: UnsafePointer<Float>? = nil) -> Double {
        guard let g, mask == nil else {
            return sum(z, t, count, g, scale, mask, sigmoidBCEElement)
        }
        // The hot path of BCE training, in CGemm (aeelementwise.h: AVX-512 or AVX2, the gradients
        // bit for bit `sigmoidBCEElement`'s). Blocks of 1,024 elements (an exp and a log each) are
        // shared out across the library's threads; each part sums its blocks in order, and the
        // parts' sums are added in part order.
        let blocks = (count + 1023) / 1024
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: WorkerPool.maximumWidth) { totals -> Double in
            totals.initialize(repeating: 0)
            Parallel.forEachPart(count: blocks, work: 8 * count, scratch: g) { part, range, _ in
                let start = range.lowerBound * 1024, end = min(range.upperBound * 1024, count)
                totals[part] = aeg_sigmoid_bce(end - start, z + start, t + start, g + start, scale)
            }
            var total: Double = 0
            for partial in totals { total += partial }
            return total
        }
    }

    @inline(__always) static func sigmoidBCEElement(_ v: Float, _ y: Float) -> (Float, Float) {
        let e = FastMath.exp(-abs(v))
        let p = sigmoid(v, expOfMinusAbs: e)
        return (min(max(v, 0) - v * y + FastMath.log1pUnit(e), 100), p - y)
    }

    /// Validates hyperparameters; returns a message for the spec, or nil.
    var problem: String? {
        switch self {
        case .huber(let delta) where !(delta > 0 && delta.isFinite): return "delta must be a positive number"
        case .smoothL1(let beta) where !(beta > 0 && beta.isFinite): return "beta must be a positive number"
        case .correntropy(let sigma) where !(sigma > 0 && sigma.isFinite): return "sigma must be a positive number"
        default: return nil
        }
    }
}
