// For fuzz_load.c: rewrites a mutated model file's checksum so that the fuzzer's mutations reach
// the checks behind it (the tensor table, the spec, the training state) instead of all ending at
// "checksum mismatch". The checksum is recomputed as docs/FILE_FORMAT.md defines it (CRC-32 of the
// data section, continued over the sorted "key=value\n" metadata lines) and its 8 hex digits are
// patched in place; inputs that are not safetensors files, or whose checksum is not
// "crc32:<8 characters>", are left as they are.
import Autoencoders

@_cdecl("fuzz_fix_checksum")
public func fuzzFixChecksum(_ data: UnsafeMutablePointer<UInt8>, _ size: Int) {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    guard let file = try? SafetensorsFile(bytes: bytes, source: "fuzz"),
          let stored = file.metadata["checksum"], stored.utf8.count == 14, stored.hasPrefix("crc32:") else { return }
    var crc = CRC32()
    bytes.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[file.dataStart...])) }
    for key in file.metadata.keys.sorted() where key != "checksum" {
        var line = "\(key)=\(file.metadata[key]!)\n"
        line.withUTF8 { crc.update(UnsafeRawBufferPointer($0)) }
    }
    let hex = String(crc.value, radix: 16)
    let digits = Array((String(repeating: "0", count: 8 - hex.count) + hex).utf8)
    // The stored value as it appears in the header (a JSON string without escapes: 14 plain bytes).
    let needle = Array("\"\(stored)\"".utf8)
    let header = bytes[8..<file.dataStart]
    guard let start = header.indices.first(where: { header[$0...].starts(with: needle) }) else { return }
    for (offset, digit) in digits.enumerated() { data[start + 7 + offset] = digit }
}
