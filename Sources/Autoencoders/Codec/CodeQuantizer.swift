/// The quantiser of a model's code, learned on training data and kept in the model file: per code
/// dimension j a scale s_j > 0 and an integer zero point z_j in 0..<2^bits map a code value to a
/// level and back (the affine quantisation of integer inference):
///
///     q = clamp(round(c / s_j) + z_j, 0, 2^bits - 1)        ĉ = (q - z_j) * s_j
///
/// and a frequency table per dimension, the histogram of the training codes' levels, drives the
/// range coder (RangeCoder.swift). The table is smoothed (count + 1/2 per level, and every level
/// at least 1 out of 2^frequencyBits) so levels the training data never reached still code, at a
/// higher cost.
public struct CodeQuantizer: Sendable, Equatable {
    /// Each dimension's frequencies sum to 2^frequencyBits.
    public static let frequencyBits: UInt32 = 15
    public static let bitRange = 4...8

    public let bits: Int
    /// [codeSize]
    public let scale: [Float]
    /// [codeSize], integers in 0..<levels
    public let zeroPoint: [Float]
    /// [codeSize, levels], row-major; each row sums to 2^frequencyBits, each entry >= 1.
    public let frequencies: [Float]

    public var levels: Int { 1 << bits }
    public var codeSize: Int { scale.count }

    /// Fits a quantiser of `bits` bits to codes[rows, codeSize]: each dimension's range is its
    /// training minimum to maximum, mapped onto the 2^bits levels; the histogram of the
    /// quantised training codes becomes the frequency table.
    public init(fitting codes: UnsafeBufferPointer<Float>, rows: Int, codeSize: Int, bits: Int) throws(AutoencoderError) {
        guard CodeQuantizer.bitRange.contains(bits) else {
            throw .invalidArgument("bits is \(bits); expected 4 to 8 bits per code value")
        }
        guard rows >= 1 else { throw .invalidArgument("n is 0; fitting a quantiser needs at least one sample") }
        guard codes.count == rows * codeSize, codeSize >= 1 else {
            throw .init(.internal, "quantiser fit: \(codes.count) code values for \(rows) rows of \(codeSize)")
        }
        let levels = 1 << bits
        var scale = [Float](repeating: 1, count: codeSize)
        var zeroPoint = [Float](repeating: 0, count: codeSize)
        for j in 0..<codeSize {
            var low = Float.infinity, high = -Float.infinity
            for r in 0..<rows {
                let value = codes[r * codeSize + j]
                low = min(low, value)
                high = max(high, value)
            }
            guard low.isFinite, high.isFinite else { throw .numeric("the codes of the data are not finite (code dimension \(j))") }
            // The range must contain 0 so that 0 (a dead ReLU unit) is exactly representable.
            low = min(low, 0)
            high = max(high, 0)
            let width = high - low
            let step = width > 0 ? width / Float(levels - 1) : 1
            guard step.isFinite, step > 0 else { throw .numeric("code dimension \(j) spans \(low)...\(high), too wide to quantise") }
            scale[j] = step
            zeroPoint[j] = min(max((-low / step).rounded(), 0), Float(levels - 1))
        }
        var counts = [Int](repeating: 0, count: codeSize * levels)
        for r in 0..<rows {
            for j in 0..<codeSize {
                counts[j * levels + CodeQuantizer.level(codes[r * codeSize + j], scale: scale[j], zeroPoint: zeroPoint[j], levels: levels)] += 1
            }
        }
        var frequencies = [Float](repeating: 0, count: codeSize * levels)
        for j in 0..<codeSize {
            let row = CodeQuantizer.normalized(counts[(j * levels)..<((j + 1) * levels)], rows: rows)
            for (k, f) in row.enumerated() { frequencies[j * levels + k] = Float(f) }
        }
        self.bits = bits
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.frequencies = frequencies
    }

    /// A quantiser read back from a model file; every value is checked, so a crafted file cannot
    /// make the coder misbehave. `source` names the file in errors.
    public init(bits: Int, scale: [Float], zeroPoint: [Float], frequencies: [Float], source: String) throws(AutoencoderError) {
        func fail(_ message: String) -> AutoencoderError { .format("\(source): quantizer: \(message)") }
        guard CodeQuantizer.bitRange.contains(bits) else { throw fail("bits is \(bits); expected 4 to 8") }
        let levels = 1 << bits
        guard zeroPoint.count == scale.count, frequencies.count == scale.count * levels, !scale.isEmpty else {
            throw fail("its tensors do not match: \(scale.count) scales, \(zeroPoint.count) zero points, \(frequencies.count) frequencies for \(levels) levels")
        }
        for j in 0..<scale.count {
            guard scale[j].isFinite, scale[j] > 0 else { throw fail("scale[\(j)] is \(scale[j]); scales must be finite and positive") }
            guard zeroPoint[j] >= 0, zeroPoint[j] < Float(levels), zeroPoint[j] == zeroPoint[j].rounded() else {
                throw fail("zero_point[\(j)] is \(zeroPoint[j]); expected an integer from 0 to \(levels - 1)")
            }
            var sum: Float = 0
            for k in 0..<levels {
                let f = frequencies[j * levels + k]
                guard f >= 1, f <= Float(1 << CodeQuantizer.frequencyBits), f == f.rounded() else {
                    throw fail("frequencies[\(j), \(k)] is \(f); expected an integer from 1 to \(1 << CodeQuantizer.frequencyBits)")
                }
                sum += f
            }
            guard sum == Float(1 << CodeQuantizer.frequencyBits) else {
                throw fail("the frequencies of dimension \(j) sum to \(sum); expected \(1 << CodeQuantizer.frequencyBits)")
            }
        }
        self.bits = bits
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.frequencies = frequencies
    }

    /// The level of `value` in dimension j.
    @inline(__always)
    static func level(_ value: Float, scale: Float, zeroPoint: Float, levels: Int) -> Int {
        let q = (value / scale).rounded() + zeroPoint
        // Written so that NaN lands on 0 rather than trapping in the conversion.
        guard q > 0 else { return 0 }
        return q < Float(levels - 1) ? Int(q) : levels - 1
    }

    func level(_ value: Float, dimension j: Int) -> Int {
        CodeQuantizer.level(value, scale: scale[j], zeroPoint: zeroPoint[j], levels: levels)
    }

    func value(level q: Int, dimension j: Int) -> Float { (Float(q) - zeroPoint[j]) * scale[j] }

    /// Cumulative tables, [codeSize][levels + 1], from 0 to 2^frequencyBits.
    func cumulativeTables() -> [[UInt32]] {
        (0..<codeSize).map { j in
            var row = [UInt32](repeating: 0, count: levels + 1)
            for k in 0..<levels { row[k + 1] = row[k] + UInt32(frequencies[j * levels + k]) }
            return row
        }
    }

    /// The ideal cost in bits of coding one sample whose levels follow the training histogram:
    /// the sum over dimensions of the table's entropy.
    public var bitsPerSample: Double {
        var total = 0.0
        let whole = Double(1 << CodeQuantizer.frequencyBits)
        for f in frequencies {
            let p = Double(f) / whole
            total -= p * _log(p) / _log(2.0)
        }
        return total
    }

    /// Counts scaled to frequencies >= 1 summing to 2^frequencyBits: 1 + a share of the rest
    /// proportional to count + 1/2 (the Krichevsky-Trofimov estimate, so a level the training
    /// data never reached costs about log2(2 rows + levels) bits, not 2^frequencyBits's 15);
    /// rounding's remainder goes to the most frequent level.
    private static func normalized(_ counts: ArraySlice<Int>, rows: Int) -> [Int] {
        let total = 1 << Int(frequencyBits)
        let spare = total - counts.count
        let denominator = 2 * rows + counts.count
        var row = counts.map { 1 + (2 * $0 + 1) * spare / denominator }
        let remainder = total - row.reduce(0, +)
        if let top = row.indices.max(by: { row[$0] < row[$1] }) { row[top] += remainder }
        return row
    }
}
