import COpenBLAS

/// Branch-free exp and log for the hot elementwise loops (the fused sigmoid + cross-entropy),
/// written so the compiler vectorises them; Glibc's expf/logf are scalar calls. Accuracy is a
/// few ulp over the ranges used, well inside the golden tolerances.
enum FastMath {
    /// √x without errno (llvm.sqrt), so that loops calling it vectorise; x ≥ 0.
    @inline(__always)
    static func sqrt(_ x: Float) -> Float { ae_sqrtf(x) }

    /// eˣ for x in [−87, 88] (clamped outside): 2ᵏ · p(r), r = x − k·ln2 ∈ [−ln2/2, ln2/2],
    /// p a degree-6 Taylor polynomial (relative error < 2e-7).
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let clamped = min(max(x, -87.0), 88.0)
        // Round to nearest with the 1.5·2²³ trick: SSE2 has no vector round, and rintf is a call.
        // The low bits of `shifted` hold k itself, so 2ᵏ needs no float-to-integer conversion,
        // which would trap on NaN (NaN passes the clamp, and must propagate, not kill the host).
        let shifted = clamped * 1.442695040888963 + 12_582_912
        let k = shifted - 12_582_912
        let r = (clamped - k * 0.693145751953125) - k * 1.428606765330187e-06
        var p: Float = 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let scale = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) << 23)
        return p * scale
    }

    /// log(1 + e) for e in [0, 1]: u = 1 + e folded into [√½, √2] by a factor 2, then
    /// log u = 2 atanh(s), s = (u − 1)/(u + 1) ∈ [−0.172, 0.172], plus a correction for the
    /// rounding of 1 + e.
    @inline(__always)
    static func log1pUnit(_ e: Float) -> Float {
        let u = 1 + e
        let correction = (e - (u - 1)) / u          // log(1 + e) − log(u) to first order
        let high = u > 1.4142135
        let m = high ? u * 0.5 : u
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var q: Float = 1.0 / 9
        q = q * s2 + 1.0 / 7
        q = q * s2 + 1.0 / 5
        q = q * s2 + 1.0 / 3
        q = q * s2 + 1
        let log = 2 * s * q + (high ? 0.6931471805599453 : 0)
        return log + correction
    }
}
