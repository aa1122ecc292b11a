/// A transposed convolution over volumes `[C, D, H, W]` ("conv_transpose3d"), images `[C, H, W]`
/// ("conv_transpose2d") or signals `[C, L]` ("conv_transpose1d"), as PyTorch's ConvTranspose3d /
/// 2d / 1d compute it: each input
/// value scatters a weighted copy of the kernel into the output,
///
///     y[o, h·s − p + i·d, w·s − p + j·d] += x[c, h, w] · W[c, o, i, j],   then y[o] += b[o]
///
/// (and likewise with a depth axis for volumes) with W of shape [in, out, k, k] ([in, out, k, k, k]
/// for volumes, [in, out, k] for signals; in first) and output length
/// (in − 1)·s − 2p + d(k − 1) + outputPadding + 1 along each spatial axis.
///
/// It is the adjoint of the convolution `[out, …] → [in, …]` with the same weight, so it runs on
/// the same columns (`ConvolutionGeometry` with the output as the image and the input as the grid):
/// forward Y = col2im(Wᵀ · X); backward dX = W · im2col(dY), dWᵀ += im2col(dY) · Xᵀ, db += Σ dY,
/// one GEMM per sample as in `Convolution`, with the batch split across threads the same way.
public final class TransposedConvolution: Layer {
    public let kind: String
    public let inputChannels: Int
    public let filters: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let outputPadding: Int
    public let dilation: Int
    public let hasBias: Bool
    public let initializer: Initializer
    public let inputShapes: [[Int]]
    public let outputShape: [Int]
    let geometry: ConvolutionGeometry

    // Bound slices of the model's flat buffers.
    private var weight: UnsafeMutablePointer<Float>! = nil          // [in, out, k, k], i.e. [in, columnRows]
    private var weightGradient: UnsafeMutablePointer<Float>! = nil
    private var bias: UnsafeMutablePointer<Float>? = nil            // [out]
    private var biasGradient: UnsafeMutablePointer<Float>? = nil

    /// - Parameter inputShape: [C, D, H, W] for volumes, [C, H, W] for images, [C, L] for signals.
    /// - Throws: `.invalidArgument` for a malformed shape or hyperparameter, an output padding not
    ///   below the stride or the dilation, or an output length below 1.
    public init(inputShape: [Int], filters: Int, kernel: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
                dilation: Int = 1, bias: Bool = true, initializer: Initializer = .heUniform) throws(AutoencoderError) {
        guard (2...4).contains(inputShape.count), inputShape.allSatisfy({ $0 >= 1 }) else {
            throw .invalidArgument("a transposed convolution's input shape must be [channels, depth, height, width], "
                                   + "[channels, height, width] or [channels, length] with every size at least 1, not \(inputShape)")
        }
        try Convolution.validate(filters: filters, kernel: kernel, stride: stride, padding: padding, dilation: dilation)
        guard outputPadding >= 0, outputPadding < stride || outputPadding < dilation else {
            throw .invalidArgument("output padding \(outputPadding) must be at least 0 and smaller than the stride "
                                   + "(\(stride)) or the dilation (\(dilation))")
        }
        let spatial = Array(inputShape.dropFirst())
        var grid: [Int] = []
        for (axis, length) in zip(Convolution.axisNames(spatial.count), spatial) {
            let out = Self.outputLength(input: length, kernel: kernel, stride: stride, padding: padding,
                                        outputPadding: outputPadding, dilation: dilation)
            guard out >= 1 else {
                throw .invalidArgument("the padding \(padding) leaves no output: output \(axis) (\(length) − 1)·\(stride) "
                                       + "− 2·\(padding) + \(dilation)·(\(kernel) − 1) + \(outputPadding) + 1 = \(out)")
            }
            grid.append(out)
        }
        kind = "conv_transpose\(spatial.count)d"
        inputChannels = inputShape[0]
        self.filters = filters
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.hasBias = bias
        self.initializer = initializer
        inputShapes = [inputShape]
        outputShape = [filters] + grid
        // The image is this layer's output, the grid its input.
        geometry = ConvolutionGeometry(channels: filters, spatial: grid, grid: spatial,
                                       kernel: kernel, stride: stride, padding: padding, dilation: dilation)
        try geometry.checkColumns(kind: kind)
    }

    /// (input − 1)·stride − 2·padding + dilation·(kernel − 1) + outputPadding + 1.
    public static func outputLength(input: Int, kernel: Int, stride: Int, padding: Int, outputPadding: Int,
                                    dilation: Int) -> Int {
        (input - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1
    }

    public var parameterDeclarations: [ParameterDeclaration] {
        // PyTorch computes the fans from the weight's dimensions 1 and 0: fanIn = out·k·k.
        let taps = geometry.kernelDepth * geometry.kernelHeight * geometry.kernelWidth
        let fanIn = filters * taps, fanOut = inputChannels * taps
        let spatial = [Int](repeating: kernel, count: outputShape.count - 1)
        return ParameterDeclaration.weightAndBias(weightShape: [inputChannels, filters] + spatial, biasCount: filters, bias: hasBias,
                                                  initializer: initializer, fanIn: fanIn, fanOut: fanOut)
    }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        weight = parameters[0]
        weightGradient = gradients[0]
        if hasBias {
            bias = parameters[1]
            biasGradient = gradients[1]
        }
    }

    /// One block of one sample's columns, `[columnRows, blockPositions]` (the whole grid of an image
    /// or signal, a few depth slices of a volume's; none for a 1 × 1 kernel at stride 1 without
    /// padding: its columns are the output itself).
    public func scratchSize(batch: Int) -> Int {
        columnsSize + weightCount
    }

    /// Floats of one block of columns (then the weight gradient's transpose `[columnRows, in]`,
    /// accumulated in backward).
    private var columnsSize: Int { geometry.isPointwise ? 0 : geometry.columnRows * geometry.blockPositions }

    /// Floats of the weight, [in, columnRows].
    private var weightCount: Int { inputChannels * geometry.columnRows }

    /// Multiply-adds of one sample's forward GEMMs, the measure of work for splitting a batch.
    private var sampleWork: Int { inputChannels * geometry.columnRows * geometry.positions }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        // The batch's samples in parts, one per thread, each with its own columns (`Parallel`).
        Parallel.forEachPart(count: io.batch, work: io.batch * sampleWork, scratch: io.scratch,
                             scratchSize: columnsSize) { _, samples, columns in
            forward(io, samples: samples, columns: columns)
        }
    }

    private func forward(_ io: LayerBuffers, samples: Range<Int>, columns: UnsafeMutablePointer<Float>) {
        let g = geometry, positions = g.positions, rows = g.columnRows
        let inputSize = inputChannels * positions, outputSize = g.imageSize, plane = outputSize / filters
        let slab = g.gridHeight * g.gridWidth
        for n in samples {
            let x = io.input + n * inputSize, y = io.output + n * outputSize
            // Start from the bias (col2im and the pointwise GEMM add onto it).
            if let bias {
                for o in 0..<filters { (y + o * plane).update(repeating: bias[o], count: plane) }
            } else if !g.isPointwise {
                y.update(repeating: 0, count: outputSize)
            }
            if g.isPointwise {
                // y[out, HW] (+)= Wᵀ[rows, in] · x[in, HW]
                BLAS.gemm(transposeA: true, transposeB: false, m: rows, n: positions, k: inputChannels,
                          alpha: 1, a: weight, lda: rows, b: x, ldb: positions,
                          beta: hasBias ? 1 : 0, c: y, ldc: positions)
                continue
            }
            // Block by block: columns[rows, block] = Wᵀ[rows, in] · x[in, block], then y += col2im(columns).
            for first in g.depthBlocks {
                let slices = first..<min(first + g.depthBlock, g.gridDepth), count = slices.count * slab
                let chunk = ConvolutionGeometry.columnChunk(channels: inputChannels, rows: rows, count: count)
                for c in Swift.stride(from: 0, to: count, by: chunk) {
                    BLAS.gemm(transposeA: true, transposeB: false, m: rows, n: min(chunk, count - c), k: inputChannels,
                              alpha: 1, a: weight, lda: rows, b: x + first * slab + c, ldb: positions,
                              beta: 0, c: columns + c, ldc: count)
                }
                g.col2im(columns, y, slices: slices)
            }
        }
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        // Each part accumulates dWᵀ after its columns and adds it into dW at its end; parts after
        // the first do that into dW and db of their own scratch, added in part order at the end.
        let columnsSize = columnsSize, weightCount = weightCount
        Parallel.forEachPart(count: io.batch, work: io.batch * sampleWork * 2, scratch: io.scratch,
                             scratchSize: columnsSize + 2 * weightCount + filters) { part, samples, scratch in
            var dW = weightGradient!, db = biasGradient
            let transposed = scratch + columnsSize
            if part > 0 {
                dW = transposed + weightCount
                db = hasBias ? dW + weightCount : nil
                dW.update(repeating: 0, count: weightCount + (hasBias ? filters : 0))
            }
            transposed.update(repeating: 0, count: weightCount)
            backward(io, samples: samples, columns: scratch, weightGradientTransposed: transposed, biasGradient: db,
                     accumulateInputGradient: accumulateInputGradient)
            ConvolutionGeometry.addTransposed(transposed, into: dW, out: inputChannels, rows: geometry.columnRows)
        } combine: { scratches in
            for scratch in scratches.dropFirst() {
                Parallel.add(scratch + columnsSize + weightCount, into: weightGradient, count: weightCount)
                if let biasGradient { Parallel.add(scratch + columnsSize + 2 * weightCount, into: biasGradient, count: filters) }
            }
        }
    }

    /// Backward for `samples`: dWᵀ[rows, in] += columns · xᵀ into `weightGradientTransposed`.
    private func backward(_ io: LayerBuffers, samples: Range<Int>, columns scratch: UnsafeMutablePointer<Float>,
                          weightGradientTransposed: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?,
                          accumulateInputGradient: Bool) {
        let g = geometry, positions = g.positions, rows = g.columnRows
        let inputSize = inputChannels * positions, outputSize = g.imageSize
        // db[o] += Σ_{n,h,w} dy[n, o, h, w]
        if let biasGradient {
            ConvolutionGeometry.accumulatePlaneSums(io.gradOutput + samples.lowerBound * outputSize, count: samples.count,
                                                    channels: filters, planeSize: outputSize / filters, into: biasGradient)
        }
        let slab = g.gridHeight * g.gridWidth
        for n in samples {
            let x = io.input + n * inputSize, dy = io.gradOutput + n * outputSize
            for first in g.isPointwise ? Swift.stride(from: 0, to: 1, by: 1) : g.depthBlocks {
                // The whole grid at once when pointwise (the columns are dy itself), else one block.
                let slices = g.isPointwise ? 0..<g.gridDepth : first..<min(first + g.depthBlock, g.gridDepth)
                let count = slices.count * slab, offset = slices.lowerBound * slab
                let columns = g.isPointwise ? dy : scratch
                if !g.isPointwise { g.im2col(dy, columns, slices: slices) }
                // dWᵀ[rows, in] += columns[rows, block] · x[in, block]ᵀ
                BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: inputChannels, k: count,
                          alpha: 1, a: columns, lda: count, b: x + offset, ldb: positions,
                          beta: 1, c: weightGradientTransposed, ldc: inputChannels)
                // dx[in, block] (+)= W[in, rows] · columns, in chunks of positions (`columnChunk`)
                if let gradInput = io.gradInput {
                    let chunk = ConvolutionGeometry.columnChunk(channels: inputChannels, rows: rows, count: count)
                    for c in Swift.stride(from: 0, to: count, by: chunk) {
                        BLAS.gemm(transposeA: false, transposeB: false, m: inputChannels, n: min(chunk, count - c), k: rows,
                                  alpha: 1, a: weight, lda: rows, b: columns + c, ldb: count,
                                  beta: accumulateInputGradient ? 1 : 0, c: gradInput + n * inputSize + offset + c, ldc: positions)
                    }
                }
            }
        }
    }
}
