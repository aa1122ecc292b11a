import Glibc

/// An owned, 64-byte aligned, zero-initialised block of Float32: the storage behind parameters,
/// gradients, optimizer state and training workspaces. Hot loops take its raw pointer once and
/// run over it without exclusivity checks or bounds checks.
///
/// Allocation failure is an error, not a trap: a huge but valid spec must not kill the host.
/// A buffer larger than physical memory is refused before anything is allocated (Linux
/// overcommits: such an allocation may succeed and kill the process when its pages are touched),
/// and large buffers come straight from mmap, whose pages are zero already: nothing touches them
/// until they are used.
public final class FloatBuffer {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>
    /// Bytes mapped with mmap (0 when the block came from posix_memalign).
    private let mappedBytes: Int

    /// Buffers of at least this many bytes are mapped rather than allocated. 64 KiB (16 pages):
    /// a training workspace is dozens of buffers of a few hundred KiB each, which a memset would
    /// fault in at creation (half of W1's cold start went there) and which stay out of the
    /// process's RSS until a pass writes them (a mask nobody passes, never; docs/BENCHMARKS.md,
    /// "Start-up and memory"). Below it a mapping's system calls cost more than zeroing.
    static let mapThreshold = 1 << 16

    /// Mappings of at least this many bytes (a 2 MiB huge page) ask for transparent huge pages
    /// (`MADV_HUGEPAGE`; the kernel may decline, and where it is set to "never" it does): W1's
    /// 3.6 MiB of parameters, written at creation, took 920 page faults there.
    static let hugePageThreshold = 1 << 21

    /// Allocates `count` floats set to zero.
    public init(count: Int) throws(AutoencoderError) {
        guard count >= 0 else { throw .invalidArgument("a buffer of \(count) floats was requested") }
        guard let bytes = Size.product(max(count, 1), MemoryLayout<Float>.stride), bytes <= Size.memoryLimit else {
            throw .init(.outOfMemory, "cannot allocate \(Size.describe(floats: count)): more than the machine's "
                        + "\(Size.describe(bytes: Size.memoryLimit)) of memory")
        }
        if bytes >= FloatBuffer.mapThreshold {
            let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let raw, raw != MAP_FAILED else {
                throw .init(.outOfMemory, "cannot allocate \(Size.describe(floats: count))")
            }
            if bytes >= FloatBuffer.hugePageThreshold { _ = madvise(raw, bytes, MADV_HUGEPAGE) }
            mappedBytes = bytes
            pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        } else {
            var raw: UnsafeMutableRawPointer? = nil
            guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
                throw .init(.outOfMemory, "cannot allocate \(Size.describe(floats: count))")
            }
            memset(raw, 0, bytes)
            mappedBytes = 0
            pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        }
        self.count = count
    }

    /// A copy of `values`.
    public convenience init(_ values: [Float]) throws(AutoencoderError) {
        try self.init(count: values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit {
        if mappedBytes > 0 { munmap(pointer, mappedBytes) } else { free(pointer) }
    }

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
