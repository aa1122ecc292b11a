// JSON strings for `_JSONParser`: a fast path for strings without escapes, escape decoding
// (including UTF-16 surrogate pairs in \u escapes) and strict UTF-8 validation (RFC 3629).

extension _JSONParser {
    /// Parses a string starting at the opening quote; leaves `pos` after the closing quote.
    mutating func parseString() throws(JSONParseError) -> String {
        let quote = pos
        pos += 1
        let contentStart = pos
        while pos < end {
            let b = p[pos]
            if b == asciiQuote {
                let string = String(decoding: UnsafeBufferPointer(start: p + contentStart, count: pos - contentStart), as: UTF8.self)
                pos += 1
                return string
            } else if b == asciiBackslash {
                return try parseEscapedString(quote: quote, contentStart: contentStart)
            } else if b < 0x20 {
                throw error("unescaped control character in string", at: pos)
            } else if b < 0x80 {
                pos += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw error("unterminated string", at: quote)
    }

    /// The slow path: `pos` is at the first backslash; bytes before it are already validated.
    mutating func parseEscapedString(quote: Int, contentStart: Int) throws(JSONParseError) -> String {
        scratch.removeAll(keepingCapacity: true)
        var runStart = contentStart
        while pos < end {
            let b = p[pos]
            if b == asciiQuote {
                appendRun(from: runStart)
                pos += 1
                return String(decoding: scratch, as: UTF8.self)
            } else if b == asciiBackslash {
                appendRun(from: runStart)
                try parseEscape()
                runStart = pos
            } else if b < 0x20 {
                throw error("unescaped control character in string", at: pos)
            } else if b < 0x80 {
                pos += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw error("unterminated string", at: quote)
    }

    @inline(__always)
    mutating func appendRun(from start: Int) {
        if pos > start {
            scratch.append(contentsOf: UnsafeBufferPointer(start: p + start, count: pos - start))
        }
    }

    /// Decodes one escape at `pos` (the backslash) into `scratch`.
    mutating func parseEscape() throws(JSONParseError) {
        let escapeStart = pos
        guard pos + 1 < end else { throw error("unterminated string", at: escapeStart) }
        let c = p[pos + 1]
        pos += 2
        switch c {
        case asciiQuote: scratch.append(asciiQuote)
        case asciiBackslash: scratch.append(asciiBackslash)
        case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try parseHex4(escapeStart: escapeStart)
            var scalar = UInt32(unit)
            if unit >= 0xD800 && unit < 0xDC00 {
                // A high surrogate must be followed by an escaped low surrogate.
                guard pos + 1 < end, p[pos] == asciiBackslash, p[pos + 1] == UInt8(ascii: "u") else {
                    throw error("unpaired UTF-16 surrogate in \\u escape", at: escapeStart)
                }
                let lowStart = pos
                pos += 2
                let low = try parseHex4(escapeStart: lowStart)
                guard low >= 0xDC00 && low < 0xE000 else {
                    throw error("unpaired UTF-16 surrogate in \\u escape", at: escapeStart)
                }
                scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            } else if unit >= 0xDC00 && unit < 0xE000 {
                throw error("unpaired UTF-16 surrogate in \\u escape", at: escapeStart)
            }
            appendUTF8(scalar)
        default:
            throw error("invalid escape sequence in string", at: escapeStart)
        }
    }

    /// Reads the 4 hex digits after "\u" (`pos` is at the first digit).
    mutating func parseHex4(escapeStart: Int) throws(JSONParseError) -> UInt16 {
        guard end - pos >= 4 else { throw error("invalid \\u escape: expected 4 hex digits", at: escapeStart) }
        var value: UInt16 = 0
        for i in 0 ..< 4 {
            let b = p[pos + i]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0") ... UInt8(ascii: "9"): digit = b &- UInt8(ascii: "0")
            case UInt8(ascii: "a") ... UInt8(ascii: "f"): digit = b &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A") ... UInt8(ascii: "F"): digit = b &- UInt8(ascii: "A") &+ 10
            default: throw error("invalid \\u escape: expected 4 hex digits", at: escapeStart)
            }
            value = value &<< 4 | UInt16(digit)
        }
        pos += 4
        return value
    }

    mutating func appendUTF8(_ scalar: UInt32) {
        if scalar < 0x80 {
            scratch.append(UInt8(truncatingIfNeeded: scalar))
        } else if scalar < 0x800 {
            scratch.append(UInt8(truncatingIfNeeded: 0xC0 | (scalar >> 6)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F)))
        } else if scalar < 0x10000 {
            scratch.append(UInt8(truncatingIfNeeded: 0xE0 | (scalar >> 12)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F)))
        } else {
            scratch.append(UInt8(truncatingIfNeeded: 0xF0 | (scalar >> 18)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 12) & 0x3F)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F)))
        }
    }

    /// Validates one multi-byte UTF-8 sequence at `pos` (RFC 3629: no overlongs, no surrogates,
    /// nothing above U+10FFFF) and steps over it.
    mutating func skipUTF8Sequence() throws(JSONParseError) {
        let b0 = p[pos]
        let remaining = end - pos
        @inline(__always) func isContinuation(_ b: UInt8) -> Bool { b & 0xC0 == 0x80 }
        var length = 0
        if b0 >= 0xC2 && b0 <= 0xDF {
            if remaining >= 2 && isContinuation(p[pos + 1]) { length = 2 }
        } else if b0 >= 0xE0 && b0 <= 0xEF {
            if remaining >= 3 {
                let b1 = p[pos + 1]
                let lower: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
                let upper: UInt8 = b0 == 0xED ? 0x9F : 0xBF
                if b1 >= lower && b1 <= upper && isContinuation(p[pos + 2]) { length = 3 }
            }
        } else if b0 >= 0xF0 && b0 <= 0xF4 {
            if remaining >= 4 {
                let b1 = p[pos + 1]
                let lower: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
                let upper: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
                if b1 >= lower && b1 <= upper && isContinuation(p[pos + 2]) && isContinuation(p[pos + 3]) { length = 4 }
            }
        }
        guard length > 0 else { throw error("invalid UTF-8 in string", at: pos) }
        pos += length
    }
}
