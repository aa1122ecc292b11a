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

/// The element types this runtime understands in a safetensors file. F32 and I64 are written;
/// all of them can be read.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32", f64 = "F64", i64 = "I64", i32 = "I32", u8 = "U8", f16 = "F16", bf16 = "BF16"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16: 2
        case .u8: 1
        }
    }

    /// Whether `SafetensorsFile.floats` can read this dtype (F32, F64, F16, BF16).
    public var isFloatingPoint: Bool {
        switch self {
        case .f32, .f64, .f16, .bf16: true
        case .i64, .i32, .u8: false
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

/// A parsed and validated safetensors file. It holds the file bytes; tensors are read from them
/// on demand.
public struct SafetensorsFile: Sendable {
    /// The largest header the reference implementation accepts.
    public static let maxHeaderLength = 100_000_000

    public let bytes: [UInt8]
    /// The "__metadata__" of the header (empty if absent).
    public let metadata: [String: String]
    /// The tensors in data order (ascending offsets).
    public let entries: [SafetensorsEntry]
    /// What error messages call this file: a path, or "model bytes".
    public let source: String
    /// Absolute offset of the data section.
    public let dataStart: Int

    private let index: [String: Int]

    /// Parses and validates `bytes`. `source` names the file (or "model bytes") in error messages.
    public init(bytes: [UInt8], source: String) throws(AutoencoderError) {
        func fail(_ message: String) -> AutoencoderError { .format("\(source): \(message)") }

        let total = bytes.count
        guard total >= 8 else {
            throw fail("file is \(total) byte\(total == 1 ? "" : "s"), too short for the 8-byte safetensors header length")
        }
        var length64: UInt64 = 0
        for i in 0..<8 { length64 |= UInt64(bytes[i]) << UInt64(8 * i) }
        guard length64 <= UInt64(Self.maxHeaderLength) else {
            throw fail("safetensors header length \(length64) exceeds the limit of \(Self.maxHeaderLength) bytes")
        }
        let headerLength = Int(length64)
        guard headerLength <= total - 8 else {
            throw fail("safetensors header length \(headerLength) exceeds the \(total - 8) bytes that follow it (file truncated?)")
        }
        let dataStart = 8 + headerLength
        let dataLength = total - dataStart

        // Header: UTF-8, starting with '{', a JSON object.
        guard headerLength > 0, bytes[8] == UInt8(ascii: "{") else {
            throw fail("safetensors header does not start with '{'")
        }
        guard let headerText = String(validating: bytes[8..<dataStart], as: UTF8.self) else {
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

        self.bytes = bytes
        self.metadata = metadata
        self.entries = parsed.map { $0.entry }
        self.source = source
        self.dataStart = dataStart
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

    private func fail(_ message: String) -> AutoencoderError { .format("\(source): \(message)") }

    private func requireEntry(_ name: String) throws(AutoencoderError) -> SafetensorsEntry {
        guard let entry = entry(named: name) else { throw fail("no tensor named '\(name)'") }
        return entry
    }

    private func requireFloatingPoint(_ entry: SafetensorsEntry) throws(AutoencoderError) {
        guard entry.dtype.isFloatingPoint else {
            throw fail("tensor '\(entry.name)' has dtype \(entry.dtype.rawValue); expected a floating-point tensor")
        }
    }

    /// Float32 values of a tensor (F32 as stored; F64, F16 and BF16 converted). Errors if the
    /// name is missing or the dtype is an integer type.
    public func floats(_ name: String) throws(AutoencoderError) -> [Float] {
        let entry = try requireEntry(name)
        try requireFloatingPoint(entry)
        let count = entry.elementCount
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress { decodeFloats(entry, into: base, count: count) }
            initialized = count
        }
    }

    /// Copies a floating-point tensor's values (F32; F64, F16 and BF16 are converted) into
    /// caller memory of exactly `count` elements. Errors if the name is missing, the dtype is
    /// an integer type, or the tensor does not have `count` elements.
    public func copyFloats(_ name: String, into destination: UnsafeMutablePointer<Float>, count: Int) throws(AutoencoderError) {
        let entry = try requireEntry(name)
        try requireFloatingPoint(entry)
        guard entry.elementCount == count else {
            throw fail("tensor '\(name)' has \(entry.elementCount) elements (shape \(entry.shape)), expected \(count)")
        }
        decodeFloats(entry, into: destination, count: count)
    }

    /// Integer values of a tensor as Int64 (I64 as stored; I32 and U8 widened). Errors if the
    /// name is missing or the dtype is a floating-point type.
    public func int64s(_ name: String) throws(AutoencoderError) -> [Int64] {
        let entry = try requireEntry(name)
        guard !entry.dtype.isFloatingPoint else {
            throw fail("tensor '\(name)' has dtype \(entry.dtype.rawValue); expected an integer tensor")
        }
        let count = entry.elementCount
        let start = entry.byteRange.lowerBound
        let dtype = entry.dtype
        return bytes.withUnsafeBytes { raw -> [Int64] in
            [Int64](unsafeUninitializedCapacity: count) { out, initialized in
                switch dtype {
                case .i64:
                    for i in 0..<count {
                        out[i] = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * i, as: Int64.self))
                    }
                case .i32:
                    for i in 0..<count {
                        out[i] = Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: Int32.self)))
                    }
                case .u8:
                    for i in 0..<count { out[i] = Int64(raw[start + i]) }
                case .f32, .f64, .f16, .bf16:
                    for i in 0..<count { out[i] = 0 }   // unreachable: rejected above
                }
                initialized = count
            }
        }
    }

    /// Decodes `count` (== entry.elementCount, validated by the callers) floating-point values.
    private func decodeFloats(_ entry: SafetensorsEntry, into out: UnsafeMutablePointer<Float>, count: Int) {
        let start = entry.byteRange.lowerBound
        bytes.withUnsafeBytes { raw in
            switch entry.dtype {
            case .f32:
                #if _endian(little)
                if count > 0, let base = raw.baseAddress {
                    UnsafeMutableRawPointer(out).copyMemory(from: base + start, byteCount: count * 4)
                }
                #else
                for i in 0..<count {
                    out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)))
                }
                #endif
            case .f64:
                for i in 0..<count {
                    out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * i, as: UInt64.self))))
                }
            case .f16:
                for i in 0..<count {
                    out[i] = halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * i, as: UInt16.self)))
                }
            case .bf16:
                for i in 0..<count {
                    let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * i, as: UInt16.self))
                    out[i] = Float(bitPattern: UInt32(bits) << 16)
                }
            case .i64, .i32, .u8:
                for i in 0..<count { out[i] = 0 }   // unreachable: rejected by the callers
            }
        }
    }
}

/// IEEE 754 binary16 -> binary32 (exact; NaN payloads and infinities preserved).
@inline(__always)
private func halfToFloat(_ h: UInt16) -> Float {
    let sign: UInt32 = UInt32(h & 0x8000) << 16
    let exponent = UInt32((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        // Zero or subnormal: mantissa * 2^-24.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign != 0 ? -magnitude : magnitude
    }
    if exponent == 0x1F {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

// MARK: - Writing

/// Builds a safetensors file. Tensors are laid out in the order added, back to back (the format
/// allows no holes); the header is padded with spaces so the data section starts at a multiple of
/// 8. The output is deterministic: the same calls give the same bytes.
public struct SafetensorsWriter: Sendable {
    /// Written as "__metadata__" with keys sorted; omitted when empty.
    public var metadata: [String: String] = [:]

    private struct Tensor: Sendable {
        var name: String
        var dtype: SafetensorsDType
        var shape: [Int]
        var range: Range<Int>
    }
    private var tensors: [Tensor] = []
    private var names = Set<String>()
    private var data: [UInt8] = []

    public init() {}

    /// Adds an F32 tensor; the values are copied in. Names must be unique, non-empty and not
    /// "__metadata__"; the product of `shape` must equal the number of values.
    public mutating func add(_ name: String, shape: [Int], floats: UnsafeBufferPointer<Float>) throws(AutoencoderError) {
        let start = try reserve(name, shape: shape, dtype: .f32, count: floats.count)
        #if _endian(little)
        data.append(contentsOf: UnsafeRawBufferPointer(floats))
        #else
        for value in floats { appendLittleEndian(value.bitPattern) }
        #endif
        tensors.append(Tensor(name: name, dtype: .f32, shape: shape, range: start..<data.count))
    }

    /// Adds an I64 tensor; the values are copied in. Same rules as the F32 variant.
    public mutating func add(_ name: String, shape: [Int], int64s: UnsafeBufferPointer<Int64>) throws(AutoencoderError) {
        let start = try reserve(name, shape: shape, dtype: .i64, count: int64s.count)
        #if _endian(little)
        data.append(contentsOf: UnsafeRawBufferPointer(int64s))
        #else
        for value in int64s { appendLittleEndian(UInt64(bitPattern: value)) }
        #endif
        tensors.append(Tensor(name: name, dtype: .i64, shape: shape, range: start..<data.count))
    }

    /// Convenience: adds an F32 tensor from an array.
    public mutating func add(_ name: String, shape: [Int], floats: [Float]) throws(AutoencoderError) {
        try floats.withUnsafeBufferPointer { (buffer) throws(AutoencoderError) in
            try add(name, shape: shape, floats: buffer)
        }
    }

    /// Convenience: adds an I64 tensor from an array.
    public mutating func add(_ name: String, shape: [Int], int64s: [Int64]) throws(AutoencoderError) {
        try int64s.withUnsafeBufferPointer { (buffer) throws(AutoencoderError) in
            try add(name, shape: shape, int64s: buffer)
        }
    }

    #if !_endian(little)
    private mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }
    #endif

    /// Validates a new tensor; returns its start offset in the data section.
    private mutating func reserve(_ name: String, shape: [Int], dtype: SafetensorsDType, count: Int) throws(AutoencoderError) -> Int {
        guard !name.isEmpty else { throw .invalidArgument("safetensors tensor name must not be empty") }
        guard name != "__metadata__" else {
            throw .invalidArgument("safetensors tensor name '__metadata__' is reserved")
        }
        guard !names.contains(name) else {
            throw .invalidArgument("safetensors tensor name '\(name)' is used twice")
        }
        var elements = 1
        for d in shape {
            guard d >= 0 else { throw .invalidArgument("tensor '\(name)': shape \(shape) has a negative dimension") }
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .invalidArgument("tensor '\(name)': shape \(shape) has too many elements") }
            elements = product
        }
        guard elements == count else {
            throw .invalidArgument("tensor '\(name)': shape \(shape) has \(elements) elements but \(count) values were given")
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, byteCount <= Int.max - data.count else {
            throw .invalidArgument("tensor '\(name)': too many bytes")
        }
        names.insert(name)
        return data.count
    }

    /// The complete file bytes.
    public func encoded() -> [UInt8] {
        var header: [UInt8] = []
        header.append(UInt8(ascii: "{"))
        var first = true
        if !metadata.isEmpty {
            appendJSONString("__metadata__", to: &header)
            header.append(contentsOf: ":{".utf8)
            var firstPair = true
            for key in metadata.keys.sorted() {
                if !firstPair { header.append(UInt8(ascii: ",")) }
                firstPair = false
                appendJSONString(key, to: &header)
                header.append(UInt8(ascii: ":"))
                appendJSONString(metadata[key] ?? "", to: &header)
            }
            header.append(UInt8(ascii: "}"))
            first = false
        }
        for tensor in tensors {
            if !first { header.append(UInt8(ascii: ",")) }
            first = false
            appendJSONString(tensor.name, to: &header)
            header.append(contentsOf: ":{\"dtype\":\"".utf8)
            header.append(contentsOf: tensor.dtype.rawValue.utf8)
            header.append(contentsOf: "\",\"shape\":[".utf8)
            header.append(contentsOf: tensor.shape.map(String.init).joined(separator: ",").utf8)
            header.append(contentsOf: "],\"data_offsets\":[".utf8)
            header.append(contentsOf: "\(tensor.range.lowerBound),\(tensor.range.upperBound)".utf8)
            header.append(contentsOf: "]}".utf8)
        }
        header.append(UInt8(ascii: "}"))
        // Pad so that 8 + header.count is a multiple of 8.
        while header.count % 8 != 0 { header.append(0x20) }

        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + data.count)
        let length = UInt64(header.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: length >> UInt64(8 * i))) }
        out.append(contentsOf: header)
        out.append(contentsOf: data)
        return out
    }
}

/// Appends `string` as a JSON string literal (quotes, backslashes and control characters escaped).
private func appendJSONString(_ string: String, to out: inout [UInt8]) {
    let hex: [UInt8] = Array("0123456789abcdef".utf8)
    out.append(UInt8(ascii: "\""))
    for byte in string.utf8 {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
        case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
        case 0x0A: out.append(contentsOf: "\\n".utf8)
        case 0x0D: out.append(contentsOf: "\\r".utf8)
        case 0x09: out.append(contentsOf: "\\t".utf8)
        case 0x08: out.append(contentsOf: "\\b".utf8)
        case 0x0C: out.append(contentsOf: "\\f".utf8)
        case 0x00..<0x20:
            out.append(contentsOf: "\\u00".utf8)
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        default:
            out.append(byte)
        }
    }
    out.append(UInt8(ascii: "\""))
}
