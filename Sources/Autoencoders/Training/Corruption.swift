/// The input corruption of denoising autoencoders: applied to each training batch (fresh noise
/// every batch, from the model's generator) in the model's scaled input space, never at
/// inference; the loss compares the reconstruction with the clean input.
public enum Corruption: Equatable, Sendable {
    /// x + N(0, σ²), optionally clipped to [low, high]. The textbook z = E(x + N(0, 1)) is σ = 1.
    case gaussian(stddev: Float, clip: ClosedRange<Float>?)
    /// A random fraction of the inputs set to zero.
    case masking(fraction: Float)
    /// A random fraction of the inputs set to `low` or `high` (each with probability ½).
    case saltAndPepper(fraction: Float, low: Float, high: Float)

    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int, random: inout RandomGenerator) {
        switch self {
        case let .gaussian(stddev, clip):
            var i = 0
            while i < count {
                let (a, b) = random.normalPair()
                x[i] += stddev * a
                if i + 1 < count { x[i + 1] += stddev * b }
                i += 2
            }
            if let clip {
                for i in 0..<count { x[i] = min(max(x[i], clip.lowerBound), clip.upperBound) }
            }
        case let .masking(fraction):
            for i in 0..<count where random.uniform() < fraction { x[i] = 0 }
        case let .saltAndPepper(fraction, low, high):
            for i in 0..<count where random.uniform() < fraction {
                x[i] = random.next() & 1 == 0 ? low : high
            }
        }
    }

    static func parse(_ reader: SpecReader) throws(AutoencoderError) -> Corruption {
        switch try reader.choice("type", ["gaussian", "masking", "salt_and_pepper"]) {
        case "gaussian":
            try reader.allowOnly(["type", "stddev", "clip"])
            var clip: ClosedRange<Float>? = nil
            if let array = try reader.array("clip") {
                guard array.count == 2, let low = array[0].doubleValue, let high = array[1].doubleValue,
                      low.isFinite, high.isFinite, low < high else {
                    throw .invalidSpec(reader.path("clip"), "must be [low, high] with low < high")
                }
                clip = Float(low)...Float(high)
            }
            return .gaussian(stddev: try reader.float("stddev", minimum: 0), clip: clip)
        case "masking":
            try reader.allowOnly(["type", "fraction"])
            return .masking(fraction: try reader.float("fraction", minimum: 0, maximum: 1))
        default:
            try reader.allowOnly(["type", "fraction", "low", "high"])
            return .saltAndPepper(fraction: try reader.float("fraction", minimum: 0, maximum: 1),
                                  low: try reader.float("low", default: 0), high: try reader.float("high", default: 1))
        }
    }
}
