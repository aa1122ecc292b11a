// A small, strict, Foundation-free JSON parser and serializer (RFC 8259).
//
// Parsing runs over the UTF-8 bytes with an explicit container stack (no recursion), so hostile
// input such as 100,000 nested '[' ends in a `JSONParseError`, never in a stack overflow or a trap.
// Everything here uses the Swift standard library only.

/// A JSON value. Objects keep their keys in document order.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// The deepest nesting of arrays and objects that `parse` accepts.
    public static let maximumDepth = 512

    /// Parses a complete JSON document (RFC 8259). Trailing garbage is an error. Nesting deeper
    /// than 512 is an error (no stack overflow on hostile input). A leading byte order mark is ignored.
    public static func parse(_ text: String) throws(JSONParseError) -> JSON {
        var text = text
        let result: Result<JSON, JSONParseError> = text.withUTF8 { utf8 in
            JSON.parseResult(UnsafeRawBufferPointer(utf8))
        }
        switch result {
        case .success(let value): return value
        case .failure(let error): throw error
        }
    }

    /// Parses a complete JSON document from UTF-8 bytes. Invalid UTF-8 is an error.
    public static func parse(bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSON {
        switch parseResult(bytes) {
        case .success(let value): return value
        case .failure(let error): throw error
        }
    }

    private static func parseResult(_ bytes: UnsafeRawBufferPointer) -> Result<JSON, JSONParseError> {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            return .failure(JSONParseError(message: "unexpected end of input: expected a value", offset: 0, line: 1, column: 1))
        }
        var parser = _JSONParser(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        do throws(JSONParseError) {
            return .success(try parser.parseDocument())
        } catch {
            return .failure(error)
        }
    }

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

    // MARK: Convenience accessors

    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let array) = self { return array }
        return nil
    }

    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let number) = self { return number }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let bool) = self { return bool }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The number as an Int when it is integral and fits in Int (e.g. 3.0 -> 3; 3.5 -> nil; 1e300 -> nil).
    public var intValue: Int? {
        // Range check first (it also rejects NaN), then an exact round trip; no libm needed.
        guard case .number(let number) = self,
              number >= -9223372036854775808.0, number < 9223372036854775808.0 else { return nil }
        let int = Int(number)
        return Double(int) == number ? int : nil
    }

    /// A short name of the case for error messages: "null", "a boolean", "a number", "a string", "an array", "an object".
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

// MARK: - Literals

extension JSON: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}

extension JSON: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSON: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
}

extension JSON: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .number(value) }
}

extension JSON: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSON: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
}

extension JSON: ExpressibleByDictionaryLiteral {
    /// Keeps the literal's key order; a repeated key replaces the earlier value in place.
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
}

// MARK: - JSONObject

/// An ordered JSON object: keys in insertion order, lookup by key. Duplicate keys: parsing rejects them with an error.
///
/// Equality compares the key/value sets and ignores key order (as JSON does); `keys` and iteration expose the order.
public struct JSONObject: Equatable, Sendable, Sequence {
    public typealias Element = (key: String, value: JSON)

    /// Objects with at least this many keys keep a hash index; smaller ones are searched linearly.
    private static let indexThreshold = 12

    private var entries: [(key: String, value: JSON)]
    private var index: [String: Int]?

    public init() {
        entries = []
        index = nil
    }

    /// Builds an object from pairs in order; a repeated key replaces the earlier value in place.
    public init(_ pairs: [(String, JSON)]) {
        entries = []
        index = nil
        entries.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    /// The keys in insertion order.
    public var keys: [String] { entries.map { $0.key } }

    /// The values in key order.
    public var values: [JSON] { entries.map { $0.value } }

    public var count: Int { entries.count }

    public var isEmpty: Bool { entries.isEmpty }

    public var underestimatedCount: Int { entries.count }

    /// Reading returns the value or nil. Setting a new key appends it at the end; setting an existing
    /// key replaces its value in place; setting nil removes the key.
    public subscript(key: String) -> JSON? {
        get {
            guard let i = position(of: key) else { return nil }
            return entries[i].value
        }
        set {
            if let i = position(of: key) {
                if let newValue {
                    entries[i].value = newValue
                } else {
                    entries.remove(at: i)
                    rebuildIndex()
                }
            } else if let newValue {
                appendNew(key: key, value: newValue)
            }
        }
    }

    /// The (key, value) pairs in order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSON)]> {
        entries.makeIterator()
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.entries.count == rhs.entries.count else { return false }
        for (key, value) in lhs.entries {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }

    // MARK: Internals (also used by the parser)

    func contains(key: String) -> Bool { position(of: key) != nil }

    /// Appends a key known to be absent.
    mutating func appendNew(key: String, value: JSON) {
        entries.append((key: key, value: value))
        if index != nil {
            index?[key] = entries.count - 1
        } else if entries.count >= JSONObject.indexThreshold {
            rebuildIndex()
        }
    }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        for i in entries.indices where entries[i].key == key { return i }
        return nil
    }

    private mutating func rebuildIndex() {
        guard entries.count >= JSONObject.indexThreshold else {
            index = nil
            return
        }
        var newIndex = [String: Int](minimumCapacity: entries.count)
        for i in entries.indices { newIndex[entries[i].key] = i }
        index = newIndex
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Keeps the literal's key order; a repeated key replaces the earlier value in place.
    public init(dictionaryLiteral elements: (String, JSON)...) { self.init(elements) }
}

// MARK: - JSONParseError

public struct JSONParseError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, e.g. "expected ',' or '}' after object member".
    public let message: String
    /// Byte offset into the UTF-8 input.
    public let offset: Int
    /// 1-based line (lines end at "\n", "\r\n" or "\r").
    public let line: Int
    /// 1-based column, counted in Unicode scalars.
    public let column: Int

    public init(message: String, offset: Int, line: Int, column: Int) {
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column
    }

    /// "line 3, column 14: expected ',' or '}' after object member"
    public var description: String { "line \(line), column \(column): \(message)" }
}

// MARK: - Parser

private let asciiQuote = UInt8(ascii: "\"")
private let asciiBackslash = UInt8(ascii: "\\")
private let asciiZero = UInt8(ascii: "0")

/// Exact powers of ten representable in a Double (10^0 ... 10^22).
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

private struct _JSONParser {
    let p: UnsafePointer<UInt8>
    let end: Int
    var pos: Int = 0
    /// Reused buffer for strings that contain escapes.
    var scratch: [UInt8] = []

    init(base: UnsafePointer<UInt8>, count: Int) {
        p = base
        end = count
    }

    // MARK: Errors

    func error(_ message: String, at offset: Int) -> JSONParseError {
        let stop = min(max(offset, 0), end)
        var line = 1
        var column = 1
        var i = 0
        while i < stop {
            let b = p[i]
            if b == 0x0A {
                line += 1
                column = 1
            } else if b == 0x0D {
                // "\r\n" counts once (at the "\n"); a lone "\r" ends a line too.
                if !(i + 1 < end && p[i + 1] == 0x0A) {
                    line += 1
                    column = 1
                }
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return JSONParseError(message: message, offset: stop, line: line, column: column)
    }

    /// "expected <what>" at the current position, or "unexpected end of input: expected <what>".
    func expected(_ what: String) -> JSONParseError {
        if pos >= end { return error("unexpected end of input: expected \(what)", at: end) }
        return error("expected \(what)", at: pos)
    }

    /// The error for a position where a value should start.
    func valueError() -> JSONParseError {
        guard pos < end else { return expected("a value") }
        switch p[pos] {
        case UInt8(ascii: "/"), UInt8(ascii: "#"):
            return error("comments are not allowed", at: pos)
        case UInt8(ascii: "'"):
            return error("strings must use double quotes", at: pos)
        default:
            return expected("a value")
        }
    }

    // MARK: Structure

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let b = p[pos]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            pos += 1
        }
    }

    mutating func parseDocument() throws(JSONParseError) -> JSON {
        if end >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF { pos = 3 }  // byte order mark
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if pos < end { throw error("unexpected data after the JSON document", at: pos) }
        return value
    }

    /// Parses one value starting at `pos` (whitespace already skipped). Iterative: open containers
    /// live on explicit stacks, so the depth limit, not the machine stack, bounds nesting.
    mutating func parseValue() throws(JSONParseError) -> JSON {
        var isObject: [Bool] = []        // one entry per open container, innermost last
        var arrays: [[JSON]] = []        // open arrays
        var objects: [JSONObject] = []   // open objects
        var keys: [String] = []          // the pending key of each open object
        var value: JSON

        nextValue: while true {
            guard pos < end else { throw valueError() }
            switch p[pos] {
            case UInt8(ascii: "{"):
                if isObject.count >= JSON.maximumDepth {
                    throw error("nesting deeper than \(JSON.maximumDepth) levels", at: pos)
                }
                pos += 1
                skipWhitespace()
                if pos < end && p[pos] == UInt8(ascii: "}") {
                    pos += 1
                    value = .object(JSONObject())
                } else {
                    let key = try parseKey(afterComma: false)
                    isObject.append(true)
                    objects.append(JSONObject())
                    keys.append(key)
                    continue nextValue
                }
            case UInt8(ascii: "["):
                if isObject.count >= JSON.maximumDepth {
                    throw error("nesting deeper than \(JSON.maximumDepth) levels", at: pos)
                }
                pos += 1
                skipWhitespace()
                if pos < end && p[pos] == UInt8(ascii: "]") {
                    pos += 1
                    value = .array([])
                } else {
                    isObject.append(false)
                    arrays.append([])
                    continue nextValue
                }
            case asciiQuote:
                value = .string(try parseString())
            case UInt8(ascii: "t"):
                try parseLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try parseLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try parseLiteral("null")
                value = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"):
                value = .number(try parseNumber())
            default:
                throw valueError()
            }

            // Attach `value` to the innermost open container; close containers that end here.
            while let inObject = isObject.last {
                skipWhitespace()
                if inObject {
                    objects[objects.count - 1].appendNew(key: keys.removeLast(), value: value)
                    guard pos < end else { throw expected("',' or '}' after object member") }
                    let b = p[pos]
                    if b == UInt8(ascii: ",") {
                        pos += 1
                        skipWhitespace()
                        let keyStart = pos
                        let key = try parseKey(afterComma: true)
                        if objects[objects.count - 1].contains(key: key) {
                            throw error("duplicate key \(JSON.string(key).serialized())", at: keyStart)
                        }
                        keys.append(key)
                        continue nextValue
                    } else if b == UInt8(ascii: "}") {
                        pos += 1
                        isObject.removeLast()
                        value = .object(objects.removeLast())
                    } else {
                        throw expected("',' or '}' after object member")
                    }
                } else {
                    arrays[arrays.count - 1].append(value)
                    guard pos < end else { throw expected("',' or ']' after array element") }
                    let b = p[pos]
                    if b == UInt8(ascii: ",") {
                        pos += 1
                        skipWhitespace()
                        if pos < end && p[pos] == UInt8(ascii: "]") {
                            throw error("trailing comma in array", at: pos)
                        }
                        continue nextValue
                    } else if b == UInt8(ascii: "]") {
                        pos += 1
                        isObject.removeLast()
                        value = .array(arrays.removeLast())
                    } else {
                        throw expected("',' or ']' after array element")
                    }
                }
            }
            return value
        }
    }

    /// Parses `"key"` `:` and the whitespace after it; leaves `pos` at the member's value.
    mutating func parseKey(afterComma: Bool) throws(JSONParseError) -> String {
        guard pos < end, p[pos] == asciiQuote else {
            if afterComma && pos < end && p[pos] == UInt8(ascii: "}") {
                throw error("trailing comma in object", at: pos)
            }
            if pos < end && (p[pos] == UInt8(ascii: "/") || p[pos] == UInt8(ascii: "#")) {
                throw error("comments are not allowed", at: pos)
            }
            throw expected("a string key")
        }
        let key = try parseString()
        skipWhitespace()
        guard pos < end, p[pos] == UInt8(ascii: ":") else { throw expected("':' after object key") }
        pos += 1
        skipWhitespace()
        return key
    }

    mutating func parseLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        let start = pos
        let bytes = literal.utf8Start
        var i = 0
        while i < count {
            guard start + i < end, p[start + i] == bytes[i] else {
                throw error("invalid literal (expected '\(literal)')", at: start)
            }
            i += 1
        }
        pos = start + count
    }

    // MARK: Strings

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

    // MARK: Numbers

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

// MARK: - Serializer

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
