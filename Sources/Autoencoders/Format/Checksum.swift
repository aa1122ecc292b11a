// CRC-32 (IEEE 802.3, the polynomial of zlib, gzip and PNG: reflected 0xEDB88320, initial value
// and final xor 0xFFFFFFFF). `CRC32.checksum(bytes)` equals Python's `zlib.crc32(bytes)`.
//
// Slicing-by-8: eight 256-entry tables let the loop consume 8 bytes per iteration with eight
// independent table look-ups instead of eight dependent ones.

/// An incremental CRC-32 (zlib / IEEE 802.3).
///
///     var crc = CRC32()
///     crc.update(part1)
///     crc.update(part2)
///     crc.value   // == CRC32.checksum(part1 + part2)
public struct CRC32: Sendable {
    /// The running register, kept inverted (the standard pre- and post-conditioning).
    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    /// The checksum of all bytes passed to `update` so far (0 if none).
    public var value: UInt32 { ~state }

    /// The CRC-32 of `bytes` in one call.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }

    /// Feeds more bytes into the checksum.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let count = bytes.count
        var crc = state
        CRC32.tables.withUnsafeBufferPointer { tables in
            // Non-nil: the table array is never empty.
            let t = tables.baseAddress!
            var i = 0
            // Head: single bytes until the pointer is 8-byte aligned (the loads below are
            // unaligned-safe either way; alignment only helps speed).
            while i < count && (Int(bitPattern: base + i) & 7) != 0 {
                crc = t[Int((crc ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
            // Body: 8 bytes at a time.
            while count - i >= 8 {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let lo = UInt32(truncatingIfNeeded: word) ^ crc
                let hi = UInt32(truncatingIfNeeded: word >> 32)
                crc = t[7 * 256 + Int(lo & 0xFF)]
                    ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)]
                    ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)]
                    ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)]
                    ^ t[Int(hi >> 24)]
                i += 8
            }
            // Tail.
            while i < count {
                crc = t[Int((crc ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
        }
        state = crc
    }

    /// Eight tables of 256 entries, flattened: table k at offset 256 * k. Table 0 is the
    /// classic byte-at-a-time table; table k advances a byte through k further zero bytes.
    /// A static let, so it is computed once, lazily and thread-safely.
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 {
                c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1)
            }
            t[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 {
                let previous = t[(k - 1) * 256 + n]
                t[k * 256 + n] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()
}

extension CRC32 {
    /// Feeds the bytes of an array (convenience for `[UInt8]`).
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The CRC-32 of an array of bytes.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }
}
