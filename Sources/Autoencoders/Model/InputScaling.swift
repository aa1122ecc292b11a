/// The per-feature affine scaling a model was trained with: x' = (x − offset) / scale. Stored in the
/// model and applied inside encode/reconstruct/score (and undone on reconstructions), so a caller
/// passes raw data.
public struct InputScaling: Equatable, Sendable {
    public private(set) var offset: [Float]
    public private(set) var scale: [Float]
    let inverseScale: [Float]

    public init(offset: [Float], scale: [Float]) throws(AutoencoderError) {
        guard offset.count == scale.count, !offset.isEmpty else {
            throw .shapeMismatch("input scaling: offset has \(offset.count) values and scale \(scale.count); both need one per feature")
        }
        for (i, value) in offset.enumerated() where !value.isFinite {
            throw .numeric("input scaling: offset[\(i)] is \(value); it must be finite")
        }
        // The data is multiplied by 1/scale, so that reciprocal must be finite too (a subnormal
        // scale such as 1e-40 would turn every input into infinity).
        for (i, value) in scale.enumerated() where !(value.isFinite && value != 0 && (1 / value).isFinite) {
            throw .invalidArgument("input scaling: scale[\(i)] is \(value); it must be finite and non-zero, with a finite reciprocal (|scale| > 2.9e-39)")
        }
        self.offset = offset
        self.scale = scale
        inverseScale = scale.map { 1 / $0 }
    }

    public enum Kind: String, Sendable {
        /// offset = mean, scale = standard deviation (1 where a feature is constant).
        case standardize
        /// offset = min, scale = max − min (1 where a feature is constant): features land in [0, 1].
        case minMax = "minmax"
    }

    /// Fits a scaling to `rows` samples of `features` values each (row-major).
    public static func fit(_ kind: Kind, data: UnsafePointer<Float>, rows: Int, features: Int) throws(AutoencoderError) -> InputScaling {
        guard rows > 0, features > 0 else { throw .invalidArgument("fitting input scaling needs at least one sample") }
        var offset = [Float](repeating: 0, count: features)
        var scale = [Float](repeating: 1, count: features)
        switch kind {
        case .standardize:
            var mean = [Double](repeating: 0, count: features), squares = [Double](repeating: 0, count: features)
            for r in 0..<rows {
                let row = data + r * features
                for j in 0..<features { mean[j] += Double(row[j]) }
            }
            for j in 0..<features { mean[j] /= Double(rows) }
            for r in 0..<rows {
                let row = data + r * features
                for j in 0..<features { let d = Double(row[j]) - mean[j]; squares[j] += d * d }
            }
            for j in 0..<features {
                offset[j] = Float(mean[j])
                let std = (squares[j] / Double(rows)).squareRoot()
                scale[j] = std > 1e-12 ? Float(std) : 1
            }
        case .minMax:
            var low = [Float](repeating: .infinity, count: features), high = [Float](repeating: -.infinity, count: features)
            for r in 0..<rows {
                let row = data + r * features
                for j in 0..<features { low[j] = min(low[j], row[j]); high[j] = max(high[j], row[j]) }
            }
            for j in 0..<features {
                offset[j] = low[j]
                scale[j] = high[j] - low[j] > 1e-12 ? high[j] - low[j] : 1
            }
        }
        return try InputScaling(offset: offset, scale: scale)
    }

    /// y[r, j] = (x[r, j] − offset[j]) / scale[j] for `rows` rows.
    func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int) {
        let features = offset.count
        offset.withUnsafeBufferPointer { o in
            inverseScale.withUnsafeBufferPointer { s in
                for r in 0..<rows {
                    let xr = x + r * features, yr = y + r * features
                    for j in 0..<features { yr[j] = (xr[j] - o[j]) * s[j] }
                }
            }
        }
    }

    /// x[r, j] = y[r, j] · scale[j] + offset[j], in place.
    func invert(_ y: UnsafeMutablePointer<Float>, rows: Int) {
        let features = offset.count
        offset.withUnsafeBufferPointer { o in
            scale.withUnsafeBufferPointer { s in
                for r in 0..<rows {
                    let yr = y + r * features
                    for j in 0..<features { yr[j] = yr[j] * s[j] + o[j] }
                }
            }
        }
    }
}
