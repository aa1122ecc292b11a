// JSON numbers for `_JSONParser`: the RFC 8259 number grammar, converted to a correctly rounded
// Double (Clinger's fast path when it is exact, else the standard library's conversion).

/// Exact powers of ten representable in a Double (10^0 ... 10^22).
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

extension _JSONParser {
    @inline(__always)
    func isDigit(at i: Int) -> Bool {
        i < end && p[i] &- asciiZero < 10
    }

    /// Parses a number (RFC 8259 grammar), correctly rounded; out-of-range values are an error.
    mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = pos
        var negative = false
        if p[pos] == UInt8(ascii: "-") {
            negative = true
            pos += 1
            guard isDigit(at: pos) else { throw expected("a digit after '-'") }
        }

        // Significant digits (leading zeros skipped) accumulate while there are at most 19 of them.
        var mantissa: UInt64 = 0
        var significantDigits = 0
        @inline(__always) func accumulate(_ digit: UInt8) {
            if mantissa == 0 && digit == 0 { return }
            significantDigits += 1
            if significantDigits <= 19 { mantissa = mantissa &* 10 &+ UInt64(digit) }
        }

        if p[pos] == asciiZero {
            pos += 1
            if isDigit(at: pos) { throw error("leading zeros are not allowed in numbers", at: start) }
        } else {
            while isDigit(at: pos) {
                accumulate(p[pos] &- asciiZero)
                pos += 1
            }
        }
        var fractionDigits = 0
        if pos < end && p[pos] == UInt8(ascii: ".") {
            pos += 1
            guard isDigit(at: pos) else { throw expected("a digit after the decimal point") }
            while isDigit(at: pos) {
                accumulate(p[pos] &- asciiZero)
                fractionDigits += 1
                pos += 1
            }
        }
        var exponent = 0
        if pos < end && (p[pos] == UInt8(ascii: "e") || p[pos] == UInt8(ascii: "E")) {
            pos += 1
            var exponentNegative = false
            if pos < end && (p[pos] == UInt8(ascii: "+") || p[pos] == UInt8(ascii: "-")) {
                exponentNegative = p[pos] == UInt8(ascii: "-")
                pos += 1
            }
            guard isDigit(at: pos) else { throw expected("a digit in the exponent") }
            while isDigit(at: pos) {
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(p[pos] &- asciiZero) }
                pos += 1
            }
            if exponentNegative { exponent = -exponent }
        }

        if mantissa == 0 { return negative ? -0.0 : 0.0 }
        // Fast path (Clinger): when all significant digits are in `mantissa` and it is exact in a
        // Double, one multiplication or division by an exact power of ten rounds correctly.
        if significantDigits <= 19 && mantissa <= (1 << 53) {
            let power = exponent - fractionDigits
            if power >= -22 && power <= 22 {
                var value = Double(mantissa)
                if power < 0 {
                    value /= exactPowersOfTen[-power]
                } else {
                    value *= exactPowersOfTen[power]
                }
                return negative ? -value : value
            }
        }
        // Slow path: the standard library's correctly rounded conversion of the validated text.
        let text = String(decoding: UnsafeBufferPointer(start: p + start, count: pos - start), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw error("number out of range", at: start)
        }
        return value
    }
}
