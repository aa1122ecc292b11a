// The Foundation-free JSON serializer: compact or pretty output, integral numbers without a
// fraction and others in their shortest round-tripping form, strings escaped per RFC 8259.

extension JSON {
    /// Serializes. Compact by default; `pretty` uses 2-space indentation and one key per line.
    /// Numbers: integral values with |x| < 2^53 print without a fraction ("3", "-12"); others print the shortest
    /// representation that round-trips (Swift's Double.description, e.g. "0.001", "1e-08"). Non-finite numbers print as `null`.
    /// Strings escape ", \\, and control characters (\n, \t, \u00XX ...); non-ASCII is written as UTF-8.
    public func serialized(pretty: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        _JSONWriter.write(self, to: &out, pretty: pretty, indent: 0)
        return String(decoding: out, as: UTF8.self)
    }
}

private enum _JSONWriter {
    static func write(_ value: JSON, to out: inout [UInt8], pretty: Bool, indent: Int) {
        switch value {
        case .null:
            appendASCII("null", to: &out)
        case .bool(let bool):
            appendASCII(bool ? "true" : "false", to: &out)
        case .number(let number):
            writeNumber(number, to: &out)
        case .string(let string):
            writeString(string, to: &out)
        case .array(let array):
            if array.isEmpty {
                appendASCII("[]", to: &out)
                return
            }
            out.append(UInt8(ascii: "["))
            var first = true
            for element in array {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                if pretty { newline(indent: indent + 1, to: &out) }
                write(element, to: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(indent: indent, to: &out) }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            if object.isEmpty {
                appendASCII("{}", to: &out)
                return
            }
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, member) in object {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                if pretty { newline(indent: indent + 1, to: &out) }
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                write(member, to: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(indent: indent, to: &out) }
            out.append(UInt8(ascii: "}"))
        }
    }

    @inline(__always)
    static func appendASCII(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    static func newline(indent: Int, to out: inout [UInt8]) {
        out.append(0x0A)
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * indent))
    }

    static func writeNumber(_ x: Double, to out: inout [UInt8]) {
        guard x.isFinite else {
            appendASCII("null", to: &out)
            return
        }
        let magnitude = x.magnitude
        if magnitude < 9007199254740992.0 && Double(UInt64(magnitude)) == magnitude {
            if x.sign == .minus { out.append(UInt8(ascii: "-")) }
            var digits = UInt64(magnitude)
            let first = out.count
            repeat {
                out.append(UInt8(truncatingIfNeeded: digits % 10) &+ UInt8(ascii: "0"))
                digits /= 10
            } while digits > 0
            out[first...].reverse()
        } else {
            out.append(contentsOf: x.description.utf8)
        }
    }

    static func writeString(_ string: String, to out: inout [UInt8]) {
        var string = string
        string.withUTF8 { bytes in
            out.append(asciiQuote)
            var runStart = 0
            var i = 0
            let count = bytes.count
            while i < count {
                let b = bytes[i]
                if b >= 0x20 && b != asciiQuote && b != asciiBackslash {
                    i += 1
                    continue
                }
                if i > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart ..< i])) }
                out.append(asciiBackslash)
                switch b {
                case asciiQuote: out.append(asciiQuote)
                case asciiBackslash: out.append(asciiBackslash)
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    let hex: StaticString = "0123456789abcdef"
                    out.append(UInt8(ascii: "u"))
                    out.append(asciiZero)
                    out.append(asciiZero)
                    out.append(hex.utf8Start[Int(b >> 4)])
                    out.append(hex.utf8Start[Int(b & 0x0F)])
                }
                i += 1
                runStart = i
            }
            if count > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart ..< count])) }
            out.append(asciiQuote)
        }
    }
}
