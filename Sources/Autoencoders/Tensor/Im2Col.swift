import CGemm

/// The index arithmetic of a 1-, 2- or 3-D cross-correlation, and the two data movements that turn
/// it into a GEMM: im2col (image → columns) and its adjoint col2im (columns → image, accumulating).
///
/// An image is one sample's `[channels, depth, height, width]` volume. Its columns are a
/// `[channels · kernelDepth · kernelHeight · kernelWidth, gridDepth · gridHeight · gridWidth]` matrix
/// whose entry (row ((c·kd + a)·kh + i)·kw + j, column (od·gridHeight + oh)·gridWidth + ow) is
///
///     image[c, od·sD − pD + a·dD, oh·sH − pH + i·dH, ow·sW − pW + j·dW]
///
/// or zero where that falls in the padding. The grid is the convolution's output. A convolution
/// is then `W[out, rows] · columns`, and its input gradient `col2im(Wᵀ · dY)`.
///
/// Images `[channels, height, width]` are volumes of depth 1 with a 1 × k × k kernel (stride 1,
/// padding 0, dilation 1 along the depth), and signals `[channels, length]` are also of height 1
/// with a 1 × 1 × k kernel: `init(channels:spatial:...)` sets that up, and the loops below then run
/// once per missing axis. Each depth slice of the grid ("slab") is filled by the 2-D code.
struct ConvolutionGeometry: Equatable {
    var channels: Int
    var depth: Int, height: Int, width: Int                 // of the image
    var gridDepth: Int, gridHeight: Int, gridWidth: Int     // of the columns' positions (the convolution's output)
    var kernelDepth: Int, kernelHeight: Int, kernelWidth: Int
    var strideDepth: Int, strideHeight: Int, strideWidth: Int
    var paddingDepth: Int, paddingHeight: Int, paddingWidth: Int
    var dilationDepth: Int, dilationHeight: Int, dilationWidth: Int

    /// A cubic 3-D geometry for `spatial` = [depth, height, width], a square 2-D one for
    /// [height, width], or a 1-D one for [length]. `grid` is the output, of the same rank.
    init(channels: Int, spatial: [Int], grid: [Int], kernel: Int, stride: Int, padding: Int, dilation: Int) {
        let rank = spatial.count, volumetric = rank == 3, planar = rank >= 2
        self.channels = channels
        depth = volumetric ? spatial[0] : 1
        height = planar ? spatial[rank - 2] : 1
        width = spatial[rank - 1]
        gridDepth = volumetric ? grid[0] : 1
        gridHeight = planar ? grid[rank - 2] : 1
        gridWidth = grid[rank - 1]
        kernelDepth = volumetric ? kernel : 1
        kernelHeight = planar ? kernel : 1
        kernelWidth = kernel
        strideDepth = volumetric ? stride : 1
        strideHeight = planar ? stride : 1
        strideWidth = stride
        paddingDepth = volumetric ? padding : 0
        paddingHeight = planar ? padding : 0
        paddingWidth = padding
        dilationDepth = volumetric ? dilation : 1
        dilationHeight = planar ? dilation : 1
        dilationWidth = dilation
    }

    /// Refuses columns (one sample's im2col matrix, a GEMM operand) larger than `Size.maxElements`:
    /// checked arithmetic, before `columnRows · positions` is ever formed unchecked.
    func checkColumns(kind: String) throws(AutoencoderError) {
        let factors = [channels, kernelDepth, kernelHeight, kernelWidth, gridDepth, gridHeight, gridWidth]
        guard Size.elements(factors) != nil else {
            throw .invalidArgument("\(kind): the im2col columns of one sample ([\(channels)·\(kernelDepth)·\(kernelHeight)·\(kernelWidth), "
                                   + "\(gridDepth)·\(gridHeight)·\(gridWidth)]) would hold more than \(Size.maxElements) floats")
        }
    }

    /// Rows of the columns matrix: channels · kernelDepth · kernelHeight · kernelWidth.
    var columnRows: Int { channels * kernelDepth * kernelHeight * kernelWidth }
    /// Positions of the grid: the columns of one sample.
    var positions: Int { gridDepth * gridHeight * gridWidth }
    /// Floats of one image.
    var imageSize: Int { channels * depth * height * width }

    /// Whether the columns are the image itself (a 1 × 1 × 1 kernel at stride 1 without padding, on
    /// an image the size of the grid), so no im2col is needed.
    var isPointwise: Bool {
        kernelDepth == 1 && kernelHeight == 1 && kernelWidth == 1 && strideDepth == 1 && strideHeight == 1 && strideWidth == 1
            && paddingDepth == 0 && paddingHeight == 0 && paddingWidth == 0
            && gridDepth == depth && gridHeight == height && gridWidth == width
    }

    /// The grid indices g in 0..<count with 0 <= g·stride + offset < extent, as a half-open range.
    @inline(__always)
    private static func validRange(offset: Int, stride: Int, extent: Int, count: Int) -> (Int, Int) {
        let low = offset >= 0 ? 0 : (stride - 1 - offset) / stride
        let high = offset >= extent ? 0 : min(count, (extent - 1 - offset) / stride + 1)
        return (min(low, high), high)
    }

    /// The depth slices of the grid one block of columns covers: as many as keep a block's columns
    /// within 2^18 floats, 1 MB (at least one slice), so that a volume's columns are built,
    /// multiplied and consumed while they are in cache instead of as one matrix of the whole grid
    /// (W7 at one thread: 6.4 samples/s unblocked, 10.0 with 2 MB blocks, 10.8 with 1 MB, 11.1
    /// with 512 KB, which lost at two threads; docs/BENCHMARKS.md). Images and signals (one slice)
    /// have one block: the whole grid.
    var depthBlock: Int {
        let slab = gridHeight * gridWidth, budget = 1 << 18
        return max(1, min(gridDepth, budget / max(1, columnRows * slab)))
    }

    /// Positions of the largest block: the columns of one block are [columnRows, blockPositions].
    var blockPositions: Int { depthBlock * gridHeight * gridWidth }

    /// The grid's depth slices in blocks of `depthBlock`.
    var depthBlocks: StrideTo<Int> { stride(from: 0, to: gridDepth, by: depthBlock) }

    /// Positions per GEMM call when a block of columns is multiplied by a weight of `channels` rows
    /// (or by its transpose): OpenBLAS 0.3.21 multiplies products of at most 100³ multiply-adds
    /// with its AVX-512 kernels without packing the operands ("small matrix" kernels), and the
    /// thin products of volumes spend more time packing the columns than multiplying: one depth
    /// slice of W7's 8-channel layers (8 × 216 × 1024) ran at 26 GFLOP/s in one call and 63 in
    /// two of 512 positions (docs/BENCHMARKS.md, "Convolutions that scale"). Chunks of fewer than
    /// 128 positions gained nothing, so wider weights keep one call per block.
    static func columnChunk(channels: Int, rows: Int, count: Int) -> Int {
        let chunk = 1_000_000 / max(1, channels * rows)
        return chunk >= 128 && chunk < count ? chunk : count
    }

    /// weight[out, rows] += transposed[rows, out]ᵀ: the weight gradient of a part, accumulated as
    /// its transpose (`columns · dyᵀ`, one GEMM per block, up to twice as fast as `dy · columnsᵀ`
    /// for thin layers), added in.
    static func addTransposed(_ transposed: UnsafePointer<Float>, into weight: UnsafeMutablePointer<Float>, out: Int, rows: Int) {
        for o in 0..<out {
            let line = weight + o * rows
            for r in 0..<rows { line[r] += transposed[r * out + o] }
        }
    }

    /// The geometry of one plane (a depth slice of one channel) for CGemm's plane kernels.
    private var plane: aeg_plane_geometry {
        aeg_plane_geometry(height: height, width: width, grid_height: gridHeight, grid_width: gridWidth,
                           kernel_height: kernelHeight, kernel_width: kernelWidth,
                           stride_height: strideHeight, stride_width: strideWidth,
                           padding_height: paddingHeight, padding_width: paddingWidth,
                           dilation_height: dilationHeight, dilation_width: dilationWidth)
    }

    /// The grid's valid depth slices for the kernel's depth tap `a`, counted from the first of
    /// `slices` (empty where the tap only sees padding), and the depth of the volume they start at.
    private func validSlices(tap a: Int, of slices: Range<Int>) -> (Range<Int>, Int) {
        let depthOffset = a * dilationDepth - paddingDepth
        let (validLow, validHigh) = Self.validRange(offset: depthOffset, stride: strideDepth, extent: depth, count: gridDepth)
        let low = min(max(validLow, slices.lowerBound), slices.upperBound) - slices.lowerBound
        let high = max(min(validHigh, slices.upperBound), slices.lowerBound) - slices.lowerBound
        return (low..<max(low, high), slices.lowerBound * strideDepth + depthOffset)
    }

    /// columns[columnRows, positions] = the columns of `image` [channels, depth, height, width];
    /// with `slices`, only those depth slices of the grid (the columns of one block,
    /// [columnRows, slices.count · gridHeight · gridWidth]). Each depth slice of each channel's
    /// kernel taps is one plane for CGemm's `aeg_im2col_plane` (rows of 7 to 28 floats cost more
    /// in per-row calls and divisions than in copies when written here).
    func im2col(_ image: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>, slices: Range<Int>? = nil) {
        let planeSize = height * width, volumeSize = depth * planeSize
        let slices = slices ?? 0..<gridDepth
        let slab = gridHeight * gridWidth, positions = slices.count * slab, taps = kernelHeight * kernelWidth
        var geometry = plane
        var row = columns
        for c in 0..<channels {
            let volume = image + c * volumeSize
            for a in 0..<kernelDepth {
                let (valid, firstDepth) = validSlices(tap: a, of: slices)
                for od in 0..<slices.count {
                    if valid.contains(od) {
                        aeg_im2col_plane(&geometry, volume + (od * strideDepth + firstDepth) * planeSize, row + od * slab, positions)
                    } else {
                        for t in 0..<taps { (row + t * positions + od * slab).update(repeating: 0, count: slab) }
                    }
                }
                row += taps * positions
            }
        }
    }

    /// image[channels, depth, height, width] += the adjoint of im2col applied to
    /// columns[columnRows, positions]: every column entry is added to the voxel it was read from
    /// (entries in the padding are dropped); with `slices`, columns of only those depth slices of
    /// the grid (one block, as `im2col(_:_:slices:)` builds it). The columns are consumed
    /// (`aeg_col2im_plane` zeroes the entries in the padding to add runs of a plane in one pass).
    /// Each voxel receives its entries in the order of the taps: for one depth tap, one slice.
    func col2im(_ columns: UnsafeMutablePointer<Float>, _ image: UnsafeMutablePointer<Float>, slices: Range<Int>? = nil) {
        let planeSize = height * width, volumeSize = depth * planeSize
        let slices = slices ?? 0..<gridDepth
        let slab = gridHeight * gridWidth, positions = slices.count * slab, taps = kernelHeight * kernelWidth
        var geometry = plane
        var row = columns
        for c in 0..<channels {
            let volume = image + c * volumeSize
            for a in 0..<kernelDepth {
                let (valid, firstDepth) = validSlices(tap: a, of: slices)
                for od in valid {
                    aeg_col2im_plane(&geometry, row + od * slab, positions, volume + (od * strideDepth + firstDepth) * planeSize)
                }
                row += taps * positions
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
