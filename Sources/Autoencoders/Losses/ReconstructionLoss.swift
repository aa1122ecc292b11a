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

    public var name: String {
        switch self {
        case .mse: return "mse"
        case .l1: return "l1"
        case .huber: return "huber"
        case .smoothL1: return "smooth_l1"
        case .bce: return "bce"
        case .bceWithLogits: return "bce_with_logits"
        }
    }

    /// Σᵢ ℓ(xᵢ, tᵢ) over `count` elements, in Double. When `gradient` is given it receives
    /// `scale · ∂ℓ/∂xᵢ` (overwriting it).
    public func evaluate(output x: UnsafePointer<Float>, target t: UnsafePointer<Float>, count: Int,
                         gradient g: UnsafeMutablePointer<Float>?, scale: Float) -> Double {
        var sum: Double = 0
        // Sum in Float blocks and carry in Double: fast, and accurate for millions of elements.
        func blocked(_ body: (Int) -> Float) {
            var start = 0
            while start < count {
                let end = min(start + 4096, count)
                var partial: Float = 0
                for i in start..<end { partial += body(i) }
                sum += Double(partial)
                start = end
            }
        }
        switch self {
        case .mse:
            blocked { i in
                let d = x[i] - t[i]
                if let g { g[i] = scale * 2 * d }
                return d * d
            }
        case .l1:
            blocked { i in
                let d = x[i] - t[i]
                if let g { g[i] = d > 0 ? scale : (d < 0 ? -scale : 0) }
                return abs(d)
            }
        case .huber(let delta):
            blocked { i in
                let d = x[i] - t[i], a = abs(d)
                if a < delta {
                    if let g { g[i] = scale * d }
                    return 0.5 * d * d
                }
                if let g { g[i] = d > 0 ? scale * delta : -scale * delta }
                return delta * (a - 0.5 * delta)
            }
        case .smoothL1(let beta):
            blocked { i in
                let d = x[i] - t[i], a = abs(d)
                if a < beta {
                    if let g { g[i] = scale * d / beta }
                    return 0.5 * d * d / beta
                }
                if let g { g[i] = d > 0 ? scale : (d < 0 ? -scale : 0) }
                return a - 0.5 * beta
            }
        case .bce:
            blocked { i in
                let p = x[i], y = t[i]
                // PyTorch: grad = (p − t) / max(p(1 − p), 1e-12)
                if let g { g[i] = scale * (p - y) / max((1 - p) * p, 1e-12) }
                let logP = max(_log(p), -100), log1mP = max(_log(1 - p), -100)
                return -(y * logP + (1 - y) * log1mP)
            }
        case .bceWithLogits:
            blocked { i in
                let z = x[i], y = t[i]
                if let g { g[i] = scale * (sigmoid(z) - y) }
                return max(z, 0) - z * y + _log1p(_exp(-abs(z)))
            }
        }
        return sum
    }

    /// Fused sigmoid + binary cross-entropy: from logits z, the loss of p = σ(z) against t and
    /// `scale · ∂ℓ/∂z = scale · (p − t)`. Used when a sigmoid output layer feeds `.bce`, so the pair
    /// costs one pass and never divides by p(1 − p).
    public static func sigmoidBCE(logits z: UnsafePointer<Float>, target t: UnsafePointer<Float>, count: Int,
                                  gradient g: UnsafeMutablePointer<Float>?, scale: Float) -> Double {
        var sum: Double = 0
        var start = 0
        while start < count {
            let end = min(start + 4096, count)
            var partial: Float = 0
            for i in start..<end {
                let v = z[i], y = t[i]
                let e = FastMath.exp(-abs(v))            // in (0, 1]
                let p = v >= 0 ? 1 / (1 + e) : e / (1 + e)
                if let g { g[i] = scale * (p - y) }
                // −[y log p + (1 − y) log(1 − p)] = max(z, 0) − z·y + log(1 + e^{−|z|}), with PyTorch's clamp at 100
                partial += min(max(v, 0) - v * y + FastMath.log1pUnit(e), 100)
            }
            sum += Double(partial)
            start = end
        }
        return sum
    }

    /// Validates hyperparameters; returns a message for the spec, or nil.
    var problem: String? {
        switch self {
        case .huber(let delta) where !(delta > 0 && delta.isFinite): return "delta must be a positive number"
        case .smoothL1(let beta) where !(beta > 0 && beta.isFinite): return "beta must be a positive number"
        default: return nil
        }
    }
}
