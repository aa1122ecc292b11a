// A small, strict, Foundation-free JSON parser (RFC 8259).
//
// Parsing runs over the UTF-8 bytes with an explicit container stack (no recursion), so hostile
// input such as 100,000 nested '[' ends in a `JSONParseError`, never in a stack overflow or a trap.
// This file holds the entry points (`JSON.parse`), `JSONParseError`, and the parser's errors and
// structure (values, arrays, objects, literals); strings are parsed in JSONParser+Strings.swift,
// numbers in JSONParser+Numbers.swift. Everything here uses the Swift standard library only.

extension JSON {
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

/// The byte '"'; shared by the parser files and the serializer (JSONSerializer.swift).
let asciiQuote = UInt8(ascii: "\"")
/// The byte '\\'; shared by the parser files and the serializer (JSONSerializer.swift).
let asciiBackslash = UInt8(ascii: "\\")
/// The byte '0'; shared by the parser files and the serializer (JSONSerializer.swift).
let asciiZero = UInt8(ascii: "0")

/// The parser state over one UTF-8 document; use `JSON.parse`. Internal (not private) only so
/// that its extensions in JSONParser+Strings.swift and JSONParser+Numbers.swift can reach it.
struct _JSONParser {
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
}
