/// The compressed-file container (.aec): the quantised codes of n samples, range-coded with the
/// model's per-dimension tables, behind a header that names everything the decoder needs and a
/// CRC-32 over the whole file. All integers little-endian.
///
///     offset    size  field
///     0         4     magic "AEC" 0x1A
///     4         2     container version (1)
///     6         1     bits per code value (4 to 8)
///     7         1     rank r of one sample's shape (1 to 8)
///     8         8     the model's codec digest (Model.codecDigest): which model decodes the file
///     16        8     n, the number of samples
///     24        4     code size (values per sample)
///     28        4 r   one sample's shape (its product is the model's input size)
///     28+4r     8     P, the payload's length in bytes
///     36+4r     P     the range-coded levels, sample-major (sample 0's dimensions 0..d-1, ...)
///     36+4r+P   4     CRC-32 (zlib's) of every byte before it
///
/// Reading checks, in order: the size, the magic, the version, the CRC, then (against the model)
/// the digest, bits, code size and shape, a bound on n from the payload's length; the payload must
/// then decode to exactly n * d levels using exactly its P bytes. Any failure is a `.format` error.
public enum CompressedCodes {
    public static let magic: [UInt8] = [0x41, 0x45, 0x43, 0x1A]
    public static let version = 1
    static let maxRank = 8

    /// What the header of a compressed file says.
    public struct Header: Sendable, Equatable {
        public var bits: Int
        public var digest: UInt64
        public var samples: Int
        public var codeSize: Int
        public var sampleShape: [Int]
        /// The payload's byte range in the file.
        var payload: Range<Int>

        public var sampleSize: Int { sampleShape.reduce(1, *) }
    }

    /// The file bytes for a header and payload (the CRC is appended).
    static func assemble(bits: Int, digest: UInt64, samples: Int, codeSize: Int, sampleShape: [Int], payload: [UInt8]) -> [UInt8] {
        var out = magic
        func put(_ value: UInt64, _ bytes: Int) {
            for i in 0..<bytes { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
        }
        put(UInt64(version), 2)
        put(UInt64(bits), 1)
        put(UInt64(sampleShape.count), 1)
        put(digest, 8)
        put(UInt64(samples), 8)
        put(UInt64(codeSize), 4)
        for dim in sampleShape { put(UInt64(dim), 4) }
        put(UInt64(payload.count), 8)
        out.append(contentsOf: payload)
        put(UInt64(CRC32.checksum(out)), 4)
        return out
    }

    /// Parses and checks the header and the CRC (not yet against a model). `source` names the
    /// bytes in errors.
    public static func header(_ bytes: UnsafeRawBufferPointer, source: String) throws(AutoencoderError) -> Header {
        func fail(_ message: String) -> AutoencoderError { .format("\(source): \(message)") }
        func read(_ offset: Int, _ count: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<count { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
            return value
        }
        guard bytes.count >= 4, (0..<4).allSatisfy({ bytes[$0] == magic[$0] }) else {
            throw fail("not a compressed file of this library (it does not start with \"AEC\\x1A\"; \(bytes.count) bytes)")
        }
        guard bytes.count >= 8 else { throw fail("truncated: \(bytes.count) bytes, shorter than the header") }
        let fileVersion = Int(read(4, 2))
        guard fileVersion >= 1, fileVersion <= version else {
            throw fail("container version \(fileVersion); this library (\(Version.string)) reads version \(version)")
        }
        let rank = Int(read(7, 1))
        guard rank >= 1, rank <= maxRank else { throw fail("the sample shape's rank is \(rank); expected 1 to \(maxRank)") }
        let headerSize = 36 + 4 * rank
        guard bytes.count >= headerSize + 4 else {
            throw fail("truncated: \(bytes.count) bytes, shorter than its \(headerSize)-byte header and checksum")
        }
        let payloadLength = read(28 + 4 * rank, 8)
        guard payloadLength == UInt64(bytes.count - headerSize - 4) else {
            throw fail("truncated or extended: its header says the payload holds \(payloadLength) bytes, the file leaves room for \(bytes.count - headerSize - 4)")
        }
        let stored = UInt32(read(bytes.count - 4, 4))
        let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 4)]))
        guard stored == computed else {
            throw fail("checksum mismatch: the file is corrupted (stored crc32 \(hex(UInt64(stored), digits: 8)), computed \(hex(UInt64(computed), digits: 8)))")
        }
        let samples = read(16, 8)
        guard samples <= UInt64(Int.max) else { throw fail("the sample count \(samples) is too large") }
        let shape = (0..<rank).map { Int(read(28 + 4 * $0, 4)) }
        var product = 1
        for dim in shape {
            let (next, overflow) = product.multipliedReportingOverflow(by: dim)
            guard dim >= 1, !overflow else { throw fail("the sample shape \(shape) is invalid") }
            product = next
        }
        return Header(bits: Int(read(6, 1)), digest: read(8, 8), samples: Int(samples), codeSize: Int(read(24, 4)),
                      sampleShape: shape, payload: headerSize ..< (headerSize + Int(payloadLength)))
    }
}

/// `value` as `digits` lower-case hex digits, zero-padded.
func hex(_ value: UInt64, digits: Int) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}

extension CompressedCodes {
    /// The bytes of the compressed file at `path` (a regular file).
    public static func read(path: String) throws(AutoencoderError) -> [UInt8] {
        try FileIO.readAll(path: path)
    }

    /// Writes a compressed file atomically (temporary file, fsync, rename), as model files are.
    public static func write(_ bytes: [UInt8], to path: String) throws(AutoencoderError) {
        try withBytes(of: bytes) { (raw) throws(AutoencoderError) in try FileIO.writeAtomically(path: path, bytes: raw) }
    }
}

extension Model {
    /// Decompresses file bytes: the samples [n] + the recorded sample shape, and their values.
    public func decompress(_ bytes: [UInt8], source: String) throws(AutoencoderError) -> (shape: [Int], values: [Float]) {
        try withBytes(of: bytes) { (raw) throws(AutoencoderError) -> (shape: [Int], values: [Float]) in
            let header = try compressedHeader(raw, source: source)
            let (count, overflow) = header.samples.multipliedReportingOverflow(by: inputSize)
            guard !overflow, count <= Int.max / 4, FileIO.canAllocate(count * 4) else {
                throw .init(.outOfMemory, "cannot allocate the \(count) decompressed values of \(source)")
            }
            var values = [Float](repeating: 0, count: max(count, 1))
            try values.withUnsafeMutableBufferPointer { (out) throws(AutoencoderError) in
                try decompress(raw, source: source, into: out.baseAddress!, outputCount: count)
            }
            return ([header.samples] + header.sampleShape, Array(values.prefix(count)))
        }
    }
}
