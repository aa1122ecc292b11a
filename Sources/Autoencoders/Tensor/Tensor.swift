/// A dense, row-major Float32 array with a shape: the value type of the Swift API.
/// Batches put the sample index first (`[N, features]`, `[N, C, H, W]` for images, `[N, C, L]` for signals).
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var values: [Float]

    /// A tensor of `values` in row-major order. `values.count` must equal the product of `shape`.
    public init(shape: [Int], values: [Float]) throws(AutoencoderError) {
        guard let count = Tensor.elementCount(shape) else {
            throw .invalidArgument("shape \(shape): dimensions must be non-negative and their product must fit in Int")
        }
        guard count == values.count else {
            throw .shapeMismatch("shape \(shape) holds \(count) values, but \(values.count) were given")
        }
        self.shape = shape
        self.values = values
    }

    /// For shapes the library has already validated.
    init(checkedShape shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.values = [Float](repeating: 0, count: Tensor.elementCount(shape) ?? 0)
    }

    /// Number of samples (the first dimension), or 1 for a rank-0 tensor.
    public var rows: Int { shape.first ?? 1 }
    /// Elements per sample.
    public var rowSize: Int { shape.count <= 1 ? 1 : shape.dropFirst().reduce(1, *) }

    /// The product of `shape`, or nil when a dimension is negative or the product overflows.
    public static func elementCount<S: Sequence>(_ shape: S) -> Int? where S.Element == Int {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }
}
