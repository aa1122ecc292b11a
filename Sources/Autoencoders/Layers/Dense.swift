import CGemm

/// A fully connected layer: y = x · Wᵀ + b, with W of shape [out, in] (PyTorch's layout).
///
/// With tied weights a decoder layer borrows the transpose of an encoder layer's weight:
/// y = x · W_enc + b, and its weight gradient accumulates into the encoder's (dW_enc += xᵀ · dy).
public final class Dense: Layer {
    public let kind = "dense"
    public let inputFeatures: Int
    public let outputFeatures: Int
    public let hasBias: Bool
    public let initializer: Initializer
    /// The encoder layer whose weight this layer uses transposed, or nil for its own weight.
    public let tiedTo: Dense?

    public var inputShapes: [[Int]] { [[inputFeatures]] }
    public var outputShape: [Int] { [outputFeatures] }

    // Bound slices of the model's flat buffers.
    private(set) var weight: UnsafeMutablePointer<Float>! = nil      // [out, in], or the tied encoder's [in, out]
    private(set) var weightGradient: UnsafeMutablePointer<Float>! = nil
    private(set) var bias: UnsafeMutablePointer<Float>? = nil       // [out]
    private var biasGradient: UnsafeMutablePointer<Float>? = nil
    /// The int8 weights of a quantised model (Quantization/), or nil: forward then runs on them.
    var int8: Int8Weights? = nil

    public init(inputFeatures: Int, outputFeatures: Int, bias: Bool = true,
                initializer: Initializer = .heUniform, tiedTo: Dense? = nil) {
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        self.hasBias = bias
        self.initializer = initializer
        self.tiedTo = tiedTo
    }

    public var parameterDeclarations: [ParameterDeclaration] {
        let declarations = ParameterDeclaration.weightAndBias(
            weightShape: [outputFeatures, inputFeatures], biasCount: outputFeatures, bias: hasBias,
            initializer: initializer, fanIn: inputFeatures, fanOut: outputFeatures)
        // A tied layer borrows the encoder's weight and declares only its bias.
        return tiedTo == nil ? declarations : Array(declarations.dropFirst())
    }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        var next = 0
        if let encoder = tiedTo {
            weight = encoder.weight
            weightGradient = encoder.weightGradient
        } else {
            weight = parameters[0]
            weightGradient = gradients[0]
            next = 1
        }
        if hasBias {
            bias = parameters[next]
            biasGradient = gradients[next]
        }
    }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        let n = io.batch, input = io.input, output = io.output
        let tied = tiedTo != nil
        if let int8 {
            if int8.calibrating {
                int8.observe(input, count: n * inputFeatures)
            } else {
                // Each sample is quantised and dequantised on its own, so the batch splits across
                // threads (`Parallel`) with the same results.
                let inputs = inputFeatures, outputs = outputFeatures, bias = bias
                Parallel.forEachPart(count: n, work: n * inputs * outputs, scratch: io.scratch) { _, samples, _ in
                    int8.dense(input + samples.lowerBound * inputs, batch: samples.count, bias: bias,
                               output: output + samples.lowerBound * outputs)
                }
                return
            }
        }
        if n == 1 {
            // One sample: a matrix–vector product has far less overhead than a GEMM.
            if let bias { output.update(from: bias, count: outputFeatures) }
            // Own W is [out, in]: y = W · x. Tied W_enc is [in(enc out) = out, ...]: stored [out_enc=in, in_enc=out] → y = W_encᵀ · x.
            if tied {
                BLAS.gemv(transpose: true, m: inputFeatures, n: outputFeatures, alpha: 1, a: weight, lda: outputFeatures,
                          x: input, beta: hasBias ? 1 : 0, y: output)
            } else {
                BLAS.gemv(transpose: false, m: outputFeatures, n: inputFeatures, alpha: 1, a: weight, lda: inputFeatures,
                          x: input, beta: hasBias ? 1 : 0, y: output)
            }
            return
        }
        if let bias {
            for row in 0..<n { (output + row * outputFeatures).update(from: bias, count: outputFeatures) }
        }
        BLAS.gemm(transposeA: false, transposeB: !tied, m: n, n: outputFeatures, k: inputFeatures,
                  alpha: 1, a: input, lda: inputFeatures,
                  b: weight, ldb: tied ? outputFeatures : inputFeatures,
                  beta: hasBias ? 1 : 0, c: output, ldc: outputFeatures)
    }

    /// The weight packed for inference (CGemm/dense.c): W [out, in] as y = x · Wᵀ, or a tied
    /// layer's W_enc [in, out] as y = x · W_enc; nil when no packed kernel runs here.
    func packWeights() -> OpaquePointer? {
        tiedTo != nil
            ? aeg_pack_weights(1, outputFeatures, inputFeatures, weight, outputFeatures)
            : aeg_pack_weights(0, outputFeatures, inputFeatures, weight, inputFeatures)
    }

    /// Inference on the packed weight: output = act(x · Wᵀ + b), act = ReLU when `relu` (the
    /// next node's, fused), identity otherwise. Same value as `forward` up to rounding.
    func infer(_ io: LayerBuffers, packed: OpaquePointer, into output: UnsafeMutablePointer<Float>, relu: Bool) {
        BLAS.denseInference(packed: packed, rows: io.batch, x: io.input, ldx: inputFeatures, bias: bias,
                            relu: relu, y: output, ldy: outputFeatures)
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        let n = io.batch, input = io.input, gradOutput = io.gradOutput
        let tied = tiedTo != nil
        // dW += dyᵀ · x   ([out, in]);  tied: dW_enc += xᵀ · dy   ([in, out])
        if tied {
            BLAS.gemm(transposeA: true, transposeB: false, m: inputFeatures, n: outputFeatures, k: n,
                      alpha: 1, a: input, lda: inputFeatures, b: gradOutput, ldb: outputFeatures,
                      beta: 1, c: weightGradient, ldc: outputFeatures)
        } else {
            BLAS.gemm(transposeA: true, transposeB: false, m: outputFeatures, n: inputFeatures, k: n,
                      alpha: 1, a: gradOutput, lda: outputFeatures, b: input, ldb: inputFeatures,
                      beta: 1, c: weightGradient, ldc: inputFeatures)
        }
        // db += Σ_rows dy
        if let biasGradient {
            for row in 0..<n {
                let g = gradOutput + row * outputFeatures
                for j in 0..<outputFeatures { biasGradient[j] += g[j] }
            }
        }
        // dx = dy · W   ([n, in]);  tied: dx = dy · W_encᵀ
        if let gradInput = io.gradInput {
            BLAS.gemm(transposeA: false, transposeB: tied, m: n, n: inputFeatures, k: outputFeatures,
                      alpha: 1, a: gradOutput, lda: outputFeatures,
                      b: weight, ldb: tied ? outputFeatures : inputFeatures,
                      beta: accumulateInputGradient ? 1 : 0, c: gradInput, ldc: inputFeatures)
        }
    }
}
