/// The contractive autoencoder's term (Rifai et al. 2011): λ ‖∂h/∂x‖²_F, averaged over the batch,
/// for a code layer h = f(W x + b) with f = sigmoid or tanh. For a dense layer the Jacobian has
/// the closed form ‖J‖²_F = Σⱼ f′(aⱼ)² Σᵢ W²ⱼᵢ, with f′ = h(1 − h) (sigmoid) or 1 − h² (tanh).
/// For a deeper encoder, x is the code layer's own input (the penalty of a stacked CAE's top layer).
struct ContractivePenalty {
    let weight: Float
    let isSigmoid: Bool
    /// The code layer's dense part: W [units, inputs] and its gradient.
    let dense: Dense

    /// The penalty of the code `h` ([batch, units]); with gradients, adds ∂/∂h to `gradientH` and
    /// the direct ∂/∂W to the dense layer's weight gradient. `scratch` holds 2·units floats.
    func apply(_ h: UnsafePointer<Float>, batch: Int, gradientH: UnsafeMutablePointer<Float>?,
               scratch: UnsafeMutablePointer<Float>) -> Double {
        let units = dense.outputFeatures, inputs = dense.inputFeatures
        let w = dense.weight!
        let rowNorms = scratch               // Sⱼ = Σᵢ W²ⱼᵢ
        let meanSquares = scratch + units     // (1/N) Σₙ f′(aₙⱼ)²
        for j in 0..<units {
            var s: Float = 0
            let row = w + j * inputs
            for i in 0..<inputs { s += row[i] * row[i] }
            rowNorms[j] = s
            meanSquares[j] = 0
        }
        let inverseBatch = 1 / Float(batch)
        var penalty: Double = 0
        for n in 0..<batch {
            let hn = h + n * units
            var sample: Float = 0
            for j in 0..<units {
                let v = hn[j]
                let derivative = isSigmoid ? v * (1 - v) : 1 - v * v
                sample += derivative * derivative * rowNorms[j]
                meanSquares[j] += derivative * derivative * inverseBatch
                if let gradientH {
                    // ∂/∂h of f′(h)²: 2 f′ · f″, with f″ = 1 − 2h (sigmoid) or −2h (tanh) as a function of h
                    let second = isSigmoid ? 1 - 2 * v : -2 * v
                    gradientH[n * units + j] += weight * inverseBatch * 2 * derivative * second * rowNorms[j]
                }
            }
            penalty += Double(sample)
        }
        if gradientH != nil {
            let gradientW = dense.weightGradient!
            for j in 0..<units {
                let scale = weight * 2 * meanSquares[j]
                let row = w + j * inputs, g = gradientW + j * inputs
                for i in 0..<inputs { g[i] += scale * row[i] }
            }
        }
        return Double(weight) * penalty / Double(batch)
    }
}
