// `JSONObject`: the ordered JSON object of `JSON.object`, with keys in insertion order and
// lookup by key (linear for small objects, a hash index for large ones).

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
