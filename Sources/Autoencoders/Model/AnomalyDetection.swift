/// Anomaly detection: a sample whose reconstruction error (`score`) exceeds a threshold is an
/// anomaly. The threshold is fitted as a quantile of the scores of normal (training) data and
/// kept in the model file.
extension Model {
    /// The anomaly threshold, or nil before one is fitted or set.
    public var anomalyThreshold: Float? { lock.withReadLock { threshold } }

    /// Sets (or with nil removes) the threshold. It must be finite and non-negative.
    public func setAnomalyThreshold(_ value: Float?) throws(AutoencoderError) {
        if let value, !(value.isFinite && value >= 0) {
            throw .invalidArgument("threshold must be a finite non-negative number, got \(value)")
        }
        lock.withWriteLock { threshold = value }
    }

    /// Scores `rows` samples of normal data and sets the threshold to the `quantile` of their scores
    /// (linear interpolation between order statistics, numpy's default). Returns the threshold.
    @discardableResult
    public func fitAnomalyThreshold(_ x: UnsafePointer<Float>, rows: Int, quantile: Double) throws(AutoencoderError) -> Float {
        guard quantile >= 0, quantile <= 1 else { throw .invalidArgument("quantile must be in [0, 1], got \(quantile)") }
        guard rows >= 1 else { throw .invalidArgument("fitting a threshold needs at least one sample") }
        try checkFinite(x, count: rows * inputSize, name: "data")
        var scores = [Float](repeating: 0, count: rows)
        try scores.withUnsafeMutableBufferPointer { (buffer) throws(AutoencoderError) in
            try score(x, rows: rows, into: buffer.baseAddress!)
        }
        scores.sort()
        let position = quantile * Double(rows - 1)
        let below = Int(position.rounded(.down)), above = min(below + 1, rows - 1)
        let fraction = Float(position - Double(below))
        let value = scores[below] + (scores[above] - scores[below]) * fraction
        try setAnomalyThreshold(value)
        return value
    }

    /// labels[r] = 1 where score(x[r]) > threshold, else 0. Throws `.unsupported` without a threshold.
    public func predictAnomalies(_ x: UnsafePointer<Float>, rows: Int, into labels: UnsafeMutablePointer<Int32>) throws(AutoencoderError) {
        guard let limit = anomalyThreshold else {
            throw .unsupported("the model has no anomaly threshold: fit one on normal data, or set one")
        }
        guard rows > 0 else { return }
        var scores = [Float](repeating: 0, count: rows)
        try scores.withUnsafeMutableBufferPointer { (buffer) throws(AutoencoderError) in
            try score(x, rows: rows, into: buffer.baseAddress!)
        }
        for r in 0..<rows { labels[r] = scores[r] > limit ? 1 : 0 }
    }
}
