// HMAC-SHA256 (RFC 2104 over FIPS 180-4), for the keyed check of model files from untrusted places
// (ModelFile.swift, docs/FILE_FORMAT.md). A CRC detects accidents; only a keyed tag detects a file
// that someone changed on purpose, and only if they do not know the key.

/// An incremental HMAC-SHA256.
public struct HMACSHA256: Sendable {
    private var inner = SHA256()
    private var outerPad: [UInt8]

    /// Starts a tag under `key` (any length: a key longer than 64 bytes is hashed first, as RFC 2104 says).
    public init(key: UnsafeRawBufferPointer) {
        var block = [UInt8](repeating: 0, count: SHA256.blockSize)
        if key.count > SHA256.blockSize {
            var hash = SHA256()
            hash.update(key)
            for (i, byte) in hash.finalize().enumerated() { block[i] = byte }
        } else {
            for i in 0..<key.count { block[i] = key[i] }
        }
        inner.update(block.map { $0 ^ 0x36 })
        outerPad = block.map { $0 ^ 0x5c }
    }

    public init(key: [UInt8]) {
        var value = HMACSHA256(key: UnsafeRawBufferPointer(start: nil, count: 0))
        key.withUnsafeBytes { value = HMACSHA256(key: $0) }
        self = value
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { inner.update(bytes) }
    public mutating func update(_ bytes: [UInt8]) { inner.update(bytes) }
    public mutating func update(_ string: String) { inner.update(string) }

    /// The 32-byte tag.
    public consuming func finalize() -> [UInt8] {
        var outer = SHA256()
        outer.update(outerPad)
        outer.update(inner.finalize())
        return outer.finalize()
    }

    /// Compares two tags in time that depends only on their lengths.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// Lower-case hexadecimal of bytes.
func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(2 * bytes.count)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}
