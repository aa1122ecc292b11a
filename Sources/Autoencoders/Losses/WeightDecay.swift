/// The weight-decay penalty λ Σ‖w‖ₚᵖ with p = 1 (lasso: sparse weights) or p = 2 (ridge),
/// added to the objective. Its gradient is λ·sign(w) for p = 1 and 2λw for p = 2. By default it
/// covers weights, not biases.
///
/// (PyTorch's optimizer `weight_decay` argument is a different thing, kept for parity: it adds wd·p to
/// the gradient of every parameter, which is this penalty with p = 2 and λ = wd/2 over all parameters.)
public struct WeightDecay: Equatable, Sendable {
    public var lambda: Float
    public var p: Int
    public var includeBiases: Bool

    public init(lambda: Float, p: Int = 2, includeBiases: Bool = false) {
        self.lambda = lambda
        self.p = p
        self.includeBiases = includeBiases
    }

    /// λ Σ|wᵢ|ᵖ over `count` values, and when `gradient` is given, adds ∂/∂w to it.
    public func apply(_ w: UnsafePointer<Float>, count: Int, gradient: UnsafeMutablePointer<Float>?) -> Double {
        var sum: Float = 0
        let lambda = self.lambda
        if p == 1 {
            for i in 0..<count { sum += abs(w[i]) }
            if let gradient {
                for i in 0..<count { gradient[i] += w[i] > 0 ? lambda : (w[i] < 0 ? -lambda : 0) }
            }
        } else {
            for i in 0..<count { sum += w[i] * w[i] }
            if let gradient {
                let twoLambda = 2 * lambda
                for i in 0..<count { gradient[i] += twoLambda * w[i] }
            }
        }
        return Double(lambda) * Double(sum)
    }

    static func parse(_ reader: SpecReader) throws(AutoencoderError) -> WeightDecay {
        try reader.allowOnly(["lambda", "p", "include_biases"])
        let lambda = try reader.float("lambda", minimum: 0)
        let p = try reader.int("p", default: 2)
        guard p == 1 || p == 2 else { throw .invalidSpec(reader.path("p"), "must be 1 or 2, got \(p)") }
        return WeightDecay(lambda: lambda, p: p, includeBiases: try reader.bool("include_biases", default: false))
    }
}
