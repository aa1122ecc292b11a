/// Eight floats processed together: the explicit-SIMD form of the element-wise math in
/// `Math.swift` and `FastMath.swift`, for loops the compiler does not vectorise on its own
/// (several outputs through pointers that may alias, as in the recurrent cells' gate loops).
/// On the baseline x86-64 target a `Lanes` is two SSE registers; the formulas are the scalar
/// ones (`FastMath.exp`, `sigmoid`, `fastTanh`) written lane-wise, selects instead of branches.
typealias Lanes = SIMD8<Float>

/// Loads `count` (1…8) floats from `p`; lanes past `count` are zero.
@inline(__always) func loadLanes(_ p: UnsafePointer<Float>, _ count: Int) -> Lanes {
    if count == Lanes.scalarCount { return UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
    var v = Lanes()
    for i in 0..<count { v[i] = p[i] }
    return v
}

/// Stores the first `count` (1…8) lanes of `v` at `p`.
@inline(__always) func storeLanes(_ v: Lanes, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    if count == Lanes.scalarCount {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
        return
    }
    for i in 0..<count { p[i] = v[i] }
}

extension FastMath {
    /// `FastMath.exp` lane-wise (clamped to [−87, 88]; NaN stays NaN).
    @inline(__always)
    static func exp(_ x: Lanes) -> Lanes {
        var clamped = x.replacing(with: -87, where: x .< -87)
        clamped.replace(with: 88, where: clamped .> 88)
        let shifted = clamped * 1.442695040888963 + 12_582_912
        let k = shifted - 12_582_912
        let r = (clamped - k * 0.693145751953125) - k * 1.428606765330187e-06
        var p = Lanes(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let bits = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(bits, to: Lanes.self)
    }

    /// |x| lane-wise (the sign bit cleared).
    @inline(__always)
    static func abs(_ x: Lanes) -> Lanes {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: Lanes.self)
    }
}

/// `sigmoid` lane-wise: e = e^{−|x|}, 1/(1 + e) for x ≥ 0 and e/(1 + e) below.
@inline(__always) func sigmoid(_ x: Lanes) -> Lanes {
    let e = FastMath.exp(-FastMath.abs(x))
    let p = 1 / (1 + e)
    return p.replacing(with: e * p, where: x .< 0)
}

/// `fastTanh` lane-wise: (1 − e)/(1 + e) with e = e^{−2|x|}, the odd Taylor polynomial below
/// |x| = 1/8, the sign of x.
@inline(__always) func fastTanh(_ x: Lanes) -> Lanes {
    let a = FastMath.abs(x)
    let e = FastMath.exp(-2 * a)
    var t = (1 - e) / (1 + e)
    let x2 = a * a
    var q = x2 * Float(-17.0 / 315) + Float(2.0 / 15)
    q = x2 * q + Float(-1.0 / 3)
    q = x2 * q + 1
    let small = a * q
    t.replace(with: small, where: a .< 0.125)
    return t.replacing(with: -t, where: x .< 0)
}
