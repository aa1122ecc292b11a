// The safetensors container (https://github.com/huggingface/safetensors), read and written
// exactly as the reference implementation does:
//
//     u64 little-endian N | N bytes of UTF-8 JSON header | data section
//
// The header is a JSON object mapping each tensor name to
// {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]} (offsets relative to
// the start of the data section), plus an optional "__metadata__" object of string -> string.
// Writers pad the header with spaces so that the data section starts at a multiple of 8.
//
// Reading enforces the reference rules: N <= 100 MB and N <= file size - 8, the header is
// UTF-8, starts with '{' and is a JSON object, every dtype is known, offsets lie in the data
// section with end >= begin, every tensor's byte length is product(shape) * dtype size (with
// overflow-checked arithmetic), and the tensors, sorted by offset, cover the data section
// exactly: no overlaps, no holes. Every violation is an `AutoencoderError` of kind `.format`
// whose message starts with the source ("<file>: ..." or "model bytes: ..."). No input traps:
// the package builds the core with -Ounchecked, so every size computation here is checked
// explicitly rather than relying on overflow traps.
//
// This file holds the dtypes, the entries and the validating reader `SafetensorsFile`; reading
// tensor values is in SafetensorsFile+Values.swift, writing in SafetensorsWriter.swift.

/// The element types this runtime understands in a safetensors file. F32 and I64 are written;
/// all of them can be read.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32", f64 = "F64", i64 = "I64", i32 = "I32", u8 = "U8", i8 = "I8", f16 = "F16", bf16 = "BF16"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16: 2
        case .u8, .i8: 1
        }
    }

    /// Whether `SafetensorsFile.floats` can read this dtype (F32, F64, F16, BF16).
    public var isFloatingPoint: Bool {
        switch self {
        case .f32, .f64, .f16, .bf16: true
        case .i64, .i32, .u8, .i8: false
        }
    }
}

/// One tensor of a parsed safetensors file.
public struct SafetensorsEntry: Sendable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Absolute offsets into the file bytes (not relative to the data section).
    public let byteRange: Range<Int>

    /// The number of elements (the product of `shape`; 1 for a scalar).
    public var elementCount: Int { byteRange.count / dtype.byteSize }
}

/// The validated header of a safetensors file: its metadata and tensor table, checked against the
/// file's total size. Parsing needs only the first 8 + N bytes, so a loader can bound everything
/// before it reads (or allocates for) the data section.
public struct SafetensorsHeader: Sendable {
    /// The largest header the reference implementation accepts.
    public static let maxHeaderLength = 100_000_000

    /// The "__metadata__" of the header (empty if absent).
    public let metadata: [String: String]
    /// The tensors in data order (ascending offsets); they tile the data section exactly.
    public let entries: [SafetensorsEntry]
    /// What error messages call this file: a path, or "model bytes".
    public let source: String
    /// Absolute offset of the data section (8 + N).
    public let dataStart: Int
    /// The size of the whole file.
    public let totalSize: Int

    private let index: [String: Int]

    /// The header length N from the first 8 bytes, bounded by the limit and by the file size.
    public static func headerLength(prefix: UnsafeRawBufferPointer, totalSize total: Int,
                                    source: String) throws(AutoencoderError) -> Int {
        func fail(_ message: String) -> AutoencoderError { .format("\(source): \(message)") }
        guard total >= 8, prefix.count >= 8 else {
            throw fail("file is \(total) byte\(total == 1 ? "" : "s"), too short for the 8-byte safetensors header length")
        }
        var length64: UInt64 = 0
        for i in 0..<8 { length64 |= UInt64(prefix[i]) << UInt64(8 * i) }
        guard length64 <= UInt64(maxHeaderLength) else {
            throw fail("safetensors header length \(length64) exceeds the limit of \(maxHeaderLength) bytes")
        }
        let headerLength = Int(length64)
        guard headerLength <= total - 8 else {
            throw fail("safetensors header length \(headerLength) exceeds the \(total - 8) bytes that follow it (file truncated?)")
        }
        return headerLength
    }

    /// Parses and validates the N header bytes `json` (those after the 8-byte length) of a file of
    /// `totalSize` bytes.
    public init(json headerBytes: UnsafeRawBufferPointer, totalSize total: Int, source: String) throws(AutoencoderError) {
        func fail(_ message: String) -> AutoencoderError { .format("\(source): \(message)") }
        let headerLength = headerBytes.count
        let dataStart = 8 + headerLength
        guard dataStart <= total else { throw fail("safetensors header runs past the end of the file") }
        let dataLength = total - dataStart

        // Header: UTF-8, starting with '{', a JSON object.
        guard headerLength > 0, headerBytes[0] == UInt8(ascii: "{") else {
            throw fail("safetensors header does not start with '{'")
        }
        guard let headerText = String(validating: headerBytes, as: UTF8.self) else {
            throw fail("safetensors header is not valid UTF-8")
        }
        let header: JSON
        do {
            header = try JSON.parse(headerText)
        } catch {
            throw fail("safetensors header is not valid JSON: \(error.description)")
        }
        guard let object = header.objectValue else {
            throw fail("safetensors header is not a JSON object (got \(header.kindDescription))")
        }

        // Entries and metadata.
        var metadata: [String: String] = [:]
        var parsed: [(entry: SafetensorsEntry, begin: Int, end: Int)] = []
        var seen = Set<String>()
        parsed.reserveCapacity(object.count)
        for (name, value) in object {
            guard seen.insert(name).inserted else {
                throw fail("duplicate key '\(name)' in the safetensors header")
            }
            if name == "__metadata__" {
                switch value {
                case .null:
                    break
                case .object(let pairs):
                    for (key, item) in pairs {
                        guard let string = item.stringValue else {
                            throw fail("metadata value of '\(key)' must be a string, got \(item.kindDescription)")
                        }
                        metadata[key] = string
                    }
                default:
                    throw fail("\"__metadata__\" must be an object of strings, got \(value.kindDescription)")
                }
                continue
            }
            parsed.append(try Self.parseEntry(name: name, value: value, dataStart: dataStart,
                                              dataLength: dataLength, fail: fail))
        }

        // Coverage: sorted by offset, the tensors must tile the data section exactly.
        parsed.sort { a, b in
            if a.begin != b.begin { return a.begin < b.begin }
            if a.end != b.end { return a.end < b.end }
            return a.entry.name < b.entry.name
        }
        var expected = 0
        var previousName: String? = nil
        for item in parsed {
            if item.begin > expected {
                throw fail("data section bytes \(expected)..<\(item.begin) belong to no tensor (hole before '\(item.entry.name)')")
            }
            if item.begin < expected {
                throw fail("tensors '\(previousName ?? "")' and '\(item.entry.name)' overlap in the data section")
            }
            expected = item.end
            previousName = item.entry.name
        }
        if expected != dataLength {
            throw fail("data section bytes \(expected)..<\(dataLength) belong to no tensor (the data section is \(dataLength) bytes)")
        }

        var index: [String: Int] = [:]
        index.reserveCapacity(parsed.count)
        for (i, item) in parsed.enumerated() { index[item.entry.name] = i }

        self.metadata = metadata
        self.entries = parsed.map { $0.entry }
        self.source = source
        self.dataStart = dataStart
        self.totalSize = total
        self.index = index
    }

    /// Validates one tensor description; returns the entry and its offsets relative to the data section.
    private static func parseEntry(
        name: String, value: JSON, dataStart: Int, dataLength: Int,
        fail: (String) -> AutoencoderError
    ) throws(AutoencoderError) -> (entry: SafetensorsEntry, begin: Int, end: Int) {
        guard let info = value.objectValue else {
            throw fail("tensor '\(name)': expected an object, got \(value.kindDescription)")
        }
        // dtype
        guard let dtypeValue = info["dtype"] else { throw fail("tensor '\(name)': missing \"dtype\"") }
        guard let dtypeName = dtypeValue.stringValue else {
            throw fail("tensor '\(name)': \"dtype\" must be a string, got \(dtypeValue.kindDescription)")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw fail("tensor '\(name)': unknown or unsupported dtype '\(dtypeName)'")
        }
        // shape
        guard let shapeValue = info["shape"] else { throw fail("tensor '\(name)': missing \"shape\"") }
        guard let shapeArray = shapeValue.arrayValue else {
            throw fail("tensor '\(name)': \"shape\" must be an array, got \(shapeValue.kindDescription)")
        }
        var shape: [Int] = []
        shape.reserveCapacity(shapeArray.count)
        for dimension in shapeArray {
            guard let d = nonNegativeInt(dimension) else {
                throw fail("tensor '\(name)': \"shape\" entries must be non-negative integers")
            }
            shape.append(d)
        }
        // data_offsets
        guard let offsetsValue = info["data_offsets"] else { throw fail("tensor '\(name)': missing \"data_offsets\"") }
        guard let offsets = offsetsValue.arrayValue, offsets.count == 2,
              let begin = nonNegativeInt(offsets[0]), let end = nonNegativeInt(offsets[1]) else {
            throw fail("tensor '\(name)': \"data_offsets\" must be [begin, end] with non-negative integers")
        }
        guard end >= begin else {
            throw fail("tensor '\(name)': data_offsets [\(begin), \(end)] end before they begin")
        }
        guard end <= dataLength else {
            throw fail("tensor '\(name)': data_offsets [\(begin), \(end)] lie outside the \(dataLength)-byte data section")
        }
        // size
        var elements = 1
        for d in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail("tensor '\(name)': shape \(shape) has too many elements (overflow)") }
            elements = product
        }
        let (byteCount, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw fail("tensor '\(name)': shape \(shape) of \(dtype.rawValue) has too many bytes (overflow)") }
        guard byteCount == end - begin else {
            throw fail("tensor '\(name)': shape \(shape) of \(dtype.rawValue) needs \(byteCount) bytes but data_offsets [\(begin), \(end)] span \(end - begin)")
        }
        let entry = SafetensorsEntry(name: name, dtype: dtype, shape: shape,
                                     byteRange: (dataStart + begin)..<(dataStart + end))
        return (entry, begin, end)
    }

    /// A JSON number that is an exact non-negative integer representable as Int.
    private static func nonNegativeInt(_ value: JSON) -> Int? {
        guard case .number(let d) = value, d.isFinite, d >= 0, let i = Int(exactly: d) else { return nil }
        return i
    }

    // MARK: - Access

    /// The tensor called `name`, if any.
    public func entry(named name: String) -> SafetensorsEntry? {
        guard let i = index[name] else { return nil }
        return entries[i]
    }
}

/// A parsed and validated safetensors file held in memory; tensors are read from its bytes on demand.
public struct SafetensorsFile: Sendable {
    /// The largest header the reference implementation accepts.
    public static let maxHeaderLength = SafetensorsHeader.maxHeaderLength

    public let bytes: [UInt8]
    public let header: SafetensorsHeader

    /// Parses and validates `bytes`. `source` names the file (or "model bytes") in error messages.
    public init(bytes: [UInt8], source: String) throws(AutoencoderError) {
        let parsed = bytes.withUnsafeBytes { raw -> Result<SafetensorsHeader, AutoencoderError> in
            do throws(AutoencoderError) {
                let length = try SafetensorsHeader.headerLength(prefix: raw, totalSize: raw.count, source: source)
                return .success(try SafetensorsHeader(json: UnsafeRawBufferPointer(rebasing: raw[8..<(8 + length)]),
                                                      totalSize: raw.count, source: source))
            } catch {
                return .failure(error)
            }
        }
        self.bytes = bytes
        header = try parsed.get()
    }

    /// The "__metadata__" of the header (empty if absent).
    public var metadata: [String: String] { header.metadata }
    /// The tensors in data order (ascending offsets).
    public var entries: [SafetensorsEntry] { header.entries }
    /// What error messages call this file: a path, or "model bytes".
    public var source: String { header.source }
    /// Absolute offset of the data section.
    public var dataStart: Int { header.dataStart }

    /// The tensor called `name`, if any.
    public func entry(named name: String) -> SafetensorsEntry? { header.entry(named: name) }
}
