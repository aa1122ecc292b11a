/// Reads one JSON object of a spec, naming the JSON path of every problem it finds:
/// `encoder[2].units: must be a positive integer, got -3`.
struct SpecReader {
    let object: JSONObject
    let path: String

    init(_ json: JSON, path: String) throws(AutoencoderError) {
        guard let object = json.objectValue else {
            throw .invalidSpec(path, "must be an object, got \(json.kindDescription)")
        }
        self.object = object
        self.path = path
    }

    func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func has(_ key: String) -> Bool { object[key] != nil && object[key] != .null }

    /// Rejects keys the spec does not know, so a typo is an error instead of a silent default.
    func allowOnly(_ keys: [String]) throws(AutoencoderError) {
        for key in object.keys where !keys.contains(key) {
            throw .invalidSpec(path(key), "unknown key; expected one of \(keys.joined(separator: ", "))")
        }
    }

    func int(_ key: String, default value: Int? = nil, minimum: Int? = nil, maximum: Int? = nil) throws(AutoencoderError) -> Int {
        guard let json = object[key], json != .null else {
            if let value { return value }
            throw .invalidSpec(path(key), "is required (an integer)")
        }
        guard let int = json.intValue else {
            throw .invalidSpec(path(key), "must be an integer, got \(json.serialized())")
        }
        if let minimum, int < minimum {
            throw .invalidSpec(path(key), "must be at least \(minimum), got \(int)")
        }
        if let maximum, int > maximum {
            throw .invalidSpec(path(key), "must be at most \(maximum), got \(int)")
        }
        return int
    }

    /// A finite number; `above`/`below` are exclusive bounds, `minimum`/`maximum` inclusive.
    func float(_ key: String, default value: Float? = nil, minimum: Double? = nil, maximum: Double? = nil,
               above: Double? = nil, below: Double? = nil) throws(AutoencoderError) -> Float {
        guard let json = object[key], json != .null else {
            if let value { return value }
            throw .invalidSpec(path(key), "is required (a number)")
        }
        guard let number = json.doubleValue, number.isFinite else {
            throw .invalidSpec(path(key), "must be a number, got \(json.serialized())")
        }
        if let minimum, number < minimum { throw .invalidSpec(path(key), "must be at least \(minimum), got \(number)") }
        if let maximum, number > maximum { throw .invalidSpec(path(key), "must be at most \(maximum), got \(number)") }
        if let above, !(number > above) { throw .invalidSpec(path(key), "must be greater than \(above), got \(number)") }
        if let below, !(number < below) { throw .invalidSpec(path(key), "must be less than \(below), got \(number)") }
        // Stored as Float: reject a value that overflows to ∞ or rounds onto an exclusive bound (eps 1e-50 → 0).
        let float = Float(number)
        if !float.isFinite || above.map({ !(Double(float) > $0) }) == true || below.map({ !(Double(float) < $0) }) == true {
            throw .invalidSpec(path(key), "\(number) is out of range as a 32-bit float")
        }
        return float
    }

    func bool(_ key: String, default value: Bool) throws(AutoencoderError) -> Bool {
        guard let json = object[key], json != .null else { return value }
        guard let bool = json.boolValue else { throw .invalidSpec(path(key), "must be true or false, got \(json.serialized())") }
        return bool
    }

    func string(_ key: String, default value: String? = nil) throws(AutoencoderError) -> String {
        guard let json = object[key], json != .null else {
            if let value { return value }
            throw .invalidSpec(path(key), "is required (a string)")
        }
        guard let string = json.stringValue else { throw .invalidSpec(path(key), "must be a string, got \(json.serialized())") }
        return string
    }

    /// A node or branch name: non-empty, at most `SpecReader.maxNameBytes` bytes, without quotes,
    /// backslashes or control characters (NUL would cut the name short in C, and the names become
    /// tensor names in the model file).
    func name(_ key: String) throws(AutoencoderError) -> String? {
        guard has(key) else { return nil }
        let value = try string(key)
        try SpecReader.checkName(value, path: path(key))
        return value
    }

    static let maxNameBytes = 200

    static func checkName(_ value: String, path: String) throws(AutoencoderError) {
        guard !value.isEmpty, value.utf8.count <= maxNameBytes else {
            throw .invalidSpec(path, "must be a non-empty name of at most \(maxNameBytes) bytes, got \(value.utf8.count) bytes")
        }
        if let bad = value.unicodeScalars.first(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\"" || $0 == "\\" }) {
            throw .invalidSpec(path, "must not contain quotes, backslashes or control characters, found U+\(String(bad.value, radix: 16, uppercase: true).leftPadded(4))")
        }
    }

    /// An array of at most `limit` elements (nil when absent); a longer one is refused, naming the cap.
    func array(_ key: String, limit: Int) throws(AutoencoderError) -> [JSON]? {
        guard let array = try array(key) else { return nil }
        guard array.count <= limit else {
            throw .invalidSpec(path(key), "holds \(array.count) entries; at most \(limit) are allowed")
        }
        return array
    }

    /// One of `choices`, for enumerated settings such as a loss name.
    func choice(_ key: String, _ choices: [String], default value: String? = nil) throws(AutoencoderError) -> String {
        let string = try string(key, default: value)
        guard choices.contains(string) else {
            throw .invalidSpec(path(key), "unknown value \"\(string)\"; expected one of \(choices.joined(separator: ", "))")
        }
        return string
    }

    func array(_ key: String) throws(AutoencoderError) -> [JSON]? {
        guard let json = object[key], json != .null else { return nil }
        guard let array = json.arrayValue else { throw .invalidSpec(path(key), "must be an array, got \(json.kindDescription)") }
        return array
    }

    /// An array of positive integers (a shape).
    func shape(_ key: String) throws(AutoencoderError) -> [Int]? {
        guard let array = try array(key) else { return nil }
        guard !array.isEmpty, array.count <= 4 else { throw .invalidSpec(path(key), "must list 1 to 4 dimensions") }
        var shape: [Int] = []
        for (i, element) in array.enumerated() {
            guard let dimension = element.intValue, dimension > 0, dimension <= 1 << 24 else {
                throw .invalidSpec("\(path(key))[\(i)]", "must be a positive integer up to 16777216, got \(element.serialized())")
            }
            shape.append(dimension)
        }
        guard let count = Tensor.elementCount(shape), count <= 1 << 28 else {
            throw .invalidSpec(path(key), "holds too many elements per sample (at most 268435456)")
        }
        return shape
    }

    /// A nested object (nil when absent).
    func reader(_ key: String) throws(AutoencoderError) -> SpecReader? {
        guard let json = object[key], json != .null else { return nil }
        return try SpecReader(json, path: path(key))
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
