// Max and average pooling over volumes (NCDHW, per-sample shape [C, D, H, W]), images (NCHW,
// [C, H, W]) and 1-D signals (NCL, [C, L]). An image is a volume with D = 1 and a 1×k×k window, a
// signal one with D = H = 1 and a 1×1×k window: one loop serves all three.
//
// Output extent, as PyTorch (ceil_mode = false): ⌊(in + 2p − k) / s⌋ + 1 per spatial axis.

/// The per-sample shape of a pooling-family layer, read as volumes: [C, L] is [C, 1, 1, L] and
/// [C, H, W] is [C, 1, H, W].
struct PoolingShape: Equatable {
    var channels: Int
    var depth: Int
    var height: Int
    var width: Int
    /// 1 for [C, L], 2 for [C, H, W], 3 for [C, D, H, W].
    var dimensions: Int

    /// Values of one channel: D·H·W (a "plane" of the flat pooling indices).
    var planeSize: Int { depth * height * width }
    var shape: [Int] {
        switch dimensions {
        case 1: return [channels, width]
        case 2: return [channels, height, width]
        default: return [channels, depth, height, width]
        }
    }

    /// `family` + "1d", "2d" or "3d", the layer's kind for this shape.
    static func kind(_ family: String, _ shape: [Int]) -> String { family + "\(min(max(shape.count - 1, 1), 3))d" }

    /// Reads [C, L], [C, H, W] or [C, D, H, W]. The plane must fit Int32 (pooling indices are
    /// stored as Int32) and the sample must not overflow Int.
    init(_ shape: [Int], kind: String) throws(AutoencoderError) {
        guard (2...4).contains(shape.count) else {
            throw .invalidArgument("\(kind): the per-sample shape must be [C, L], [C, H, W] or [C, D, H, W], got \(shape)")
        }
        guard shape.allSatisfy({ $0 >= 1 }) else {
            throw .invalidArgument("\(kind): every dimension of the shape \(shape) must be at least 1")
        }
        let rank = shape.count
        self.init(channels: shape[0], depth: rank == 4 ? shape[1] : 1, height: rank >= 3 ? shape[rank - 2] : 1,
                  width: shape[rank - 1], dimensions: rank - 1)
        guard let plane = Size.elements([depth, height, width], limit: Int(Int32.max)),
              !plane.multipliedReportingOverflow(by: channels).overflow else {
            throw .invalidArgument("\(kind): the shape \(shape) has too many elements")
        }
    }

    init(channels: Int, depth: Int = 1, height: Int, width: Int, dimensions: Int) {
        self.channels = channels
        self.depth = depth
        self.height = height
        self.width = width
        self.dimensions = dimensions
    }
}

/// The window geometry shared by max and average pooling. The 2-D form has a 1×k×k window (stride
/// 1, no padding along D), the 1-D form a 1×1×k one.
struct PoolingWindow {
    let input: PoolingShape
    let output: PoolingShape
    let kernelDepth: Int, kernelHeight: Int, kernelWidth: Int
    let strideDepth: Int, strideHeight: Int, strideWidth: Int
    let paddingDepth: Int, paddingHeight: Int, paddingWidth: Int

    /// Rejects what PyTorch rejects: a kernel or stride below 1, padding outside 0...k/2, and a window
    /// larger than the padded input.
    init(kind: String, inputShape: [Int], kernel: Int, stride: Int, padding: Int) throws(AutoencoderError) {
        let input = try PoolingShape(inputShape, kind: kind)
        guard kernel >= 1 else { throw .invalidArgument("\(kind): kernel must be at least 1, got \(kernel)") }
        guard stride >= 1 else { throw .invalidArgument("\(kind): stride must be at least 1, got \(stride)") }
        guard padding >= 0, padding <= kernel / 2 else {
            throw .invalidArgument("\(kind): padding must be in 0...\(kernel / 2) (at most half the kernel \(kernel)), got \(padding)")
        }
        // kernel − 2p <= extent, written so that no sum can overflow.
        let extents = [input.depth, input.height, input.width].suffix(input.dimensions)
        for (axis, extent) in zip(Convolution.axisNames(input.dimensions), extents) where kernel - 2 * padding > extent {
            throw .invalidArgument("\(kind): the kernel \(kernel) is larger than the padded input \(axis) \(extent) + 2·\(padding)")
        }
        let planar = input.dimensions >= 2, volumetric = input.dimensions == 3
        self.input = input
        kernelDepth = volumetric ? kernel : 1
        kernelHeight = planar ? kernel : 1
        kernelWidth = kernel
        strideDepth = volumetric ? stride : 1
        strideHeight = planar ? stride : 1
        strideWidth = stride
        paddingDepth = volumetric ? padding : 0
        paddingHeight = planar ? padding : 0
        paddingWidth = padding
        output = PoolingShape(channels: input.channels,
                              depth: (input.depth - (kernelDepth - 2 * paddingDepth)) / strideDepth + 1,
                              height: (input.height - (kernelHeight - 2 * paddingHeight)) / strideHeight + 1,
                              width: (input.width - (kernelWidth - 2 * paddingWidth)) / strideWidth + 1,
                              dimensions: input.dimensions)
    }

    /// The input slices of output slice `o` along the depth, clipped to the unpadded input.
    @inline(__always) func slices(_ o: Int) -> Range<Int> {
        let start = o * strideDepth - paddingDepth
        return max(start, 0)..<min(start + kernelDepth, input.depth)
    }

    /// The input rows of output row `o`, clipped to the unpadded input (never empty: p <= k/2).
    @inline(__always) func rows(_ o: Int) -> Range<Int> {
        let start = o * strideHeight - paddingHeight
        return max(start, 0)..<min(start + kernelHeight, input.height)
    }

    /// The input columns of output column `o`, clipped to the unpadded input.
    @inline(__always) func columns(_ o: Int) -> Range<Int> {
        let start = o * strideWidth - paddingWidth
        return max(start, 0)..<min(start + kernelWidth, input.width)
    }
}

// MARK: - Max pooling

/// Max pooling: y[n,c,i,j] (y[n,c,d,i,j] for volumes) = max over the window of x (padding counts as −∞), with PyTorch's
/// conventions: the FIRST maximum in row-major window order wins (strict >), and a NaN wins over
/// any number.
///
/// The argmax of every output element is kept in the scratch (see `MaxPool.indices(in:)`):
/// backward scatters gy there, adding where overlapping windows chose the same input, and a
/// `MaxUnpool` linked to this node reads it. Kinds "max_pool3d", "max_pool2d" and "max_pool1d".
public final class MaxPool: Layer {
    /// Each sample on its own: the graph may split the batch across threads.
    public var isSampleParallel: Bool { true }
    public let kind: String
    let window: PoolingWindow
    public var kernel: Int { window.kernelWidth }
    public var stride: Int { window.strideWidth }
    public var padding: Int { window.paddingWidth }
    public var inputShapes: [[Int]] { [window.input.shape] }
    public var outputShape: [Int] { window.output.shape }

    /// - Parameters:
    ///   - kernel: window size k (k×k for images).
    ///   - stride: defaults to the kernel.
    ///   - padding: at most k/2 on each side.
    ///   - inputShape: [C, D, H, W], [C, H, W] or [C, L].
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0, inputShape: [Int]) throws(AutoencoderError) {
        kind = PoolingShape.kind("max_pool", inputShape)
        window = try PoolingWindow(kind: kind, inputShape: inputShape, kernel: kernel, stride: stride ?? kernel, padding: padding)
    }

    /// The argmax of each output element in a MaxPool's scratch, which is laid out like the output,
    /// `[batch, C, H_out, W_out]` (`[batch, C, L_out]` in 1-D, `[batch, C, D_out, H_out, W_out]` in
    /// 3-D): element i holds the flat index h·W_in + w (l in 1-D, (d·H_in + h)·W_in + w in 3-D) of output element i's maximum inside the unpadded input plane of the same
    /// (n, c), as the bit pattern of an Int32 stored in the Float (PyTorch's return_indices, narrowed).
    ///
    /// Reads and writes go through the Float's bit pattern, so the Float-typed buffer is never
    /// accessed through a differently typed pointer.
    public struct Indices {
        public let storage: UnsafeMutablePointer<Float>

        @inline(__always) public init(_ storage: UnsafeMutablePointer<Float>) { self.storage = storage }

        @inline(__always) public subscript(i: Int) -> Int32 {
            get { Int32(bitPattern: storage[i].bitPattern) }
            nonmutating set { storage[i] = Float(bitPattern: UInt32(bitPattern: newValue)) }
        }
    }

    /// The indices view of a MaxPool's scratch (its own, or `links[i]` of a node linked to it).
    @inline(__always) public static func indices(in scratch: UnsafeMutablePointer<Float>) -> Indices { Indices(scratch) }

    /// One index per output element.
    public func scratchSize(batch: Int) -> Int { batch * outputSize }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        let window = window
        let inputPlane = window.input.planeSize, outputPlane = window.output.planeSize
        let width = window.input.width, sliceSize = window.input.height * width
        let indices = MaxPool.indices(in: io.scratch)
        if isPlanar2x2 {
            forward2x2(io.input, io.output, indices, planes: io.batch * window.input.channels)
            return
        }
        for plane in 0..<(io.batch * window.input.channels) {
            let x = io.input + plane * inputPlane
            var o = plane * outputPlane
            for od in 0..<window.output.depth {
                let slices = window.slices(od)
                for oh in 0..<window.output.height {
                    let rows = window.rows(oh)
                    for ow in 0..<window.output.width {
                        let columns = window.columns(ow)
                        var best = -Float.infinity
                        var bestIndex = slices.lowerBound * sliceSize + rows.lowerBound * width + columns.lowerBound
                        for d in slices {
                            for h in rows {
                                let line = d * sliceSize + h * width
                                for w in columns { Self.keep(x[line + w], line + w, &best, &bestIndex) }
                            }
                        }
                        io.output[o] = best
                        indices[o] = Int32(truncatingIfNeeded: bestIndex)
                        o += 1
                    }
                }
            }
        }
    }

    /// best, bestIndex = value, index when value > best or value is NaN (PyTorch's rule: the first
    /// maximum in window order, a NaN over any number), as selects rather than a branch: which
    /// element of a window wins is a coin toss on real data, and a mispredicted branch per
    /// element made this layer a quarter of a W2 step (docs/BENCHMARKS.md, "Convolutions that scale").
    @inline(__always)
    static func keep(_ value: Float, _ index: Int, _ best: inout Float, _ bestIndex: inout Int) {
        let take = value > best || value.isNaN
        best = take ? value : best
        bestIndex = take ? index : bestIndex
    }

    /// Whether the window is 2 × 2 at stride 2 without padding on images (or 1 × 2 × 2 on volumes
    /// of depth 1): the pooling of nearly every 2-D autoencoder, which `forward2x2` runs.
    private var isPlanar2x2: Bool {
        window.input.depth == 1 && window.kernelHeight == 2 && window.kernelWidth == 2 && window.strideHeight == 2
            && window.strideWidth == 2 && window.paddingHeight == 0 && window.paddingWidth == 0
    }

    /// The 2 × 2, stride 2 windows of `planes` planes: the same result as the general loop, with
    /// the window's four elements compared in its row-major order, four outputs at a time (a row
    /// of at least four outputs ends with a group that overlaps the one before it, which writes
    /// the same values again).
    private func forward2x2(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ indices: Indices,
                            planes: Int) {
        let width = window.input.width, inputPlane = window.input.planeSize
        let outputHeight = window.output.height, outputWidth = window.output.width, outputPlane = outputHeight * outputWidth
        let steps = SIMD4<Int32>(0, 2, 4, 6), below = SIMD4<Int32>(repeating: Int32(truncatingIfNeeded: width))
        for plane in 0..<planes {
            let x = input + plane * inputPlane, y = output + plane * outputPlane
            let index = indices.storage + plane * outputPlane
            for oh in 0..<outputHeight {
                let top = 2 * oh * width, row = oh * outputWidth
                guard outputWidth >= 4 else {
                    for ow in 0..<outputWidth {
                        let a = top + 2 * ow, c = a + width
                        var best = x[a], bestIndex = a
                        Self.keep(x[a + 1], a + 1, &best, &bestIndex)
                        Self.keep(x[c], c, &best, &bestIndex)
                        Self.keep(x[c + 1], c + 1, &best, &bestIndex)
                        y[row + ow] = best
                        index[row + ow] = Float(bitPattern: UInt32(bitPattern: Int32(truncatingIfNeeded: bestIndex)))
                    }
                    continue
                }
                var ow = 0
                while true {
                    let start = min(ow, outputWidth - 4), a = top + 2 * start
                    let upper = UnsafeRawPointer(x + a).loadUnaligned(as: SIMD8<Float>.self)
                    let lower = UnsafeRawPointer(x + a + width).loadUnaligned(as: SIMD8<Float>.self)
                    let first = SIMD4<Int32>(repeating: Int32(truncatingIfNeeded: a)) &+ steps
                    var best = upper.evenHalf, bestIndex = first
                    Self.keep(upper.oddHalf, first &+ 1, &best, &bestIndex)
                    Self.keep(lower.evenHalf, first &+ below, &best, &bestIndex)
                    Self.keep(lower.oddHalf, first &+ below &+ 1, &best, &bestIndex)
                    UnsafeMutableRawPointer(y + row + start).storeBytes(of: best, as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(index + row + start).storeBytes(of: bestIndex, as: SIMD4<Int32>.self)
                    if start == outputWidth - 4 { break }
                    ow += 4
                }
            }
        }
    }

    /// `keep` on four windows at once.
    @inline(__always)
    static func keep(_ value: SIMD4<Float>, _ index: SIMD4<Int32>, _ best: inout SIMD4<Float>, _ bestIndex: inout SIMD4<Int32>) {
        let take = (value .> best) .| (value .!= value)
        best.replace(with: value, where: take)
        bestIndex.replace(with: index, where: take)
    }

    /// gx[n,c,idx] += gy[n,c,i,j] for idx = the argmax of output (i, j).
    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        guard let gradInput = io.gradInput else { return }
        if !accumulateInputGradient { gradInput.update(repeating: 0, count: io.batch * window.input.channels * window.input.planeSize) }
        let inputPlane = window.input.planeSize, outputPlane = window.output.planeSize
        let indices = MaxPool.indices(in: io.scratch)
        for plane in 0..<(io.batch * window.input.channels) {
            let gx = gradInput + plane * inputPlane
            for o in (plane * outputPlane)..<((plane + 1) * outputPlane) {
                gx[Int(indices[o])] += io.gradOutput[o]
            }
        }
    }
}

// MARK: - Average pooling

/// Average pooling with count_include_pad: y[n,c,i,j] = (Σ of x over the window) / k², the padding
/// counting as zeros in the sum and in the divisor (k in 1-D). Backward adds gy / k² to every input
/// of the window (k³ in 3-D). Kinds "avg_pool3d", "avg_pool2d" and "avg_pool1d".
public final class AvgPool: Layer {
    /// Each sample on its own: the graph may split the batch across threads.
    public var isSampleParallel: Bool { true }
    public let kind: String
    let window: PoolingWindow
    public var kernel: Int { window.kernelWidth }
    public var stride: Int { window.strideWidth }
    public var padding: Int { window.paddingWidth }
    public var inputShapes: [[Int]] { [window.input.shape] }
    public var outputShape: [Int] { window.output.shape }

    /// Same arguments and rules as `MaxPool.init`.
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0, inputShape: [Int]) throws(AutoencoderError) {
        kind = PoolingShape.kind("avg_pool", inputShape)
        window = try PoolingWindow(kind: kind, inputShape: inputShape, kernel: kernel, stride: stride ?? kernel, padding: padding)
    }

    /// k³ in 3-D, k² in 2-D, k in 1-D: with ceil_mode off no window reaches past the padding, so
    /// every window has the full count.
    var divisor: Float { Float(window.kernelDepth * window.kernelHeight * window.kernelWidth) }

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        let window = window, divisor = divisor
        let inputPlane = window.input.planeSize, outputPlane = window.output.planeSize
        let width = window.input.width, sliceSize = window.input.height * width
        for plane in 0..<(io.batch * window.input.channels) {
            let x = io.input + plane * inputPlane
            var o = plane * outputPlane
            for od in 0..<window.output.depth {
                let slices = window.slices(od)
                for oh in 0..<window.output.height {
                    let rows = window.rows(oh)
                    for ow in 0..<window.output.width {
                        let columns = window.columns(ow)
                        var sum: Float = 0
                        for d in slices {
                            for h in rows {
                                let line = x + d * sliceSize + h * width
                                for w in columns { sum += line[w] }
                            }
                        }
                        io.output[o] = sum / divisor
                        o += 1
                    }
                }
            }
        }
    }

    /// gx[n,c,h,w] += gy[n,c,i,j] / k² for every window (i, j) containing (h, w).
    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        guard let gradInput = io.gradInput else { return }
        if !accumulateInputGradient { gradInput.update(repeating: 0, count: io.batch * window.input.channels * window.input.planeSize) }
        let window = window, divisor = divisor
        let inputPlane = window.input.planeSize, outputPlane = window.output.planeSize
        let width = window.input.width, sliceSize = window.input.height * width
        for plane in 0..<(io.batch * window.input.channels) {
            let gx = gradInput + plane * inputPlane
            var o = plane * outputPlane
            for od in 0..<window.output.depth {
                let slices = window.slices(od)
                for oh in 0..<window.output.height {
                    let rows = window.rows(oh)
                    for ow in 0..<window.output.width {
                        let columns = window.columns(ow)
                        let share = io.gradOutput[o] / divisor
                        for d in slices {
                            for h in rows {
                                let line = gx + d * sliceSize + h * width
                                for w in columns { line[w] += share }
                            }
                        }
                        o += 1
                    }
                }
            }
        }
    }
}
