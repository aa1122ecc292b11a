/// Losses over sequence batches `[N, T, ·]` with per-sample lengths: steps at or past a sample's
/// length are padding, add nothing, get a zero gradient and do not count in the mean.
///
/// - `crossEntropy`: per-step softmax cross-entropy over a vocabulary on the last axis (text
///   autoencoders), PyTorch's `cross_entropy(logits.reshape(-1, V), target.reshape(-1),
///   ignore_index=…)`: ℓ = log Σ_v exp(z_v) − z_target, ∂ℓ/∂z = softmax(z) − onehot. A sample's
///   valid steps are rows `[T, V]` = `[positions = 1]` pixels of `CrossEntropy`, which this reuses.
/// - `reconstruction`: any reconstruction loss (MSE, …) over the valid steps' features.
///
/// Both return the sum and the count; PyTorch's 'mean' is sum / count (NaN over nothing).
public enum SequenceLoss {
    /// Σℓ over the counted steps (valid and not labelled `ignoreLabel`), in Double, and their count.
    /// With `gradient` (`[N, T, V]`) it receives `scale · ∂ℓ/∂z`, zero at every uncounted step.
    /// Labels `[N, T]` are class ids as floats; one outside 0..<V counts as ignored (validate them
    /// with `CrossEntropy.validateLabels`).
    public static func crossEntropy(logits: UnsafePointer<Float>, labels: UnsafePointer<Float>, batch: Int, steps: Int,
                                    vocabulary: Int, lengths: UnsafePointer<Int32>?,
                                    gradient: UnsafeMutablePointer<Float>?, scale: Float,
                                    ignoreLabel: Int = CrossEntropy.defaultIgnoreLabel) -> (sum: Double, counted: Int) {
        var total: Double = 0, counted = 0
        let V = vocabulary
        for n in 0..<batch {
            let length = validSteps(lengths, n, steps)
            let z = logits + n * steps * V, label = labels + n * steps
            if length > 0 {
                let (sum, count) = CrossEntropy.evaluate(logits: z, labels: label, batch: length, classes: V, positions: 1,
                                                         gradient: gradient.map { $0 + n * steps * V }, scale: scale,
                                                         ignoreLabel: ignoreLabel)
                total += sum
                counted += count
            }
            gradient.map { ($0 + (n * steps + length) * V).update(repeating: 0, count: (steps - length) * V) }
        }
        return (total, counted)
    }

    /// The number of steps `crossEntropy` counts: the divisor of 'mean'.
    public static func countedSteps(labels: UnsafePointer<Float>, batch: Int, steps: Int, vocabulary: Int,
                                    lengths: UnsafePointer<Int32>?, ignoreLabel: Int = CrossEntropy.defaultIgnoreLabel) -> Int {
        var counted = 0
        for n in 0..<batch {
            counted += CrossEntropy.countedPixels(labels: labels + n * steps, count: validSteps(lengths, n, steps),
                                                  classes: vocabulary, ignoreLabel: ignoreLabel)
        }
        return counted
    }

    /// PyTorch's 'mean' cross-entropy over the counted steps, with `upstream · ∂L/∂z` in `gradient`.
    public static func meanCrossEntropy(logits: UnsafePointer<Float>, labels: UnsafePointer<Float>, batch: Int, steps: Int,
                                        vocabulary: Int, lengths: UnsafePointer<Int32>?,
                                        gradient: UnsafeMutablePointer<Float>?, upstream: Float = 1,
                                        ignoreLabel: Int = CrossEntropy.defaultIgnoreLabel) -> Double {
        let count = countedSteps(labels: labels, batch: batch, steps: steps, vocabulary: vocabulary, lengths: lengths,
                                 ignoreLabel: ignoreLabel)
        let (sum, _) = crossEntropy(logits: logits, labels: labels, batch: batch, steps: steps, vocabulary: vocabulary,
                                    lengths: lengths, gradient: gradient, scale: count > 0 ? upstream / Float(count) : 0,
                                    ignoreLabel: ignoreLabel)
        return count > 0 ? sum / Double(count) : .nan
    }

    /// Σ loss over the valid steps' `features` values of output against target (`[N, T, F]`),
    /// in Double, and how many values counted (Σ lengths · F). With `gradient` it receives
    /// `scale · ∂loss/∂output` there and zero at padded steps. For the mean pass
    /// `scale = 1 / count` (the count is Σ lengths · F, known before the call).
    /// A nil loss is the fused sigmoid + BCE from logits (`ReconstructionLoss.sigmoidBCE`).
    public static func reconstruction(_ loss: ReconstructionLoss?, output: UnsafePointer<Float>, target: UnsafePointer<Float>,
                                      batch: Int, steps: Int, features: Int, lengths: UnsafePointer<Int32>?,
                                      gradient: UnsafeMutablePointer<Float>?, scale: Float) -> (sum: Double, counted: Int) {
        func evaluate(_ offset: Int, _ count: Int) -> Double {
            let g = gradient.map { $0 + offset }
            guard let loss else { return ReconstructionLoss.sigmoidBCE(logits: output + offset, target: target + offset, count: count,
                                                                       gradient: g, scale: scale) }
            return loss.evaluate(output: output + offset, target: target + offset, count: count, gradient: g, scale: scale)
        }
        guard let lengths else {
            let count = batch * steps * features
            return (evaluate(0, count), count)
        }
        var total: Double = 0, counted = 0
        let row = steps * features
        for n in 0..<batch {
            let valid = validSteps(lengths, n, steps) * features
            total += evaluate(n * row, valid)
            counted += valid
            gradient.map { ($0 + n * row + valid).update(repeating: 0, count: row - valid) }
        }
        return (total, counted)
    }

    /// Σ_n lengths[n] · features: what `reconstruction` counts.
    public static func countedValues(batch: Int, steps: Int, features: Int, lengths: UnsafePointer<Int32>?) -> Int {
        (0..<batch).reduce(0) { $0 + validSteps(lengths, $1, steps) } * features
    }

    /// Sample n's length clamped into 0...T (T without lengths).
    @inline(__always) static func validSteps(_ lengths: UnsafePointer<Int32>?, _ n: Int, _ steps: Int) -> Int {
        guard let lengths else { return steps }
        return min(max(Int(lengths[n]), 0), steps)
    }

    /// Checks `batch` lengths against T: each must be in 1...T. Throws `.invalidArgument` naming
    /// the first bad one, e.g. "lengths[3] = 0 must be between 1 and T = 50".
    public static func validate(lengths: UnsafePointer<Int32>, batch: Int, steps: Int, name: String = "lengths") throws(AutoencoderError) {
        for n in 0..<batch where lengths[n] < 1 || Int(lengths[n]) > steps {
            throw .invalidArgument("\(name)[\(n)] = \(lengths[n]) must be between 1 and T = \(steps)")
        }
    }
}
