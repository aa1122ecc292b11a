import CGemm
import Glibc

/// How a layer's input is quantised to unsigned 8 bits: x ≈ scale · (q − zeroPoint), q in 0...255
/// (asymmetric, per tensor). The range always holds 0, so zero padding stays exact.
public struct Int8ActivationRange: Sendable, Equatable {
    public let scale: Float
    public let zeroPoint: Int32

    /// The range [min(low, 0), max(high, 0)] in 255 steps; a range of width 0 (all zeros) gets
    /// scale 1 (CGemm's `aeg_int8_range_from`, which the batch's quantisation uses too).
    public init(low: Float, high: Float) {
        let range = aeg_int8_range_from(low, high)
        scale = range.scale
        zeroPoint = range.zero_point
    }

    /// A stored range (the model file's calibrated layers), validated.
    public init(scale: Float, zeroPoint: Int32) throws(AutoencoderError) {
        guard scale.isFinite, scale > 0, (0...255).contains(zeroPoint) else {
            throw .format("an int8 input range needs a finite scale above 0 and a zero point in 0...255, got \(scale) and \(zeroPoint)")
        }
        self.scale = scale
        self.zeroPoint = zeroPoint
    }
}

/// The int8 weights of one dense or convolutional layer, quantised per output row (a dense
/// layer's output feature, a convolution's filter), symmetric:
///
///     W[o, p] ≈ s[o] · q[o, p],   s[o] = max_p |W[o, p]| / 127,   q = round(W / s) in −127...127
///
/// and the product with an input x quantised to unsigned 8 bits (x ≈ sₓ · (qₓ − z)):
///
///     y[i, o] = sₓ · s[o] · (Σ_p qₓ[i, p] · q[o, p] − z · Σ_p q[o, p]) + b[o]
///
/// with the sum in int32 on the int8 GEMM (CGemm/int8.c). The input range is either computed for
/// each sample from its own values (dynamic: a sample's result does not depend on the rest of its
/// batch) or fixed by calibration (`calibrated`). Rows are stored padded with zeros to a multiple
/// of 64 bytes, the SIMD kernels' step.
public final class Int8Weights {
    /// The widest row (input features, or a convolution's in · kᵈ): the int32 sums, and their
    /// difference with z · Σq in the dequantisation, stay exact (2 · 255 · 128 · 32768 < 2³¹).
    public static let maxColumns = 32768

    let rows: Int
    let columns: Int
    /// The padded row length: `columns` rounded up to a multiple of 64.
    let stride: Int
    /// q, [rows, stride], zero padded.
    let values: UnsafeMutablePointer<Int8>
    /// s, [rows].
    let scales: UnsafeMutablePointer<Float>
    /// Σ_p q[o, p], [rows], for the zero point's term.
    let sums: UnsafeMutablePointer<Int32>
    /// q packed for the AVX-512 VNNI batch kernel (`aeg_int8_pack`), or nil where the CPU lacks it.
    private(set) var packed: UnsafeMutablePointer<Int8>? = nil
    /// The fixed input range of a calibrated model, or nil for dynamic ranges.
    var calibrated: Int8ActivationRange?
    /// While calibrating: the layer runs in float and records the range of its inputs here.
    var observed: (low: Float, high: Float)?
    /// Whether the layer is being calibrated (float forward, recording `observed`).
    var calibrating = false

    private init(rows: Int, columns: Int) throws(AutoencoderError) {
        guard rows >= 1, (1...Int8Weights.maxColumns).contains(columns) else {
            throw .unsupported("an int8 weight needs 1 to \(Int8Weights.maxColumns) columns, not \(columns)")
        }
        self.rows = rows
        self.columns = columns
        stride = (columns + 63) / 64 * 64
        guard let bytes = Size.product(rows, stride), bytes <= Size.memoryLimit,
              let v = malloc(bytes), let s = malloc(rows * 4), let t = malloc(rows * 4) else {
            throw .init(.outOfMemory, "cannot allocate the int8 weights of \(rows) × \(columns)")
        }
        values = v.bindMemory(to: Int8.self, capacity: rows * stride)
        values.initialize(repeating: 0, count: rows * stride)
        scales = s.bindMemory(to: Float.self, capacity: rows)
        sums = t.bindMemory(to: Int32.self, capacity: rows)
    }

    deinit {
        free(packed)
        free(values)
        free(scales)
        free(sums)
    }

    /// Quantises the float weight `[rows, columns]` (row-major).
    convenience init(quantizing weight: UnsafePointer<Float>, rows: Int, columns: Int) throws(AutoencoderError) {
        try self.init(rows: rows, columns: columns)
        for o in 0..<rows {
            let w = weight + o * columns
            var largest: Float = 0
            for p in 0..<columns { largest = max(largest, abs(w[p])) }
            let scale = largest > 0 ? largest / 127 : 1
            scales[o] = scale
            var sum: Int32 = 0
            let q = values + o * stride
            for p in 0..<columns {
                let v = Int8(max(-127, min(127, (w[p] / scale).rounded(.toNearestOrEven))))
                q[p] = v
                sum += Int32(v)
            }
            sums[o] = sum
        }
        pack()
    }

    /// Weights read from a model file: q `[rows, columns]` (unpadded) and s `[rows]`.
    convenience init(values storedValues: UnsafePointer<Int8>, scales storedScales: UnsafePointer<Float>, rows: Int, columns: Int,
                     source: String) throws(AutoencoderError) {
        try self.init(rows: rows, columns: columns)
        for o in 0..<rows {
            let scale = storedScales[o]
            guard scale.isFinite, scale > 0 else {
                throw .format("\(source): an int8 weight scale is \(scale); scales must be finite and above 0")
            }
            scales[o] = scale
            var sum: Int32 = 0
            for p in 0..<columns {
                let v = storedValues[o * columns + p]
                guard v != -128 else {
                    throw .format("\(source): an int8 weight value is −128; symmetric weights lie in −127...127")
                }
                values[o * stride + p] = v
                sum += Int32(v)
            }
            sums[o] = sum
        }
        pack()
    }

    /// Packs q for the VNNI batch kernel, where the CPU has it (a failed allocation leaves the
    /// unpacked kernels in use).
    private func pack() {
        guard aeg_int8_kernel_supported(AEG_INT8_AVX512VNNI) != 0,
              let raw = malloc(aeg_int8_packed_size(rows, stride)) else { return }
        let target = raw.bindMemory(to: Int8.self, capacity: aeg_int8_packed_size(rows, stride))
        aeg_int8_pack(rows, stride, values, stride, target)
        packed = target
    }

    /// Writes s[o] · q[o, p] into the float weight `[rows, columns]`, so float code that reads the
    /// weight (a fallback, `parameter(named:)`) sees what the int8 path computes with.
    func dequantize(into weight: UnsafeMutablePointer<Float>) {
        for o in 0..<rows {
            for p in 0..<columns { weight[o * columns + p] = scales[o] * Float(values[o * stride + p]) }
        }
    }

    /// q without the padding, `[rows, columns]`, for the model file.
    var packedValues: [Int8] {
        var packed = [Int8](repeating: 0, count: rows * columns)
        for o in 0..<rows {
            for p in 0..<columns { packed[o * columns + p] = values[o * stride + p] }
        }
        return packed
    }

    var scaleArray: [Float] { Array(UnsafeBufferPointer(start: scales, count: rows)) }

    /// Widens the recorded input range by `count` values of `x` (calibration).
    func observe(_ x: UnsafePointer<Float>, count: Int) {
        var low: Float = 0, high: Float = 0
        aeg_range(count, x, 1, &low, &high)
        if let seen = observed {
            observed = (min(seen.low, low), max(seen.high, high))
        } else {
            observed = (low, high)
        }
    }

    /// The input range for `count` values at `x`: the calibrated one, or theirs.
    func range(_ x: UnsafePointer<Float>, count: Int) -> Int8ActivationRange {
        if let calibrated { return calibrated }
        var low: Float = 0, high: Float = 0
        aeg_range(count, x, 1, &low, &high)
        return Int8ActivationRange(low: low, high: high)
    }

    /// A dense layer's y[i, o] = Σ_p x[i, p] · W[o, p] + b[o] for `batch` rows of x `[batch, columns]`
    /// into y `[batch, rows]`, each row of x quantised with its own range (or the calibrated one).
    func dense(_ x: UnsafePointer<Float>, batch: Int, bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let stride = stride, rows = rows, columns = columns
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: batch * stride) { quantized in
            withUnsafeTemporaryAllocation(of: aeg_int8_input_range.self, capacity: batch) { ranges in
                let q = quantized.baseAddress!
                if let calibrated {
                    var fixed = aeg_int8_input_range(scale: calibrated.scale, zero_point: calibrated.zeroPoint)
                    aeg_int8_quantize_rows(batch, columns, x, columns, &fixed, q, stride, ranges.baseAddress)
                } else {
                    aeg_int8_quantize_rows(batch, columns, x, columns, nil, q, stride, ranges.baseAddress)
                }
                // The packed VNNI kernel dequantises as it writes; the others leave int32 sums first.
                if aeg_int8_dense_packed(batch, rows, stride, q, stride, packed, ranges.baseAddress, sums, scales, bias,
                                         output, rows) != 0 {
                    return
                }
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: batch * rows) { sums32 in
                    let acc = sums32.baseAddress!
                    aeg_gemm_u8s8_weights(batch, rows, stride, q, stride, values, stride, packed, acc, rows)
                    for i in 0..<batch {
                        aeg_dequantize(1, rows, acc + i * rows, rows, ranges[i].scale, ranges[i].zero_point, sums, scales,
                                       bias, output + i * rows, rows, 1)
                    }
                }
            }
        }
    }

    /// A convolution's block: y[o, p] = Σ_r W[o, r] · columns[r, p] + b[o] for `count` positions
    /// p of columns `[columns, ld]` into y + o · ldy + p, with the input range `range`.
    func convolve(_ columnsMatrix: UnsafePointer<Float>, count: Int, ld: Int, range r: Int8ActivationRange,
                  bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, ldy: Int) {
        let stride = stride, rows = rows, columns = columns
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count * stride) { quantized in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: count * rows) { sums32 in
                let q = quantized.baseAddress!, acc = sums32.baseAddress!
                // Position p's column (stride ld between its values) becomes row p of q.
                aeg_quantize_u8(count, columns, columnsMatrix, 1, ld, r.scale, r.zeroPoint, q, stride)
                aeg_gemm_u8s8_weights(count, rows, stride, q, stride, values, stride, packed, acc, rows)
                aeg_dequantize(count, rows, acc, rows, r.scale, r.zeroPoint, sums, scales, bias, output, 1, ldy)
            }
        }
    }
}
