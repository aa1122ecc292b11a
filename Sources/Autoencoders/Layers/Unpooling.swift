// The unpooling family, for volumes ([C, D, H, W]), images ([C, H, W], taken as D = 1) and 1-D
// signals ([C, L], taken as D = H = 1): max
// unpooling with a pooling layer's indices (SegNet), bed of nails, and nearest-neighbour upsampling.

/// Max unpooling: undoes the `MaxPool` this node is linked to. y = zeros of that pool's INPUT shape,
/// then y[n,c,idx] = x[n,c,i,j] with idx the pool's argmax of output (i, j) (on a repeated index,
/// from overlapping windows, the last one in row-major order wins). Backward is the gather
/// gx[n,c,i,j] = gy[n,c,idx]. Kinds "max_unpool3d", "max_unpool2d" and "max_unpool1d"
/// (in 3-D the indices are flat over the pre-pool volume, (d·H + h)·W + w).
///
/// `links[0]` must be the linked MaxPool's scratch, read through `MaxPool.indices(in:)`: one Int32
/// per element of this layer's input, a flat index into the output plane. The output shape is the
/// pre-pool shape, not (in − 1)·s + k: a 3×2 map pooled from 7×5 unpools to 7×5, because its
/// indices are flat in the original width.
public final class MaxUnpool: Layer {
    /// Each sample on its own: the graph may split the batch across threads.
    public var isSampleParallel: Bool { true }
    public let kind: String
    public let inputShapes: [[Int]]
    public let outputShape: [Int]
    let input: PoolingShape
    let output: PoolingShape

    /// - Parameters:
    ///   - inputShape: the pooled shape, the MaxPool's output: [C, H, W] or [C, L].
    ///   - outputShape: the MaxPool's input shape, of the same rank and channels.
    public init(inputShape: [Int], outputShape: [Int]) throws(AutoencoderError) {
        kind = PoolingShape.kind("max_unpool", inputShape)
        input = try PoolingShape(inputShape, kind: kind)
        output = try PoolingShape(outputShape, kind: kind)
        guard input.dimensions == output.dimensions, input.channels == output.channels else {
            throw .invalidArgument("\(kind): the output shape \(outputShape) must have the rank and channels of the input shape \(inputShape)")
        }
        inputShapes = [inputShape]
        self.outputShape = outputShape
    }

    /// The unpooling that undoes `pool`: its output in, its input out.
    public convenience init(undoing pool: MaxPool) throws(AutoencoderError) {
        try self.init(inputShape: pool.outputShape, outputShape: pool.inputShapes[0])
    }

    /// Whether `layer` can be this node's index link: a MaxPool whose output is this layer's input
    /// and whose input is this layer's output.
    public func accepts(indicesFrom layer: Layer) -> Bool {
        guard let pool = layer as? MaxPool else { return false }
        return pool.outputShape == inputShapes[0] && pool.inputShapes[0] == outputShape
    }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        precondition(io.links.count == 1, "max_unpool needs the link to its max pooling layer")
        let inputPlane = input.planeSize, outputPlane = output.planeSize
        let indices = MaxPool.indices(in: io.links[0])
        io.output.update(repeating: 0, count: io.batch * outputSize)
        for plane in 0..<(io.batch * input.channels) {
            let y = io.output + plane * outputPlane
            for i in (plane * inputPlane)..<((plane + 1) * inputPlane) {
                // Only a mis-wired link could hold an index outside the plane; skip it rather than write out of bounds.
                let index = Int(indices[i])
                if UInt(bitPattern: index) < UInt(outputPlane) { y[index] = io.input[i] }
            }
        }
    }

    /// gx[n,c,i,j] = gy[n,c,idx] (written, or added when accumulating).
    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        guard let gradInput = io.gradInput else { return }
        let inputPlane = input.planeSize, outputPlane = output.planeSize
        let indices = MaxPool.indices(in: io.links[0])
        for plane in 0..<(io.batch * input.channels) {
            let gy = io.gradOutput + plane * outputPlane
            let first = plane * inputPlane
            Activation.store(gradInput + first, inputPlane, accumulateInputGradient) { i in
                let index = Int(indices[first + i])
                return UInt(bitPattern: index) < UInt(outputPlane) ? gy[index] : 0
            }
        }
    }
}

/// Bed-of-nails unpooling with scale s: y[n,c,s·i,s·j] = x[n,c,i,j], zeros elsewhere (the top-left
/// of each s×s block; in 1-D y[n,c,s·l] = x[n,c,l]). Backward: gx = gy[:, :, ::s, ::s].
/// In 3-D the top-left-front corner of each s×s×s block. Kinds "bed_of_nails3d", "bed_of_nails2d"
/// and "bed_of_nails1d".
public final class BedOfNails: Layer {
    /// Each sample on its own: the graph may split the batch across threads.
    public var isSampleParallel: Bool { true }
    public let kind: String
    public let scale: Int
    public let inputShapes: [[Int]]
    public let outputShape: [Int]
    let input: PoolingShape
    let output: PoolingShape

    /// - Parameters:
    ///   - scale: s >= 1; each spatial extent grows s times.
    ///   - inputShape: [C, D, H, W], [C, H, W] or [C, L].
    public init(scale: Int, inputShape: [Int]) throws(AutoencoderError) {
        kind = PoolingShape.kind("bed_of_nails", inputShape)
        (input, output) = try PoolingShape.upsampled(inputShape, scale: scale, kind: kind)
        self.scale = scale
        inputShapes = [inputShape]
        outputShape = output.shape
    }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        let scaleDepth = input.dimensions == 3 ? scale : 1, scaleHeight = input.dimensions >= 2 ? scale : 1
        let inputPlane = input.planeSize, outputPlane = output.planeSize
        let inputSlice = input.height * input.width, outputSlice = output.height * output.width
        io.output.update(repeating: 0, count: io.batch * outputSize)
        for plane in 0..<(io.batch * input.channels) {
            for d in 0..<input.depth {
                let x = io.input + plane * inputPlane + d * inputSlice
                let y = io.output + plane * outputPlane + d * scaleDepth * outputSlice
                for i in 0..<input.height {
                    let row = y + i * scaleHeight * output.width
                    for j in 0..<input.width { row[j * scale] = x[i * input.width + j] }
                }
            }
        }
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        guard let gradInput = io.gradInput else { return }
        let scaleDepth = input.dimensions == 3 ? scale : 1, scaleHeight = input.dimensions >= 2 ? scale : 1
        let inputPlane = input.planeSize, outputPlane = output.planeSize, width = input.width
        let inputSlice = input.height * input.width, outputSlice = output.height * output.width
        for plane in 0..<(io.batch * input.channels) {
            for d in 0..<input.depth {
                let gy = io.gradOutput + plane * outputPlane + d * scaleDepth * outputSlice
                let gx = gradInput + plane * inputPlane + d * inputSlice
                for i in 0..<input.height {
                    let row = gy + i * scaleHeight * output.width
                    Activation.store(gx + i * width, width, accumulateInputGradient) { j in row[j * scale] }
                }
            }
        }
    }
}

/// Nearest-neighbour upsampling with scale s: y[n,c,i,j] = x[n,c,⌊i/s⌋,⌊j/s⌋] (y[n,c,l] = x[n,c,⌊l/s⌋]
/// in 1-D). Backward: gx = the sum of gy over each s×s block (row-major, as PyTorch adds it).
/// In 3-D y[n,c,d,i,j] = x[n,c,⌊d/s⌋,⌊i/s⌋,⌊j/s⌋]. Kinds "upsample_nearest3d", "upsample_nearest2d"
/// and "upsample_nearest1d".
public final class NearestUpsample: Layer {
    /// Each sample on its own: the graph may split the batch across threads.
    public var isSampleParallel: Bool { true }
    public let kind: String
    public let scale: Int
    public let inputShapes: [[Int]]
    public let outputShape: [Int]
    let input: PoolingShape
    let output: PoolingShape

    /// Same arguments and rules as `BedOfNails.init`.
    public init(scale: Int, inputShape: [Int]) throws(AutoencoderError) {
        kind = PoolingShape.kind("upsample_nearest", inputShape)
        (input, output) = try PoolingShape.upsampled(inputShape, scale: scale, kind: kind)
        self.scale = scale
        inputShapes = [inputShape]
        outputShape = output.shape
    }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        let scale = scale, scaleDepth = input.dimensions == 3 ? scale : 1, scaleHeight = input.dimensions >= 2 ? scale : 1
        let inputPlane = input.planeSize, outputPlane = output.planeSize, width = input.width, outputWidth = output.width
        let inputSlice = input.height * width, outputSlice = output.height * outputWidth
        for plane in 0..<(io.batch * input.channels) {
            for d in 0..<input.depth {
                let x = io.input + plane * inputPlane + d * inputSlice
                let y = io.output + plane * outputPlane + d * scaleDepth * outputSlice
                for i in 0..<input.height {
                    // Widen input row i once, then copy it to the other s − 1 rows of its block.
                    let first = y + i * scaleHeight * outputWidth
                    for j in 0..<outputWidth { first[j] = x[i * width + j / scale] }
                    for r in 1..<scaleHeight { (first + r * outputWidth).update(from: first, count: outputWidth) }
                }
                // Then the whole output slice to the other s − 1 slices of its block (volumes).
                for r in 1..<scaleDepth { (y + r * outputSlice).update(from: y, count: outputSlice) }
            }
        }
    }

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        guard let gradInput = io.gradInput else { return }
        let scale = scale, scaleDepth = input.dimensions == 3 ? scale : 1, scaleHeight = input.dimensions >= 2 ? scale : 1
        let inputPlane = input.planeSize, outputPlane = output.planeSize, width = input.width, outputWidth = output.width
        let inputSlice = input.height * width, outputSlice = output.height * outputWidth
        for plane in 0..<(io.batch * input.channels) {
            for d in 0..<input.depth {
                let gy = io.gradOutput + plane * outputPlane + d * scaleDepth * outputSlice
                Activation.store(gradInput + plane * inputPlane + d * inputSlice, inputSlice, accumulateInputGradient) { k in
                    let block = gy + (k / width) * scaleHeight * outputWidth + (k % width) * scale
                    var sum: Float = 0
                    for q in 0..<scaleDepth {
                        for r in 0..<scaleHeight {
                            for c in 0..<scale { sum += block[q * outputSlice + r * outputWidth + c] }
                        }
                    }
                    return sum
                }
            }
        }
    }
}

extension PoolingShape {
    /// The input and output planes of an s-times upsampling of `shape` (s along H and W, or along L).
    static func upsampled(_ shape: [Int], scale: Int, kind: String) throws(AutoencoderError) -> (PoolingShape, PoolingShape) {
        let input = try PoolingShape(shape, kind: kind)
        guard scale >= 1 else { throw .invalidArgument("\(kind): scale must be at least 1, got \(scale)") }
        var outputShape = shape
        for axis in 1..<shape.count {
            let (extent, overflow) = shape[axis].multipliedReportingOverflow(by: scale)
            guard !overflow else { throw .invalidArgument("\(kind): the shape \(shape) scaled by \(scale) has too many elements") }
            outputShape[axis] = extent
        }
        return (input, try PoolingShape(outputShape, kind: kind))
    }
}
