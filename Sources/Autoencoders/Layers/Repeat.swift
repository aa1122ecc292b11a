/// Repeats a vector over T steps: a code `[H]` becomes the sequence `[T, H]` (Keras'
/// RepeatVector), the decoder input of the classic LSTM autoencoder.
///
///     y[t] = x  for t < T;        dx = Σ_t dy[t]
public final class Repeat: Layer {
    public let kind = "repeat"
    public let steps: Int
    public let features: Int
    public var inputShapes: [[Int]] { [[features]] }
    public var outputShape: [Int] { [steps, features] }

    public init(steps: Int, features: Int) throws(AutoencoderError) {
        guard steps >= 1 else { throw .invalidArgument("repeat: steps must be at least 1, got \(steps)") }
        guard features >= 1 else { throw .invalidArgument("repeat: the input must have at least 1 feature, got \(features)") }
        self.steps = steps
        self.features = features
    }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        for n in 0..<io.batch {
            let x = io.input + n * features, y = io.output + n * steps * features
            for t in 0..<steps { (y + t * features).update(from: x, count: features) }
        }
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        guard let gradInput = io.gradInput else { return }
        for n in 0..<io.batch {
            let dx = gradInput + n * features, dy = io.gradOutput + n * steps * features
            if !accumulateInputGradient { dx.update(repeating: 0, count: features) }
            for t in 0..<steps {
                let row = dy + t * features
                for j in 0..<features { dx[j] += row[j] }
            }
        }
    }
}
