import Glibc

/// The one place where sizes derived from a spec or a file are computed and bounded. Every product
/// or sum that becomes an allocation goes through here with checked arithmetic, so an absurd spec
/// is an error whatever the build flags (`-Ounchecked` would wrap silently, `-O` would trap).
///
/// The bounds (docs/SPEC.md, "Limits"):
/// - a node's output, a layer's per-sample scratch (im2col columns) and a parameter tensor hold at
///   most 2^31 − 1 floats: every BLAS dimension and leading dimension is a 32-bit `blasint`;
/// - a model has at most 2^31 − 1 parameters (the optimizer loops and the file format's offsets);
/// - one buffer, and one workspace as a whole, is at most the machine's physical memory: Linux
///   overcommits, so an allocation far beyond RAM may "succeed" and kill the process when its
///   pages are touched. Refusing it up front turns that into `.outOfMemory`.
public enum Size {
    /// Floats per sample of a node's output or scratch, and floats of a parameter tensor.
    public static let maxElements = Int(Int32.max)
    /// Parameters of a model (trainable and not).
    public static let maxParameters = Int(Int32.max)

    /// Bytes of physical memory (sysconf), or 1 TiB when it cannot be read: the cap of one buffer
    /// and of one workspace.
    public static let memoryLimit: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return 1 << 40 }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: pageSize)
        return overflow ? Int.max : bytes
    }()

    /// a · b, or nil when it overflows Int or either factor is negative.
    @inline(__always)
    public static func product(_ a: Int, _ b: Int) -> Int? {
        guard a >= 0, b >= 0 else { return nil }
        let (result, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : result
    }

    /// a + b, or nil when it overflows Int or either term is negative.
    @inline(__always)
    public static func sum(_ a: Int, _ b: Int) -> Int? {
        guard a >= 0, b >= 0 else { return nil }
        let (result, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : result
    }

    /// The product of a shape, or nil when a dimension is negative or the product exceeds `limit`.
    public static func elements<S: Sequence>(_ shape: S, limit: Int = maxElements) -> Int? where S.Element == Int {
        var count = 1
        for dimension in shape {
            guard let next = product(count, dimension) else { return nil }
            count = next
        }
        return count <= limit ? count : nil
    }

    /// `rows · columns` floats for a buffer sized from a caller's count (a Swift array's failed
    /// allocation would abort the process): `.outOfMemory` naming `what` when the product
    /// overflows or exceeds physical memory.
    public static func floats(_ rows: Int, _ columns: Int, for what: String) throws(AutoencoderError) -> Int {
        guard let count = product(rows, columns), let bytes = product(count, MemoryLayout<Float>.stride),
              bytes <= memoryLimit else {
            throw .init(.outOfMemory, "\(what): \(rows) × \(columns) floats do not fit in the machine's "
                        + "\(describe(bytes: memoryLimit)) of memory")
        }
        return count
    }

    /// Bytes as "1.5 GiB" / "12 MiB" / "800 bytes", for messages.
    public static func describe(bytes: Int) -> String {
        if bytes >= 10 << 30 { return "\(bytes >> 30) GiB" }
        if bytes >= 1 << 30 { let tenths = (bytes >> 20) * 10 / 1024; return "\(tenths / 10).\(tenths % 10) GiB" }
        if bytes >= 1 << 20 { return "\(bytes >> 20) MiB" }
        return "\(bytes) bytes"
    }

    /// Floats as "2147483647 floats (8 GiB)", for messages.
    public static func describe(floats: Int) -> String {
        let (bytes, overflow) = floats.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        return overflow ? "\(floats) floats" : "\(floats) floats (\(describe(bytes: bytes)))"
    }
}

/// A running total of floats that stays nil once it has overflowed: a workspace or a file adds
/// up its buffers here before allocating any of them.
struct SizeTotal {
    private(set) var floats: Int? = 0

    /// Adds `count · multiplier` floats.
    mutating func add(_ count: Int, times multiplier: Int = 1) {
        guard let floats, let term = Size.product(count, multiplier) else { self.floats = nil; return }
        self.floats = Size.sum(floats, term)
    }

    /// Bytes, or nil when the total overflowed.
    var bytes: Int? { floats.flatMap { Size.product($0, MemoryLayout<Float>.stride) } }

    /// Whether the total fits the memory limit.
    var fitsInMemory: Bool { bytes.map { $0 <= Size.memoryLimit } ?? false }
}
