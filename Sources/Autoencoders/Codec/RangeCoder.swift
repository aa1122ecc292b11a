/// A range coder (Martin 1979; the carry-propagating form of LZMA): arithmetic coding with 32-bit
/// integer arithmetic over static frequency tables whose totals are 2^totalBits.
///
/// Encoding symbol s with cumulative frequency c_s and frequency f_s out of 2^b:
///
///     r = range >> b;   low += r * c_s;   range = r * f_s;   while range < 2^24: emit, shift by 8
///
/// so a symbol of probability p costs -log2(p) bits plus a rounding loss under 2^-(24-b) relative.
/// `low` is 33 bits wide: a carry out of its top byte is propagated into the bytes already pending
/// (`cache` and the run of 0xFF bytes behind it). The stream starts with a 0 byte and ends with
/// four bytes that pin `low` down; the decoder reads exactly the bytes the encoder wrote.
struct RangeEncoder {
    private(set) var bytes: [UInt8] = []
    private var low: UInt64 = 0
    private var range: UInt32 = 0xFFFF_FFFF
    private var cache: UInt8 = 0
    private var pending = 1

    /// Codes one symbol: `cumulative` = sum of the frequencies of the symbols before it,
    /// `frequency` >= 1, cumulative + frequency <= 2^totalBits, totalBits <= 16.
    mutating func encode(cumulative: UInt32, frequency: UInt32, totalBits: UInt32) {
        let r = range >> totalBits
        low += UInt64(r) * UInt64(cumulative)
        range = r * frequency
        while range < 1 << 24 {
            range <<= 8
            shiftLow()
        }
    }

    /// The complete stream.
    consuming func finish() -> [UInt8] {
        for _ in 0..<5 { shiftLow() }
        return bytes
    }

    private mutating func shiftLow() {
        if low < 0xFF00_0000 || low >= 1 << 32 {
            let carry = UInt8(truncatingIfNeeded: low >> 32)
            var byte = cache
            repeat {
                bytes.append(byte &+ carry)
                byte = 0xFF
                pending -= 1
            } while pending != 0
            cache = UInt8(truncatingIfNeeded: low >> 24)
        }
        pending += 1
        low = (low & 0x00FF_FFFF) << 8
    }
}

/// Decodes what `RangeEncoder` wrote. Any byte sequence is safe to feed it: the arithmetic cannot
/// overflow (code < range holds after every step, and a target outside the table is reported),
/// and reading past the end is reported, not performed.
struct RangeDecoder {
    private let bytes: UnsafeRawBufferPointer
    private(set) var position = 0
    private var code: UInt32 = 0
    private var range: UInt32 = 0xFFFF_FFFF
    /// Set when the stream is malformed: a target past the table's total, or bytes read past the end.
    private(set) var failed = false

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        // The encoder's first byte is always 0 (nothing carries into it).
        if nextByte() != 0 { failed = true }
        for _ in 0..<4 { code = code << 8 | UInt32(nextByte()) }
    }

    /// Whether every byte was consumed, none read past the end and no step failed.
    var finishedCleanly: Bool { !failed && position == bytes.count }

    /// The next symbol under the table `cumulative` (count + 1 ascending entries from 0 to
    /// 2^totalBits, each symbol's frequency at least 1). Returns 0 and sets `failed` on a
    /// malformed stream.
    mutating func decode(cumulative: UnsafeBufferPointer<UInt32>, totalBits: UInt32) -> Int {
        let r = range >> totalBits
        let target = code / r
        let symbols = cumulative.count - 1
        guard !failed, target < cumulative[symbols] else {
            failed = true
            return 0
        }
        // The last entry whose cumulative frequency is <= target.
        var lo = 0, hi = symbols
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if cumulative[mid] <= target { lo = mid } else { hi = mid }
        }
        code -= r * cumulative[lo]
        range = r * (cumulative[lo + 1] - cumulative[lo])
        while range < 1 << 24 {
            code = code << 8 | UInt32(nextByte())
            range <<= 8
        }
        return lo
    }

    private mutating func nextByte() -> UInt8 {
        guard position < bytes.count else {
            failed = true
            return 0
        }
        defer { position += 1 }
        return bytes[position]
    }
}
