/// Gradient clipping by global norm, PyTorch's `clip_grad_norm_(parameters, max_norm)` with the
/// 2-norm:
///
///     total = √(Σ_i g_i²)   over every gradient at once (as if concatenated, not per tensor)
///     coef  = min(max_norm / (total + 1e-6), 1);     g ← coef · g
///
/// The 1e-6 leaves a clipped gradient slightly below max_norm; below the threshold the
/// coefficient is exactly 1 and the gradient is unchanged bit for bit. An option of every
/// optimizer (`"clip_grad_norm"` in the spec's optimizer): the trainer clips the model's one flat
/// gradient buffer between backward and the update, so it is one pass for any number of tensors.
public enum GradientClipping {
    /// PyTorch's epsilon in the coefficient's denominator.
    public static let epsilon: Float = 1e-6

    /// The 2-norm of `count` values, summed in Double.
    public static func norm(_ g: UnsafePointer<Float>, count: Int) -> Float {
        var sum: Double = 0
        for i in 0..<count { sum += Double(g[i]) * Double(g[i]) }
        return Float(sum.squareRoot())
    }

    /// min(maxNorm / (total + 1e-6), 1).
    public static func coefficient(total: Float, maxNorm: Float) -> Float {
        min(maxNorm / (total + epsilon), 1)
    }

    /// Scales `count` gradients in place so their global 2-norm is at most `maxNorm`; returns the
    /// norm before clipping and the coefficient applied. A non-finite norm changes nothing: the
    /// caller decides (the trainer refuses the step).
    @discardableResult
    public static func clip(_ g: UnsafeMutablePointer<Float>, count: Int, maxNorm: Float) -> (norm: Float, coefficient: Float) {
        let total = norm(g, count: count)
        guard total.isFinite else { return (total, 1) }
        let coef = coefficient(total: total, maxNorm: maxNorm)
        if coef < 1 {
            for i in 0..<count { g[i] *= coef }
        }
        return (total, coef)
    }
}
