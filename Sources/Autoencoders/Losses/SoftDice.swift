import Glibc

/// The soft Dice loss of segmentation (Milletari et al. 2016; Myronenko 2018), alone or with
/// cross-entropy. With p = softmax(z) over the classes at each position and t the one-hot label,
/// per sample n and class c, over the positions not labelled `ignoreLabel`:
///
///     I = Σ p·t,   U = Σ p² + Σ t²,   D_nc = (2I + s) / (U + s)       (s the smoothing)
///     Dice = 1 − mean over the N samples and the counted classes of D_nc
///
/// (the counted classes are all of them, or all but class 0 without the background). The
/// smoothing keeps a class absent from a sample and absent from its prediction at D ≈ 1 and the
/// gradient finite. Backward, with the same sums:
///
///     ∂D/∂p_i = 2·(t_i·(U + s) − p_i·(2I + s)) / (U + s)²
///     ∂ℓ/∂z_k = p_k·(g_k − Σ_j p_j·g_j)   with g = ∂ℓ/∂p   (the softmax's Jacobian)
///
/// Ignored positions add nothing and get no gradient. The combined loss is
/// `diceWeight · Dice + crossEntropyWeight · CE` (CE the mean per-position cross-entropy,
/// `CrossEntropy`). Logits `[N, C, positions]`, labels `[N, positions]` as in `CrossEntropy`; work
/// memory is a few floats per class per call, none per position.
public struct SoftDice: Equatable, Sendable {
    /// s in the formula.
    public var smooth: Float
    /// Whether class 0 counts in the mean.
    public var includeBackground: Bool
    public var diceWeight: Float
    /// 0 for the plain Dice loss.
    public var crossEntropyWeight: Float

    public init(smooth: Float = 1, includeBackground: Bool = true, diceWeight: Float = 1, crossEntropyWeight: Float = 0) {
        self.smooth = smooth
        self.includeBackground = includeBackground
        self.diceWeight = diceWeight
        self.crossEntropyWeight = crossEntropyWeight
    }

    /// The spec's name of the loss.
    public var name: String { crossEntropyWeight > 0 ? "dice_cross_entropy" : "dice" }

    /// The Dice term (1 − mean D) of a batch. With `gradient` (`[N, C, positions]`), ADDS
    /// `scale · ∂Dice/∂z` to it. Labels must have passed `CrossEntropy.validateLabels`; one that is
    /// not a class counts as ignored. Returns 0 when no class counts (one class without background).
    public func evaluate(logits: UnsafePointer<Float>, labels: UnsafePointer<Float>, batch: Int, classes: Int, positions: Int,
                         gradient: UnsafeMutablePointer<Float>?, scale: Float, ignoreLabel: Int) -> Double {
        let first = includeBackground ? 0 : 1
        guard classes > first, batch > 0 else { return 0 }
        let counted = Double(batch * (classes - first))
        let s = Double(smooth)
        var total: Double = 0
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * classes) { sums in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * classes) { work in
                let intersection = sums.baseAddress!, squares = intersection + classes, truth = squares + classes
                let p = work.baseAddress!, coefficientA = p + classes, coefficientB = coefficientA + classes
                for n in 0..<batch {
                    let z = logits + n * classes * positions, label = labels + n * positions
                    for c in 0..<classes {
                        intersection[c] = 0
                        squares[c] = 0
                        truth[c] = 0
                    }
                    // Pass 1: the sums, recomputing the softmax at each position.
                    for i in 0..<positions {
                        let k = CrossEntropy.classIndex(label[i], classes, ignoreLabel)
                        guard k >= 0 else { continue }
                        Self.softmax(z + i, stride: positions, classes: classes, into: p)
                        for c in 0..<classes { squares[c] += Double(p[c] * p[c]) }
                        intersection[k] += Double(p[k])
                        truth[k] += 1
                    }
                    for c in first..<classes {
                        let u = squares[c] + truth[c] + s
                        total += 1 - (2 * intersection[c] + s) / u
                        // ∂ℓ/∂p_i = −(w/counted)·2·(t_i·u − p_i·(2I + s))/u²  =  A·t_i + B·p_i
                        let w = Double(scale) / counted
                        coefficientA[c] = Float(-w * 2 / u)
                        coefficientB[c] = Float(w * 2 * (2 * intersection[c] + s) / (u * u))
                    }
                    if first == 1 {
                        coefficientA[0] = 0
                        coefficientB[0] = 0
                    }
                    guard let gradient else { continue }
                    // Pass 2: g = ∂ℓ/∂p at each position, through the softmax's Jacobian.
                    let dz = gradient + n * classes * positions
                    for i in 0..<positions {
                        let k = CrossEntropy.classIndex(label[i], classes, ignoreLabel)
                        guard k >= 0 else { continue }
                        Self.softmax(z + i, stride: positions, classes: classes, into: p)
                        var dot: Float = 0
                        for c in 0..<classes {
                            let g = coefficientB[c] * p[c] + (c == k ? coefficientA[c] : 0)
                            dot += p[c] * g
                        }
                        for c in 0..<classes {
                            let g = coefficientB[c] * p[c] + (c == k ? coefficientA[c] : 0)
                            dz[c * positions + i] += p[c] * (g - dot)
                        }
                    }
                }
            }
        }
        return total / counted
    }

    /// p[c] = softmax over the `classes` values z[c·stride] (the maximum subtracted).
    @inline(__always)
    static func softmax(_ z: UnsafePointer<Float>, stride: Int, classes: Int, into p: UnsafeMutablePointer<Float>) {
        var maximum = z[0]
        for c in 1..<classes where z[c * stride] > maximum || z[c * stride].isNaN { maximum = z[c * stride] }
        var sum: Float = 0
        for c in 0..<classes {
            let e = expf(z[c * stride] - maximum)
            p[c] = e
            sum += e
        }
        let inverse = 1 / sum
        for c in 0..<classes { p[c] *= inverse }
    }

    /// The spec's `"loss"` when it names a Dice loss, with its ignore index; nil for any other loss:
    ///
    ///     {"type": "dice", "smooth": 1, "include_background": true, "ignore_index": -100}
    ///     {"type": "dice_cross_entropy", "dice_weight": 1, "ce_weight": 1, ...the same keys}
    static func parse(_ json: JSON?, path: String) throws(AutoencoderError) -> (SoftDice, ignoreIndex: Int)? {
        let name = json?.stringValue ?? json?.objectValue?["type"]?.stringValue
        guard let json, name == "dice" || name == "dice_cross_entropy" else { return nil }
        let combined = name == "dice_cross_entropy"
        guard json.objectValue != nil else { return (SoftDice(crossEntropyWeight: combined ? 1 : 0), -100) }
        let reader = try SpecReader(json, path: path)
        try reader.allowOnly(["type", "smooth", "include_background", "ignore_index"] + (combined ? ["dice_weight", "ce_weight"] : []))
        let dice = SoftDice(smooth: try reader.float("smooth", default: 1, above: 0),
                            includeBackground: try reader.bool("include_background", default: true),
                            diceWeight: combined ? try reader.float("dice_weight", default: 1, minimum: 0) : 1,
                            crossEntropyWeight: combined ? try reader.float("ce_weight", default: 1, minimum: 0) : 0)
        return (dice, try reader.int("ignore_index", default: -100, minimum: -1 << 31, maximum: 1 << 31))
    }
}
