/// Per-pixel softmax cross-entropy for segmentation, PyTorch's `cross_entropy(z, target,
/// ignore_index=…)` with the class axis 1:
///
///     ℓ = log Σ_c exp(z_c) − z_label     (log-sum-exp with the maximum subtracted)
///     ∂ℓ/∂z_c = softmax(z)_c − [c = label]
///
/// Shapes: logits `[N, C, positions]` (positions = H·W for images, L for signals, 1 for vectors),
/// labels `[N, positions]` holding class indices as exact small integers in Float. A pixel whose
/// label is the ignore label adds nothing and gets a zero gradient, and does not count: PyTorch's
/// 'mean' divides by the number of counted pixels, not by N·positions.
public enum CrossEntropy {
    /// PyTorch's default `ignore_index`.
    public static let defaultIgnoreLabel = -100

    public enum Reduction: Sendable {
        /// Σℓ / (number of counted pixels)
        case mean
        /// Σℓ
        case sum
    }

    /// Σℓ over the counted pixels, in Double, and how many pixels counted. When `gradient`
    /// (`[N, C, positions]`) is given it receives `scale · ∂ℓ/∂z` (overwriting it; zero for ignored
    /// pixels). For PyTorch's 'mean' pass `scale = upstream / countedPixels(…)` and divide the sum by
    /// the count; for 'sum' pass `scale = upstream`.
    ///
    /// Labels must have passed `validateLabels`: one that is not a class in 0..<C is treated as
    /// ignored rather than read out of bounds. A NaN or infinite logit in a counted pixel makes the
    /// sum (and that pixel's gradient) NaN, so a diverged model is noticed.
    public static func evaluate(logits: UnsafePointer<Float>, labels: UnsafePointer<Float>,
                                batch: Int, classes: Int, positions: Int,
                                gradient: UnsafeMutablePointer<Float>?, scale: Float,
                                ignoreLabel: Int = defaultIgnoreLabel) -> (sum: Double, counted: Int) {
        guard classes >= 1 else { return (0, 0) }
        var total: Double = 0
        var counted = 0
        // Pixels go in tiles along the positions, so every inner loop runs over contiguous memory
        // with the class as the outer loop, and the per-pixel state sits on the stack.
        let tile = 128
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * tile) { buffer in
            let maxima = buffer.baseAddress!, sums = maxima + tile
            for n in 0..<batch {
                let sampleOffset = n * classes * positions
                let z = logits + sampleOffset, label = labels + n * positions
                let g = gradient.map { $0 + sampleOffset }
                var start = 0
                while start < positions {
                    let width = min(tile, positions - start)
                    // The maximum per pixel; a NaN anywhere in a pixel makes it NaN.
                    for s in 0..<width { maxima[s] = z[start + s] }
                    for c in 1..<classes {
                        let row = z + c * positions + start
                        for s in 0..<width {
                            let v = row[s], m = maxima[s]
                            maxima[s] = v > m || v != v ? v : m
                        }
                    }
                    var finite = true
                    for s in 0..<width where !maxima[s].isFinite { finite = false }
                    if !finite {
                        // Rare (a diverged model): Glibc's exp handles inf and NaN, FastMath's does not.
                        var partial: Float = 0
                        for s in 0..<width {
                            let index = classIndex(label[start + s], classes, ignoreLabel)
                            if index >= 0 { counted += 1 }
                            partial += pixel(z + start + s, positions, classes, index, g.map { $0 + start + s }, scale)
                        }
                        total += Double(partial)
                        start += width
                        continue
                    }
                    // Σ_c exp(z_c − max); the exponentials wait in the gradient to become softmax.
                    for s in 0..<width { sums[s] = 0 }
                    for c in 0..<classes {
                        let row = z + c * positions + start
                        if let g {
                            let out = g + c * positions + start
                            for s in 0..<width {
                                let e = FastMath.exp(row[s] - maxima[s])
                                out[s] = e
                                sums[s] += e
                            }
                        } else {
                            for s in 0..<width { sums[s] += FastMath.exp(row[s] - maxima[s]) }
                        }
                    }
                    // ℓ = (max − z_label) + log Σ; `sums` becomes each pixel's gradient factor.
                    var partial: Float = 0
                    for s in 0..<width {
                        let index = classIndex(label[start + s], classes, ignoreLabel)
                        if index >= 0 {
                            partial += (maxima[s] - z[index * positions + start + s]) + _log(sums[s])
                            counted += 1
                            sums[s] = scale / sums[s]
                        } else {
                            sums[s] = 0
                        }
                    }
                    total += Double(partial)
                    if let g {
                        for c in 0..<classes {
                            let out = g + c * positions + start
                            for s in 0..<width { out[s] *= sums[s] }
                        }
                        for s in 0..<width {
                            let index = classIndex(label[start + s], classes, ignoreLabel)
                            if index >= 0 { g[index * positions + start + s] -= scale }
                        }
                    }
                    start += width
                }
            }
        }
        return (total, counted)
    }

    /// PyTorch's reduced loss, with `upstream · ∂L/∂z` written to `gradient` when given. 'mean'
    /// over no counted pixel is NaN (0/0, as in PyTorch) with a zero gradient.
    public static func loss(logits: UnsafePointer<Float>, labels: UnsafePointer<Float>,
                            batch: Int, classes: Int, positions: Int, reduction: Reduction,
                            gradient: UnsafeMutablePointer<Float>?, upstream: Float = 1,
                            ignoreLabel: Int = defaultIgnoreLabel) -> Double {
        switch reduction {
        case .sum:
            return evaluate(logits: logits, labels: labels, batch: batch, classes: classes, positions: positions,
                            gradient: gradient, scale: upstream, ignoreLabel: ignoreLabel).sum
        case .mean:
            let count = countedPixels(labels: labels, count: batch * positions, classes: classes, ignoreLabel: ignoreLabel)
            let (sum, _) = evaluate(logits: logits, labels: labels, batch: batch, classes: classes, positions: positions,
                                    gradient: gradient, scale: count > 0 ? upstream / Float(count) : 0,
                                    ignoreLabel: ignoreLabel)
            return count > 0 ? sum / Double(count) : .nan
        }
    }

    /// How many of `count` labels count (a class in 0..<C that is not the ignore label): the
    /// divisor of 'mean', needed before `evaluate` to pass its scale.
    public static func countedPixels(labels: UnsafePointer<Float>, count: Int, classes: Int,
                                     ignoreLabel: Int = defaultIgnoreLabel) -> Int {
        var counted = 0
        for i in 0..<count where classIndex(labels[i], classes, ignoreLabel) >= 0 { counted += 1 }
        return counted
    }

    /// Checks that every label of `[batch, shape…]` is the ignore label or an integer class in
    /// 0..<`classes`. Throws `.invalidArgument` naming the first bad label by its index, e.g.
    /// "labels[1, 4, 7] = 5 is not a class in 0..<4 nor the ignore label -100".
    public static func validateLabels(_ labels: UnsafePointer<Float>, batch: Int, shape: [Int], classes: Int,
                                      ignoreLabel: Int = defaultIgnoreLabel) throws(AutoencoderError) {
        guard classes >= 1 else { throw .invalidArgument("cross-entropy needs at least one class, got \(classes)") }
        let positions = shape.reduce(1, *)
        for i in 0..<(batch * positions) {
            let label = labels[i]
            if label == Float(ignoreLabel) || classIndex(label, classes, ignoreLabel) >= 0 { continue }
            // Unravel i into [n, shape…] for the message.
            var index: [Int] = [], rest = i % positions
            for dimension in shape.reversed() {
                index.append(rest % dimension)
                rest /= dimension
            }
            let position = ([i / positions] + index.reversed()).map(String.init).joined(separator: ", ")
            let value = label.isFinite && label == label.rounded() && abs(label) < 1e9 ? "\(Int(label))" : "\(label)"
            throw .invalidArgument("labels[\(position)] = \(value) is not a class in 0..<\(classes) nor the ignore label \(ignoreLabel)")
        }
    }

    /// The most probable class of every pixel: labels[n, p] = argmax_c logits[n, c, p], as Int32
    /// (`[batch, positions]`). Ties go to the lowest class and a NaN logit wins, as in torch.argmax.
    public static func argmax(logits: UnsafePointer<Float>, batch: Int, classes: Int, positions: Int,
                              labels: UnsafeMutablePointer<Int32>) {
        guard classes >= 1 else { return }
        let tile = 256
        withUnsafeTemporaryAllocation(of: Float.self, capacity: tile) { buffer in
            let best = buffer.baseAddress!
            for n in 0..<batch {
                let z = logits + n * classes * positions, out = labels + n * positions
                var start = 0
                while start < positions {
                    let width = min(tile, positions - start)
                    for s in 0..<width {
                        best[s] = z[start + s]
                        out[start + s] = 0
                    }
                    for c in 1..<classes {
                        let row = z + c * positions + start
                        for s in 0..<width {
                            let v = row[s], b = best[s]
                            if v > b || (v != v && b == b) {
                                best[s] = v
                                out[start + s] = Int32(c)
                            }
                        }
                    }
                    start += width
                }
            }
        }
    }

    /// ℓ of one pixel (its logits `stride` apart) with Glibc's exp and log, and the scaled gradient;
    /// 0 and a zero gradient when `index` is −1 (ignored). NaN or inf logits give NaN.
    static func pixel(_ z: UnsafePointer<Float>, _ stride: Int, _ classes: Int, _ index: Int,
                      _ g: UnsafeMutablePointer<Float>?, _ scale: Float) -> Float {
        guard index >= 0 else {
            if let g { for c in 0..<classes { g[c * stride] = 0 } }
            return 0
        }
        var m = z[0]
        for c in 1..<classes where z[c * stride] > m || z[c * stride].isNaN { m = z[c * stride] }
        var sum: Float = 0
        for c in 0..<classes { sum += _exp(z[c * stride] - m) }
        if let g {
            for c in 0..<classes { g[c * stride] = scale * (_exp(z[c * stride] - m) / sum - (c == index ? 1 : 0)) }
        }
        return (m - z[index * stride]) + _log(sum)
    }

    /// The class a label names, or −1 when it is ignored: the ignore label, or anything that is not
    /// an integer in 0..<classes (NaN included, which fails every comparison).
    @inline(__always)
    static func classIndex(_ label: Float, _ classes: Int, _ ignoreLabel: Int) -> Int {
        guard label >= 0 && label < Float(classes) else { return -1 }
        let index = Int(label)
        return Float(index) == label && index != ignoreLabel ? index : -1
    }
}
