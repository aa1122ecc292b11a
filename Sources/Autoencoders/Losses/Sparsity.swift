/// Sparsity penalties on the code h ([batch, units]), the sparse autoencoder's family term.
public enum SparsityPenalty: Equatable, Sendable {
    /// λ · (1/N) Σₙ Σⱼ |hₙⱼ|: an L1 penalty on the code activations.
    case l1(weight: Float)
    /// β · Σⱼ KL(ρ ‖ ρ̂ⱼ), ρ̂ⱼ = (1/N) Σₙ hₙⱼ the mean activation of unit j over the batch,
    /// KL(ρ‖ρ̂) = ρ log(ρ/ρ̂) + (1 − ρ) log((1 − ρ)/(1 − ρ̂)). Needs a code in (0, 1) (sigmoid).
    case kl(target: Float, weight: Float)

    /// The penalty of the code `h` of `batch` samples of `units` values; with `gradient`, adds
    /// ∂penalty/∂h to it. `scratch` holds `units` floats for the mean activations.
    func apply(_ h: UnsafePointer<Float>, batch: Int, units: Int, gradient: UnsafeMutablePointer<Float>?,
               scratch: UnsafeMutablePointer<Float>) -> Double {
        let inverseBatch = 1 / Float(batch)
        switch self {
        case .l1(let weight):
            var sum: Float = 0
            for i in 0..<(batch * units) { sum += abs(h[i]) }
            if let gradient {
                let step = weight * inverseBatch
                for i in 0..<(batch * units) { gradient[i] += h[i] > 0 ? step : (h[i] < 0 ? -step : 0) }
            }
            return Double(weight) * Double(sum) / Double(batch)
        case .kl(let rho, let weight):
            let mean = scratch
            mean.update(repeating: 0, count: units)
            for n in 0..<batch {
                let row = h + n * units
                for j in 0..<units { mean[j] += row[j] }
            }
            var penalty: Double = 0
            for j in 0..<units {
                // ρ̂ is kept inside (0, 1) so the logarithms and their gradient stay finite.
                let rhoHat = min(max(mean[j] * inverseBatch, 1e-6), 1 - 1e-6)
                mean[j] = rhoHat
                penalty += Double(rho) * _log(Double(rho) / Double(rhoHat))
                    + Double(1 - rho) * _log(Double(1 - rho) / Double(1 - rhoHat))
            }
            if let gradient {
                for j in 0..<units { mean[j] = weight * inverseBatch * (-rho / mean[j] + (1 - rho) / (1 - mean[j])) }
                for n in 0..<batch {
                    let row = gradient + n * units
                    for j in 0..<units { row[j] += mean[j] }
                }
            }
            return Double(weight) * penalty
        }
    }

    static func parse(_ reader: SpecReader) throws(AutoencoderError) -> SparsityPenalty {
        switch try reader.choice("type", ["l1", "kl"]) {
        case "l1":
            try reader.allowOnly(["type", "weight"])
            return .l1(weight: try reader.float("weight", minimum: 0))
        default:
            try reader.allowOnly(["type", "target", "weight"])
            return .kl(target: try reader.float("target", above: 0, below: 1), weight: try reader.float("weight", minimum: 0))
        }
    }
}
