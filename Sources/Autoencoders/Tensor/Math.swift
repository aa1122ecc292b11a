import Glibc

// Scalar math used by the elementwise kernels, Float32 throughout (Glibc's libm).
@inline(__always) func _exp(_ x: Float) -> Float { expf(x) }
@inline(__always) func _log(_ x: Float) -> Float { logf(x) }
@inline(__always) func _log(_ x: Double) -> Double { log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { cos(x) }
@inline(__always) func _sin(_ x: Double) -> Double { sin(x) }
@inline(__always) func _log1p(_ x: Float) -> Float { log1pf(x) }
@inline(__always) func _expm1(_ x: Float) -> Float { expm1f(x) }
@inline(__always) func _tanh(_ x: Float) -> Float { tanhf(x) }
@inline(__always) func _erf(_ x: Float) -> Float { erff(x) }
@inline(__always) func _pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@inline(__always) func _cosD(_ x: Double) -> Double { cos(x) }

/// The index of the first NaN or infinity among `count` floats, or nil. One vectorisable
/// integer pass (a non-finite float has every exponent bit set) before a scalar search: the check
/// every input, batch and parameter update goes through.
func firstNonFinite(_ values: UnsafePointer<Float>, count: Int) -> Int? {
    let bits = UnsafeRawPointer(values).assumingMemoryBound(to: UInt32.self)
    var exponents: UInt32 = 0
    for i in 0..<max(count, 0) { exponents = max(exponents, bits[i] & 0x7F80_0000) }
    guard exponents == 0x7F80_0000 else { return nil }
    return (0..<count).first { !values[$0].isFinite }
}

/// The logistic function, written so nothing overflows and the loops that call it vectorise
/// (e = e^{−|x|} ∈ (0, 1], p = 1/(1 + e), then p or e·p by a select instead of a branch): one
/// division, the formula of the lanes version (Lanes.swift) and of CGemm's `aeg_sigmoid`.
@inline(__always) func sigmoid(_ x: Float) -> Float {
    sigmoid(x, expOfMinusAbs: FastMath.exp(-abs(x)))
}

/// `sigmoid(x)` from e = e^{−|x|} already at hand (the fused sigmoid + BCE needs e for its log too).
@inline(__always) func sigmoid(_ x: Float, expOfMinusAbs e: Float) -> Float {
    let p = 1 / (1 + e)
    return x < 0 ? e * p : p
}

/// tanh in the same vectorisable style as `sigmoid`: (1 − e)/(1 + e) with e = e^{−2|x|}, and
/// its odd Taylor polynomial below |x| = 1/8, where 1 − e would lose digits (error < 1e-9
/// relative there, a few ulp elsewhere). The recurrent cells call it once per gate value.
@inline(__always) func fastTanh(_ x: Float) -> Float {
    let a = abs(x)
    let e = FastMath.exp(-2 * a)
    let large = (1 - e) / (1 + e)
    let x2 = a * a
    let small = a * (1 + x2 * (-1.0 / 3 + x2 * (2.0 / 15 + x2 * (-17.0 / 315))))
    let t = a < 0.125 ? small : large
    return x >= 0 ? t : -t
}
