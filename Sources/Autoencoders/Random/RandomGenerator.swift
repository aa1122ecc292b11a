/// The model's one source of randomness: xoshiro256** seeded through SplitMix64.
/// Same seed, same sequence on every platform, so the same seed and thread count give the same
/// model bit for bit. Its state is saved in the model file so a resumed run continues the stream.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// Restores a saved state; an all-zero state (which xoshiro cannot leave) is replaced by seed 0's.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        if state == (0, 0, 0, 0) {
            self = RandomGenerator(seed: 0)
        } else {
            self.state = state
        }
    }

    public static func == (lhs: RandomGenerator, rhs: RandomGenerator) -> Bool { lhs.state == rhs.state }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 bits of precision.
    @inline(__always)
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [low, high).
    @inline(__always)
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Standard normal by the Box–Muller transform (computed in Double for accuracy in the tails).
    public mutating func normal() -> Float {
        let u1 = (Double(next() >> 11) + 0.5) * (1.0 / 9_007_199_254_740_992.0)   // (0, 1)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    /// Two independent standard normals from one Box–Muller draw.
    public mutating func normalPair() -> (Float, Float) {
        let u1 = (Double(next() >> 11) + 0.5) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let radius = (-2 * _log(u1)).squareRoot(), angle = 2 * Double.pi * u2
        return (Float(radius * _cos(angle)), Float(radius * _sin(angle)))
    }

    /// An unbiased integer in 0..<bound (Lemire's method). `bound` must be positive.
    @inline(__always)
    public mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: next(upperBound: UInt64(bound)))
    }

    /// Fisher–Yates shuffle of `0..<count` into `indices`.
    public mutating func permutation(_ indices: UnsafeMutableBufferPointer<Int>) {
        for i in indices.indices { indices[i] = i }
        var i = indices.count - 1
        while i > 0 {
            let j = below(i + 1)
            indices.swapAt(i, j)
            i -= 1
        }
    }
}
