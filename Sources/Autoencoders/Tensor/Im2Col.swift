/// The index arithmetic of a 2-D cross-correlation, and the two data movements that turn it into
/// a GEMM: im2col (image → columns) and its adjoint col2im (columns → image, accumulating).
///
/// An image is one sample's `[channels, height, width]` plane stack. Its columns are a
/// `[channels · kernelHeight · kernelWidth, gridHeight · gridWidth]` matrix whose entry
/// (row (c·kh + i)·kw + j, column oh·gridWidth + ow) is
///
///     image[c, oh·strideHeight − paddingHeight + i·dilationHeight, ow·strideWidth − paddingWidth + j·dilationWidth]
///
/// or zero where that falls in the padding. The grid is the convolution's output plane. A
/// convolution is then `W[out, rows] · columns`, and its input gradient `col2im(Wᵀ · dY)`.
///
/// A 1-D signal `[channels, length]` is the image `[channels, 1, length]` with a `1 × k` kernel and
/// stride 1, padding 0, dilation 1 along the height: `init(channels:spatial:...)` sets that up, and
/// the loops below then run once per row.
struct ConvolutionGeometry: Equatable {
    var channels: Int
    var height: Int, width: Int                     // of the image
    var gridHeight: Int, gridWidth: Int             // of the columns' positions (the convolution's output)
    var kernelHeight: Int, kernelWidth: Int
    var strideHeight: Int, strideWidth: Int
    var paddingHeight: Int, paddingWidth: Int
    var dilationHeight: Int, dilationWidth: Int

    /// A square 2-D geometry for `spatial` = [height, width], or a 1-D one for `spatial` = [length]
    /// (height 1, kernel 1 × k). `grid` is the output plane, [gridHeight, gridWidth] or [gridLength].
    init(channels: Int, spatial: [Int], grid: [Int], kernel: Int, stride: Int, padding: Int, dilation: Int) {
        let planar = spatial.count == 2
        self.channels = channels
        height = planar ? spatial[0] : 1
        width = spatial[spatial.count - 1]
        gridHeight = planar ? grid[0] : 1
        gridWidth = grid[grid.count - 1]
        kernelHeight = planar ? kernel : 1
        kernelWidth = kernel
        strideHeight = planar ? stride : 1
        strideWidth = stride
        paddingHeight = planar ? padding : 0
        paddingWidth = padding
        dilationHeight = planar ? dilation : 1
        dilationWidth = dilation
    }

    /// Refuses columns (one sample's im2col matrix, a GEMM operand) larger than `Size.maxElements`:
    /// checked arithmetic, before `columnRows · positions` is ever formed unchecked.
    func checkColumns(kind: String) throws(AutoencoderError) {
        let factors = [channels, kernelHeight, kernelWidth, gridHeight, gridWidth]
        guard Size.elements(factors) != nil else {
            throw .invalidArgument("\(kind): the im2col columns of one sample ([\(channels)·\(kernelHeight)·\(kernelWidth), "
                                   + "\(gridHeight)·\(gridWidth)]) would hold more than \(Size.maxElements) floats")
        }
    }

    /// Rows of the columns matrix: channels · kernelHeight · kernelWidth.
    var columnRows: Int { channels * kernelHeight * kernelWidth }
    /// Positions of the grid: the columns of one sample.
    var positions: Int { gridHeight * gridWidth }
    /// Floats of one image.
    var imageSize: Int { channels * height * width }

    /// Whether the columns are the image itself (a 1 × 1 kernel at stride 1 without padding, on an
    /// image the size of the grid), so no im2col is needed.
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
            && paddingHeight == 0 && paddingWidth == 0 && gridHeight == height && gridWidth == width
    }

    /// The grid indices g in 0..<count with 0 <= g·stride + offset < extent, as a half-open range.
    @inline(__always)
    private static func validRange(offset: Int, stride: Int, extent: Int, count: Int) -> (Int, Int) {
        let low = offset >= 0 ? 0 : (stride - 1 - offset) / stride
        let high = offset >= extent ? 0 : min(count, (extent - 1 - offset) / stride + 1)
        return (min(low, high), high)
    }

    /// columns[columnRows, positions] = the columns of `image` [channels, height, width].
    func im2col(_ image: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>) {
        let planeSize = height * width, gridW = gridWidth, positions = self.positions
        // At stride 1 with image rows as long as grid rows (a "same" convolution, or any signal), a
        // kernel tap reads one contiguous run of the image: one copy per tap instead of one per row
        // (rows of 14 floats make the per-call cost dominate); the entries that belong in the
        // padding at the row ends are then zeroed again.
        let contiguous = strideWidth == 1 && (gridHeight == 1 || strideHeight * width == gridW)
        var row = columns
        for c in 0..<channels {
            let plane = image + c * planeSize
            for i in 0..<kernelHeight {
                let rowOffset = i * dilationHeight - paddingHeight
                let (ohLow, ohHigh) = Self.validRange(offset: rowOffset, stride: strideHeight, extent: height, count: gridHeight)
                for j in 0..<kernelWidth {
                    defer { row += positions }
                    let columnOffset = j * dilationWidth - paddingWidth
                    let (owLow, owHigh) = Self.validRange(offset: columnOffset, stride: strideWidth, extent: width, count: gridW)
                    if ohLow == ohHigh || owLow == owHigh {
                        row.update(repeating: 0, count: positions)      // the tap only ever sees padding
                    } else if contiguous {
                        let start = ohLow * gridW + owLow, end = (ohHigh - 1) * gridW + owHigh
                        row.update(repeating: 0, count: start)
                        (row + start).update(from: plane + (start + rowOffset * width + columnOffset), count: end - start)
                        (row + end).update(repeating: 0, count: positions - end)
                        if owLow > 0 || owHigh < gridW {
                            for oh in ohLow..<ohHigh {
                                let out = row + oh * gridW
                                for ow in 0..<owLow { out[ow] = 0 }
                                for ow in owHigh..<gridW { out[ow] = 0 }
                            }
                        }
                    } else {
                        row.update(repeating: 0, count: ohLow * gridW)
                        for oh in ohLow..<ohHigh {
                            let out = row + oh * gridW
                            let source = plane + (oh * strideHeight + rowOffset) * width + columnOffset
                            out.update(repeating: 0, count: owLow)
                            if strideWidth == 1 {
                                (out + owLow).update(from: source + owLow, count: owHigh - owLow)
                            } else {
                                let s = strideWidth
                                for ow in owLow..<owHigh { out[ow] = source[ow * s] }
                            }
                            (out + owHigh).update(repeating: 0, count: gridW - owHigh)
                        }
                        (row + ohHigh * gridW).update(repeating: 0, count: (gridHeight - ohHigh) * gridW)
                    }
                }
            }
        }
    }

    /// image[channels, height, width] += the adjoint of im2col applied to columns[columnRows, positions]:
    /// every column entry is added to the pixel it was read from (entries in the padding are dropped).
    func col2im(_ columns: UnsafePointer<Float>, _ image: UnsafeMutablePointer<Float>) {
        let planeSize = height * width, gridW = gridWidth
        var row = columns
        for c in 0..<channels {
            let plane = image + c * planeSize
            for i in 0..<kernelHeight {
                let rowOffset = i * dilationHeight - paddingHeight
                let (ohLow, ohHigh) = Self.validRange(offset: rowOffset, stride: strideHeight, extent: height, count: gridHeight)
                for j in 0..<kernelWidth {
                    let columnOffset = j * dilationWidth - paddingWidth
                    let (owLow, owHigh) = Self.validRange(offset: columnOffset, stride: strideWidth, extent: width, count: gridW)
                    for oh in ohLow..<ohHigh {
                        let source = row + oh * gridW
                        let target = plane + (oh * strideHeight + rowOffset) * width + columnOffset
                        if strideWidth == 1 {
                            for ow in owLow..<owHigh { target[ow] += source[ow] }
                        } else {
                            let s = strideWidth
                            for ow in owLow..<owHigh { target[ow * s] += source[ow] }
                        }
                    }
                    row += positions
                }
            }
        }
    }

    /// sums[c] += Σ_{n, p} planes[n, c, p] for `count` samples of `channels` planes of `planeSize`
    /// floats: a convolution's bias gradient.
    static func accumulatePlaneSums(_ planes: UnsafePointer<Float>, count: Int, channels: Int, planeSize: Int,
                                    into sums: UnsafeMutablePointer<Float>) {
        for n in 0..<count {
            for c in 0..<channels { sums[c] += sum(planes + (n * channels + c) * planeSize, planeSize) }
        }
    }

    /// Σ values[i] over 16 lanes: one running Float sum is a chain of dependent additions (the
    /// compiler may not reorder them), several times slower than the memory it reads.
    @inline(__always)
    private static func sum(_ values: UnsafePointer<Float>, _ count: Int) -> Float {
        let raw = UnsafeRawPointer(values)
        var lanes = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            lanes += raw.loadUnaligned(fromByteOffset: i * MemoryLayout<Float>.stride, as: SIMD16<Float>.self)
            i += 16
        }
        var total = lanes.sum()
        while i < count {
            total += values[i]
            i += 1
        }
        return total
    }
}
