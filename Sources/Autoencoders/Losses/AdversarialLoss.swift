/// The discriminator's loss: binary cross-entropy with logits against one target t for a whole
/// block of rows (1 for prior samples, 0 for codes; the generator phase scores codes against 1),
///
///     ℓ(s, t) = max(s, 0) − s·t + log(1 + e^−|s|),   ∂ℓ/∂s = σ(s) − t,
///
/// the stable form of −t log σ(s) − (1 − t) log(1 − σ(s)) (PyTorch's BCEWithLogitsLoss).
enum AdversarialLoss {
    /// The mean of ℓ(logits[i], target) over `rows` logits; with `gradient`, writes
    /// scale · ∂ℓ/∂s there (scale = 1/rows gives the gradient of the mean).
    static func evaluate(logits: UnsafePointer<Float>, rows: Int, target: Float, gradient: UnsafeMutablePointer<Float>?,
                         scale: Float) -> Double {
        var sum: Double = 0
        for i in 0..<rows {
            let s = logits[i]
            sum += Double(max(s, 0) - s * target + _log1p(_exp(-abs(s))))
            if let gradient {
                let sigmoid = s >= 0 ? 1 / (1 + _exp(-s)) : _exp(s) / (1 + _exp(s))
                gradient[i] = scale * (sigmoid - target)
            }
        }
        return rows > 0 ? sum / Double(rows) : 0
    }

    /// The fraction of `rows` logits on the side of the target: s > 0 for target 1, s < 0 for 0
    /// (the discriminator's accuracy on that block).
    static func accuracy(logits: UnsafePointer<Float>, rows: Int, target: Float) -> Double {
        var right = 0
        for i in 0..<rows where (logits[i] > 0) == (target > 0.5) { right += 1 }
        return rows > 0 ? Double(right) / Double(rows) : 0
    }
}
