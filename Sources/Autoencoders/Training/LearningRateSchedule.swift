/// How the learning rate changes from epoch to epoch (epochs count from 0). An optional linear
/// warm-up ramps from lr/warmup to lr over the first `warmupEpochs` epochs before the schedule starts.
public struct LearningRateSchedule: Equatable, Sendable {
    public enum Shape: Equatable, Sendable {
        case constant
        /// lr · γ^⌊epoch / stepSize⌋ (PyTorch's StepLR)
        case step(stepSize: Int, gamma: Float)
        /// lr · γ^epoch
        case exponential(gamma: Float)
        /// η_min + (lr − η_min)(1 + cos(π·epoch / T))/2 for epoch ≤ T, then η_min (CosineAnnealingLR without restarts)
        case cosine(period: Int, minimum: Float)
    }

    public var shape: Shape
    public var warmupEpochs: Int

    public init(_ shape: Shape = .constant, warmupEpochs: Int = 0) {
        self.shape = shape
        self.warmupEpochs = warmupEpochs
    }

    public static let constant = LearningRateSchedule()

    public func learningRate(base: Float, epoch: Int) -> Float {
        if epoch < warmupEpochs {
            return base * Float(epoch + 1) / Float(warmupEpochs)
        }
        let e = epoch - warmupEpochs
        switch shape {
        case .constant:
            return base
        case .step(let stepSize, let gamma):
            return Float(Double(base) * _pow(Double(gamma), Double(e / stepSize)))
        case .exponential(let gamma):
            return Float(Double(base) * _pow(Double(gamma), Double(e)))
        case .cosine(let period, let minimum):
            guard e < period else { return minimum }
            return minimum + (base - minimum) * Float((1 + _cosD(Double.pi * Double(e) / Double(period))) / 2)
        }
    }

    static func parse(_ reader: SpecReader) throws(AutoencoderError) -> LearningRateSchedule {
        let type = try reader.choice("type", ["constant", "step", "exponential", "cosine"])
        let warmup = try reader.int("warmup_epochs", default: 0, minimum: 0)
        switch type {
        case "step":
            try reader.allowOnly(["type", "step_size", "gamma", "warmup_epochs"])
            return .init(.step(stepSize: try reader.int("step_size", minimum: 1),
                               gamma: try reader.float("gamma", default: 0.1, maximum: 1, above: 0)), warmupEpochs: warmup)
        case "exponential":
            try reader.allowOnly(["type", "gamma", "warmup_epochs"])
            return .init(.exponential(gamma: try reader.float("gamma", maximum: 1, above: 0)), warmupEpochs: warmup)
        case "cosine":
            try reader.allowOnly(["type", "t_max", "eta_min", "warmup_epochs"])
            return .init(.cosine(period: try reader.int("t_max", minimum: 1),
                                 minimum: try reader.float("eta_min", default: 0, minimum: 0)), warmupEpochs: warmup)
        default:
            try reader.allowOnly(["type", "warmup_epochs"])
            return .init(.constant, warmupEpochs: warmup)
        }
    }
}
