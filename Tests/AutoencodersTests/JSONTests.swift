import XCTest
@testable import Autoencoders

final class JSONTests: XCTestCase {

    // MARK: Helpers

    private func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSON? {
        do throws(JSONParseError) {
            return try JSON.parse(text)
        } catch {
            XCTFail("unexpected parse error for \(text.debugDescription): \(error)", file: file, line: line)
            return nil
        }
    }

    /// The error that parsing `text` must produce.
    private func parseError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONParseError? {
        do throws(JSONParseError) {
            let value = try JSON.parse(text)
            XCTFail("expected a parse error for \(text.debugDescription), got \(value)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    private func parseBytes(_ bytes: [UInt8]) -> Result<JSON, JSONParseError> {
        bytes.withUnsafeBytes { raw in
            do throws(JSONParseError) {
                return .success(try JSON.parse(bytes: raw))
            } catch {
                return .failure(error)
            }
        }
    }

    private func assertRoundTrip(_ value: JSON, file: StaticString = #filePath, line: UInt = #line) {
        for pretty in [false, true] {
            let text = value.serialized(pretty: pretty)
            guard let back = parse(text, file: file, line: line) else { continue }
            XCTAssertEqual(back, value, "round trip of \(text)", file: file, line: line)
            XCTAssertEqual(back.serialized(pretty: pretty), text, file: file, line: line)
        }
    }

    // MARK: Round trips

    func testRoundTripsOfEveryKind() {
        let values: [JSON] = [
            .null, .bool(true), .bool(false),
            .number(0), .number(-0.0), .number(3), .number(-12), .number(0.5), .number(-0.001),
            .number(1e-8), .number(1e300), .number(-1.7976931348623157e308), .number(.leastNonzeroMagnitude),
            .number(9007199254740994), .number(.leastNormalMagnitude), .number(123456.789), .number(0.1), .number(2.5e-7),
            .string(""), .string("plain"), .string("quote \" backslash \\ slash /"),
            .string("controls \n \r \t \u{08} \u{0C} \u{00} \u{01} \u{1F} \u{7F}"),
            .string("unicode é ü 漢字 😀 \u{2028}"),
            .array([]), .array([1, "two", nil, true, [3.5], ["k": "v"]]),
            .object(JSONObject()),
            ["a": 1, "b": [true, false, nil], "c": ["nested": ["deeper": []]], "": "empty key", "é😀": "unicode key"],
        ]
        for value in values { assertRoundTrip(value) }
        assertRoundTrip(.array(values))
    }

    func testParsesEveryKind() {
        let text = #" { "n" : null , "t": true, "f": false, "i": -12, "d": 2.5e-3, "s": "x\ty", "a": [1, [], {}], "o": {"k": "v"} } "#
        guard let value = parse(text), let object = value.objectValue else { return XCTFail("not an object") }
        XCTAssertEqual(object.keys, ["n", "t", "f", "i", "d", "s", "a", "o"])
        XCTAssertEqual(object["n"], .null)
        XCTAssertEqual(object["t"], .bool(true))
        XCTAssertEqual(object["f"], .bool(false))
        XCTAssertEqual(object["i"], .number(-12))
        XCTAssertEqual(object["d"], .number(0.0025))
        XCTAssertEqual(object["s"], .string("x\ty"))
        XCTAssertEqual(object["a"], .array([.number(1), .array([]), .object(JSONObject())]))
        XCTAssertEqual(object["o"], .object(JSONObject([("k", .string("v"))])))
        XCTAssertEqual(parse("  \r\n\t 42 \n"), .number(42))
        XCTAssertEqual(parse("\"top-level string\""), .string("top-level string"))
        XCTAssertEqual(parse("\u{FEFF}[1]"), .array([1]), "a leading byte order mark is ignored")
    }

    func testSerializedCompact() {
        let value: JSON = ["type": "dense", "units": 50, "inputs": ["a", "b"], "bias": true, "init": nil, "rate": 0.5, "empty": [:], "none": []]
        XCTAssertEqual(value.serialized(),
                       #"{"type":"dense","units":50,"inputs":["a","b"],"bias":true,"init":null,"rate":0.5,"empty":{},"none":[]}"#)
        XCTAssertEqual(JSON.null.serialized(), "null")
        XCTAssertEqual(JSON.bool(false).serialized(), "false")
        XCTAssertEqual(JSON.string("x").serialized(), "\"x\"")
    }

    func testPrettyOutputShape() {
        let value: JSON = ["name": "ae", "layers": [["type": "dense", "units": 3], 7], "empty": [], "obj": [:]]
        let expected = """
            {
              "name": "ae",
              "layers": [
                {
                  "type": "dense",
                  "units": 3
                },
                7
              ],
              "empty": [],
              "obj": {}
            }
            """
        XCTAssertEqual(value.serialized(pretty: true), expected)
        XCTAssertEqual(JSON.array([]).serialized(pretty: true), "[]")
        XCTAssertEqual(JSON.number(1).serialized(pretty: true), "1")
        XCTAssertEqual(JSON.array([1, 2]).serialized(pretty: true), "[\n  1,\n  2\n]")
    }

    // MARK: Numbers

    func testNumberFormatting() {
        let cases: [(Double, String)] = [
            (3, "3"), (-12, "-12"), (0, "0"), (-0.0, "-0"), (1e15, "1000000000000000"),
            (0.001, "0.001"), (1e-8, "1e-08"), (-0.5, "-0.5"), (0.1, "0.1"), (1.5, "1.5"),
            (9007199254740991, "9007199254740991"),       // 2^53 - 1: integral
            (9007199254740992, "9007199254740992.0"),     // 2^53: Double.description
            (18014398509481984, "1.8014398509481984e+16"),
            (-18014398509481984, "-1.8014398509481984e+16"),
            (1e300, "1e+300"), (.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
            (.nan, "null"), (.infinity, "null"), (-.infinity, "null"),
        ]
        for (number, text) in cases {
            XCTAssertEqual(JSON.number(number).serialized(), text, "\(number)")
        }
        XCTAssertEqual(JSON.array([.number(.nan), 1]).serialized(), "[null,1]")
    }

    func testNumberParsing() {
        let cases: [(String, Double)] = [
            ("0", 0), ("-0", -0.0), ("1", 1), ("-12", -12), ("1E3", 1000), ("1e+3", 1000), ("1e-2", 0.01),
            ("123.456e2", 12345.6), ("0.1", 0.1), ("0.001", 0.001), ("2.5e-7", 2.5e-7), ("1.000", 1),
            ("5e-324", .leastNonzeroMagnitude), ("1.7976931348623157e308", 1.7976931348623157e308),
            ("2.2250738585072014e-308", 2.2250738585072014e-308),
            ("9007199254740993", 9007199254740992), ("9007199254740995", 9007199254740996),
            ("123456789012345678901234567890", 1.2345678901234568e29),
            ("3.14159265358979323846264338327950288", 3.141592653589793),
            ("0.000000000000000000000000000001", 1e-30), ("1e-400", 0), ("0e99999999999", 0),
            ("-9223372036854775808", -9223372036854775808.0),
        ]
        for (text, expected) in cases {
            guard let value = parse(text)?.doubleValue else {
                XCTFail("\(text) did not parse to a number")
                continue
            }
            XCTAssertEqual(value, expected, text)
            XCTAssertEqual(value.sign, expected.sign, text)
        }
    }

    func testNumberParsingIsCorrectlyRounded() {
        // The standard library's conversion is correctly rounded; the parser's fast path must agree with it.
        var generator = SystemRandomNumberGenerator()
        for _ in 0 ..< 3000 {
            let digits = String((0 ..< Int.random(in: 1 ... 20, using: &generator)).map { _ in
                Character(String(Int.random(in: 0 ... 9, using: &generator)))
            })
            let integer = digits.drop { $0 == "0" }
            var text = integer.isEmpty ? "0" : String(integer)
            if Bool.random(using: &generator) { text += "." + String(Int.random(in: 0 ... 999_999, using: &generator)) }
            if Bool.random(using: &generator) { text += "e" + String(Int.random(in: -30 ... 30, using: &generator)) }
            if Bool.random(using: &generator) { text = "-" + text }
            guard let expected = Double(text), let value = parse(text)?.doubleValue else {
                XCTFail("could not parse \(text)")
                continue
            }
            XCTAssertEqual(value.bitPattern, expected.bitPattern, text)
        }
        for _ in 0 ..< 2000 {
            let x = Double(bitPattern: UInt64.random(in: 0 ... 0x7FEF_FFFF_FFFF_FFFF, using: &generator))
            XCTAssertEqual(parse(JSON.number(x).serialized())?.doubleValue?.bitPattern, x.bitPattern, "\(x)")
        }
    }

    func testIntValue() {
        XCTAssertEqual(JSON.number(3.0).intValue, 3)
        XCTAssertEqual(JSON.number(-7).intValue, -7)
        XCTAssertEqual(JSON.number(-0.0).intValue, 0)
        XCTAssertNil(JSON.number(3.5).intValue)
        XCTAssertNil(JSON.number(1e300).intValue)
        XCTAssertNil(JSON.number(9223372036854775808.0).intValue)
        XCTAssertEqual(JSON.number(-9223372036854775808.0).intValue, Int.min)
        XCTAssertNil(JSON.number(.nan).intValue)
        XCTAssertNil(JSON.number(.infinity).intValue)
        XCTAssertNil(JSON.string("3").intValue)
        XCTAssertEqual(parse("50")?.intValue, 50)
        XCTAssertEqual(parse("5e1")?.intValue, 50)
    }

    // MARK: Strings

    func testStringEscapesOnOutput() {
        let value = JSON.string("a\"b\\c\nd\te\r\u{08}\u{0C}\u{00}\u{01}\u{1F}/é😀\u{7F}")
        XCTAssertEqual(value.serialized(), #""a\"b\\c\nd\te\r\b\f\u0000\u0001\u001f/é😀"# + "\u{7F}\"")
        XCTAssertEqual(JSON.object(JSONObject([("k\"ey\n", 1)])).serialized(), #"{"k\"ey\n":1}"#)
    }

    func testStringEscapesOnInput() {
        XCTAssertEqual(parse(#""\"\\\/\b\f\n\r\t""#), .string("\"\\/\u{08}\u{0C}\n\r\t"))
        XCTAssertEqual(parse(#""\u0041\u00e9\u00E9\u6F22""#), .string("Aéé漢"))
        XCTAssertEqual(parse(#""\ud83d\ude00""#), .string("😀"), "surrogate pair")
        XCTAssertEqual(parse(#""\uD834\uDD1E clef""#), .string("𝄞 clef"))
        XCTAssertEqual(parse(#""nul\u0000byte""#), .string("nul\u{0}byte"))
        XCTAssertEqual(parse(#""\u0000""#)?.stringValue?.unicodeScalars.map { $0.value }, [0])
        XCTAssertEqual(parse("\"raw é 漢字 😀\""), .string("raw é 漢字 😀"))
        XCTAssertEqual(parse(#""mixed é \n 😀 \u00e9""#), .string("mixed é \n 😀 é"))
        XCTAssertEqual(parse("\"\u{7F}\""), .string("\u{7F}"), "DEL need not be escaped")
    }

    func testUTF8ValidationOfBytes() {
        let quote = UInt8(ascii: "\"")
        // Valid: é, 漢, 😀 and the extremes U+0080, U+FFFF, U+10FFFF.
        let valid: [[UInt8]] = [[0xC3, 0xA9], [0xE6, 0xBC, 0xA2], [0xF0, 0x9F, 0x98, 0x80],
                                [0xC2, 0x80], [0xEF, 0xBF, 0xBF], [0xF4, 0x8F, 0xBF, 0xBF]]
        for bytes in valid {
            switch parseBytes([quote] + bytes + [quote]) {
            case .success(let value): XCTAssertEqual(value, .string(String(decoding: bytes, as: UTF8.self)))
            case .failure(let error): XCTFail("\(bytes): \(error)")
            }
        }
        let invalid: [[UInt8]] = [
            [0x80], [0xBF], [0xFF], [0xFE],     // lone continuation / never valid
            [0xC0, 0xAF], [0xC1, 0xBF],         // overlong 2-byte
            [0xE0, 0x80, 0xAF],                 // overlong 3-byte
            [0xF0, 0x80, 0x80, 0xAF],           // overlong 4-byte
            [0xED, 0xA0, 0x80],                 // encoded surrogate U+D800
            [0xF4, 0x90, 0x80, 0x80],           // above U+10FFFF
            [0xC3, 0x28], [0xE6, 0xBC], [0xF0, 0x9F, 0x98],  // truncated sequences
        ]
        for bytes in invalid {
            switch parseBytes([quote, UInt8(ascii: "a")] + bytes + [quote]) {
            case .success(let value): XCTFail("\(bytes) parsed as \(value)")
            case .failure(let error):
                XCTAssertEqual(error.offset, 2, "\(bytes)")
                XCTAssertTrue(error.message.contains("UTF-8"), error.message)
            }
        }
        // Non-ASCII outside a string is a syntax error.
        if case .success = parseBytes([0xC3, 0xA9]) { XCTFail("bare UTF-8 accepted") }
        // Truncated sequence at the very end of the input.
        if case .success = parseBytes([quote, 0xE6, 0xBC]) { XCTFail("truncated input accepted") }
        // Empty input.
        switch parseBytes([]) {
        case .success(let value): XCTFail("empty input parsed as \(value)")
        case .failure(let error):
            XCTAssertEqual(error.offset, 0)
            XCTAssertEqual(error.line, 1)
            XCTAssertEqual(error.column, 1)
        }
        XCTAssertEqual(try? parseBytes(Array(#"{"a":[1,2]}"#.utf8)).get(), ["a": [1, 2]])
    }

    // MARK: Malformed input

    func testMalformedInputsAreRejected() {
        let inputs = [
            "", " ", "\n\t ", "[", "]", "{", "}", "[1", "[1,", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,",
            "[1,]", "{\"a\":1,}", "[,1]", "{,}", "[1,,2]", "[1 2]", "{\"a\":1 \"b\":2}", "{\"a\" 1}", "{\"a\"}",
            "{1:2}", "{a:1}", "{'a':1}", "['a']", "{\"a\"::1}", "[}", "{]",
            "01", "-01", "00", "-", "--1", "+1", "1.", ".5", "-.5", "1.e3", "1e", "1e+", "1E-", "0x10", "1.5.2",
            "NaN", "-NaN", "Infinity", "-Infinity", "nan", "inf", "1e400", "-1e400", "1e99999999999999999999",
            "nul", "tru", "fals", "True", "NULL", "nulll", "truefalse", "[true false]",
            "\"abc", "\"abc\\\"", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\U0041\"", "\"\\",
            "\"tab\there\"", "\"new\nline\"", "\"\u{01}\"", "\"\u{1F}\"", "\"\u{0}\"",
            "\"\\uD800\"", "\"\\uDBFF\"", "\"\\uDC00\"", "\"\\uDFFF\"", "\"\\uD800\\u0041\"", "\"\\uD800x\"",
            "\"\\uD800\\uD800\"", "\"\\uDC00\\uD800\"", "\"\\uD83D\\u",
            "// comment\n1", "/* comment */ 1", "[1 /* c */]", "# hash\n1", "[1] // c",
            "1 2", "[] x", "{} {}", "\"a\" \"b\"", "null,", "[1]]", "{\"a\":1}}",
            "\u{FEFF}", "\u{FEFF}\u{FEFF}1", "\u{A0}1",
        ]
        for input in inputs {
            guard let error = parseError(input) else { continue }
            XCTAssertFalse(error.message.isEmpty, input.debugDescription)
            XCTAssertGreaterThanOrEqual(error.offset, 0, input.debugDescription)
            XCTAssertLessThanOrEqual(error.offset, input.utf8.count, input.debugDescription)
            XCTAssertGreaterThanOrEqual(error.line, 1, input.debugDescription)
            XCTAssertGreaterThanOrEqual(error.column, 1, input.debugDescription)
        }
    }

    func testErrorPositionsAndMessages() {
        // Missing comma on line 4: the error points at the next key.
        let text = "{\n  \"a\": 1,\n  \"b\": 2\n  \"c\": 3\n}"
        if let error = parseError(text) {
            XCTAssertEqual(error.message, "expected ',' or '}' after object member")
            XCTAssertEqual(error.line, 4)
            XCTAssertEqual(error.column, 3)
            XCTAssertEqual(error.offset, 23)
            XCTAssertEqual(error.description, "line 4, column 3: expected ',' or '}' after object member")
        }
        if let error = parseError("[1, 2,, 3]") {
            XCTAssertEqual(error.message, "expected a value")
            XCTAssertEqual(error.offset, 6)
            XCTAssertEqual(error.line, 1)
            XCTAssertEqual(error.column, 7)
        }
        if let error = parseError("{\"a\" 1}") {
            XCTAssertEqual(error.message, "expected ':' after object key")
            XCTAssertEqual(error.column, 6)
        }
        // Columns count Unicode scalars, not bytes.
        if let error = parseError("[\"é😀\", x]") {
            XCTAssertEqual(error.offset, 11)
            XCTAssertEqual(error.column, 8)
        }
        // CRLF and lone CR line breaks.
        if let error = parseError("[\r\n1,\r\n2,\r  ?]") {
            XCTAssertEqual(error.line, 4)
            XCTAssertEqual(error.column, 3)
        }
        if let error = parseError("[\n  \"abc") {
            XCTAssertEqual(error.message, "unterminated string")
            XCTAssertEqual(error.line, 2)
            XCTAssertEqual(error.column, 3)
        }
        if let error = parseError("{\"a\": [1, 2") {
            XCTAssertEqual(error.message, "unexpected end of input: expected ',' or ']' after array element")
            XCTAssertEqual(error.offset, 11)
            XCTAssertEqual(error.column, 12)
        }
        if let error = parseError("") {
            XCTAssertEqual(error.message, "unexpected end of input: expected a value")
            XCTAssertEqual(error.offset, 0)
        }
        if let error = parseError("[1,]") {
            XCTAssertEqual(error.message, "trailing comma in array")
            XCTAssertEqual(error.offset, 3)
        }
        if let error = parseError("{\"a\":1,}") { XCTAssertEqual(error.message, "trailing comma in object") }
        if let error = parseError("[1] x") {
            XCTAssertEqual(error.message, "unexpected data after the JSON document")
            XCTAssertEqual(error.offset, 4)
        }
        if let error = parseError("\"a\tb\"") {
            XCTAssertEqual(error.message, "unescaped control character in string")
            XCTAssertEqual(error.offset, 2)
        }
        if let error = parseError("[0123]") {
            XCTAssertEqual(error.message, "leading zeros are not allowed in numbers")
            XCTAssertEqual(error.offset, 1)
        }
        if let error = parseError("{\"big\": 1e999}") {
            XCTAssertEqual(error.message, "number out of range")
            XCTAssertEqual(error.offset, 8)
        }
        if let error = parseError("[\"\\ud800\"]") {
            XCTAssertTrue(error.message.contains("surrogate"), error.message)
            XCTAssertEqual(error.offset, 2)
        }
        if let error = parseError("\"\\q\"") {
            XCTAssertEqual(error.message, "invalid escape sequence in string")
            XCTAssertEqual(error.offset, 1)
        }
        if let error = parseError("[nul]") { XCTAssertEqual(error.offset, 1) }
        if let error = parseError("// c\n{}") { XCTAssertEqual(error.message, "comments are not allowed") }
    }

    func testDeepNesting() {
        let depth = JSON.maximumDepth
        // Exactly at the limit: accepted.
        let ok = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        guard let value = parse(ok) else { return }
        var levels = 0
        var current: JSON? = value
        while let array = current?.arrayValue {
            levels += 1
            current = array.first
        }
        XCTAssertEqual(levels, depth)
        XCTAssertEqual(value.serialized(), ok)
        let okObjects = String(repeating: "{\"a\":", count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)
        XCTAssertNotNil(parse(okObjects))

        // One past the limit, and hostile depths: an error, not a crash.
        for count in [depth + 1, 100_000] {
            let text = String(repeating: "[", count: count) + String(repeating: "]", count: count)
            if let error = parseError(text) {
                XCTAssertTrue(error.message.contains("nesting"), error.message)
                XCTAssertEqual(error.offset, depth)
            }
        }
        XCTAssertNotNil(parseError(String(repeating: "[", count: 100_000)))
        XCTAssertNotNil(parseError(String(repeating: "{\"a\":", count: 100_000)))
        XCTAssertNotNil(parseError(String(repeating: "[{\"a\":", count: 50_000)))
    }

    func testDuplicateKeys() {
        if let error = parseError(#"{"a":1,"b":2,"a":3}"#) {
            XCTAssertEqual(error.message, #"duplicate key "a""#)
            XCTAssertEqual(error.offset, 13)
        }
        // Large objects use a hash index; duplicates must still be caught.
        let members = (0 ..< 40).map { "\"k\($0)\": \($0)" }
        XCTAssertNotNil(parse("{" + members.joined(separator: ",") + "}"))
        XCTAssertNotNil(parseError("{" + (members + ["\"k7\": 0"]).joined(separator: ",") + "}"))
        XCTAssertNotNil(parseError("{" + (members + ["\"k39\": 0"]).joined(separator: ",") + "}"))
        // The same key in different objects is fine.
        XCTAssertNotNil(parse(#"{"a":{"a":1},"b":{"a":2}}"#))
    }

    // MARK: Literals and accessors

    func testLiteralSyntax() {
        let j: JSON = ["type": "dense", "units": 50, "inputs": ["a", "b"]]
        XCTAssertEqual(j.objectValue?.keys, ["type", "units", "inputs"])
        XCTAssertEqual(j.objectValue?["type"], .string("dense"))
        XCTAssertEqual(j.objectValue?["units"]?.intValue, 50)
        XCTAssertEqual(j.objectValue?["inputs"], .array([.string("a"), .string("b")]))
        let n: JSON = nil
        let b: JSON = true
        let i: JSON = -3
        let f: JSON = 0.25
        let s: JSON = "text"
        let a: JSON = [1, "x", nil, false]
        let empty: JSON = [:]
        XCTAssertEqual(n, .null)
        XCTAssertEqual(b, .bool(true))
        XCTAssertEqual(i, .number(-3))
        XCTAssertEqual(f, .number(0.25))
        XCTAssertEqual(s, .string("text"))
        XCTAssertEqual(a, .array([.number(1), .string("x"), .null, .bool(false)]))
        XCTAssertEqual(empty, .object(JSONObject()))
        let object: JSONObject = ["z": 1, "a": 2]
        XCTAssertEqual(object.keys, ["z", "a"])
    }

    func testAccessorsAndKindDescription() {
        let values: [JSON] = [nil, true, 1.5, "s", [1], ["k": 1]]
        XCTAssertEqual(values.map { $0.kindDescription }, ["null", "a boolean", "a number", "a string", "an array", "an object"])
        XCTAssertEqual(values.map { $0.isNull }, [true, false, false, false, false, false])
        XCTAssertEqual(values.map { $0.boolValue }, [nil, true, nil, nil, nil, nil])
        XCTAssertEqual(values.map { $0.doubleValue }, [nil, nil, 1.5, nil, nil, nil])
        XCTAssertEqual(values.map { $0.stringValue }, [nil, nil, nil, "s", nil, nil])
        XCTAssertEqual(values.map { $0.arrayValue }, [nil, nil, nil, nil, [1], nil])
        XCTAssertEqual(values.map { $0.objectValue }, [nil, nil, nil, nil, nil, JSONObject([("k", 1)])])
        XCTAssertEqual(values.map { $0.intValue }, [nil, nil, nil, nil, nil, nil])
    }

    // MARK: JSONObject

    func testJSONObjectOrderingReplaceRemove() {
        var object = JSONObject()
        XCTAssertEqual(object.count, 0)
        XCTAssertTrue(object.keys.isEmpty)
        object["b"] = 1
        object["a"] = 2
        object["c"] = 3
        XCTAssertEqual(object.keys, ["b", "a", "c"])
        object["a"] = "replaced"
        XCTAssertEqual(object.keys, ["b", "a", "c"], "replacing keeps the position")
        XCTAssertEqual(object["a"], .string("replaced"))
        object["b"] = nil
        XCTAssertEqual(object.keys, ["a", "c"])
        XCTAssertNil(object["b"])
        object["missing"] = nil
        XCTAssertEqual(object.count, 2)
        object["b"] = true
        XCTAssertEqual(object.keys, ["a", "c", "b"], "a re-added key goes to the end")
        XCTAssertEqual(object.map { $0.key }, ["a", "c", "b"])
        XCTAssertEqual(object.map { $0.value }, ["replaced", 3, true])
        var pairs: [String] = []
        for (key, value) in object { pairs.append("\(key)=\(value.serialized())") }
        XCTAssertEqual(pairs, ["a=\"replaced\"", "c=3", "b=true"])
        XCTAssertEqual(JSON.object(object).serialized(), #"{"a":"replaced","c":3,"b":true}"#)

        // init with pairs keeps order; a repeated key replaces in place.
        let fromPairs = JSONObject([("x", 1), ("y", 2), ("x", 3)])
        XCTAssertEqual(fromPairs.keys, ["x", "y"])
        XCTAssertEqual(fromPairs["x"], .number(3))

        // Parsing keeps document order.
        XCTAssertEqual(parse(#"{"zeta":1,"alpha":2,"mid":3}"#)?.objectValue?.keys, ["zeta", "alpha", "mid"])

        // Equality compares contents; key order does not matter (as in JSON).
        XCTAssertEqual(JSONObject([("a", 1), ("b", 2)]), JSONObject([("b", 2), ("a", 1)]))
        XCTAssertNotEqual(JSONObject([("a", 1), ("b", 2)]), JSONObject([("a", 1), ("b", 3)]))
        XCTAssertNotEqual(JSONObject([("a", 1)]), JSONObject([("a", 1), ("b", 2)]))
    }

    func testLargeJSONObject() {
        // Objects past the hash-index threshold behave the same.
        var object = JSONObject()
        for i in 0 ..< 100 { object["k\(i)"] = .number(Double(i)) }
        XCTAssertEqual(object.count, 100)
        XCTAssertEqual(object.keys, (0 ..< 100).map { "k\($0)" })
        XCTAssertEqual(object["k57"], .number(57))
        object["k10"] = "ten"
        XCTAssertEqual(object.keys[10], "k10")
        XCTAssertEqual(object["k10"], .string("ten"))
        for i in stride(from: 0, to: 100, by: 2) { object["k\(i)"] = nil }
        XCTAssertEqual(object.count, 50)
        XCTAssertEqual(object.keys, stride(from: 1, to: 100, by: 2).map { "k\($0)" })
        XCTAssertNil(object["k10"])
        XCTAssertEqual(object["k99"], .number(99))
        for i in 0 ..< 45 { object["k\(2 * i + 1)"] = nil }
        XCTAssertEqual(object.keys, ["k91", "k93", "k95", "k97", "k99"])
        XCTAssertEqual(object["k95"], .number(95))
        object["new"] = 1
        XCTAssertEqual(object.keys.last, "new")
    }

    // MARK: Large documents

    func testLargeDocumentRoundTrip() {
        var layers: [JSON] = []
        for i in 0 ..< 2000 {
            layers.append([
                "name": .string("layer_\(i) é\n"),
                "units": .number(Double(i * 7)),
                "rate": .number(Double(i) / 3),
                "weights": .array((0 ..< 10).map { .number(Double($0 * i) * 0.001 - 1) }),
                "flags": [true, false, nil],
            ])
        }
        let document: JSON = ["format": "autoencoder", "layers": .array(layers)]
        let text = document.serialized()
        XCTAssertGreaterThan(text.utf8.count, 200_000)
        XCTAssertEqual(parse(text), document)
        XCTAssertEqual(parse(document.serialized(pretty: true)), document)
    }
}
