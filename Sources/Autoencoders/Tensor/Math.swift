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

/// The logistic function, written so neither branch overflows.
@inline(__always) func sigmoid(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + expf(-x)) }
    let e = expf(x)
    return e / (1 + e)
}
