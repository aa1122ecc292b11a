// The integrity checks of a model file: the checksum every file carries, and the optional keyed
// signature for files from untrusted places (docs/FILE_FORMAT.md, "Integrity").
//
// Format 2 (written since 0.2): both cover one message,
//
//     the data section
//     for each tensor, in data order:       tensor "<name>" <dtype> [<d0>,<d1>,...] <begin> <end>\n
//     for each metadata key but "checksum"
//       and "signature", in sorted order:   meta "<key>" "<value>"\n
//
// with names, keys and values written as JSON string literals (quoted and escaped, so no crafted
// name can make two different headers produce one message). So swapping two tensors' offsets,
// renaming a tensor or editing the spec all change the checksum.
//
// Format 1 covered the data section and then the lines "<key>=<value>\n" of the metadata, not the
// tensor table; version-1 files still load, checked by that rule (and can never be verified with a
// key, since version 1 had no signature).

/// The running checksum, and the running HMAC when a key is given, over the message above.
struct ModelFileDigest {
    let version: Int
    private var crc = CRC32()
    private var mac: HMACSHA256?

    init(version: Int, key: ModelFileKey?) {
        self.version = version
        mac = key.map { HMACSHA256(key: $0.bytes) }
    }

    /// Feeds bytes of the data section, in file order.
    mutating func data(_ bytes: UnsafeRawBufferPointer) {
        crc.update(bytes)
        mac?.update(bytes)
    }

    /// The checksum ("crc32:<8 hex>") and, with a key, the signature ("hmac-sha256:<64 hex>").
    consuming func finish(tensors: [(name: String, dtype: SafetensorsDType, shape: [Int], range: Range<Int>)],
                          metadata: [String: String]) -> (checksum: String, signature: String?) {
        var tail: [UInt8] = []
        if version == 1 {
            for key in metadata.keys.sorted() where key != "checksum" {
                tail.append(contentsOf: "\(key)=\(metadata[key]!)\n".utf8)
            }
        } else {
            for tensor in tensors {
                tail.append(contentsOf: "tensor ".utf8)
                appendJSONString(tensor.name, to: &tail)
                tail.append(contentsOf: " \(tensor.dtype.rawValue) [\(tensor.shape.map(String.init).joined(separator: ","))] \(tensor.range.lowerBound) \(tensor.range.upperBound)\n".utf8)
            }
            for key in metadata.keys.sorted() where key != "checksum" && key != "signature" {
                tail.append(contentsOf: "meta ".utf8)
                appendJSONString(key, to: &tail)
                tail.append(UInt8(ascii: " "))
                appendJSONString(metadata[key]!, to: &tail)
                tail.append(UInt8(ascii: "\n"))
            }
        }
        crc.update(tail)
        mac?.update(tail)
        let hex = String(crc.value, radix: 16)
        let checksum = "crc32:" + String(repeating: "0", count: 8 - hex.count) + hex
        return (checksum, mac.map { "hmac-sha256:" + hexString($0.finalize()) })
    }
}

/// A caller's key for signing or verifying model files; an empty key is refused (it would
/// authenticate nothing).
public struct ModelFileKey: Sendable {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) throws(AutoencoderError) {
        guard !bytes.isEmpty else { throw .invalidArgument("key is empty; a signing key needs at least one byte (32 random bytes are recommended)") }
        self.bytes = bytes
    }
}
