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

/// The logistic function, written so nothing overflows and the loops that call it vectorise
/// (e = e^{−|x|} ∈ (0, 1], then a select instead of a branch).
@inline(__always) func sigmoid(_ x: Float) -> Float {
    let e = FastMath.exp(-abs(x))
    return x >= 0 ? 1 / (1 + e) : e / (1 + e)
}
