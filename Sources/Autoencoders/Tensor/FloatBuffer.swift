import Glibc

/// An owned, 64-byte aligned, zero-initialised block of Float32: the storage behind parameters,
/// gradients, optimizer state and training workspaces. Hot loops take its raw pointer once and
/// run over it without exclusivity checks or bounds checks.
///
/// Allocation failure is an error, not a trap: a huge but valid spec must not kill the host.
public final class FloatBuffer {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` floats set to zero.
    public init(count: Int) throws(AutoencoderError) {
        guard count >= 0 else { throw .invalidArgument("a buffer of \(count) floats was requested") }
        let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        var raw: UnsafeMutableRawPointer? = nil
        guard !overflow, posix_memalign(&raw, 64, bytes) == 0, let raw else {
            throw .init(.outOfMemory, "cannot allocate \(count) floats (\(count / 262_144) MiB)")
        }
        memset(raw, 0, bytes)
        self.count = count
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// A copy of `values`.
    public convenience init(_ values: [Float]) throws(AutoencoderError) {
        try self.init(count: values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { free(pointer) }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var array: [Float] { Array(buffer) }

    public func zero() { pointer.update(repeating: 0, count: count) }

    /// Copies `other`, which must have the same count.
    public func copy(from other: FloatBuffer) {
        pointer.update(from: other.pointer, count: min(count, other.count))
    }

    public func copy() throws(AutoencoderError) -> FloatBuffer {
        let result = try FloatBuffer(count: count)
        result.copy(from: self)
        return result
    }
}
