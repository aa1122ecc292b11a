/// The distribution an adversarial autoencoder shapes its codes to, sampled with the model's
/// seeded generator:
///
/// - gaussian: z ~ N(0, std² I)
/// - uniform:  z ~ U(low, high)^d
/// - mixture:  k ~ U{0..n−1} (or the sample's label, supervised), z ~ N(μ_k, std² I); the means
///   are given, or n points on a circle of `radius` in the first two code dimensions
///   (μ_k = radius · (cos 2πk/n, sin 2πk/n, 0, …)), as in Makhzani et al.'s Figure 4.
public enum Prior: Equatable, Sendable {
    case gaussian(std: Float)
    case uniform(low: Float, high: Float)
    case mixture(Mixture)

    public struct Mixture: Equatable, Sendable {
        public var components: Int
        /// Given means (each a code-sized list), or nil for the circle.
        public var means: [[Float]]?
        public var radius: Float
        public var std: Float
        /// Whether each sample's label picks its component (§2.3), rather than a uniform draw.
        public var supervised: Bool
    }

    public var isSupervised: Bool { if case .mixture(let m) = self { return m.supervised }; return false }
    /// Mixture components (0 for the other priors).
    public var componentCount: Int { if case .mixture(let m) = self { return m.components }; return 0 }

    static let maxComponents = 1024

    static func parse(_ r: SpecReader) throws(AutoencoderError) -> Prior {
        let type = try r.choice("type", ["gaussian", "uniform", "mixture"])
        switch type {
        case "gaussian":
            try r.allowOnly(["type", "std"])
            return .gaussian(std: try r.float("std", default: 1, above: 0))
        case "uniform":
            try r.allowOnly(["type", "range"])
            guard let range = try r.array("range") else { return .uniform(low: -1, high: 1) }
            guard range.count == 2, let low = range[0].doubleValue, let high = range[1].doubleValue, low.isFinite, high.isFinite,
                  low < high, Float(low).isFinite, Float(high).isFinite else {
                throw .invalidSpec(r.path("range"), "must be two finite numbers [low, high] with low < high, got \(r.object["range"]?.serialized() ?? "")")
            }
            return .uniform(low: Float(low), high: Float(high))
        default:
            try r.allowOnly(["type", "components", "means", "radius", "std", "supervised"])
            var means: [[Float]]? = nil
            if let array = try r.array("means", limit: maxComponents) {
                guard !array.isEmpty else { throw .invalidSpec(r.path("means"), "must list at least one mean") }
                var parsed: [[Float]] = []
                for (i, element) in array.enumerated() {
                    let path = "\(r.path("means"))[\(i)]"
                    guard let values = element.arrayValue, !values.isEmpty, values.count <= 1 << 16 else {
                        throw .invalidSpec(path, "must be a non-empty list of numbers (one per code dimension)")
                    }
                    var mean: [Float] = []
                    for (j, value) in values.enumerated() {
                        guard let number = value.doubleValue, number.isFinite, Float(number).isFinite else {
                            throw .invalidSpec("\(path)[\(j)]", "must be a finite number, got \(value.serialized())")
                        }
                        mean.append(Float(number))
                    }
                    parsed.append(mean)
                }
                means = parsed
            }
            let components: Int
            if let means {
                components = try r.int("components", default: means.count, minimum: 1, maximum: maxComponents)
                guard components == means.count else {
                    throw .invalidSpec(r.path("components"), "is \(components), but means lists \(means.count) components")
                }
            } else {
                components = try r.int("components", minimum: 1, maximum: maxComponents)
            }
            return .mixture(Mixture(components: components, means: means, radius: try r.float("radius", default: 4, above: 0),
                                    std: try r.float("std", default: 0.5, above: 0), supervised: try r.bool("supervised", default: false)))
        }
    }

    /// The means must be code-sized; the circle needs two code dimensions.
    func check(codeSize: Int, path: String) throws(AutoencoderError) {
        guard case .mixture(let mixture) = self else { return }
        if let means = mixture.means {
            for (i, mean) in means.enumerated() where mean.count != codeSize {
                throw .invalidSpec("\(path).means[\(i)]", "has \(mean.count) values; the code has \(codeSize) dimensions")
            }
        } else if codeSize < 2 {
            throw .invalidSpec("\(path).type", "a mixture on a circle needs a code of at least 2 dimensions (the code has \(codeSize)); give \"means\"")
        }
    }

    /// The mean of component `k` in dimension `j`.
    func mean(_ mixture: Mixture, component k: Int, dimension j: Int) -> Float {
        if let means = mixture.means { return means[k][j] }
        guard j < 2 else { return 0 }
        let angle = 2 * Double.pi * Double(k) / Double(mixture.components)
        return mixture.radius * Float(j == 0 ? _cos(angle) : _sin(angle))
    }

    /// z[rows, codeSize] from the prior, drawn from `random`. For a mixture, `components[r]` is
    /// each row's component: read when supervised (and given), else drawn and written there.
    func sample(into z: UnsafeMutablePointer<Float>, rows: Int, codeSize: Int, components: UnsafeMutablePointer<Int32>?,
                random: inout RandomGenerator) {
        switch self {
        case .gaussian(let std):
            for i in 0..<(rows * codeSize) { z[i] = std * random.normal() }
        case .uniform(let low, let high):
            for i in 0..<(rows * codeSize) { z[i] = random.uniform(low, high) }
        case .mixture(let mixture):
            for r in 0..<rows {
                let k: Int
                if mixture.supervised, let components {
                    k = Int(components[r])
                } else {
                    k = random.below(mixture.components)
                    components?[r] = Int32(k)
                }
                for j in 0..<codeSize { z[r * codeSize + j] = mean(mixture, component: k, dimension: j) + mixture.std * random.normal() }
            }
        }
    }
}
