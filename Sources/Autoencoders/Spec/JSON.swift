// A JSON value for the Foundation-free JSON support (RFC 8259): the `JSON` enum, its accessors
// and literals. `JSONObject` (JSONObject.swift) is the ordered object; parsing is in
// JSONParser.swift (with JSONParser+Strings.swift and JSONParser+Numbers.swift), serialization
// in JSONSerializer.swift. Everything here uses the Swift standard library only.

/// A JSON value. Objects keep their keys in document order.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)

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
