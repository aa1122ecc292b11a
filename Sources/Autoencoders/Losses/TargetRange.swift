/// Binary cross-entropy reads its targets as probabilities. A target outside [0, 1] (pixels in
/// 0...255 that were not divided by 255) makes the loss unbounded below: training then "converges"
/// to a loss of −1e15 and a useless model, without any numeric error. So every call that trains or
/// evaluates against the input refuses such data up front, before anything changes.
extension Model {
    /// Whether some reconstruction (the output's, or a branch head's) uses a BCE loss against
    /// the clean input.
    var reconstructsWithBCE: Bool {
        let isBCE = { (loss: ReconstructionLoss) in loss == .bce || loss == .bceWithLogits }
        if case .reconstruction = spec.task, isBCE(spec.loss) { return true }
        return spec.branches.contains { isBCE($0.loss) }
    }

    /// Throws unless every target of a BCE reconstruction, the input after the model's input
    /// scaling, lies in [0, 1] (elements with a `mask` of 0 are not targets and are skipped).
    /// The message names `name`, the element, its sample and value, and how to scale.
    func checkBCETargets(_ x: UnsafePointer<Float>, rows: Int, mask: UnsafePointer<Float>? = nil,
                         name: String) throws(AutoencoderError) {
        guard reconstructsWithBCE, rows > 0 else { return }
        let features = inputSize
        var offset: [Float] = [], inverseScale: [Float] = []
        if let inputScaling { offset = inputScaling.offset; inverseScale = inputScaling.inverseScale }
        for r in 0..<rows {
            let row = x + r * features
            for j in 0..<features {
                if let mask, mask[r * features + j] == 0 { continue }
                // The same arithmetic as InputScaling.apply, so the value checked is the target.
                let target = offset.isEmpty ? row[j] : (row[j] - offset[j]) * inverseScale[j]
                guard target >= 0, target <= 1 else {
                    let scaled = offset.isEmpty ? "" : " after the model's input scaling (\(target))"
                    throw .invalidArgument("\(name): element \(r * features + j) (sample \(r), feature \(j)) is \(row[j])\(scaled); the \(lossName) loss needs targets in [0, 1]: scale the data into [0, 1] first (pixels: divide by 255, e.g. --divide-by 255 on the command line or X / 255.0 in Python), or use another loss such as mse")
                }
            }
        }
    }

    private var lossName: String {
        if case .reconstruction = spec.task, spec.loss == .bce || spec.loss == .bceWithLogits { return spec.loss.name }
        return "bce"
    }
}
