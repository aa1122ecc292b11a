/// k-sparse activation (Makhzani & Frey 2013): in each sample, keep the k largest values and
/// set the rest to zero; the gradient flows through the kept values only. Ties at the k-th value
/// keep the earliest positions, so exactly k values survive.
public final class KSparse: Layer {
    public let kind = "k_sparse"
    public let k: Int
    public let inputShapes: [[Int]]
    public var outputShape: [Int] { inputShapes[0] }

    public init(k: Int, shape: [Int]) {
        self.k = k
        self.inputShapes = [shape]
    }

    /// The kept-value mask ([batch, size], 1 or 0), then one row of selection workspace.
    public func scratchSize(batch: Int) -> Int { (batch + 1) * outputSize }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        let size = outputSize
        let mask = io.scratch, work = io.scratch + io.batch * size
        for n in 0..<io.batch {
            let x = io.input + n * size, y = io.output + n * size, m = mask + n * size
            let threshold = KSparse.kthLargest(x, size, k, work)
            var above = 0
            for j in 0..<size where x[j] > threshold { above += 1 }
            var tiesToKeep = k - above
            for j in 0..<size {
                let keep = x[j] > threshold || (x[j] == threshold && tiesToKeep > 0)
                if x[j] == threshold && keep { tiesToKeep -= 1 }
                m[j] = keep ? 1 : 0
                y[j] = keep ? x[j] : 0
            }
        }
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        guard let gradInput = io.gradInput else { return }
        Activation.store(gradInput, io.batch * outputSize, accumulateInputGradient) { i in io.gradOutput[i] * io.scratch[i] }
    }

    /// The k-th largest of `count` values (quickselect over a copy in `work`).
    static func kthLargest(_ x: UnsafePointer<Float>, _ count: Int, _ k: Int, _ work: UnsafeMutablePointer<Float>) -> Float {
        work.update(from: x, count: count)
        var low = 0, high = count - 1
        let target = k - 1                      // index in descending order
        while low < high {
            let pivot = work[(low + high) / 2]
            var i = low, j = high
            while i <= j {
                while work[i] > pivot { i += 1 }
                while work[j] < pivot { j -= 1 }
                if i <= j {
                    let t = work[i]; work[i] = work[j]; work[j] = t
                    i += 1
                    j -= 1
                }
            }
            if target <= j { high = j } else if target >= i { low = i } else { break }
        }
        return work[target]
    }
}
