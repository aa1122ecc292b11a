/// A convolution over volumes `[C, D, H, W]` ("conv3d"), images `[C, H, W]` ("conv2d") or signals
/// `[C, L]` ("conv1d"), as PyTorch's Conv3d / Conv2d / Conv1d compute it (a cross-correlation, zero padding):
///
///     y[o, h, w] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x[c, h·s − p + i·d, w·s − p + j·d]
///
/// (and likewise with a depth axis for volumes) with W of shape [out, in, k, k] ([out, in, k, k, k]
/// for volumes, [out, in, k] for signals) and output length
/// ⌊(in + 2p − d(k − 1) − 1) / s⌋ + 1 along each spatial axis.
///
/// As one GEMM per sample over its columns (`ConvolutionGeometry`): forward Y = W · im2col(X);
/// backward dWᵀ += im2col(X) · dYᵀ (the transpose: faster for thin layers), db += Σ dY,
/// dX = col2im(Wᵀ · dY). Backward rebuilds the columns
/// rather than keeping them, so the scratch holds one sample's, not the batch's. (Per-sample GEMMs
/// measured as fast as or faster than one GEMM over a group of samples at every W2 shape, and
/// they need no gather into and scatter out of a channel-major layout.) With several threads the
/// batch is split into parts, one per thread (`Parallel`), each with single-threaded GEMMs and
/// columns of its own; the parts after the first accumulate dW and db apart, summed in part order.
public final class Convolution: Layer {
    public let kind: String
    public let inputChannels: Int
    public let filters: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let dilation: Int
    public let hasBias: Bool
    public let initializer: Initializer
    public let inputShapes: [[Int]]
    public let outputShape: [Int]
    let geometry: ConvolutionGeometry

    // Bound slices of the model's flat buffers.
    private(set) var weight: UnsafeMutablePointer<Float>! = nil     // [out, in, k, k], i.e. [out, columnRows]
    private var weightGradient: UnsafeMutablePointer<Float>! = nil
    private var bias: UnsafeMutablePointer<Float>? = nil            // [out]
    private var biasGradient: UnsafeMutablePointer<Float>? = nil
    /// The int8 weights `[out, columnRows]` of a quantised model (Quantization/), or nil: forward
    /// then runs the int8 GEMM on each block of columns, quantised with the sample's input range.
    var int8: Int8Weights? = nil

    /// - Parameter inputShape: [C, D, H, W] for volumes, [C, H, W] for images, [C, L] for signals.
    /// - Throws: `.invalidArgument` for a malformed shape or hyperparameter, or a kernel that does
    ///   not fit in the padded input (an output length below 1).
    public init(inputShape: [Int], filters: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                bias: Bool = true, initializer: Initializer = .heUniform) throws(AutoencoderError) {
        guard (2...4).contains(inputShape.count), inputShape.allSatisfy({ $0 >= 1 }) else {
            throw .invalidArgument("a convolution's input shape must be [channels, depth, height, width], [channels, height, width] or "
                                   + "[channels, length] with every size at least 1, not \(inputShape)")
        }
        try Self.validate(filters: filters, kernel: kernel, stride: stride, padding: padding, dilation: dilation)
        let spatial = Array(inputShape.dropFirst())
        var grid: [Int] = []
        for (axis, length) in zip(Self.axisNames(spatial.count), spatial) {
            let out = Self.outputLength(input: length, kernel: kernel, stride: stride, padding: padding, dilation: dilation)
            guard out >= 1 else {
                throw .invalidArgument("the kernel (\(kernel), dilation \(dilation), spanning \(dilation * (kernel - 1) + 1)) "
                                       + "is larger than the padded input \(axis) \(length) + 2·\(padding)")
            }
            grid.append(out)
        }
        kind = "conv\(spatial.count)d"
        inputChannels = inputShape[0]
        self.filters = filters
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.hasBias = bias
        self.initializer = initializer
        inputShapes = [inputShape]
        outputShape = [filters] + grid
        geometry = ConvolutionGeometry(channels: inputShape[0], spatial: spatial, grid: grid,
                                       kernel: kernel, stride: stride, padding: padding, dilation: dilation)
        try geometry.checkColumns(kind: kind)
    }

    /// ⌊(input + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1; below 1 when the kernel does not fit.
    public static func outputLength(input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int) -> Int {
        let span = input + 2 * padding - dilation * (kernel - 1) - 1
        return (span >= 0 ? span / stride : -((stride - 1 - span) / stride)) + 1
    }

    /// The names of the spatial axes of a 1-, 2- or 3-D input, for messages.
    static func axisNames(_ rank: Int) -> [String] {
        rank == 3 ? ["depth", "height", "width"] : rank == 2 ? ["height", "width"] : ["length"]
    }

    static func validate(filters: Int, kernel: Int, stride: Int, padding: Int, dilation: Int) throws(AutoencoderError) {
        guard filters >= 1 else { throw .invalidArgument("filters must be at least 1, not \(filters)") }
        guard kernel >= 1 else { throw .invalidArgument("kernel must be at least 1, not \(kernel)") }
        guard stride >= 1 else { throw .invalidArgument("stride must be at least 1, not \(stride)") }
        guard padding >= 0 else { throw .invalidArgument("padding must be at least 0, not \(padding)") }
        guard dilation >= 1 else { throw .invalidArgument("dilation must be at least 1, not \(dilation)") }
    }

    public var parameterDeclarations: [ParameterDeclaration] {
        let taps = geometry.kernelDepth * geometry.kernelHeight * geometry.kernelWidth
        let fanIn = inputChannels * taps, fanOut = filters * taps
        let spatial = [Int](repeating: kernel, count: outputShape.count - 1)
        return ParameterDeclaration.weightAndBias(weightShape: [filters, inputChannels] + spatial, biasCount: filters, bias: hasBias,
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
    /// or signal; a few depth slices of a volume's; none for a 1 × 1 kernel: its columns are the
    /// input), then the weight gradient's transpose `[columnRows, out]` accumulated in backward.
    public func scratchSize(batch: Int) -> Int {
        columnsSize + weightCount
    }

    /// Floats of one block of columns.
    private var columnsSize: Int { geometry.isPointwise ? 0 : geometry.columnRows * geometry.blockPositions }

    /// Floats of the weight, [out, columnRows].
    private var weightCount: Int { filters * geometry.columnRows }

    /// Multiply-adds of one sample's forward GEMMs, the measure of work for splitting a batch.
    private var sampleWork: Int { filters * geometry.columnRows * geometry.positions }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        if let int8, int8.calibrating { int8.observe(io.input, count: io.batch * geometry.imageSize) }
        // The batch's samples in parts, one per thread, each with its own columns (`Parallel`).
        Parallel.forEachPart(count: io.batch, work: io.batch * sampleWork, scratch: io.scratch,
                             scratchSize: columnsSize) { _, samples, columns in
            forward(io, samples: samples, columns: columns)
        }
    }

    private func forward(_ io: LayerBuffers, samples: Range<Int>, columns: UnsafeMutablePointer<Float>) {
        let g = geometry, positions = g.positions, rows = g.columnRows
        let inputSize = g.imageSize, outputSize = filters * positions
        let slab = g.gridHeight * g.gridWidth
        for n in samples {
            let x = io.input + n * inputSize, y = io.output + n * outputSize
            if let int8, !int8.calibrating {
                forwardInt8(int8, x: x, y: y, columns: columns)
                continue
            }
            fillBias(y)
            if g.isPointwise {
                // y[out, HW] = W[out, rows] · x[rows, HW], onto the bias.
                BLAS.gemm(transposeA: false, transposeB: false, m: filters, n: positions, k: rows,
                          alpha: 1, a: weight, lda: rows, b: x, ldb: positions,
                          beta: hasBias ? 1 : 0, c: y, ldc: positions)
                continue
            }
            // Block by block (the whole grid for images and signals): y[out, block] = W · columns[rows, block],
            // in chunks of positions (`columnChunk`).
            for first in g.depthBlocks {
                let slices = first..<min(first + g.depthBlock, g.gridDepth), count = slices.count * slab
                g.im2col(x, columns, slices: slices)
                let chunk = ConvolutionGeometry.columnChunk(channels: filters, rows: rows, count: count)
                for c in Swift.stride(from: 0, to: count, by: chunk) {
                    BLAS.gemm(transposeA: false, transposeB: false, m: filters, n: min(chunk, count - c), k: rows,
                              alpha: 1, a: weight, lda: rows, b: columns + c, ldb: count,
                              beta: hasBias ? 1 : 0, c: y + first * slab + c, ldc: positions)
                }
            }
        }
    }

    /// One sample on the int8 weights: y[out, block] = W · columns[rows, block] + b per block, the
    /// columns quantised with the sample's input range (or the calibrated one).
    private func forwardInt8(_ int8: Int8Weights, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>,
                             columns: UnsafeMutablePointer<Float>) {
        let g = geometry, positions = g.positions, slab = g.gridHeight * g.gridWidth
        let range = int8.range(x, count: g.imageSize)
        if g.isPointwise {
            return int8.convolve(x, count: positions, ld: positions, range: range, bias: bias, output: y, ldy: positions)
        }
        for first in g.depthBlocks {
            let slices = first..<min(first + g.depthBlock, g.gridDepth), count = slices.count * slab
            g.im2col(x, columns, slices: slices)
            int8.convolve(columns, count: count, ld: count, range: range, bias: bias, output: y + first * slab, ldy: positions)
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
            ConvolutionGeometry.addTransposed(transposed, into: dW, out: filters, rows: geometry.columnRows)
        } combine: { scratches in
            for scratch in scratches.dropFirst() {
                Parallel.add(scratch + columnsSize + weightCount, into: weightGradient, count: weightCount)
                if let biasGradient { Parallel.add(scratch + columnsSize + 2 * weightCount, into: biasGradient, count: filters) }
            }
        }
    }

    /// Backward for `samples`: dWᵀ[rows, out] += columns · dyᵀ into `weightGradientTransposed`.
    private func backward(_ io: LayerBuffers, samples: Range<Int>, columns: UnsafeMutablePointer<Float>,
                          weightGradientTransposed: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?,
                          accumulateInputGradient: Bool) {
        let g = geometry, positions = g.positions, rows = g.columnRows
        let inputSize = g.imageSize, outputSize = filters * positions
        // db[o] += Σ_{n,h,w} dy[n, o, h, w]
        if let biasGradient {
            ConvolutionGeometry.accumulatePlaneSums(io.gradOutput + samples.lowerBound * outputSize, count: samples.count,
                                                    channels: filters, planeSize: positions, into: biasGradient)
        }
        let slab = g.gridHeight * g.gridWidth
        for n in samples {
            let x = io.input + n * inputSize, dy = io.gradOutput + n * outputSize
            let dx = io.gradInput.map { $0 + n * inputSize }
            if g.isPointwise {
                // dWᵀ[rows, out] += x[rows, HW] · dyᵀ, dx[in, HW] (+)= Wᵀ · dy
                BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: filters, k: positions,
                          alpha: 1, a: x, lda: positions, b: dy, ldb: positions,
                          beta: 1, c: weightGradientTransposed, ldc: filters)
                if let dx {
                    BLAS.gemm(transposeA: true, transposeB: false, m: rows, n: positions, k: filters,
                              alpha: 1, a: weight, lda: rows, b: dy, ldb: positions,
                              beta: accumulateInputGradient ? 1 : 0, c: dx, ldc: positions)
                }
                continue
            }
            if let dx, !accumulateInputGradient { dx.update(repeating: 0, count: inputSize) }
            for first in g.depthBlocks {
                let slices = first..<min(first + g.depthBlock, g.gridDepth), count = slices.count * slab
                let dyBlock = dy + first * slab
                g.im2col(x, columns, slices: slices)
                // dWᵀ[rows, out] += columns[rows, block] · dy[out, block]ᵀ
                BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: filters, k: count,
                          alpha: 1, a: columns, lda: count, b: dyBlock, ldb: positions,
                          beta: 1, c: weightGradientTransposed, ldc: filters)
                guard let dx else { continue }
                // dcolumns[rows, block] = Wᵀ · dy over the columns (no longer needed), in chunks of
                // positions (`columnChunk`), then dx += col2im(dcolumns).
                let chunk = ConvolutionGeometry.columnChunk(channels: filters, rows: rows, count: count)
                for c in Swift.stride(from: 0, to: count, by: chunk) {
                    BLAS.gemm(transposeA: true, transposeB: false, m: rows, n: min(chunk, count - c), k: filters,
                              alpha: 1, a: weight, lda: rows, b: dyBlock + c, ldb: positions,
                              beta: 0, c: columns + c, ldc: count)
                }
                g.col2im(columns, dx, slices: slices)
            }
        }
    }

    /// Sets one sample's output to the bias of each channel (nothing without a bias).
    private func fillBias(_ y: UnsafeMutablePointer<Float>) {
        guard let bias else { return }
        for o in 0..<filters { (y + o * geometry.positions).update(repeating: bias[o], count: geometry.positions) }
    }
}
