import XCTest
@testable import Autoencoders

final class ChecksumTests: XCTestCase {
    /// Bit-at-a-time CRC-32 (zlib), the definition the table-driven version must match.
    private func referenceCRC(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    private func pseudoRandomBytes(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    func testKnownValues() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([UInt8]()), 0)
        XCTAssertEqual(CRC32().value, 0)
        XCTAssertEqual(CRC32.checksum(Array("a".utf8)), 0xE8B7_BE43)
        // zlib.crc32(b"The quick brown fox jumps over the lazy dog")
        XCTAssertEqual(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)), 0x414F_A339)
        // zlib.crc32(bytes(range(256)))
        XCTAssertEqual(CRC32.checksum((0..<256).map { UInt8($0) }), 0x2905_8C73)
        // zlib.crc32(b"\0" * 32)
        XCTAssertEqual(CRC32.checksum([UInt8](repeating: 0, count: 32)), 0x190A_55AD)
    }

    func testRawBufferAPI() {
        let bytes = Array("123456789".utf8)
        bytes.withUnsafeBytes { raw in
            XCTAssertEqual(CRC32.checksum(raw), 0xCBF4_3926)
            var crc = CRC32()
            crc.update(raw)
            XCTAssertEqual(crc.value, 0xCBF4_3926)
        }
        var crc = CRC32()
        crc.update(UnsafeRawBufferPointer(start: nil, count: 0))
        XCTAssertEqual(crc.value, 0)
    }

    func testMatchesBitwiseReferenceAtAllLengthsAndAlignments() {
        let data = pseudoRandomBytes(300)
        data.withUnsafeBytes { raw in
            for start in 0..<9 {
                for length in 0...(data.count - start) where length < 80 || length % 37 == 0 {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
                    XCTAssertEqual(CRC32.checksum(slice), referenceCRC(data[start..<(start + length)]),
                                   "start \(start), length \(length)")
                }
            }
        }
    }

    func testIncrementalEqualsOneShot() {
        let data = pseudoRandomBytes(1000, seed: 42)
        let whole = CRC32.checksum(data)
        XCTAssertEqual(whole, referenceCRC(data[...]))
        data.withUnsafeBytes { raw in
            // Every two-way split.
            for split in 0...data.count {
                var crc = CRC32()
                crc.update(UnsafeRawBufferPointer(rebasing: raw[0..<split]))
                crc.update(UnsafeRawBufferPointer(rebasing: raw[split..<data.count]))
                XCTAssertEqual(crc.value, whole, "split at \(split)")
            }
            // Many small irregular pieces.
            var crc = CRC32()
            var offset = 0
            var piece = 1
            while offset < data.count {
                let end = min(data.count, offset + piece)
                crc.update(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
                piece = piece % 13 + 1
            }
            XCTAssertEqual(crc.value, whole)
        }
        // Reading `value` does not disturb the running state.
        var crc = CRC32()
        crc.update(Array(data[0..<500]))
        _ = crc.value
        crc.update(Array(data[500...]))
        XCTAssertEqual(crc.value, whole)
    }

    func testLargeBufferIsConsistent() {
        let data = pseudoRandomBytes(1 << 20, seed: 7)
        XCTAssertEqual(CRC32.checksum(data), referenceCRC(data[...]))
    }
}
